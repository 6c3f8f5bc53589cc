"""The child's entry point: read the job, set the limits and the stand-ins, go through the levels, write the answer.

Nothing is read from stdout: the project's prints go to a bounded in-memory tail and are dropped.
"""

from __future__ import annotations

import os
import sys
import traceback

from dlcodegen.verify.child.describe import one_line
from dlcodegen.verify.child.files import install_file_standins
from dlcodegen.verify.child.levels import run_levels
from dlcodegen.verify.child.libraries import install_import_standin
from dlcodegen.verify.child.network import block_network
from dlcodegen.verify.child.sandbox import Tail, apply_limits, peak_memory
from dlcodegen.verify.child.state import Run, new_run
from dlcodegen.verify.processes import become_subreaper, kill_descendants
from dlcodegen.verify.protocol import Job


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job_dir = argv[0]
    job = Job.read(job_dir)
    apply_limits(job)
    become_subreaper()  # the project's daemons stay below this process, where they are found and stopped
    run = new_run(job, job_dir)
    run.write()
    # The harness's own folder is on sys.path only to import this module: the project must not see it.
    for entry in job.drop_sys_path:
        while entry in sys.path:
            sys.path.remove(entry)
    if job.network_blocked:
        block_network()
    sys.stdout = sys.stderr = Tail()
    with open(job.code_path, encoding="utf-8") as handle:
        code = handle.read()
    install_file_standins(run)
    install_import_standin(run)
    failed, error = _run_guarded(run, code)
    peak = peak_memory()
    if peak:
        run.notes.append(peak)
    run.write(failed=failed, error=error, done=True)
    kill_descendants(os.getpid())  # whatever the project left running (own sessions and daemons included)
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    sys.stdout.flush()
    # Skip interpreter teardown (TensorFlow's can take seconds, and the project's atexit hooks are not ours).
    os._exit(0)


def _run_guarded(run: Run, code: str) -> tuple[str | None, str | None]:
    try:
        return run_levels(run, code)
    except BaseException as crash:  # noqa: BLE001  (a harness bug: still one line, at the level attempted)
        run.note(one_line(run, "".join(traceback.format_exception(crash))[-600:], 600))
        return run.attempting, f"harness error: {type(crash).__name__}: {one_line(run, crash)}"

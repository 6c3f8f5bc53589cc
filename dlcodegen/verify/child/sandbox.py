"""The child's own side of the sandbox: its resource limits (set again from inside), the bounded sink that takes the
project's prints, and its peak memory."""

from __future__ import annotations

import collections
import io
import resource
import signal

from dlcodegen.verify.protocol import Job


def apply_limits(job: Job) -> None:
    """Set the limits again from inside (the parent skips preexec_fn when it runs threads); never raises them."""
    wanted = {resource.RLIMIT_CPU: (int(job.cpu_seconds), int(job.cpu_seconds) + 5),
              resource.RLIMIT_AS: (job.memory_mb * 1024 * 1024,) * 2,
              resource.RLIMIT_FSIZE: (job.fsize_mb * 1024 * 1024,) * 2,
              resource.RLIMIT_CORE: (0, 0)}
    for kind, (soft, hard) in wanted.items():
        try:
            cur_soft, cur_hard = resource.getrlimit(kind)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
            if cur_soft != resource.RLIM_INFINITY:
                soft = min(soft, cur_soft)
            resource.setrlimit(kind, (min(soft, hard), hard))
        except (ValueError, OSError):
            pass
    # A write past RLIMIT_FSIZE raises OSError(EFBIG) instead of killing the child with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class Tail(io.TextIOBase):
    """A write-only text stream that keeps only the last `limit` characters written (the project's prints, which
    nobody reads: the bound keeps a chatty project from filling the memory)."""

    def __init__(self, limit: int = 20_000):
        self._parts: collections.deque[str] = collections.deque()
        self._size = 0
        self._limit = limit

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        self._parts.append(text)
        self._size += len(text)
        while self._size > self._limit and len(self._parts) > 1:
            self._size -= len(self._parts.popleft())
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def peak_memory() -> str | None:
    """The child's peak virtual memory (what RLIMIT_AS limits) and peak resident memory, from /proc."""
    try:
        with io.open("/proc/self/status", encoding="ascii") as handle:  # noqa: UP020  (the real open)
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
        virtual, resident = (int(fields[key].split()[0]) // 1024 for key in ("VmPeak", "VmHWM"))
    except (OSError, KeyError, ValueError):
        return None
    return f"peak memory: {virtual} MB virtual (the limit applies to this), {resident} MB resident"

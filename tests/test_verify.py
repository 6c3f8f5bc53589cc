"""`dlcodegen verify`: the levels, the sandbox's limits and the stand-ins, on a handful of real child processes.

The tests that need TensorFlow fail (never skip) without it: CI installs tensorflow-cpu. Each TensorFlow child
costs a few seconds (the import), so they are few.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dlcodegen.verify import (LEVELS, TF_MISSING, VerifyConfig, VerifyInputError, VerifyResult, read_source,
                              tensorflow_available, verify_code, verify_file)

GOOD_PROJECT = '''\
"""Classify 28x28 grey images into 10 classes with a small CNN."""
import numpy as np
import keras
from keras import layers

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
EPOCHS = 3
BATCH_SIZE = 32


def build_model():
    model = keras.Sequential([
        keras.Input(shape=IMAGE_SHAPE),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(16, activation="relu"),
        layers.Dense(NUM_CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def load_data():
    raise RuntimeError("verify must never call load_data()")


def train(model, data):
    (x_train, y_train), _ = data
    return model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE)


def evaluate(model, data):
    _, (x_test, y_test) = data
    return model.evaluate(x_test, y_test)


def main():
    data = load_data()
    model = build_model()
    train(model, data)
    print(evaluate(model, data))


if __name__ == "__main__":
    main()
'''

NOTEBOOK_STYLE = '''\
!pip install -q some-package
%matplotlib inline
import os
import numpy as np
import pandas as pd
import tensorflow as tf
from tensorflow.keras.preprocessing.image import ImageDataGenerator

df = pd.read_csv("/kaggle/input/some-competition/train.csv")
print(df["label"].value_counts())
generator = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
    "/kaggle/input/some-competition/images", target_size=(48, 48), batch_size=16, class_mode="categorical")
model = tf.keras.Sequential([
    tf.keras.layers.Input((48, 48, 3)),
    tf.keras.layers.Conv2D(4, 3, activation="relu"),
    tf.keras.layers.GlobalAveragePooling2D(),
    tf.keras.layers.Dense(5, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
try:
    model.fit(generator, epochs=50)
except Exception:
    pass
raise SystemExit("code after the first fit() must not run")
'''


@pytest.fixture
def tf_required():
    """TensorFlow must be installed for this test: a failure (not a skip) with the install line when it is not."""
    if not tensorflow_available():
        pytest.fail(TF_MISSING)


def _one_line(result: VerifyResult) -> None:
    assert result.error is None or "\n" not in result.error


# --- TensorFlow children ------------------------------------------------------------------------------------------

def test_project_in_package_shape_reaches_train_step(tf_required, tmp_path):
    path = tmp_path / "project.py"
    path.write_text(GOOD_PROJECT)
    result = verify_file(path)
    assert result.passed, result.as_dict()
    assert (result.level, result.failed, result.error) == ("train_step", None, None)
    assert any("build_model() called" in note for note in result.notes)
    assert any("(2, 28, 28, 1) floats" in note and "int labels < 10" in note for note in result.notes)
    assert result.as_dict()["passed"] is True
    json.dumps(result.as_dict())


def test_notebook_style_code_gets_stand_ins_and_stops_after_one_step(tf_required):
    result = verify_code(NOTEBOOK_STYLE)
    assert result.passed, result.as_dict()
    notes = "\n".join(result.notes)
    assert "notebook shell/magic line" in notes
    assert "read_csv('/kaggle/input/some-competition/train.csv') -> synthetic frame" in notes
    assert "flow_from_directory" in notes
    assert "fit(...) intercepted" in notes
    assert "(2, 48, 48, 3) floats" in notes and "one-hot over 5" in notes


def test_wrong_layer_stops_at_model_built_with_the_keras_error(tf_required):
    code = textwrap.dedent("""\
        import keras
        from keras import layers

        model = keras.Sequential([keras.Input((10,)), layers.Conv2D(8, 3)])
        model.compile(optimizer="adam", loss="mse")
    """)
    result = verify_code(code)
    assert (result.level, result.failed) == ("imports", "model_built")
    assert result.error.startswith("ValueError: ")
    assert "conv2d" in result.error and "ndim" in result.error and result.error.endswith("(line 4)")
    _one_line(result)


def test_network_is_refused_while_the_model_is_built(tf_required):
    code = textwrap.dedent("""\
        import socket
        import keras

        def build():
            socket.create_connection(("example.com", 80), timeout=5)
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])

        model = build()
        model.compile(optimizer="adam", loss="mse")
    """)
    result = verify_code(code)
    assert (result.level, result.failed) == ("imports", "model_built")
    assert result.error == "ConnectionRefusedError: network access is blocked in verify (line 5)"
    assert result.notes[0].startswith("network: blocked")


def test_a_real_released_generation_gets_a_result(tf_required, built_datasets):
    import datasets

    from dlcodegen.extract import extract_code

    rows = datasets.load_dataset(str(built_datasets / "dlcodeeval-generations"))["test"]
    row = next(row for row in rows if row["method"] == "Direct" and row["backbone"] == "DeepSeek-V2.5")
    result = verify_code(extract_code(row["generation"]), filename=f"generation_{row['id']}.py")
    assert result.level in (None, *LEVELS)
    assert (result.failed is None) == result.passed == (result.error is None)
    if result.failed:
        assert result.failed == LEVELS[LEVELS.index(result.level) + 1 if result.level else 0]
        assert not result.error.startswith("harness error"), result.error
    _one_line(result)


# --- children without TensorFlow --------------------------------------------------------------------------------

def test_syntax_error_stops_at_parse_naming_the_line():
    result = verify_code("import os\nx = 1\ndef broken(:\n    pass\n")
    assert (result.level, result.failed) == (None, "parse")
    assert result.error.startswith("SyntaxError: ") and result.error.endswith("(line 3)")
    assert not result.passed


def test_missing_module_stops_at_imports_naming_it():
    result = verify_code("import os\nimport not_a_module_xyz\nprint('never')\n")
    assert (result.level, result.failed) == ("parse", "imports")
    assert result.error == "ModuleNotFoundError: No module named 'not_a_module_xyz' (line 2)"


def test_allocation_past_the_memory_limit_is_stopped_with_one_line():
    result = verify_code("import numpy as np\nones = np.ones((50_000, 50_000))\n", VerifyConfig(memory_mb=1024))
    assert result.failed == "model_built"
    assert result.error == "stopped: exceeded the memory limit of 1024 MB"


def test_busy_loop_is_stopped_at_the_cpu_time_limit():
    result = verify_code("while True:\n    pass\n", VerifyConfig(timeout=2))
    assert (result.level, result.failed, result.error) == ("imports", "model_built", "timed out after 2 s")
    assert result.seconds < VerifyConfig(timeout=2).wall_seconds


# A project's children in every form a sandbox can lose them: a plain child, one in its own session (setsid) and a
# double-forked daemon (its parent exits at once, so it is re-parented away from the project).
_SPAWNING = """import os, subprocess, time
subprocess.Popen(['sleep', '{plain}'])
subprocess.Popen(['sleep', '{session}'], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp('sleep', ['sleep', '{daemon}'])
    os._exit(0)
time.sleep(1)
"""


def _left_running(*durations: int) -> list[str]:
    """The `sleep N` processes still alive (zombies are not), waiting generously for SIGKILL to land."""
    def alive() -> list[str]:
        found = []
        for duration in durations:
            pids = subprocess.run(["pgrep", "-f", f"^sleep {duration}$"], capture_output=True, text=True).stdout.split()
            found += [f"sleep {duration}" for pid in pids if _state(pid) not in ("Z", "")]
        return found
    deadline = time.monotonic() + 60  # condition-based: a loaded machine may take a while to tear processes down
    while (leftover := alive()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return leftover


def _state(pid: str) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rfind(")") + 2:].split()[0]


def test_a_timed_out_projects_whole_tree_is_stopped_own_sessions_and_daemons_included():
    code = _SPAWNING.format(plain=301, session=302, daemon=303) + "while True:\n    time.sleep(0.1)\n"
    result = verify_code(code, VerifyConfig(timeout=3))
    assert (result.failed, result.error) == ("model_built", "timed out after 3 s")
    assert _left_running(301, 302, 303) == [], "the project's own processes outlived the timeout"


def test_what_a_finished_project_left_running_is_stopped():
    result = verify_code(_SPAWNING.format(plain=304, session=305, daemon=306))
    assert result.failed == "model_built"  # it ran to its end without a model
    assert _left_running(304, 305, 306) == [], "the project's own processes outlived it"


def test_code_without_a_model_fails_at_model_built_and_the_parent_never_imports_tensorflow():
    probe = ("import sys; from dlcodegen.verify import verify_code; r = verify_code('import os\\nx = 1\\n'); "
             "print(r.failed, '|', r.error); assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("model_built | RuntimeError: the project ran to its end without compiling a "
                                   "Keras model")


# --- input checks (no child) --------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"  \n\n", "is empty"),
    (b"import os\x00\x01\x02", "is a binary file"),
    (b"x = '\xff\xfe'\n", "is not UTF-8 text"),
    (b"x = 1\n" * 400_000, "too large to verify"),
])
def test_bad_files_raise_one_clear_line(tmp_path, content, message):
    path = tmp_path / "input.py"
    path.write_bytes(content)
    with pytest.raises(VerifyInputError) as raised:
        verify_file(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_missing_file_and_folder_raise_one_clear_line(tmp_path):
    with pytest.raises(VerifyInputError, match="no such file"):
        verify_file(tmp_path / "absent.py")
    with pytest.raises(VerifyInputError, match="is a folder"):
        verify_file(tmp_path)


def test_notebook_files_give_their_code_cells(tmp_path):
    notebook = {"cells": [{"cell_type": "markdown", "source": ["# title"]},
                          {"cell_type": "code", "source": ["import os\n", "x = 1"]},
                          {"cell_type": "code", "source": "y = 2"}]}
    path = tmp_path / "project.ipynb"
    path.write_text(json.dumps(notebook))
    assert read_source(path) == "import os\nx = 1\n\ny = 2"


def test_config_and_result_shapes():
    with pytest.raises(ValueError):
        VerifyConfig(timeout=0)
    with pytest.raises(ValueError):
        VerifyConfig(memory_mb=10)
    assert VerifyConfig().wall_seconds == 2 * 120 + 5
    result = VerifyResult("model_built", "train_step", "ValueError: x (line 3)", 1.5, ["note"])
    assert not result.passed
    assert result.as_dict() == {"level": "model_built", "failed": "train_step", "error": "ValueError: x (line 3)",
                                "seconds": 1.5, "notes": ["note"], "deepest": "train_step", "passed": False}
    assert LEVELS == ("parse", "imports", "model_built", "train_step", "task_fit", "learns")
    assert "pip install" in TF_MISSING and "\n" not in TF_MISSING


def test_the_parent_reads_a_child_that_died_before_answering(tmp_path):
    """How the parent words a child that wrote no final answer: by the limit or the signal that stopped it."""
    import signal

    from dlcodegen.verify.protocol import ChildReport
    from dlcodegen.verify.result import ChildExit, outcome

    assert ChildReport.read(str(tmp_path)) == ChildReport()  # no report at all
    (tmp_path / "result.json").write_text("{not json")
    assert ChildReport.read(str(tmp_path)) == ChildReport()
    ChildReport(level="imports", attempting="model_built", notes=["a note"]).write(str(tmp_path))
    report = ChildReport.read(str(tmp_path))
    config = VerifyConfig(timeout=3, memory_mb=512)

    def ended(status=0, cpu=0.0, timed_out=False, stderr=""):
        return outcome(report, ChildExit(status, cpu, timed_out, stderr), config, ["network: allowed"], 1.0)

    assert ended(timed_out=True).error == "timed out after 3 s"
    assert ended(-signal.SIGXCPU).notes[-1] == "stopped at the CPU-time limit"
    assert ended(-signal.SIGSEGV).error == "stopped: exceeded the memory limit of 512 MB"
    assert ended(1, stderr="terminate called after throwing an instance of 'std::bad_alloc'").error == \
        "stopped: exceeded the memory limit of 512 MB"
    died = ended(3, stderr="\nFatal Python error: something\n")
    assert (died.level, died.failed, died.notes) == ("imports", "model_built", ["network: allowed", "a note"])
    assert died.error == ("the project ended the interpreter before verify finished (exit status 3): "
                          "Fatal Python error: something")


def test_verify_input_errors_are_user_errors():
    from dlcodegen.core.errors import InputError, UserError

    assert issubclass(VerifyInputError, InputError) and issubclass(VerifyInputError, UserError)
    with pytest.raises(InputError):
        VerifyConfig(timeout=-1)

"""The code sample pool of Code RAG: DLSamplePool's 46 notebooks, plus the user's own samples.

DLSamplePool rows come from the built `dlsamplepool` folder; their plans are its `plan_text` column (extracted
statically from each notebook by `dlcodegen.analysis`, task category predicted from the requirement).
User samples live in a local folder (`$DLCODEGEN_POOL_DIR`, default `$XDG_DATA_HOME/dlcodegen/pool`, i.e.
`~/.local/share/dlcodegen/pool`), one JSON file per sample:
`{"key", "code", "requirement", "dataset_attributes", "plan_text", "added"}`, named after the key. `add_sample` writes
one; the same code added twice keeps one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path

from dlcodegen.files import write_atomic
from dlcodegen.analysis import parse_code, plan_from_code, read_source, usable_module
from dlcodegen.core.errors import InputError, MissingError
from dlcodegen.core.items import Sample, attributes_text
from dlcodegen.core.plan import Plan, PlanParseError, check_requirement

POOL_DIR_ENV = "DLCODEGEN_POOL_DIR"
MAX_SAMPLE_BYTES = 1_000_000  # 1 MB: far above any DLSamplePool notebook's code (the longest is ~26 kB)
USER_PREFIX = "user/"
POOL_PREFIX = "dlsamplepool/"
_RECORD_KEYS = ("key", "code", "requirement", "dataset_attributes", "plan_text", "added")


def pool_dir(path: str | os.PathLike | None = None) -> Path:
    """The user's pool folder: `path`, else `$DLCODEGEN_POOL_DIR`, else `$XDG_DATA_HOME/dlcodegen/pool`."""
    return _pool_folder(path)


def _pool_folder(path: str | os.PathLike | None) -> Path:  # `pool_dir` is also a parameter name below
    from dlcodegen.files import user_data_dir

    return user_data_dir(path, POOL_DIR_ENV, "pool")


def _user_key(code: str) -> str:
    return USER_PREFIX + hashlib.sha256(code.encode("utf-8")).hexdigest()[:12]


def _record_path(folder: Path, key: str) -> Path:
    return folder / f"{key[len(USER_PREFIX):]}.json"


def _sample_from_record(record: dict) -> Sample:
    return Sample(key=record["key"], code=record["code"], requirement=record["requirement"],
                  plan=Plan.from_text(record["plan_text"]), source_id=None)


def _read_record(path: Path) -> dict:
    record = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(record, dict) or any(key not in record for key in _RECORD_KEYS[:5]):
        raise InputError(f"expected an object with {', '.join(_RECORD_KEYS)}")
    return record


def user_samples(folder: str | os.PathLike | None = None) -> list[Sample]:
    """The samples of the user's pool folder, by key; an unreadable file is skipped with a warning naming it."""
    folder = _pool_folder(folder)
    if not folder.is_dir():
        return []
    samples = []
    for path in sorted(folder.glob("*.json")):
        try:
            samples.append(_sample_from_record(_read_record(path)))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, PlanParseError) as error:
            warnings.warn(f"skipping {path}: not a pool sample ({type(error).__name__}: {error})", stacklevel=2)
    return sorted(samples, key=lambda sample: sample.key)


def load_pool(data_path: str | os.PathLike | None = None, pool_dir: str | os.PathLike | None = None,
              include_user: bool = True) -> list[Sample]:
    """DLSamplePool (from the built `dlsamplepool` folder under `data_path`) followed by the user's samples."""
    from dlcodegen.data import load_local

    rows = load_local("dlsamplepool", split="train", path=data_path)
    if "plan_text" not in rows.column_names:
        raise InputError("the built dlsamplepool has no plan_text column (built by an older version): rebuild it "
                         "with `dlcodegen data build --only dlsamplepool`")
    samples = [Sample(key=f"{POOL_PREFIX}{row['id']}", code=row["code"], requirement=row["user_requirement"],
                      plan=Plan.from_text(row["plan_text"]), source_id=row["source_id"]) for row in rows]
    if include_user:
        samples.extend(user_samples(pool_dir))
    return samples


def _read_code(source: Path) -> str:
    if not source.exists():
        raise MissingError(f"{source} does not exist")
    if not source.is_file():
        raise InputError(f"{source} is not a file")
    size = source.stat().st_size
    if size > MAX_SAMPLE_BYTES:
        raise InputError(f"{source} is {size:,} bytes; a code sample must be at most {MAX_SAMPLE_BYTES:,} bytes (1 MB)")
    data = source.read_bytes()
    if b"\x00" in data:
        raise InputError(f"{source} is a binary file, not UTF-8 text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text") from None
    code = read_source(source)
    if not code.strip():
        raise InputError(f"{source} holds no code" + (" cells" if source.suffix.lower() == ".ipynb" else ""))
    if not usable_module(parse_code(code)):
        raise InputError(f"{source} does not parse as Python, even after removing notebook magics")
    return code


def add_sample(source: str | os.PathLike, requirement: str, attributes: str = "", planner=None,
               pool_dir: str | os.PathLike | None = None) -> Sample:
    """Add a `.py` or `.ipynb` file to the user's pool; returns the sample (the existing one for the same code).

    The task category is `planner.predict(requirement, attributes).plan.task_category` (no category without a
    planner); the rest of the plan is read statically from the code. Bad input raises one `InputError` or
    `MissingError` line and writes nothing.
    """
    check_requirement(requirement)
    attributes = attributes_text(attributes)
    code = _read_code(Path(source).expanduser())
    folder = _pool_folder(pool_dir)
    key = _user_key(code)
    path = _record_path(folder, key)
    if path.is_file():
        try:
            return _sample_from_record(_read_record(path))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, PlanParseError):
            pass  # a damaged record of the same code: write it again
    category = None
    if planner is not None:
        prediction = planner.predict(requirement, attributes)
        category = prediction.plan.task_category if getattr(prediction, "plan", None) is not None else None
    plan = plan_from_code(code, category)
    record = {"key": key, "code": code, "requirement": requirement, "dataset_attributes": attributes,
              "plan_text": plan.to_json(), "added": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_atomic(path, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    return _sample_from_record(record)

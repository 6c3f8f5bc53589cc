"""Hugging Face dataset builders for the DLCodeGen artifact (DLCodeEval, DLSamplePool, DLPlanData, generations).

Each builder is a `datasets.GeneratorBasedBuilder` with explicit `Features`; `export.build_all` runs them and
writes Hub-ready folders (`README.md` card + `data/*.parquet`) that `datasets.load_dataset(folder)` reads offline.
"""

from .raw import RawDataError
from .source import ArtifactSource, resolve_source

__all__ = ["ArtifactSource", "RawDataError", "resolve_source"]

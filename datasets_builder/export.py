"""Run the builders and write Hub-ready dataset folders: `README.md` (card + YAML) and `data/*.parquet`."""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import datasets
import jinja2
from tqdm.auto import tqdm
from huggingface_hub import DatasetCard, DatasetCardData

from .dlcodeeval import DLCodeEval
from .dlplandata import DLPlanData
from .dlsamplepool import DLSamplePool
from .generations import DLCodeEvalGenerations
from .raw import RawDataError
from .source import UPSTREAM_COMMIT, UPSTREAM_REPO, ArtifactSource, resolve_source


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # folder and Hub repo name
    builder: type[datasets.GeneratorBasedBuilder]
    configs: tuple[str, ...]
    pretty_name: str
    task_categories: tuple[str, ...]
    size_category: str


DATASETS = (
    DatasetSpec("dlcodeeval", DLCodeEval, ("default", "requirements"), "DLCodeEval", ("text-generation",),
                "n<1K"),
    DatasetSpec("dlsamplepool", DLSamplePool, ("default",), "DLSamplePool", ("text-generation",), "n<1K"),
    DatasetSpec("dlplandata", DLPlanData, ("default",), "DLPlanData", ("text-generation",), "1K<n<10K"),
    DatasetSpec("dlcodeeval-generations", DLCodeEvalGenerations, ("default",), "DLCodeEval generations",
                ("text-generation",), "n<1K"),
)
DATASET_NAMES = tuple(spec.name for spec in DATASETS)


def parquet_name(config: str, split: str) -> str:
    prefix = "" if config == "default" else f"{config}-"
    return f"data/{prefix}{split}-00000-of-00001.parquet"


def build_config(spec: DatasetSpec, config: str, source: ArtifactSource,
                 cache_dir: str) -> tuple[datasets.DatasetDict, datasets.DatasetInfo]:
    builder = spec.builder(config_name=config, source=source.location, cache_dir=cache_dir)
    try:
        builder.download_and_prepare()
    except datasets.exceptions.DatasetGenerationError as error:
        if isinstance(error.__cause__, RawDataError):  # datasets wraps it; the user needs the file and line
            raise error.__cause__ from None
        raise
    return builder.as_dataset(), builder.info


def _plan_style(rows) -> dict[str, float]:
    """Percent of a split's plans with the capitalised schema and the "Input ..."/"Output ..." wording."""
    def share(test) -> float:
        return round(100.0 * sum(map(test, rows)) / max(len(rows), 1), 1)

    return {"capital_schema": share(lambda row: '"Model Architecture"' in row["plan_text"]),
            "input_prefix": share(lambda row: (row["input"] or "").startswith("Input")),
            "output_prefix": share(lambda row: (row["output"] or "").startswith("Output"))}


def _stats(name: str, built: dict[str, datasets.DatasetDict]) -> dict:
    """Figures quoted by the card, computed from the built rows."""
    default = built["default"]
    stats = {"splits": {split: len(ds) for split, ds in default.items()}}
    first = next(iter(default.values()))
    if "dataset_attributes_format" in first.column_names:
        stats["attribute_formats"] = Counter(
            value for ds in default.values() for value in ds["dataset_attributes_format"])
    if name == "dlplandata":
        rows = [row for ds in default.values() for row in ds]
        stats["lowercase_schema"] = sum('"Model architecture"' in row["plan_text"] for row in rows)
        stats["no_preprocess"] = sum(row["preprocess"] is None for row in rows)
        stats["no_layers"] = sum(row["layers"] is None for row in rows)
        stats["no_learning_rate"] = sum(row["learning_rate"] is None for row in rows)
        stats["no_batch_size"] = sum(row["batch_size"] is None for row in rows)
        stats["no_epochs"] = sum(row["epochs"] is None for row in rows)
        stats["no_category"] = sum(row["task_category"] is None for row in rows)
        stats["extra_fields"] = sum(row["extra_fields"] is not None for row in rows)
        stats["categories"] = Counter(row["task_category"] for row in default["train"]).most_common(10)
        stats["split_styles"] = {split: _plan_style(ds) for split, ds in default.items()}
    if name == "dlsamplepool":
        from dlcodegen.core.plan import Plan

        plans = [Plan.from_text(text) for text in first["plan_text"]]
        stats["plan_fields"] = {
            "layers": sum(bool(plan.layers) for plan in plans),
            "optimizer": sum(plan.optimizer is not None for plan in plans),
            "loss function": sum(plan.loss_function is not None for plan in plans),
            "evaluation metric": sum(plan.evaluation_metric is not None for plan in plans),
            "learning rate": sum(plan.learning_rate is not None for plan in plans),
            "batch size": sum(plan.batch_size is not None for plan in plans),
            "epochs": sum(plan.epochs is not None for plan in plans),
            "input": sum(plan.input is not None for plan in plans),
            "output": sum(plan.output is not None for plan in plans),
        }
        stats["median_layers"] = sorted(len(plan.layers or []) for plan in plans)[len(plans) // 2]
        stats["max_layers"] = max(len(plan.layers or []) for plan in plans)
        stats["categories"] = Counter(first["task_category"]).most_common()
    if name == "dlcodeeval":
        stats["requirements"] = len(built["requirements"]["test"])
    if name == "dlcodeeval-generations":
        stats["files"] = len({(row["backbone"], row["method"]) for row in first})
    return stats


def render_card(spec: DatasetSpec, built: dict[str, datasets.DatasetDict], infos: dict[str, datasets.DatasetInfo],
                source: ArtifactSource) -> DatasetCard:
    card_data = DatasetCardData(
        license="unknown",
        language=["en"],
        pretty_name=spec.pretty_name,
        task_categories=list(spec.task_categories),
        size_categories=[spec.size_category],
        tags=["code", "deep-learning", "code-generation", "dlcodegen"],
    )
    datasets.utils.metadata.MetadataConfigs({
        config: {"data_files": [{"split": split, "path": parquet_name(config, split)} for split in built[config]],
                 **({"default": True} if config == "default" else {})}
        for config in spec.configs
    }).to_dataset_card_data(card_data)
    datasets.info.DatasetInfosDict(infos).to_dataset_card_data(card_data)
    env = jinja2.Environment(loader=jinja2.PackageLoader("dlcodegen.datasets_builder", "cards"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    body = env.get_template(f"{spec.name}.md.j2").render(
        spec=spec, stats=_stats(spec.name, built), repo=UPSTREAM_REPO, commit=UPSTREAM_COMMIT,
        source=source.describe())
    return DatasetCard(f"---\n{card_data.to_yaml()}\n---\n{body}")


def export_dataset(spec: DatasetSpec, source: ArtifactSource, out_dir: Path, cache_dir: str) -> dict[str, dict]:
    """Build every config of one dataset into `out_dir/spec.name`; returns {config: {split: rows}}."""
    folder = out_dir / spec.name
    built, infos = {}, {}
    for config in spec.configs:
        built[config], infos[config] = build_config(spec, config, source, cache_dir)
        for split, ds in built[config].items():
            target = folder / parquet_name(config, split)
            target.parent.mkdir(parents=True, exist_ok=True)
            ds.to_parquet(str(target))
        infos[config].download_size = sum((folder / parquet_name(config, split)).stat().st_size
                                          for split in built[config])
    render_card(spec, built, infos, source).save(folder / "README.md")
    return {config: {split: len(ds) for split, ds in dsd.items()} for config, dsd in built.items()}


def build_all(source: str | None = None, out_dir: str | Path = "build/datasets",
              names: tuple[str, ...] = DATASET_NAMES, log: Callable[[str], None] = print) -> dict[str, dict]:
    """Build the requested datasets from the artifact into `out_dir`; returns the row counts."""
    resolved = resolve_source(source)
    out_dir = Path(out_dir)
    unknown = sorted(set(names) - set(DATASET_NAMES))
    if unknown:
        raise ValueError(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(DATASET_NAMES)}")
    log(f"Reading the DLCodeGen artifact from {resolved.describe()}")
    counts = {}
    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # one summary line per config reads better than a dozen tiny bars
    try:
        with tempfile.TemporaryDirectory(prefix="dlcodegen-build-") as cache_dir:
            for spec in tqdm([spec for spec in DATASETS if spec.name in names], desc="datasets", unit="dataset",
                             leave=False):
                counts[spec.name] = export_dataset(spec, resolved, out_dir, cache_dir)
                for config, splits in counts[spec.name].items():
                    summary = ", ".join(f"{split}={rows}" for split, rows in splits.items())
                    log(f"  {spec.name:<24} {config:<13} {summary}")
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    log(f"Wrote {len(counts)} dataset folder(s) to {out_dir}")
    return counts


def ensure_built(path: str | Path | None = None, source: str | None = None,
                 log: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> Path:
    """The built datasets folder (`dlcodegen.data.data_dir(path)`), building the missing datasets first."""
    from dlcodegen.data import data_dir, missing_datasets

    folder = data_dir(path)
    missing = missing_datasets(DATASET_NAMES, folder)
    if missing:
        log(f"{folder} lacks {', '.join(missing)}: building from the artifact first")
        build_all(source=source, out_dir=folder, names=tuple(missing), log=log)
    return folder

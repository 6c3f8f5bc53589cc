"""Train the plan field classifiers (task category, loss function, metric, optimizer) on DLPlanData.

For each field: pick a config from the grid by grouped K-fold cross-validation on the fit splits (train +
validation by default), fit it on them and save it to `OUTPUT_DIR/<field>/` (classifier.json + weights.safetensors,
no pickle) with a model card (README.md: data, grid, CV table, chosen config). The validation accuracy in the card is
held out: the config is chosen by CV on train only, fitted on train, and scored on validation. The test split is
never read.

    python -m dlcodegen.training.classifiers       # all four fields -> dlcodegen/planning/plan_classifiers (shipped)
    python -m dlcodegen.training.classifiers --fields task_category --grid small --output_dir runs/classifiers
    # classifiers that never saw validation, to score a planner on it
    python -m dlcodegen.training.classifiers --fit_splits train --output_dir runs/plan-classifiers-train

Run it as a module, from the repository root: it imports its sibling `sft` (installed as `dlcodegen.training`), so
`python training/classifiers.py` cannot resolve that import.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

DEFAULT_FIELDS = ["task_category", "loss_function", "evaluation_metric", "optimizer"]


@dataclass
class ClassifierArguments:
    dataset_name: str = field(default="build/datasets/dlplandata", metadata={
        "help": "DLPlanData as a dataset folder or Hub id (built with `dlcodegen data build` when the default "
                "folder is missing)"})
    fields: list[str] = field(default_factory=lambda: list(DEFAULT_FIELDS), metadata={
        "help": "plan fields to train a classifier for"})
    output_dir: str = field(default="dlcodegen/planning/plan_classifiers", metadata={
        "help": "one sub-folder per field (the default is the folder the package ships, `classify.DEFAULT_FOLDER`)"})
    fit_splits: list[str] = field(default_factory=lambda: ["train", "validation"], metadata={
        "help": "DLPlanData splits to cross-validate and fit on ('train', 'validation'; never 'test')"})
    grid: str = field(default="default", metadata={
        "help": "configs to cross-validate: 'default', 'small' or a JSON file with a list of config dicts"})
    folds: int = field(default=5, metadata={"help": "cross-validation folds (shuffled KFold)"})
    seed: int = field(default=0, metadata={"help": "seed of the fold split"})
    max_mb: float = field(default=1.25, metadata={
        "help": "size budget of each field's classifier in MB: bigger configs are cross-validated (and shown) but "
                "not chosen; 0: no budget"})
    tolerance: float = field(default=0.0, metadata={
        "help": "choose the smallest config within this many accuracy points of the best CV accuracy"})
    n_jobs: int = field(default=1, metadata={"help": "folds cross-validated in parallel"})
    validation: bool = field(default=True, metadata={
        "help": "also select by CV on train only, fit on train and report validation accuracy (held out)"})


def make_parser():
    from transformers import HfArgumentParser

    return HfArgumentParser(ClassifierArguments)


def load_grid(spec: str):
    import json

    from dlcodegen.planning.classify import TextClassifierConfig, default_grid, small_grid

    if spec == "default":
        return default_grid()
    if spec == "small":
        return small_grid()
    with open(spec, encoding="utf-8") as handle:
        return [TextClassifierConfig.from_dict(values) for values in json.load(handle)]


def folder_size(path) -> int:
    from pathlib import Path

    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def cv_table_markdown(table: list[dict], limit: int | None = None) -> str:
    rows = sorted(table, key=lambda row: -row["accuracy"])[:limit]
    lines = ["| CV accuracy % | std | features | MB | CV seconds | config |",
             "| ---: | ---: | ---: | ---: | ---: | --- |"]
    for row in rows:
        mark = " **(chosen)**" if row["chosen"] else ""
        lines.append(f"| {row['accuracy']:.2f} | {row['std']:.2f} | {row['features']} | {row['bytes'] / 1e6:.2f} | "
                     f"{row['seconds']:.1f} | `{row['name']}`{mark} |")
    return "\n".join(lines)


def model_card(name: str, classifier, table: list[dict], info: dict) -> str:
    import json

    counts = sorted(classifier.counts.values(), reverse=True)
    budget = f"{info['max_mb']:g} MB" if info["max_mb"] else "none"
    tolerance = (f" (the smallest config within {info['tolerance']:g} points of it)" if info["tolerance"] else "")
    chosen = next(row for row in table if row["chosen"])
    validation = info.get("validation")
    held_out = (f"{validation['accuracy']:.2f} % on DLPlanData validation ({validation['items']} labelled items) "
                f"with `{validation['config']}` chosen by CV on train only and fitted on train only"
                if validation else "not measured")
    splits = info["splits"]
    return f"""---
library_name: dlcodegen
tags: [dlcodegen, text-classification, tf-idf, plan-field]
datasets: [DLPlanData]
metrics: [accuracy]
---

# DLCodeGen plan field classifier: `{name}`

Predicts the plan's `{name}` from the user requirement and the dataset attributes (the text
`requirement + " " + attributes`, attributes given as a dict are JSON-encoded). Labels are learnt and predicted as
`normalize_label` keys (the form the plan metrics' exact match compares) and written out in each key's most frequent
original spelling.

- **Model**: TF-IDF features + linear model, `{chosen['name']}`
  ({classifier.features.size} features, {len(classifier.classes)} classes).
- **Data**: DLPlanData {info['splits']}, the {info['items']} items with a `{name}` label
  ({info['unlabelled']} unlabelled items left out); {len(counts)} label keys, {sum(c == 1 for c in counts)} of them
  with a single example, the most frequent covering {100.0 * counts[0] / sum(counts):.1f} % of the items.
  The test split was never read.
- **Cross-validation**: {info['folds']}-fold shuffled GroupKFold (seed {info['seed']}) on {info['splits']}, the
  groups being near-duplicate texts (word TF-IDF cosine >= {info['group_threshold']}, held out together, since
  DLPlanData-train holds many near-copies that validation and test items do not have); accuracy on normalised
  labels; a label whose only examples are in the held-out fold counts as a miss. Size budget: {budget}; among the
  configs within it, the best CV accuracy{tolerance}: **{chosen['accuracy']:.2f} %** (std {chosen['std']:.2f} over
  folds).
- **Held-out validation accuracy**: {held_out}.
- **Fit time** on {info['items']} items: {info['fit_seconds']:.1f} s; folder size {info['size_bytes'] / 1e6:.2f} MB.

## Use

```python
from dlcodegen.planning.classify import TextClassifier, item_text

classifier = TextClassifier.load("{info['folder']}")
classifier.predict([item_text("Classify chest X-ray images as pneumonia or normal", "")])
```

Files: `classifier.json` (config, classes, spellings, vocabularies in column order), `weights.safetensors` (idf
vectors, int8 weights with one scale per class, float32 biases). No pickle.

## Chosen config

```json
{json.dumps(chosen['config'], indent=2)}
```

## Grid and cross-validation table ({len(table)} configs, best first)

{cv_table_markdown(table)}

Reproduce: `python -m dlcodegen.training.classifiers --fields {name} --fit_splits {' '.join(splits.split(' + '))} --grid {info['grid']} --folds {info['folds']} --seed {info['seed']} --max_mb {info['max_mb']:g} --tolerance {info['tolerance']:g}`
"""


def summary_card(results: dict, args: ClassifierArguments) -> str:
    lines = ["# DLCodeGen plan field classifiers", "",
             "TF-IDF + linear classifiers for the plan's categorical fields, trained by `training/classifiers.py` "
             f"on DLPlanData {' + '.join(args.fit_splits)}; each folder holds one (`TextClassifier.load(folder)` in "
             "`dlcodegen.planning.classify`) and its model card.", "",
             "| field | classes | CV accuracy % | validation accuracy % (held out) | config | size MB |",
             "| --- | ---: | ---: | ---: | --- | ---: |"]
    for name, result in results.items():
        validation = result["validation"]
        lines.append(f"| `{name}` | {result['classes']} | {result['cv_accuracy']:.2f} | "
                     f"{validation['accuracy']:.2f} |" if validation else f"| `{name}` | {result['classes']} | "
                     f"{result['cv_accuracy']:.2f} | - |")
        lines[-1] += f" `{result['config']}` | {result['size_bytes'] / 1e6:.2f} |"
    lines += ["", f"Grid `{args.grid}`, {args.folds}-fold shuffled GroupKFold over near-duplicate groups, seed "
              f"{args.seed}, size budget {args.max_mb:g} MB a field. Held-out validation: config chosen by the same CV "
              "on train only, fitted on train, scored on the 100 validation items. The test split was never read.", ""]
    return "\n".join(lines)


def main(args: ClassifierArguments) -> dict:
    from pathlib import Path

    from dlcodegen.core.plan import normalize_label
    from dlcodegen.planning.classify import GROUP_THRESHOLD, TextClassifier, field_texts_labels, select_config

    from .sft import load_plandata

    unknown = sorted(set(args.fields) - set(DEFAULT_FIELDS))
    if unknown:
        raise SystemExit(f"error: unknown fields {unknown}; choose among {DEFAULT_FIELDS}")
    raw = load_plandata(args.dataset_name)
    bad = sorted(set(args.fit_splits) - {"train", "validation"})
    if bad or not args.fit_splits:
        raise SystemExit(f"error: --fit_splits takes 'train' and/or 'validation', got {args.fit_splits}")
    train, validation = list(raw["train"]), list(raw["validation"])
    fit_rows = [row for split in dict.fromkeys(args.fit_splits) for row in (train if split == "train" else validation)]
    grid = load_grid(args.grid)
    out = Path(args.output_dir)
    results = {}
    for name in args.fields:
        started = time.time()
        texts, labels = field_texts_labels(fit_rows, name)
        labelled = sum(normalize_label(label) is not None for label in labels)
        options = {"folds": args.folds, "seed": args.seed, "tolerance": args.tolerance, "n_jobs": args.n_jobs,
                   "max_bytes": int(args.max_mb * 1e6) if args.max_mb else None}
        best, table = select_config(texts, labels, grid, **options)
        cv_seconds = time.time() - started
        held_out = None
        if args.validation and "validation" in args.fit_splits:
            train_texts, train_labels = field_texts_labels(train, name)
            val_config, _ = select_config(train_texts, train_labels, grid, **options)
            model = TextClassifier(val_config).fit(train_texts, train_labels)
        elif args.validation:  # the classifier below never sees validation
            val_config, model = best, None
        if args.validation:
            model = model or TextClassifier(best).fit(texts, labels)
            val_texts, val_labels = field_texts_labels(validation, name)
            judged = [(normalize_label(p), normalize_label(r)) for p, r in zip(model.predict(val_texts), val_labels)
                      if normalize_label(r) is not None]
            held_out = {"accuracy": 100.0 * sum(p == r for p, r in judged) / len(judged), "items": len(judged),
                        "config": val_config.short()}
        start_fit = time.time()
        classifier = TextClassifier(best).fit(texts, labels)
        fit_seconds = time.time() - start_fit
        folder = out / name
        splits = " + ".join(dict.fromkeys(args.fit_splits))
        info = {"field": name, "data": f"{args.dataset_name} {splits}", "splits": splits, "items": labelled,
                "unlabelled": len(labels) - labelled, "folds": args.folds, "seed": args.seed, "grid": args.grid,
                "tolerance": args.tolerance, "max_mb": args.max_mb, "group_threshold": GROUP_THRESHOLD,
                "cv_accuracy": next(r["accuracy"] for r in table if r["chosen"]),
                "validation": held_out, "fit_seconds": round(fit_seconds, 2), "folder": str(folder)}
        classifier.info = info
        classifier.save(folder)
        info["size_bytes"] = folder_size(folder)  # the card reports the weights' size, not its own
        (folder / "README.md").write_text(model_card(name, classifier, table, info), encoding="utf-8")
        results[name] = {"classes": len(classifier.classes), "cv_accuracy": info["cv_accuracy"],
                         "validation": held_out, "config": best.short(), "size_bytes": folder_size(folder),
                         "fit_seconds": fit_seconds, "seconds": time.time() - started, "table": table}
        print(f"\n=== {name}: {labelled} labelled items, {len(classifier.classes)} classes, CV {cv_seconds:.0f} s ===")
        print(cv_table_markdown(table))
    out.mkdir(parents=True, exist_ok=True)
    (out / "README.md").write_text(summary_card(results, args), encoding="utf-8")
    print("\n=== plan field classifiers ===")
    print(f"{'field':<18} {'classes':>7} {'CV acc':>7} {'val acc':>7} {'fit s':>6} {'MB':>5}  config")
    for name, result in results.items():
        validation = f"{result['validation']['accuracy']:.2f}" if result["validation"] else "-"
        print(f"{name:<18} {result['classes']:>7} {result['cv_accuracy']:>7.2f} {validation:>7} "
              f"{result['fit_seconds']:>6.1f} {result['size_bytes'] / 1e6:>5.2f}  {result['config']}")
    print(f"folder: {out} ({folder_size(out) / 1e6:.2f} MB)")
    return results


if __name__ == "__main__":
    if not __package__:
        raise SystemExit("error: run it as a module: python -m dlcodegen.training.classifiers")
    (arguments,) = make_parser().parse_args_into_dataclasses()
    main(arguments)

"""Train the task-family classifier of the task reader (`dlcodegen.planning.task_classifier`) on DLPlanData-train
and the real-world development items (`datasets_builder/realworld_tasks`, split validation; its test split is never
read) when `--realworld` names them.

Each train item is shown in several wordings (`variants`: requirement + attributes, requirement alone, attributes
alone, the core clause, rewordings); a config is chosen from the grid by grouped K-fold cross-validation in which
all the wordings of an item, and of its near-copies, are held out together; it is then fitted on train and saved
(classifier.json + weights.safetensors, no pickle) with a model card that also reports DLPlanData validation
(held out: never fitted on). The test split is never read. DLPlanData's items share one phrasing and half are image
classification; the real-world items (repeated `realworld_repeat` times) teach the wordings people use. A second,
grouped K-fold over the real-world items alone reports how the classifier reads real-world wordings it was not
fitted on, with and without them in training.

    python -m dlcodegen.training.task_classifier            # -> dlcodegen/planning/plan_classifiers/task_family
    python -m dlcodegen.training.task_classifier --grid small --output_dir runs/task_family
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class TaskClassifierArguments:
    dataset_name: str = field(default="build/datasets/dlplandata", metadata={
        "help": "DLPlanData as a dataset folder or Hub id (built with `dlcodegen data build` when the default "
                "folder is missing)"})
    output_dir: str = field(default="dlcodegen/planning/plan_classifiers/task_family", metadata={
        "help": "where the chosen classifier and its card are written (default: the folder the package ships)"})
    grid: str = field(default="default", metadata={"help": "'default' or 'small'"})
    folds: int = field(default=5, metadata={"help": "cross-validation folds (GroupKFold over items)"})
    seed: int = field(default=0, metadata={"help": "seed of the wordings and of the fold split"})
    n_jobs: int = field(default=2, metadata={"help": "folds cross-validated in parallel"})
    realworld: str = field(default="", metadata={
        "help": "real-world task items (JSON Lines, e.g. datasets_builder/realworld_tasks/data/validation.jsonl) "
                "added to training (default: none, as for the shipped classifier)"})
    realworld_repeat: int = field(default=3, metadata={"help": "times each real-world wording is repeated"})


def make_parser():
    from transformers import HfArgumentParser

    return HfArgumentParser(TaskClassifierArguments)


def grid(name: str):
    from dlcodegen.planning.classify import TextClassifierConfig as Config

    small = [Config(word_ngrams=(1, 2), min_df=1, max_features=12000, model="svm", C=1.0, class_weight="balanced"),
             Config(word_ngrams=(1, 2), min_df=1, max_features=12000, model="svm", C=1.0)]
    if name == "small":
        return small
    return small + [
        Config(word_ngrams=(1, 1), min_df=1, model="svm", C=1.0, class_weight="balanced"),
        Config(word_ngrams=(1, 2), min_df=1, max_features=12000, model="svm", C=0.3, class_weight="balanced"),
        Config(word_ngrams=(1, 2), min_df=1, max_features=12000, model="svm", C=3.0, class_weight="balanced"),
        Config(word_ngrams=(1, 2), min_df=2, max_features=6000, model="ridge", C=3.0, class_weight="balanced"),
        Config(word_ngrams=(1, 2), min_df=1, max_features=12000, model="logreg", C=10.0, class_weight="balanced"),
        Config(word_ngrams=(1, 1), char_ngrams=(3, 5), min_df=2, max_features=20000, model="svm", C=1.0,
               class_weight="balanced"),
    ]


def item_groups(rows, items: list[int]) -> list[int]:
    """Each wording's group: the near-duplicate group of the item it was made from."""
    from dlcodegen.planning.classify import item_text, near_duplicate_groups

    groups = near_duplicate_groups([item_text(row["user_requirement"], row["dataset_attributes"]) for row in rows])
    return [int(groups[item]) for item in items]


def realworld_cv(plandata, realworld, config, folds: int, seed: int, repeat: int) -> dict:
    """Accuracy on held-out real-world items (their own wording), fitted on DLPlanData with and without the other
    folds' real-world items: what training on them buys on wordings not seen."""
    if not realworld:
        return {}
    from dlcodegen.planning.classify import TextClassifier, cv_splits
    from dlcodegen.planning.task_classifier import TaskClassifier, _identity, training_texts

    def fitted(rows):
        texts, labels, _ = training_texts(rows, seed)
        return TaskClassifier(TextClassifier(config, normalize=_identity).fit(texts, labels))

    groups = item_groups(realworld, list(range(len(realworld))))
    without = fitted(plandata)
    right = {"with": 0, "without": 0}
    for train_index, test_index in cv_splits(len(realworld), folds, seed, groups):
        held_out = [realworld[i] for i in test_index]
        questions = [(row["user_requirement"], row["dataset_attributes"]) for row in held_out]
        answers = [row["family"] for row in held_out]
        model = fitted(plandata + [realworld[i] for i in train_index] * repeat)
        right["with"] += sum(p == a for p, a in zip(model.predict_families(questions), answers))
        right["without"] += sum(p == a for p, a in zip(without.predict_families(questions), answers))
    return {f"realworld_cv_{name}": 100.0 * count / len(realworld) for name, count in right.items()}


def card(classifier, chosen: dict, table: list[dict], info: dict) -> str:
    from .classifiers import cv_table_markdown

    counts = sorted(classifier.classifier.counts.items(), key=lambda item: -item[1])
    families = ", ".join(f"{name} {count}" for name, count in counts)
    return f"""---
library_name: dlcodegen
tags: [dlcodegen, text-classification, tf-idf, task-family]
datasets: [DLPlanData, dlcodegen-realworld-tasks]
metrics: [accuracy]
---

# DLCodeGen task-family classifier

Predicts the task family (a key of `dlcodegen.core.task.FAMILIES`) of a requirement and its dataset attributes,
where the task reader's rules leave the family open (`dlcodegen.planning.task_reader.read_task`).

- **Data**: DLPlanData train (the items with a category that belongs to a family) and the {info['realworld_items']}
  real-world development items of `datasets_builder/realworld_tasks` (validation split, each repeated
  {info['realworld_repeat']} times), {info['items']} items in all, each shown in several wordings
  (`dlcodegen.planning.task_classifier.variants`): {info['texts']} texts. Wordings per family: {families}. Neither
  test split was read.
- **Real-world wordings not fitted on** ({info['folds']}-fold grouped CV over the real-world items, each held-out
  item in its own words): {info.get('realworld_cv_with', 0):.2f} % when the other folds' real-world items are in
  training, {info.get('realworld_cv_without', 0):.2f} % with DLPlanData alone (classifier alone, without the
  reader's rules).
- **Model**: TF-IDF + linear model, `{chosen['name']}`.
- **Cross-validation**: {info['folds']}-fold GroupKFold (seed {info['seed']}); all wordings of an item and of its
  near-copies are held out together; accuracy over every held-out wording: **{chosen['accuracy']:.2f} %**.
- **DLPlanData validation** (held out, the original wording only): {info['validation_accuracy']:.2f} % of
  {info['validation_items']} items (classifier alone, without the reader's rules).
- **Fit** {info['fit_seconds']:.1f} s.

## Grid ({len(table)} configs, best first)

{cv_table_markdown(table)}

Reproduce: `python -m dlcodegen.training.task_classifier --grid {info['grid']} --folds {info['folds']} --seed {info['seed']}`
"""


def main(args: TaskClassifierArguments) -> dict:
    from pathlib import Path

    from dlcodegen.planning.classify import TextClassifier, select_config
    from dlcodegen.planning.task_classifier import (TaskClassifier, _identity, family_label, realworld_rows,
                                                    training_texts)

    from .sft import load_plandata

    raw = load_plandata(args.dataset_name)
    plandata, validation = list(raw["train"]), list(raw["validation"])
    realworld = realworld_rows(args.realworld) if args.realworld else []
    train = plandata + realworld * args.realworld_repeat
    texts, labels, items = training_texts(train, args.seed)
    configs = grid(args.grid)
    started = time.time()
    best, table = select_config(texts, labels, configs, folds=args.folds, seed=args.seed, normalize=_identity,
                                n_jobs=args.n_jobs, groups=item_groups(train, items))
    print(f"cross-validated {len(configs)} configs in {time.time() - started:.0f} s; chosen {best.short()}")
    started = time.time()
    classifier = TaskClassifier(TextClassifier(best, normalize=_identity).fit(texts, labels))
    fit_seconds = time.time() - started
    labelled = [row for row in validation if family_label(row)]
    predicted = classifier.predict_families([(row["user_requirement"], row["dataset_attributes"]) for row in labelled])
    accuracy = 100.0 * sum(p == family_label(row) for p, row in zip(predicted, labelled)) / len(labelled)
    chosen = next(row for row in table if row["chosen"])
    info = {"items": len(set(items)), "texts": len(texts), "folds": args.folds, "seed": args.seed, "grid": args.grid,
            "validation_accuracy": accuracy, "validation_items": len(labelled), "fit_seconds": fit_seconds,
            "cv_accuracy": chosen["accuracy"], "realworld_items": len(realworld),
            "realworld_repeat": args.realworld_repeat,
            **realworld_cv(plandata, realworld, best, args.folds, args.seed, args.realworld_repeat)}
    classifier.classifier.info = {"data": "DLPlanData train, all wordings", **info}
    out = classifier.save(Path(args.output_dir))
    (out / "README.md").write_text(card(classifier, chosen, table, info), encoding="utf-8")
    print(f"CV {chosen['accuracy']:.2f} %, validation {accuracy:.2f} %, real-world held out "
          f"{info.get('realworld_cv_with', 0):.2f} % (DLPlanData alone {info.get('realworld_cv_without', 0):.2f} %); "
          f"wrote {out}")
    return info


if __name__ == "__main__":
    main(*make_parser().parse_args_into_dataclasses())

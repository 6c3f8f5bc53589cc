"""How well the task reader reads the task from real-world wording (issue 18's targets beside each figure).

On the real-world development set (`datasets_builder/realworld_tasks`, split `validation` by default) and on
DLPlanData validation: task-family accuracy, output-kind accuracy, per-fact accuracy over the items that state the
fact (class count, image size, channels, ...), and with `--plans` the share of stated facts the default planner's
plan carries (the class count as the last layer's units or in Output, the image size in Input). Then a confusion
table of the families the reader got wrong.

    python benchmarks/task_reading.py                 # development set + DLPlanData validation
    python benchmarks/task_reading.py --plans         # + facts carried into the retrieval planner's plans
    python benchmarks/task_reading.py --split test    # the held-out real-world split (score it once)
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REALWORLD = ROOT / "datasets_builder" / "realworld_tasks" / "data"
FACTS = ("output.classes", "input.height", "input.width", "input.channels", "output.horizon", "input.sequence_length",
         "input.features", "input.sample_rate", "input.clip_seconds", "output.target_column")
TARGETS = {"task family": 90.0, "output kind": 90.0, "facts carried into the plan": 95.0}


@dataclass
class Item:
    requirement: str
    attributes: object
    task: str
    input: dict
    output: dict


def realworld_items(split: str) -> list[Item]:
    rows = [json.loads(line) for line in (REALWORLD / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [Item(row["requirement"], row["attributes"], row["task"], row["input"], row["output"]) for row in rows]


def plandata_items() -> list[Item]:
    from dlcodegen.core.task import family_of_category
    from dlcodegen.data import load_local

    items = []
    for row in load_local("dlplandata", split="validation"):
        family = family_of_category(row["task_category"])
        if family:
            items.append(Item(row["user_requirement"], row["dataset_attributes"], family.name, {}, {}))
    return items


def _label(item: Item, name: str):
    part, key = name.split(".")
    return (item.input if part == "input" else item.output).get(key)


def _carried(plan, name: str, value) -> bool:
    text = " ".join(str(part) for part in (plan.input, plan.output, *(plan.layers or [])))
    if name == "output.classes":
        last = (plan.layers or [""])[-1]
        units = re.findall(r"\d+", last)
        return (bool(units) and int(units[0]) == value) or (value == 2 and "sigmoid" in last.lower()) or \
            _number_in(value, str(plan.output))
    if name in ("input.height", "input.width"):
        return _number_in(value, str(plan.input))
    return _number_in(value, text)


def _number_in(value, text: str) -> bool:
    return re.search(rf"(?<![\d.]){value}(?![\d.])", text) is not None


def score(items: list[Item], planner=None) -> dict:
    from dlcodegen.planning.task_reader import read_task

    specs = [read_task(item.requirement, item.attributes) for item in items]
    family = [spec.task.value == item.task for spec, item in zip(specs, items)]
    labelled_kinds = [(spec, item) for spec, item in zip(specs, items) if item.output.get("kind")]
    kinds = [spec.output.kind.value == item.output["kind"] for spec, item in labelled_kinds]
    facts: dict[str, list[bool]] = {}
    for spec, item in zip(specs, items):
        found = spec.facts()
        for name in FACTS:
            label = _label(item, name)
            if label is not None:
                facts.setdefault(name, []).append(found[name].value == label)
    carried: list[bool] = []
    if planner is not None:
        for item in items:
            plan = planner.predict(item.requirement, item.attributes).plan
            for name in ("output.classes", "input.height", "input.channels"):
                label = _label(item, name)
                if label is not None and plan is not None:
                    carried.append(_carried(plan, name, label) if name != "input.channels" else
                                   _carried(plan, name, label) or label == 3)
    confusion = Counter((item.task, spec.task.value) for spec, item in zip(specs, items)
                        if spec.task.value != item.task)
    return {"items": len(items), "family": family, "kinds": kinds, "facts": facts, "carried": carried,
            "confusion": confusion}


def _percent(values: list[bool]) -> str:
    return f"{100.0 * sum(values) / len(values):.1f} ({sum(values)}/{len(values)})" if values else "n/a"


def report(columns: dict[str, dict]) -> str:
    names = list(columns)
    lines = ["| measure | " + " | ".join(names) + " | target |", "| --- |" + " --- |" * (len(names) + 1)]

    def row(title: str, values: list[str], target: str = "") -> None:
        lines.append(f"| {title} | " + " | ".join(values) + f" | {target} |")

    row("task family %", [_percent(c["family"]) for c in columns.values()], ">= 90")
    row("output kind %", [_percent(c["kinds"]) for c in columns.values()], ">= 90")
    for fact in FACTS:
        if any(fact in c["facts"] for c in columns.values()):
            row(f"{fact} % (items that state it)", [_percent(c["facts"].get(fact, [])) for c in columns.values()])
    if any(c["carried"] for c in columns.values()):
        row("stated class count / image size / channels carried into the plan %",
            [_percent(c["carried"]) for c in columns.values()], ">= 95")
    row("items", [str(c["items"]) for c in columns.values()])
    for name, column in columns.items():
        if column["confusion"]:
            lines += ["", f"Families read wrong on {name} (labelled -> read, count):", ""]
            lines += [f"- {true} -> {read}: {count}" for (true, read), count in column["confusion"].most_common()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="validation", help="split of the real-world set (validation or test)")
    parser.add_argument("--plans", action="store_true", help="also check the facts the default planner carries")
    parser.add_argument("--no-plandata", action="store_true", help="skip DLPlanData validation")
    args = parser.parse_args()
    planner = None
    if args.plans:
        from dlcodegen.planning.planners import load_planner

        planner = load_planner(None)
    columns = {f"real-world {args.split}": score(realworld_items(args.split), planner)}
    if not args.no_plandata:
        columns["DLPlanData validation"] = score(plandata_items(), planner)
    print(report(columns))


if __name__ == "__main__":
    main()

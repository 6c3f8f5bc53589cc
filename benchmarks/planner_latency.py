"""Planner latency on the CPU: p50 / p90 milliseconds per plan, against the targets.

Times the shipped retrieval planner (BM25 + neighbour voting + classifier), the plain BM25 nearest-plan lookup
it refines (the reference point), and any neural planner folders given, one plan at a time, greedy decoding.

    python benchmarks/planner_latency.py [--neural runs/planner-scratch-small ...] [--items 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

TARGET_MS = {"retrieval": 50, "neural": 2000}  # retrieval: issue 11, the default planner under 50 ms


def _time_each(predict, rows, warmup: int = 2) -> list[float]:
    for row in rows[:warmup]:
        predict(row)
    times = []
    for row in rows:
        started = time.perf_counter()
        predict(row)
        times.append(1000 * (time.perf_counter() - started))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neural", nargs="*", default=[], help="neural planner folders or Hub ids to time")
    parser.add_argument("--items", type=int, default=50, help="validation items to plan (default 50)")
    parser.add_argument("--neural-items", type=int, default=10, help="items for each neural planner (default 10)")
    parser.add_argument("--data", help="folder of built datasets")
    args = parser.parse_args()

    import torch

    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.export import ensure_built
    from dlcodegen.planning.planners import NeuralPlanner, RetrievalPlanner

    rows = list(load_local("dlplandata", split="validation", path=ensure_built(args.data)))[: args.items]
    started = time.perf_counter()
    retrieval = RetrievalPlanner.from_dataset(args.data)
    build_seconds = time.perf_counter() - started

    results = []
    plain = lambda row: retrieval.neighbours(row["user_requirement"], row["dataset_attributes"])[0]  # noqa: E731
    results.append(("BM25 nearest plan only (reference)", "retrieval", _time_each(plain, rows)))
    results.append(("retrieval planner (shipped default)", "retrieval", _time_each(
        lambda row: retrieval.predict(row["user_requirement"], row["dataset_attributes"]), rows)))
    for folder in args.neural:
        planner = NeuralPlanner(folder)
        results.append((f"neural {folder} (greedy)", "neural", _time_each(
            lambda row, planner=planner: planner.predict(row["user_requirement"], row["dataset_attributes"]),
            rows[: args.neural_items], warmup=1)))

    print(f"Planner latency, one plan at a time, CPU with {torch.get_num_threads()} threads "
          f"(retrieval index built in {build_seconds:.1f} s)\n")
    print("| planner | items | p50 ms | p90 ms | target p50 | meets |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, kind, times in results:
        p50 = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else p50
        target = TARGET_MS[kind]
        print(f"| {name} | {len(times)} | {p50:.1f} | {p90:.1f} | < {target} | {'yes' if p50 < target else 'NO'} |")


if __name__ == "__main__":
    main()

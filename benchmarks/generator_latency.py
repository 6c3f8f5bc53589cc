"""Generator latency against a local OpenAI-compatible server that answers every call after a fixed delay L.

Targets (issue "The generator"): one `dlcodegen` item takes at most 3L plus planning and retrieval (code 1 runs
beside template -> code 2, so four calls cost three latencies, not four); `bench --concurrency 8` over the 46
DLCodeEval items takes at most a fifth of `--concurrency 1`; a rerun with a warm cache makes no calls.

    python benchmarks/generator_latency.py [--delay 0.25] [--items 5] [--data build/datasets]

The server is the loopback stub of the test suite (`tests/llm_stub.py`): a real HTTP server speaking the OpenAI
protocol through the `openai` client, so the figures include the protocol, streaming and JSON work.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWER = "```python\nimport tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dense(1)])\n```"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0.25, help="server delay L per call, seconds")
    parser.add_argument("--items", type=int, default=5, help="items timed one at a time")
    parser.add_argument("--data", help="folder of built datasets (built when missing)")
    return parser


def measured_call_latency(client, tries: int = 5) -> float:
    """Mean seconds of one streamed call as the generator makes it: the server's delay plus the protocol."""
    started = time.perf_counter()
    for attempt in range(tries):
        client.complete([{"role": "user", "content": f"latency probe {attempt}"}], on_token=lambda delta: None)
    return (time.perf_counter() - started) / tries


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests"))
    from llm_stub import StubLLMServer

    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.export import ensure_built
    from dlcodegen.generator.bench import run_bench
    from dlcodegen.generator.pool import load_pool
    from dlcodegen.generator.run import Generator, GeneratorConfig
    from dlcodegen.llm import LLMConfig, make_client
    from dlcodegen.planning.planners import load_planner

    data = ensure_built(args.data)
    planner = load_planner(None, data_path=data)
    pool = load_pool(data_path=data, include_user=False)
    items = list(load_local("dlcodeeval", split="test", path=data))
    rows = []
    with StubLLMServer(ANSWER, delay=args.delay) as server, tempfile.TemporaryDirectory() as scratch:
        def generator(cache_dir=None) -> Generator:
            config = LLMConfig(base_url=server.base_url, model="stub", cache_dir=cache_dir)
            return Generator(planner, pool, make_client(config), GeneratorConfig(method="dlcodegen"), data)

        one = generator()
        call_latency = measured_call_latency(one.client)
        per_item, overhead = [], []
        for row in items[: args.items]:
            started = time.perf_counter()
            result = one.generate(row["user_requirement"], row["dataset_attributes"], item_id=row["id"])
            per_item.append(time.perf_counter() - started)
            overhead.append(sum(r.seconds for r in result.records if r.stage in ("plan", "retrieve")))
        mean, mean_overhead = sum(per_item) / len(per_item), sum(overhead) / len(overhead)
        bound = 3 * call_latency + mean_overhead
        rows.append(("one LLM call as the client sees it (L + protocol), mean", f"{call_latency:.3f} s",
                     f"L = {args.delay} s", True))
        rows.append(("one dlcodegen item (4 LLM calls), mean", f"{mean:.3f} s",
                     f"<= 3 calls + plan/retrieve = {bound:.3f} s (4 calls = {4 * call_latency + mean_overhead:.3f})",
                     mean <= bound * 1.02))

        timings = {}
        for concurrency in (1, 8):
            started = time.perf_counter()
            run_bench(generator(), items, Path(scratch) / f"c{concurrency}.jsonl",
                      {"method": "dlcodegen", "backend": "openai", "model": "stub"}, concurrency, progress=False)
            timings[concurrency] = time.perf_counter() - started
        rows.append(("bench 46 items, --concurrency 1", f"{timings[1]:.1f} s", "reference", True))
        rows.append(("bench 46 items, --concurrency 8", f"{timings[8]:.1f} s",
                     f"<= 1/5 of concurrency 1 = {timings[1] / 5:.1f} s ({timings[1] / timings[8]:.1f}x faster)",
                     timings[8] <= timings[1] / 5))

        cache = Path(scratch) / "cache"
        run_bench(generator(cache), items, Path(scratch) / "cold.jsonl",
                  {"method": "dlcodegen", "backend": "openai", "model": "stub"}, 8, progress=False)
        before = server.requests
        started = time.perf_counter()
        run_bench(generator(cache), items, Path(scratch) / "warm.jsonl",
                  {"method": "dlcodegen", "backend": "openai", "model": "stub"}, 8, progress=False)
        rows.append(("bench rerun, warm cache: calls sent", str(server.requests - before),
                     f"0 ({time.perf_counter() - started:.1f} s)", server.requests == before))

    print(f"Generator latency against a loopback OpenAI-compatible server, L = {args.delay} s per call; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}")
    print()
    print("| measure | measured | target | meets |")
    print("| --- | --- | --- | --- |")
    for name, measured, target, meets in rows:
        print(f"| {name} | {measured} | {target} | {'yes' if meets else 'NO'} |")


if __name__ == "__main__":
    main()

"""Where the test split's plan scores come from: the two generation batches of DLPlanData-test, side by side.

DLPlanData-test, in the artifact's order, is two batches: plans 0-199 spell `Model Architecture`/`Hyperparameters`
and mostly word Input/Output as "Input data consists of ..."/"Output is a ..." (a wording 1.5% of train plans and
no validation plan have); plans 200-399 are written like train and validation (see the DLPlanData card). This
scores already-chosen planners on each half and on the whole split, beside the paper's GPT-2-large (Table IV). It
selects nothing: every setting was chosen on validation before the test split was scored.

    python benchmarks/plan_test_halves.py [--planner retrieval models/planner-scratch-base] [--data build/datasets]
"""

from __future__ import annotations

import argparse

def mean_sentence_bleu(plans, references, field: str) -> float:
    """Mean of per-item sacrebleu sentence BLEU (its default smoothing): a common alternative to corpus BLEU."""
    import sacrebleu

    from dlcodegen.core.plan import Plan

    pairs = [(getattr(plan, field) or "" if plan else "", getattr(Plan.from_text(reference), field))
             for plan, reference in zip(plans, references)]
    pairs = [(predicted, reference) for predicted, reference in pairs if reference]
    return sum(sacrebleu.sentence_bleu(predicted, [reference]).score for predicted, reference in pairs) / len(pairs)


HALVES = {"test 0-199": slice(0, 200), "test 200-399": slice(200, 400), "test (all 400)": slice(0, 400)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planner", nargs="*", default=["retrieval"], help="planner specs, as for `plan eval`")
    parser.add_argument("--data", help="folder of built datasets")
    args = parser.parse_args()

    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.export import ensure_built
    from dlcodegen.metrics.plan_metrics import compute_plan_metrics
    from dlcodegen.metrics.report import format_plan_report
    from dlcodegen.planning.planners import load_planner, predict_split

    data = ensure_built(args.data)
    rows = load_local("dlplandata", split="test", path=data)
    references = list(rows["plan_text"])
    for spec in args.planner:
        planner = load_planner(spec, data_path=data)
        plans = [prediction.plan for prediction in predict_split(planner, rows)]
        columns = {name: compute_plan_metrics(plans[part], references[part]) for name, part in HALVES.items()}
        print(format_plan_report(columns, f"test by generation batch, planner {planner.name}", paper=True))
        print(f"{planner.name}, all 400, mean sentence BLEU instead of corpus BLEU: Input "
              f"{mean_sentence_bleu(plans, references, 'input'):.2f}, Output "
              f"{mean_sentence_bleu(plans, references, 'output'):.2f}")
        print()


if __name__ == "__main__":
    main()

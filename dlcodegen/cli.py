"""The `dlcodegen` command. Subcommands import their heavy dependencies lazily so `--help` stays instant."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlcodegen.data import DATA_HELP, DEFAULT_DATA_DIR


class UserError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""


def _data(args: argparse.Namespace) -> Path:
    """The built datasets folder of `--data`, built from the artifact first when missing."""
    from dlcodegen.datasets_builder.export import ensure_built

    return ensure_built(args.data)


def _data_build(args: argparse.Namespace) -> None:
    from dlcodegen.datasets_builder.export import DATASET_NAMES, build_all

    build_all(source=args.source, out_dir=args.out, names=tuple(args.only or DATASET_NAMES))


def _data_push(args: argparse.Namespace) -> None:
    from dlcodegen.datasets_builder.export import DATASET_NAMES
    from dlcodegen.hub import push_folder, require_token

    out = Path(args.out)
    missing = [name for name in DATASET_NAMES if not (out / name / "README.md").is_file()]
    if missing:
        raise UserError(f"{out} lacks the built dataset folder(s) {', '.join(missing)}: "
                        f"run `dlcodegen data build --out {out}` first")
    token = require_token()
    for name in DATASET_NAMES:
        url = push_folder(out / name, f"{args.namespace}/{name}", "dataset", args.private, token,
                          "Upload with dlcodegen data push")
        print(f"pushed {name} -> {url}")


def _eval_reproduce_table2(args: argparse.Namespace) -> None:
    from dlcodegen.data import load_local
    from dlcodegen.metrics.reproduce import format_table2, reproduce_table2

    references = load_local("dlcodeeval", split="test", path=_data(args))["reference_code"]
    generations = load_local("dlcodeeval-generations", split="test", path=_data(args))
    rows, unformatted_refs = reproduce_table2(references, generations, args.normalize)
    print(format_table2(rows, unformatted_refs, args.normalize))


def _eval_codebleu(args: argparse.Namespace) -> None:
    from dlcodegen.data import load_local
    from dlcodegen.predictions import read_predictions
    from dlcodegen.metrics.scoring import score_codebleu

    items = load_local("dlcodeeval", split="test", path=_data(args))
    predictions = read_predictions(args.predictions, "code", items["id"])
    scores = score_codebleu([predictions[item_id] for item_id in items["id"]], items["reference_code"],
                            normalize_mode=args.normalize)
    _print_scores(scores, args.json)


def _eval_plans(args: argparse.Namespace) -> None:
    from dlcodegen.data import load_local
    from dlcodegen.metrics.plan_metrics import compute_plan_metrics
    from dlcodegen.predictions import read_predictions

    split = load_local("dlplandata", split=args.split, path=_data(args))
    predictions = read_predictions(args.predictions, "plan", split["id"])
    scores = compute_plan_metrics([predictions[item_id] for item_id in split["id"]], split["plan_text"])
    _print_scores(scores, args.json)


def _plan_predict(args: argparse.Namespace) -> None:
    import json

    from dlcodegen.data import load_local
    from dlcodegen.planning.planners import load_planner, predict_rows

    rows = load_local("dlplandata", split=args.split, path=_data(args))
    if args.limit:
        rows = rows.select(range(min(args.limit, len(rows))))
    planner = load_planner(args.planner, data_path=_data(args), **_neural_options(args.planner, args.num_beams))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in predict_rows(planner, rows):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} plans from {planner.name} to {out}")


def _neural_options(spec: str | None, num_beams: int) -> dict:
    from dlcodegen.planning.planners import DEFAULT_PLANNER

    return {} if (spec or DEFAULT_PLANNER) == "retrieval" else {"num_beams": num_beams}


def _plan_eval(args: argparse.Namespace) -> None:
    from dlcodegen.data import load_local
    from dlcodegen.planning.planners import DEFAULT_PLANNER, evaluate_planner, load_planner
    from dlcodegen.metrics.report import format_plan_report

    rows = load_local("dlplandata", split=args.split, path=_data(args))
    columns = {}
    for spec in args.planner or [DEFAULT_PLANNER]:
        planner = load_planner(spec, data_path=_data(args), **_neural_options(spec, args.num_beams))
        columns[planner.name] = evaluate_planner(planner, rows, args.limit)
    print(format_plan_report(columns, args.split, paper=args.split == "test" and not args.limit))


def _print_scores(scores: dict, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(scores, indent=2))
        return
    for key, value in scores.items():
        shown = "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else value)
        print(f"{key:<28} {shown}")


def _parents() -> dict[str, argparse.ArgumentParser]:
    """Options several subcommands share, defined once."""
    from dlcodegen.metrics.normalize import NORMALIZATIONS

    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", help=DATA_HELP)
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print the result as JSON")
    split = argparse.ArgumentParser(add_help=False)
    split.add_argument("--split", default="test", choices=("train", "validation", "test"), help="DLPlanData split")
    normalize = argparse.ArgumentParser(add_help=False)
    normalize.add_argument("--normalize", default="dlcodegen", choices=NORMALIZATIONS,
                           help="code normalisation before CodeBLEU (default: dlcodegen, the paper's)")
    return {"data": data, "json": as_json, "split": split, "normalize": normalize}


def make_parser() -> argparse.ArgumentParser:
    from dlcodegen.metrics.normalize import NORMALIZATIONS

    parser = argparse.ArgumentParser(prog="dlcodegen", description=__doc__)
    parents = _parents()
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="build and publish the DLCodeGen datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    build = data_commands.add_parser("build", help="build the four Hub-ready dataset folders from the artifact")
    build.add_argument("--source", help="artifact folder or base URL (default: $DLCODEGEN_ARTIFACT, else "
                                        "../shared/dlcodegen-artifact when present, else the upstream raw URLs)")
    build.add_argument("--out", default=DEFAULT_DATA_DIR, help=f"output folder (default: {DEFAULT_DATA_DIR})")
    build.add_argument("--only", nargs="+", metavar="NAME", help="build only these datasets")
    build.set_defaults(handler=_data_build)
    push = data_commands.add_parser("push", help="upload the built folders to the Hugging Face Hub")
    push.add_argument("--namespace", required=True, help="Hub user or organisation that receives the repos")
    push.add_argument("--private", action="store_true", help="create the repos as private")
    push.add_argument("--out", default=DEFAULT_DATA_DIR, help=f"folder of built datasets (default: "
                                                              f"{DEFAULT_DATA_DIR})")
    push.set_defaults(handler=_data_push)

    evaluation = commands.add_parser("eval", help="score generations and plans; reproduce the paper's tables")
    eval_commands = evaluation.add_subparsers(dest="eval_command", required=True)
    table2 = eval_commands.add_parser("reproduce-table2", parents=[parents["normalize"], parents["data"]],
                                      help="recompute Table II from the released generations")
    table2.set_defaults(handler=_eval_reproduce_table2)
    codebleu = eval_commands.add_parser("codebleu", parents=[parents["data"], parents["json"]],
                                        help="CodeBLEU of {id, code} rows against DLCodeEval")
    codebleu.add_argument("--predictions", required=True, help="JSON Lines file of {\"id\": int, \"code\": str}")
    codebleu.add_argument("--normalize", default="none", choices=NORMALIZATIONS,
                          help="code normalisation before CodeBLEU (default: none)")
    codebleu.set_defaults(handler=_eval_codebleu)
    plans = eval_commands.add_parser("plans", parents=[parents["split"], parents["data"], parents["json"]],
                                     help="plan metrics of {id, plan} rows against DLPlanData")
    plans.add_argument("--predictions", required=True, help="JSON Lines file of {\"id\": int, \"plan\": str|object}")
    plans.set_defaults(handler=_eval_plans)

    plan = commands.add_parser("plan", help="predict solution plans and compare planners")
    plan_commands = plan.add_subparsers(dest="plan_command", required=True)
    planner_help = ("retrieval, a planner model folder or Hub id, or hybrid:MODEL (the model's input and output "
                    "fields with the retrieval planner's others); default: the shipped default, retrieval")
    planning = argparse.ArgumentParser(add_help=False, parents=[parents["split"], parents["data"]])
    planning.add_argument("--limit", type=int, help="only the first N rows of the split")
    planning.add_argument("--num-beams", type=int, default=1, help="beam search width for neural planners")
    predict = plan_commands.add_parser("predict", parents=[planning],
                                       help="write {id, plan, plan_text} rows for a DLPlanData split")
    predict.add_argument("--planner", help=planner_help)
    predict.add_argument("--out", required=True, help="JSON Lines file to write")
    predict.set_defaults(handler=_plan_predict)
    plan_eval = plan_commands.add_parser("eval", parents=[planning],
                                         help="Table IV-style report for one or more planners")
    plan_eval.add_argument("--planner", nargs="+", help=planner_help + "; several give side-by-side columns")
    plan_eval.set_defaults(handler=_plan_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    from dlcodegen.datasets_builder.raw import RawDataError
    from dlcodegen.hub import HubError

    try:
        args.handler(args)
    except (UserError, HubError, RawDataError, FileNotFoundError, ValueError) as error:
        print(f"dlcodegen: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `dlcodegen` command. Subcommands import their heavy dependencies lazily so `--help` stays instant.

Errors: a mistake the user can fix (`dlcodegen.core.errors.UserError`) prints one line and exits 2; anything else is
a bug and prints its traceback. `-v` shows the library's progress logs, `-vv` its debug logs, `-q` errors only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from dlcodegen.data import DATA_HELP, DEFAULT_DATA_DIR
from dlcodegen.cli_leaderboard import add_leaderboard_commands
from dlcodegen.core.errors import UserError


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

    if args.items:
        return _plan_items(args)

    from dlcodegen.data import load_local
    from dlcodegen.planning.planners import load_planner, predict_rows

    rows = load_local("dlplandata", split=args.split, path=_data(args))
    if args.limit:
        rows = rows.select(range(min(args.limit, len(rows))))
    planner = _planner(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in predict_rows(planner, rows):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} plans from {planner.name} to {out}")


def _plan_items(args: argparse.Namespace) -> None:
    """`plan predict --items FILE.jsonl`: any requirements, every row checked before any is planned."""
    from dlcodegen.files import jsonl_text
    from dlcodegen.planning.items_file import read_plan_items

    items = read_plan_items(args.items)
    planner = _planner(args)
    rows = [planner.predict(item.requirement, item.attributes).as_row(item.id) for item in _progress(items, planner)]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(jsonl_text(rows), encoding="utf-8")
    print(f"wrote {len(rows)} plans from {planner.name} to {out}")


def _progress(items, planner):
    from tqdm.auto import tqdm

    return tqdm(items, desc=f"planning with {planner.name}", disable=len(items) < 5)


def _planner(args: argparse.Namespace):
    from dlcodegen.planning.planners import load_planner

    options = _neural_options(args.planner, getattr(args, "num_beams", 1))
    if args.planner == "llm":
        from dlcodegen.llm import make_client

        options = {"client": make_client(_llm_config(args))}
    return load_planner(args.planner, data_path=_data(args), **options)


def _plan_show(args: argparse.Namespace) -> None:
    """`plan "REQUIREMENT"`: the task and the plan for one requirement."""
    import json

    from dlcodegen.core.plan import check_requirement
    from dlcodegen.generator.console import plan_lines

    check_requirement(args.requirement)
    prediction = _planner(args).predict(args.requirement, args.attributes or "")
    if args.json:
        print(json.dumps(prediction.as_row(0) | {"repairs": prediction.repairs}, ensure_ascii=False, indent=2))
        return
    print("\n".join(plan_lines(prediction)))


def _neural_options(spec: str | None, num_beams: int) -> dict:
    from dlcodegen.planning.planners import DEFAULT_PLANNER

    return {} if (spec or DEFAULT_PLANNER) in ("retrieval", "llm") else {"num_beams": num_beams}


def _plan_eval(args: argparse.Namespace) -> None:
    from dlcodegen.core.errors import InputError, MissingError
    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.source import resolve_source
    from dlcodegen.metrics.planner_eval import evaluate_planner
    from dlcodegen.metrics.released_plans import column_title, read_released, score_released, select_names
    from dlcodegen.metrics.report import format_plan_report
    from dlcodegen.planning.planners import DEFAULT_PLANNER, load_planner

    released, artifact = [], ""
    if args.released:  # the paper's RQ3 predictions, found before any planner is loaded
        if args.split != "test":
            raise InputError(f"--released scores the paper's predictions for the DLPlanData test split, not "
                             f"{args.split}: use --split test")
        try:
            source = resolve_source(args.source)
        except FileNotFoundError as error:
            raise MissingError(str(error)) from None
        if source.is_remote:
            raise MissingError("no local DLCodeGen artifact folder was found (--released reads its "
                               "Results/RQ3/results/): pass --source or set $DLCODEGEN_ARTIFACT to it")
        artifact, released = source.location, select_names(args.released, source.location)
    rows = load_local("dlplandata", split=args.split, path=_data(args))
    columns, notes = {}, []
    for spec in args.planner or ([] if released else [DEFAULT_PLANNER]):
        planner = load_planner(spec, data_path=_data(args), **_neural_options(spec, args.num_beams))
        columns[planner.name] = evaluate_planner(planner, rows, args.limit)
    for name in released:
        predictions = read_released(name, artifact, rows["user_requirement"])
        columns[column_title(name)] = score_released(predictions, rows, args.limit)
        notes.append(predictions.describe())
    print("\n".join([format_plan_report(columns, args.split, paper=args.split == "test" and not args.limit),
                     *notes]))


def _plan_hybrid(args: argparse.Namespace) -> None:
    from dlcodegen.data import load_local
    from dlcodegen.metrics.report import format_plan_report
    from dlcodegen.metrics.planner_eval import evaluate_planner, write_hybrid_choice
    from dlcodegen.planning.planners import NeuralPlanner, RetrievalPlanner

    rows = load_local("dlplandata", split=args.split, path=_data(args))
    model = NeuralPlanner(args.model, num_beams=args.num_beams)  # a missing folder fails before any evaluation
    retrieval = evaluate_planner(RetrievalPlanner.from_dataset(_data(args)), rows, args.limit)
    neural = evaluate_planner(model, rows, args.limit)
    choice = write_hybrid_choice(args.model, retrieval, neural, args.split)
    print(format_plan_report({"retrieval": retrieval, args.model: neural}, args.split))
    fields = ", ".join(choice["neural_fields"]) or "none (retrieval is as good or better on every field)"
    print(f"hybrid:{args.model} takes from the model: {fields}")



# ---------------------------------------------------------------------------------------------------------------
# generate, bench, pool


def _llm_config(args: argparse.Namespace):
    from dlcodegen.llm import LLMConfig

    params = {name: getattr(args, name) for name in ("temperature", "top_p", "max_tokens", "timeout")
              if getattr(args, name) is not None}
    return LLMConfig.from_env(base_url=args.base_url, model=args.model, no_cache=args.no_cache, **params)


def _generator(args: argparse.Namespace, verify_outputs: bool = False, offline_checks: bool = False):
    """The generator the options describe (planner, pool with the user's samples, a client for LLM methods, the
    verifier that the repair loop and `bench --verify` use), and its backend."""
    from dlcodegen.generator.setup import GeneratorSetup, build_generator, resolve

    setup = GeneratorSetup(method=args.method, backend=args.backend, llm=_llm_config(args), planner=args.planner,
                           data_path=_data(args), pool_dir=args.pool, seed=args.seed, repair=args.repair)
    resolution = resolve(setup)
    # `generate`'s offline generator checks its own project against the task (bench checks with --verify)
    checks_itself = offline_checks and resolution.method.name == "offline"
    wanted = (resolution.method.needs_llm and args.repair > 0) or checks_itself
    setup.verifier = _verifier(args, required=verify_outputs, wanted=wanted,
                               without="the project is not checked against the task" if checks_itself else
                               "no repair rounds")
    return build_generator(setup, resolution, notice=_notice)


def _verifier(args: argparse.Namespace, required: bool, wanted: bool, without: str = "no repair rounds"):
    """`verify_code` with the command's limits; None when not wanted, or wanted but TensorFlow is missing (the
    `without` line says what is lost)."""
    from functools import partial

    from dlcodegen.verify import TF_MISSING, VerifyConfig, tensorflow_available, verify_code

    if not (required or wanted):
        return None
    if not tensorflow_available():
        if required:
            raise UserError(TF_MISSING)
        print(f"{without}: {TF_MISSING}", file=sys.stderr)
        return None
    return partial(verify_code, config=VerifyConfig(timeout=args.verify_timeout, memory_mb=args.verify_memory))


def _generate(args: argparse.Namespace) -> None:
    from dlcodegen.core.plan import check_requirement
    from dlcodegen.core.results import GenerationError
    from dlcodegen.generator.console import StageConsole
    from dlcodegen.generator.project import check_out_dir, write_project, write_trace
    from dlcodegen.metrics.adherence import plan_adherence

    check_requirement(args.requirement)
    check_out_dir(args.out)
    generator, _ = _generator(args, offline_checks=True)
    console = StageConsole()
    try:
        result = generator.generate(args.requirement, args.attributes or "", on_event=console.show)
    except GenerationError as error:
        path = write_trace(error.result, args.out)
        if error.cause is not None and not isinstance(error.cause, UserError):
            raise  # a bug: its traceback is shown (the finished stages are in the trace)
        raise UserError(f"{error} (the stages that finished are in {path})") from None
    paths = write_project(result, args.out)
    plan = result.reference_plan
    console.summary(result, paths, plan_adherence(result.code, plan) if plan else None)


def _bench(args: argparse.Namespace) -> int:
    import dlcodegen
    from dlcodegen.data import load_local
    from dlcodegen.generator.bench import items_scores, run_bench, summary_scores

    items = _bench_items(args) if args.items else None  # bad rows: one line, before anything is loaded
    generator, backend = _generator(args, verify_outputs=args.verify)
    if items is None:
        items = load_local("dlcodeeval", split="test", path=_data(args))
        items = list(items.select(range(min(args.limit, len(items))))) if args.limit else list(items)
    client = generator.client
    metadata = {"method": generator.method.name, "backend": backend,
                "model": client.config.model if client else None, "parameters": _parameters(client),
                "planner": generator.planner.name, "seed": args.seed, "repair": generator.config.repair,
                "package_version": dlcodegen.__version__}
    if args.items:
        metadata["items"] = os.path.abspath(args.items)
    summary = run_bench(generator, items, args.out, metadata, concurrency=args.concurrency,
                        verify=generator.verifier if args.verify else None)
    scores = summary_scores(summary, items, planner=generator.planner) if not args.items else \
        items_scores(summary, items)
    print(f"{len(summary.done)}/{summary.total} items in {args.out} ({summary.generated_now} generated now)")
    if summary.failed:
        print(f"{len(summary.failed)} item(s) failed (listed in the .meta.json sidecar); rerun the same command "
              "to retry them", file=sys.stderr)
        for item_id, error in sorted(summary.failed.items())[:5]:
            print(f"  item {item_id}: {error}", file=sys.stderr)
    if scores.get("codebleu") is not None:
        print(f"CodeBLEU (normalize=dlcodegen) {scores['codebleu']:.2f} over {scores['items_scored']} items; "
              f"mean lines {scores['mean_lines']:.0f} (references {scores['reference_mean_lines']:.0f})")
    if scores:
        adherence = scores.get("adherence") or {}
        print("plan adherence %: " + ", ".join(f"{name} {value:.1f}" for name, value in adherence.items()
                                               if value is not None))
    if scores.get("verify_levels"):
        from dlcodegen.verify import LEVELS

        rates = ", ".join(f"{level} {scores[f'{level}_rate']:.1f}%" for level in LEVELS)
        print(f"verify: levels passed: {rates} (train_step {scores['train_step_rate_before_repair']:.1f}% before "
              f"repair); deepest level per item {scores['verify_levels']}")
    return 1 if summary.failed else 0


def _bench_items(args: argparse.Namespace) -> list[dict]:
    """`--items FILE.jsonl` as bench rows (no references: no CodeBLEU); every row is checked first."""
    from dlcodegen.planning.items_file import read_plan_items

    items = read_plan_items(args.items)
    rows = [{"id": item.id, "user_requirement": item.requirement, "dataset_attributes": item.attributes}
            for item in items]
    return rows[: args.limit] if args.limit else rows


def _verify_task(args: argparse.Namespace):
    """The task the project is checked against, and a line saying where it came from: --task, --requirement, or a
    task.json / plan.json beside the file; (None, None) without one (verify then stops at train_step)."""
    import json
    from pathlib import Path

    from dlcodegen.core.task import Fact, TaskSpec, family_of_category
    from dlcodegen.generator.project import PLAN_FILE, TASK_FILE

    if args.task:
        return TaskSpec.from_dict(_json_file(Path(args.task), "--task")), f"task: from {args.task}"
    if args.requirement:
        from dlcodegen.planning.task_reader import read_task

        return read_task(args.requirement, args.attributes or ""), "task: read from --requirement"
    folder = Path(args.file).resolve().parent
    if (folder / TASK_FILE).is_file():
        return TaskSpec.from_dict(_json_file(folder / TASK_FILE, TASK_FILE)), f"task: from {folder / TASK_FILE}"
    if (folder / PLAN_FILE).is_file():
        plan = _json_file(folder / PLAN_FILE, PLAN_FILE)
        family = family_of_category(plan.get("Task Category") if isinstance(plan, dict) else None)
        if family is not None:
            return TaskSpec(task=Fact(family.name, f"{PLAN_FILE}'s Task Category")), \
                f"task: {family.title}, from {folder / PLAN_FILE}"
    return None, None


def _json_file(path, what: str):
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{what}: {path} does not exist") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{what}: {path} is not readable JSON ({error})") from None
    if not isinstance(data, dict):
        raise UserError(f"{what}: {path} holds {type(data).__name__}, not a JSON object")
    return data


def _verify(args: argparse.Namespace) -> int:
    import json

    from dlcodegen.verify import TF_MISSING, VerifyConfig, tensorflow_available, verify_file

    if not tensorflow_available():
        raise UserError(TF_MISSING)
    task, told = _verify_task(args)
    if told:
        print(told)
    outcome = verify_file(args.file, VerifyConfig(timeout=args.timeout, memory_mb=args.memory), task=task)
    if args.json:
        print(json.dumps(outcome.as_dict(), indent=2))
    else:
        print(f"{args.file}: {outcome.summary}")
        for note in outcome.notes:
            print(f"  note: {note}")
    return 0 if outcome.passed else 1


# ---------------------------------------------------------------------------------------------------------------
# leaderboard


def _notice(line: str) -> None:
    print(line, file=sys.stderr)


def _parameters(client) -> dict:
    if client is None:
        return {}
    config = client.config
    return {"temperature": config.temperature, "top_p": config.top_p, "max_tokens": config.max_tokens}


def _pool_add(args: argparse.Namespace) -> None:
    from dlcodegen.generator.pool import add_sample
    from dlcodegen.planning.planners import load_planner

    planner = load_planner(None, data_path=_data(args))
    sample = add_sample(args.file, args.requirement, args.attributes or "", planner=planner, pool_dir=args.pool)
    plan = sample.plan
    print(f"added {sample.key} ({plan.task_category or 'no category'}; {len(plan.layers or [])} layers) to "
          f"{args.pool or 'the local pool'}")

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
    from dlcodegen.metrics.normalize import DEFAULT_NORMALIZATION, NORMALIZATIONS

    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", help=DATA_HELP)
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print the result as JSON")
    split = argparse.ArgumentParser(add_help=False)
    split.add_argument("--split", default="test", choices=("train", "validation", "test"), help="DLPlanData split")
    normalize = argparse.ArgumentParser(add_help=False)
    normalize.add_argument("--normalize", default=DEFAULT_NORMALIZATION, choices=NORMALIZATIONS,
                           help=f"code normalisation before CodeBLEU (default: {DEFAULT_NORMALIZATION}, the paper's "
                                "post-processing read literally; dlcodegen-principled: fenced code extracted, "
                                "CodeXGLUE's comment remover, strings kept whole)")
    llm = argparse.ArgumentParser(add_help=False)
    llm_options = llm.add_argument_group("LLM (any OpenAI-compatible server; the key only from $OPENAI_API_KEY)")
    llm_options.add_argument("--base-url", help="server URL (default: $OPENAI_BASE_URL, else OpenAI's)")
    llm_options.add_argument("--model", help="model name (default: $DLCODEGEN_MODEL)")
    llm_options.add_argument("--temperature", type=float, help="sampling temperature (default: 0)")
    llm_options.add_argument("--top-p", type=float, help="nucleus sampling (default: 1)")
    llm_options.add_argument("--max-tokens", type=int, help="answer length limit per call (default: 4096)")
    llm_options.add_argument("--timeout", type=float, help="seconds per request before a retry (default: 120)")
    llm_options.add_argument("--no-cache", action="store_true",
                             help="do not read or write the response cache ($DLCODEGEN_CACHE_DIR)")
    return {"data": data, "json": as_json, "split": split, "normalize": normalize, "llm": llm}


def _add_data_commands(commands) -> None:
    """`data build`, `data push`."""
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


def _add_eval_commands(commands, parents: dict[str, argparse.ArgumentParser]) -> None:
    """`eval reproduce-table2`, `eval codebleu`, `eval plans`."""
    evaluation = commands.add_parser("eval", help="score generations and plans; reproduce the paper's tables")
    eval_commands = evaluation.add_subparsers(dest="eval_command", required=True)
    table2 = eval_commands.add_parser("reproduce-table2", parents=[parents["normalize"], parents["data"]],
                                      help="recompute Table II from the released generations")
    table2.set_defaults(handler=_eval_reproduce_table2)
    codebleu = eval_commands.add_parser("codebleu", parents=[parents["normalize"], parents["data"], parents["json"]],
                                        help="CodeBLEU of {id, code} rows against DLCodeEval")
    codebleu.add_argument("--predictions", required=True, help="JSON Lines file of {\"id\": int, \"code\": str}")
    codebleu.set_defaults(handler=_eval_codebleu)
    plans = eval_commands.add_parser("plans", parents=[parents["split"], parents["data"], parents["json"]],
                                     help="plan metrics of {id, plan} rows against DLPlanData")
    plans.add_argument("--predictions", required=True, help="JSON Lines file of {\"id\": int, \"plan\": str|object}")
    plans.set_defaults(handler=_eval_plans)


PLAN_COMMANDS = ("show", "predict", "eval", "hybrid")


def _add_plan_commands(commands, parents: dict[str, argparse.ArgumentParser]) -> None:
    """`plan "REQUIREMENT"` (= `plan show`), `plan predict`, `plan eval`, `plan hybrid`."""
    plan = commands.add_parser("plan", help="read the task and predict solution plans; compare planners",
                               usage="dlcodegen plan [-h] {REQUIREMENT,show,predict,eval,hybrid} ...")
    plan_commands = plan.add_subparsers(dest="plan_command", required=True)
    planner_help = ("retrieval, llm (few-shot prompting of the configured LLM), a planner model folder or Hub id, "
                    "or hybrid:MODEL (the model's fields where it beat retrieval on validation, see `plan hybrid`, "
                    "with the retrieval planner's others); default: the shipped default, retrieval")
    show = plan_commands.add_parser("show", parents=[parents["data"], parents["json"], parents["llm"]],
                                    help="the task and the plan for one requirement (also: dlcodegen plan "
                                         "\"REQUIREMENT\")")
    show.add_argument("requirement", help="what the deep learning project must do, in plain English")
    show.add_argument("--attributes", help="the dataset's attributes (plain text or a JSON object)")
    show.add_argument("--planner", help=planner_help)
    show.add_argument("--num-beams", type=int, default=1, help="beam search width for neural planners")
    show.set_defaults(handler=_plan_show)
    planning = argparse.ArgumentParser(add_help=False, parents=[parents["split"], parents["data"], parents["llm"]])
    planning.add_argument("--limit", type=int, help="only the first N rows of the split")
    planning.add_argument("--num-beams", type=int, default=1, help="beam search width for neural planners")
    predict = plan_commands.add_parser("predict", parents=[planning],
                                       help="write {id, plan, plan_text, task} rows for a DLPlanData split or for "
                                            "any --items file")
    predict.add_argument("--planner", help=planner_help)
    predict.add_argument("--items", help="JSON Lines file of {\"id\": int, \"requirement\": str, \"attributes\": "
                                         "str} rows to plan instead of a DLPlanData split")
    predict.add_argument("--out", required=True, help="JSON Lines file to write")
    predict.set_defaults(handler=_plan_predict)
    plan_eval = plan_commands.add_parser("eval", parents=[planning],
                                         help="Table IV-style report for one or more planners")
    plan_eval.add_argument("--planner", nargs="+", help=planner_help + "; several give side-by-side columns")
    plan_eval.add_argument("--released", nargs="+", metavar="NAME",
                           help="also score the paper's released RQ3 plan predictions (Results/RQ3/results/NAME.txt "
                                "of the artifact, e.g. GPT-2-Large_Beam; 'all' for the six sets) as columns; "
                                "test split only; without --planner, only these are scored")
    plan_eval.add_argument("--source", help="artifact folder for --released (default: $DLCODEGEN_ARTIFACT, else "
                                            "../shared/dlcodegen-artifact)")
    plan_eval.set_defaults(handler=_plan_eval)
    hybrid = plan_commands.add_parser(
        "hybrid", parents=[parents["data"]], help="choose, on a split (default validation), the fields hybrid:MODEL "
                                                  "takes from the model: those where it beats retrieval; writes "
                                                  "MODEL/hybrid.json")
    hybrid.add_argument("model", help="a planner model folder")
    # its own --split: a default set on a shared parent's option would change every command's default
    hybrid.add_argument("--split", default="validation", choices=("train", "validation", "test"),
                        help="DLPlanData split (default: validation)")
    hybrid.add_argument("--limit", type=int, help="only the first N rows of the split")
    hybrid.add_argument("--num-beams", type=int, default=1, help="beam search width for neural planners")
    hybrid.set_defaults(handler=_plan_hybrid)


def _method_options(parents: dict[str, argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The options of the commands that run a method (`generate`, `bench`): the LLM, the method, its planner,
    pool and repair rounds."""
    from dlcodegen.generator.methods import METHOD_NAMES
    from dlcodegen.generator.setup import BACKENDS, DEFAULT_REPAIR_ROUNDS
    from dlcodegen.verify import VerifyConfig as VerifyDefaults

    llm = argparse.ArgumentParser(add_help=False, parents=[parents["llm"]])
    llm.add_argument("--backend", choices=BACKENDS, help="openai: the configured LLM; offline: no LLM (default: "
                                                         "openai when a model is configured, else offline)")
    method = argparse.ArgumentParser(add_help=False, parents=[llm, parents["data"]])
    method.add_argument("--method", default="dlcodegen", choices=METHOD_NAMES, help="generation method "
                        "(default: dlcodegen)")
    method.add_argument("--planner", help="retrieval (default), a planner model folder or Hub id, or hybrid:MODEL")
    method.add_argument("--pool", help="your local sample pool folder (default: $DLCODEGEN_POOL_DIR or "
                                       "~/.local/share/dlcodegen/pool)")
    method.add_argument("--seed", type=int, default=0, help="seed of random-sibling's draw (default: 0)")
    method.add_argument("--repair", type=int, default=DEFAULT_REPAIR_ROUNDS,
                        help="LLM methods: rounds of verify -> repair with the failed level fed back (default: "
                             f"{DEFAULT_REPAIR_ROUNDS}; needs TensorFlow, else skipped with a note)")
    method.add_argument("--verify-timeout", type=float, default=VerifyDefaults.timeout,
                        help=f"verify's CPU seconds per project (default: {VerifyDefaults.timeout:g})")
    method.add_argument("--verify-memory", type=int, default=VerifyDefaults.memory_mb,
                        help=f"verify's memory limit in MB (default: {VerifyDefaults.memory_mb})")
    return method


def _add_generation_commands(commands, method: argparse.ArgumentParser) -> None:
    """`generate`, `bench`."""
    generate = commands.add_parser("generate", parents=[method], help="turn a requirement into a project")
    generate.add_argument("requirement", help="what the deep learning project must do, in plain English")
    generate.add_argument("--attributes", help="the dataset's attributes (size, format, columns, classes...)")
    generate.add_argument("--out", default="output", help="folder for project.py, project.ipynb, plan.json and "
                                                          "trace.json (default: output)")
    generate.set_defaults(handler=_generate)

    bench = commands.add_parser("bench", parents=[method], help="run a method over every DLCodeEval item")
    bench.add_argument("--out", required=True, help="JSON Lines file of {\"id\", \"code\"} rows (resumed when it "
                                                    "exists); the leaderboard's submission format")
    bench.add_argument("--concurrency", type=int, default=1, help="items generated at once (default: 1)")
    bench.add_argument("--limit", type=int, help="only the first K items")
    bench.add_argument("--items", metavar="FILE.jsonl",
                       help='run over these {"id": int, "requirement": str, "attributes": str} rows instead of '
                            "DLCodeEval (no references, so no CodeBLEU; plan, task, verify levels and adherence go "
                            "into the rows)")
    bench.add_argument("--verify", action="store_true", help="verify every output (the level goes into its row; "
                                                             "the pass rate into the summary)")
    bench.set_defaults(handler=_bench)


def _add_verify_command(commands) -> None:
    """`verify`."""
    from dlcodegen.verify import VerifyConfig as VerifyDefaults

    verify = commands.add_parser("verify", help="build a project's model and train one step on synthetic data, "
                                                "then (with a task) check that it fits the task and learns, "
                                                "sandboxed; exit 0 only when the deepest level passed")
    verify.add_argument("file", help="a .py (or .ipynb) project")
    verify.add_argument("--timeout", type=float, default=VerifyDefaults.timeout,
                        help=f"CPU seconds (the wall clock gets twice that; default: {VerifyDefaults.timeout:g})")
    verify.add_argument("--memory", type=int, default=VerifyDefaults.memory_mb,
                        help=f"memory limit in MB (default: {VerifyDefaults.memory_mb})")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    task = verify.add_argument_group("the task (levels task_fit and learns; without one, verify stops at "
                                     "train_step)")
    task.add_argument("--task", metavar="TASK.json", help="a task.json as `generate` writes it (default: the "
                                                          "task.json, else the plan.json, beside the file)")
    task.add_argument("--requirement", help="read the task from this requirement")
    task.add_argument("--attributes", help="the dataset attributes that go with --requirement")
    verify.set_defaults(handler=_verify)


def _add_pool_commands(commands, parents: dict[str, argparse.ArgumentParser]) -> None:
    """`pool add`."""
    pool = commands.add_parser("pool", help="your own code samples for retrieval")
    pool_commands = pool.add_subparsers(dest="pool_command", required=True)
    pool_add = pool_commands.add_parser("add", parents=[parents["data"]], help="add a .py or .ipynb to your pool")
    pool_add.add_argument("file", help="a .py or .ipynb deep learning project")
    pool_add.add_argument("--requirement", required=True, help="what the code does, in plain English")
    pool_add.add_argument("--attributes", help="its dataset's attributes")
    pool_add.add_argument("--pool", help="pool folder (default: $DLCODEGEN_POOL_DIR or ~/.local/share/dlcodegen/pool)")
    pool_add.set_defaults(handler=_pool_add)


def make_parser() -> argparse.ArgumentParser:
    """The `dlcodegen` command line: one builder per command group below."""
    parser = argparse.ArgumentParser(prog="dlcodegen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="count", default=0,
                          help="show progress logs (-vv: debug logs)")
    loudness.add_argument("-q", "--quiet", action="store_true", help="errors only")
    parents = _parents()
    commands = parser.add_subparsers(dest="command", required=True)
    _add_data_commands(commands)
    _add_eval_commands(commands, parents)
    _add_plan_commands(commands, parents)
    _add_generation_commands(commands, _method_options(parents))
    _add_verify_command(commands)
    _add_pool_commands(commands, parents)
    add_leaderboard_commands(commands, parents)
    return parser


def _configure_logging(verbosity: int) -> None:
    """The CLI's one logging setup (the library configures none): warnings by default, -v info, -vv debug."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("dlcodegen").setLevel(level)


def _with_plan_show(argv: list[str]) -> list[str]:
    """`dlcodegen plan "REQUIREMENT" ...` is `dlcodegen plan show "REQUIREMENT" ...`."""
    position = next((i for i, word in enumerate(argv) if not word.startswith("-")), None)
    if position is not None and argv[position] == "plan" and position + 1 < len(argv):
        following = argv[position + 1]
        if following not in PLAN_COMMANDS and not following.startswith("-"):
            return [*argv[:position + 1], "show", *argv[position + 1:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    from dlcodegen.core.text import redact

    args = make_parser().parse_args(_with_plan_show(sys.argv[1:] if argv is None else list(argv)))
    _configure_logging(-1 if args.quiet else args.verbose)
    try:
        return args.handler(args) or 0
    except UserError as error:
        print(f"dlcodegen: error: {redact(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dlcodegen: interrupted (finished work is kept; `bench` resumes where it stopped)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The `dlcodegen leaderboard` commands (submit, show, rescore, worker): their handlers and their parser."""

from __future__ import annotations

import argparse
import os
import sys

from dlcodegen.core.errors import UserError


def _leaderboard(args: argparse.Namespace, seed: bool = True):
    from dlcodegen.leaderboard.service import Leaderboard, LeaderboardConfig

    from dlcodegen.cli import _data, _notice

    board = Leaderboard(LeaderboardConfig(directory=args.dir, data_path=_data(args)))
    if seed:
        board.ensure_seeded(on_notice=_notice)
    return board


def _leaderboard_submit(args: argparse.Namespace) -> None:
    board = _leaderboard(args, seed=False)
    # the file first: an invalid one is refused at once, before a fresh store is seeded
    submission = board.validate_file(args.file, args.method, args.backbone, args.contact or "", args.link or "")
    from dlcodegen.cli import _notice

    board.ensure_seeded(on_notice=_notice)
    print(board.add(submission).message)


def _leaderboard_show(args: argparse.Namespace) -> None:
    import json

    from dlcodegen.leaderboard.board import format_board

    board = _leaderboard(args)
    stale = len(board.stale())
    if stale:
        print(f"{stale} entries were scored by an older scorer and are not comparable with the rest; "
              "run `dlcodegen leaderboard rescore`", file=sys.stderr)
    pending = len(board.executions.pending())
    if pending:
        print(f"{pending} entries are pending execution: `dlcodegen leaderboard worker` verifies them",
              file=sys.stderr)
    rows = board.rows(sort=args.sort)
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json else format_board(rows))


def _leaderboard_worker(args: argparse.Namespace) -> None:
    from dlcodegen.leaderboard.execution import WorkerConfig, run_worker
    from dlcodegen.verify import TF_MISSING, tensorflow_available

    if not tensorflow_available():
        raise UserError(TF_MISSING)
    if args.nice:
        os.nice(args.nice)  # below the web process and the user's own work, whose machine it shares
    board = _leaderboard(args)
    config = WorkerConfig(workers=args.workers, timeout=args.verify_timeout, memory_mb=args.verify_memory)
    print(f"leaderboard worker on {board.store.directory}: {len(board.executions.pending())} entries pending"
          + ("" if args.once else f"; polling every {args.poll:g} s (Ctrl-C stops; a restart resumes)"),
          file=sys.stderr)
    finished = run_worker(board, config, once=args.once, poll_seconds=args.poll)
    print(f"verified {finished} entries")


def _leaderboard_rescore(args: argparse.Namespace) -> None:
    from dlcodegen.leaderboard.scoring import SCORER_VERSION

    board = _leaderboard(args)
    print(f"rescored {board.rescore()} entries; every entry is now scored by scorer {SCORER_VERSION}")


def add_leaderboard_commands(commands, parents: dict[str, argparse.ArgumentParser]) -> None:
    """`leaderboard submit`, `leaderboard show`, `leaderboard rescore`, `leaderboard worker`."""
    from dlcodegen.leaderboard.board import COLUMNS, DEFAULT_SORT
    from dlcodegen.verify import VerifyConfig as VerifyDefaults

    leaderboard = commands.add_parser("leaderboard", help="the DLCodeEval leaderboard: submit generations, show "
                                                          "the board")
    board_commands = leaderboard.add_subparsers(dest="leaderboard_command", required=True)
    board_options = argparse.ArgumentParser(add_help=False, parents=[parents["data"]])
    board_options.add_argument("--dir", help="store folder (default: $DLCODEGEN_LEADERBOARD_DIR or "
                                             "~/.local/share/dlcodegen/leaderboard); seeded on first use")
    submit = board_commands.add_parser("submit", parents=[board_options],
                                       help="validate, score and add a bench output ({\"id\", \"code\"} rows)")
    submit.add_argument("file", help="JSON Lines file of {\"id\": int, \"code\": str}, every DLCodeEval id once")
    submit.add_argument("--method", required=True, help="method name shown on the board")
    submit.add_argument("--backbone", required=True, help="the LLM behind it (e.g. GPT-4o-mini)")
    submit.add_argument("--contact", help="who to contact (shown on the board)")
    submit.add_argument("--link", help="http(s) URL of the paper or code (the method name links to it)")
    submit.set_defaults(handler=_leaderboard_submit)
    show = board_commands.add_parser("show", parents=[board_options, parents["json"]],
                                     help="print the board, best task-fit rate first (CodeBLEU beside it)")
    show.add_argument("--sort", default=DEFAULT_SORT, choices=[name for name in COLUMNS if name != "rank"],
                      metavar="COLUMN", help=f"sort by this column, best first (default: {DEFAULT_SORT}; one of "
                                             f"{', '.join(name for name in COLUMNS if name != 'rank')})")
    show.set_defaults(handler=_leaderboard_show)
    worker = board_commands.add_parser("worker", parents=[board_options],
                                       help="verify the entries waiting for execution results, in the verify "
                                            "sandbox (resumes after a kill)")
    worker.add_argument("--once", action="store_true", help="stop when no entry is pending (default: keep polling)")
    worker.add_argument("--poll", type=float, default=10.0, help="seconds between looks at the store (default: 10)")
    worker.add_argument("--workers", type=int, default=1, help="items verified at once (default: 1)")
    worker.add_argument("--nice", type=int, default=10,
                        help="the worker's niceness increment: it runs below the Space and other work (default: 10)")
    worker.add_argument("--verify-timeout", type=float, default=VerifyDefaults.timeout,
                        help=f"verify's CPU seconds per item (default: {VerifyDefaults.timeout:g})")
    worker.add_argument("--verify-memory", type=int, default=VerifyDefaults.memory_mb,
                        help=f"verify's memory limit in MB (default: {VerifyDefaults.memory_mb})")
    worker.set_defaults(handler=_leaderboard_worker)
    rescore = board_commands.add_parser("rescore", parents=[board_options],
                                        help="score again, from their stored code, the entries an older scorer "
                                             "scored (after an upgrade that changed scoring)")
    rescore.set_defaults(handler=_leaderboard_rescore)

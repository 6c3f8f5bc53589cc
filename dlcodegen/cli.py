"""The `dlcodegen` command. Subcommands import their heavy dependencies lazily so `--help` stays instant."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DATA_DIR = "build/datasets"


class UserError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""


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


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlcodegen", description=__doc__)
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

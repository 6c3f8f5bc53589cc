"""The contract layer: stage registry, items, one-line messages and redaction, and how the CLI treats errors."""

from __future__ import annotations

import io
import logging

import pytest

from dlcodegen import cli
from dlcodegen.core.errors import ConfigurationError, InputError, MissingError, ServiceError, UserError
from dlcodegen.core.events import CodeChecked, StageStarted, TextWritten
from dlcodegen.core.items import Item, attributes_text, decode_attributes, encode_attributes
from dlcodegen.core.stages import LLM_ONLY_STAGES, VIEW_STAGES, round_stage, stage_info, stage_title
from dlcodegen.core.text import error_line, one_line, redact
from dlcodegen.generator.console import StageConsole


def test_stage_registry_titles_numbered_rounds_of_any_count():
    assert stage_title("plan") == "Plan" and stage_title("final") == "Final project"
    assert stage_title(round_stage("repair", 12)) == "Repair 12" and stage_title("verify31") == "Verify 31"
    assert stage_info("repair3").calls_llm and not stage_info("verify3").calls_llm
    assert stage_info("verify2").output == "check" and stage_info("retrieve").output == "samples"
    assert VIEW_STAGES == ("task", "plan", "retrieve", "chain", "template", "code1", "code2", "final")
    assert LLM_ONLY_STAGES == ("chain", "template", "code1", "code2")
    with pytest.raises(KeyError):
        stage_info("repairs")
    assert stage_title("something-else") == "something-else"


def test_console_shows_any_repair_round_with_its_title():
    out = io.StringIO()
    console = StageConsole(out=out, status=io.StringIO())
    console.show(StageStarted(stage="repair12", elapsed=0.0))
    console.show(TextWritten(stage="repair12", text="x = 1", elapsed=1.0))

    class Report:
        summary = "reached train_step"

    console.show(CodeChecked(stage="verify13", report=Report(), elapsed=2.0))
    assert "== Repair 12 (1.0s) ==\nx = 1" in out.getvalue()
    assert "== Verify 13 (2.0s) ==\n  reached train_step" in out.getvalue()


def test_items_decode_attributes_once_and_show_them_as_text():
    row = {"id": 3, "user_requirement": "Classify cats.", "dataset_attributes": '{"size": 10, "labels": ["a"]}',
           "dataset_attributes_format": "json", "reference_code": "print(1)"}
    item = Item.from_row(row, reference_column="reference_code")
    assert item.attributes == {"size": 10, "labels": ["a"]} and item.reference == "print(1)" and item.id == 3
    assert item.attributes_text == row["dataset_attributes"]  # the JSON text comes back exactly
    assert Item.from_row({"user_requirement": "r", "dataset_attributes": "plain {"}).attributes == "plain {"
    assert attributes_text(None) == "" and attributes_text(["x", "é"]) == '["x", "é"]'
    assert decode_attributes(*encode_attributes({"b": 1, "a": 2})) == {"b": 1, "a": 2}
    with pytest.raises(InputError, match="unknown dataset_attributes_format"):
        decode_attributes("x", "yaml")


def test_user_errors_share_one_base_and_keep_the_builtin_kinds():
    assert issubclass(InputError, ValueError) and issubclass(MissingError, FileNotFoundError)
    for kind in (InputError, MissingError, ConfigurationError, ServiceError):
        assert issubclass(kind, UserError)


def test_one_line_messages_and_redaction(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    assert one_line("a\n  b\x1b[31m c\t") == "a b c" and one_line("x" * 10, 6) == "xxx..."
    assert error_line(ValueError("first\nsecond")) == "ValueError: first" and error_line(KeyError()) == "KeyError"
    assert redact("key sk-secret-value and hf_token123", "hf_token123") == "key *** and ***"
    assert redact("short", "ab") == "short"  # values under 4 characters are not secrets


def _handler_raising(error: BaseException):
    def handler(args):
        raise error
    return handler


def test_cli_prints_a_user_error_as_one_line_and_lets_a_bug_show_its_traceback(monkeypatch, capsys):
    parser = cli.make_parser()
    monkeypatch.setattr(cli, "make_parser", lambda: parser)
    args = parser.parse_args(["verify", "x.py"])
    monkeypatch.setattr(parser, "parse_args", lambda argv=None: args)
    args.handler = _handler_raising(MissingError("no such file: x.py"))
    assert cli.main([]) == 2
    assert capsys.readouterr().err.strip() == "dlcodegen: error: no such file: x.py"
    args.handler = _handler_raising(KeyError("an internal bug"))
    with pytest.raises(KeyError):
        cli.main([])


@pytest.mark.parametrize(("flags", "level"), [((), logging.WARNING), (("-v",), logging.INFO),
                                              (("-vv",), logging.DEBUG), (("-q",), logging.ERROR)])
def test_cli_verbosity_sets_the_package_log_level(flags, level, tmp_path, capsys):
    missing = tmp_path / "missing.py"
    assert cli.main([*flags, "verify", str(missing)]) in (1, 2)
    assert logging.getLogger("dlcodegen").level == level

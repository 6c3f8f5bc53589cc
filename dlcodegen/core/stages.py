"""The stage registry: every stage a generation run may report, with its title, whether it calls the LLM and what
its finished event carries. Repair and verify stages are numbered rounds ("repair1", "verify2", ...), any number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Output = Literal["task", "plan", "samples", "code", "text", "check"]


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    calls_llm: bool
    output: Output  # what its result event (`core.events.StageDone`) carries: a plan, samples, code, text, a check
    in_view: bool = True  # shown as a panel of its own by the Space (rounds are shown in the trace and the console)


STAGES: dict[str, Stage] = {stage.name: stage for stage in (
    Stage("task", "Task", False, "task"),  # what the user asked for, read from their words (a TaskSpec)
    Stage("plan", "Plan", False, "plan"),
    Stage("retrieve", "Retrieved samples", False, "samples"),
    Stage("chain", "Reasoning chain", True, "text"),
    Stage("template", "Template", True, "code"),
    Stage("code1", "Code 1", True, "code"),
    Stage("code2", "Code 2", True, "code"),
    Stage("final", "Final project", False, "code"),  # an LLM call for LLM methods, a copy or a render otherwise
)}
ROUNDS: dict[str, Stage] = {stage.name: stage for stage in (
    Stage("repair", "Repair", True, "code", in_view=False),
    Stage("verify", "Verify", False, "check", in_view=False),
)}
VIEW_STAGES = tuple(name for name, stage in STAGES.items() if stage.in_view)
LLM_ONLY_STAGES = tuple(name for name, stage in STAGES.items() if stage.calls_llm)
_ROUND = re.compile(r"([a-z]+)(\d+)")


def round_stage(family: str, number: int) -> str:
    """The name of round `number` of a numbered family: round_stage("repair", 2) == "repair2"."""
    if family not in ROUNDS:
        raise KeyError(f"no numbered stage family {family!r}")
    return f"{family}{number}"


def stage_info(name: str) -> Stage:
    """The registry entry of `name`; a numbered round gets its family's entry with the round in its title."""
    if name in STAGES:
        return STAGES[name]
    match = _ROUND.fullmatch(name)
    if match and match.group(1) in ROUNDS:
        family = ROUNDS[match.group(1)]
        return Stage(name, f"{family.title} {int(match.group(2))}", family.calls_llm, family.output, family.in_view)
    raise KeyError(f"unknown stage {name!r}")


def stage_title(name: str) -> str:
    try:
        return stage_info(name).title
    except KeyError:
        return name

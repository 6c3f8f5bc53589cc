"""The solution plan: a typed dataclass, a tolerant parser for model output, and canonical JSON.

DLPlanData plans come in two spellings (`Model architecture`/`Hypermeters` and `Model Architecture`/
`Hyperparameters`) and small models emit truncated or Python-flavoured JSON. `Plan.from_text` reads all of them and
records what it had to repair; it is the one parser used by the datasets, the metrics and the planners.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, cast

from .errors import InputError

# The plan's field groups, the one home of each (every other module imports them from here).
CATEGORY_FIELD = "task_category"
IO_FIELDS = ("input", "output")  # free text describing the data that goes in and comes out
DESCRIPTION_FIELDS = (*IO_FIELDS, "preprocess")  # free text, compared by BLEU
LABEL_FIELDS = ("optimizer", "loss_function", "evaluation_metric")  # labels, compared by `normalize_label`
NUMBER_FIELDS = ("learning_rate", "batch_size", "epochs")
TEXT_FIELDS = (CATEGORY_FIELD, *DESCRIPTION_FIELDS, *LABEL_FIELDS)  # every field held as one string
# The plan metrics' key for each field they compare by exact match (labels) and by absolute error (numbers).
EM_FIELDS = {"category_em": "task_category", "loss_function_em": "loss_function", "optimizer_em": "optimizer",
             "metric_em": "evaluation_metric"}
MAE_FIELDS = {"learning_rate_mae": "learning_rate", "batch_size_mae": "batch_size", "epochs_mae": "epochs"}

# Normalised key (lower case, letters and digits only) -> plan field. Searched breadth-first in the plan dict.
_KEY_ALIASES = {
    "task_category": {"taskcategory", "category", "tasktype", "task"},
    "input": {"input", "inputs"},
    "output": {"output", "outputs"},
    "preprocess": {"preprocess", "preprocessing"},
    "layers": {"layers"},
    "optimizer": {"optimizer", "optimiser"},
    "loss_function": {"lossfunction", "loss"},
    "learning_rate": {"learningrate", "lr"},
    "batch_size": {"batchsize"},
    "epochs": {"epochs", "epoch", "numepochs"},
    "evaluation_metric": {"evaluationmetric", "evaluationmetrics", "metric", "metrics"},
}
_PLAN_WRAPPERS = {"codeplan", "plan", "solutionplan"}


class PlanParseError(InputError):
    """The text holds no plan that can be read, even after repair."""


def _norm_key(key: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def _find(tree: dict, aliases: set[str]) -> tuple[bool, Any]:
    queue = [tree]
    while queue:
        node = queue.pop(0)
        for key, value in node.items():
            if _norm_key(key) in aliases:
                return True, value
        queue.extend(value for value in node.values() if isinstance(value, dict))
    return False, None


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False)


def _as_layers(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in value]
    return [cast(str, _as_text(value))]  # not None: value is not None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _as_int(value: Any) -> int | None:
    number = _as_float(value)
    return int(number) if number is not None and number.is_integer() else None


@dataclass
class Plan:
    """A DLPlanData solution plan. Text fields are `None` when the plan does not state them."""

    task_category: str | None = None
    input: str | None = None
    output: str | None = None
    preprocess: str | None = None
    layers: list[str] | None = None
    optimizer: str | None = None
    loss_function: str | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    epochs: int | None = None
    evaluation_metric: str | None = None
    # What `from_text` had to repair to read the plan (empty for strict JSON); not part of the plan itself.
    repairs: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: dict) -> "Plan":
        """Read a plan dict in any DLPlanData spelling (a full record with a `Code Plan` key works too)."""
        if not isinstance(data, dict):
            raise PlanParseError(f"a plan must be a JSON object, got {type(data).__name__}")
        for key, value in data.items():
            if _norm_key(key) in _PLAN_WRAPPERS and isinstance(value, dict):
                data = value
                break
        found = {name: _find(data, aliases) for name, aliases in _KEY_ALIASES.items()}
        value = {name: hit[1] for name, hit in found.items()}
        texts: dict[str, Any] = {name: _as_text(value[name]) for name in TEXT_FIELDS}
        return cls(
            **texts,
            layers=_as_layers(value["layers"]),
            learning_rate=_as_float(value["learning_rate"]),
            batch_size=_as_int(value["batch_size"]),
            epochs=_as_int(value["epochs"]),
        )

    @classmethod
    def from_text(cls, text: str) -> "Plan":
        """Parse strict JSON, or repair what small models emit; `plan.repairs` lists what was repaired."""
        data, repairs = parse_json_object(text)
        plan = cls.from_dict(data)
        plan.repairs = tuple(repairs)
        return plan

    def to_dict(self) -> dict:
        """The plan in DLPlanData's `Model Architecture`/`Hyperparameters` spelling."""
        plan: dict[str, Any] = {
            "Task Category": self.task_category,
            "Dataset": {"Input": self.input, "Output": self.output},
        }
        if self.preprocess is not None:
            plan["Preprocess"] = self.preprocess
        plan["Model Architecture"] = {
            "Layers": self.layers if self.layers is not None else [],
            "Hyperparameters": {
                "optimizer": self.optimizer,
                "loss function": self.loss_function,
                "learning rate": self.learning_rate,
                "batch size": self.batch_size,
                "epochs": self.epochs,
                "evaluation metric": self.evaluation_metric,
            },
        }
        return plan

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def field_values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "repairs"}


# ---------------------------------------------------------------------------------------------------------------
# Tolerant JSON reading


# Spellings that name the same thing once case and punctuation are gone.
_ALIASES = {
    "mse": "meansquarederror", "mae": "meanabsoluteerror", "mape": "meanabsolutepercentageerror",
    "rmse": "rootmeansquarederror", "bce": "binarycrossentropy", "cce": "categoricalcrossentropy",
    "scce": "sparsecategoricalcrossentropy", "logloss": "binarycrossentropy", "acc": "accuracy",
    "auc": "auc", "rocauc": "auc", "sgd": "sgd", "iou": "meaniou", "intersectionoverunion": "meaniou",
}
_WRAPPERS = re.compile(r"^(?:tf\.)?(?:keras\.)?(?:(?:losses|optimizers|metrics|optimizers\.legacy)\.)")


def normalize_label(value: str | None) -> str | None:
    """Comparable form of a categorical field: module prefix, call arguments, case and punctuation removed."""
    if value is None:
        return None
    parts = []
    for part in str(value).split(","):
        part = _WRAPPERS.sub("", part.strip().strip("'\"`"))
        part = re.sub(r"\(.*\)?$", "", part)  # Adam(learning_rate=1e-3) -> Adam
        part = re.sub(r"\bloss\b$", "", part.strip(), flags=re.I) if len(part.split()) > 1 else part
        key = re.sub(r"[^a-z0-9]", "", part.lower())
        if key:
            parts.append(_ALIASES.get(key, key))
    return ",".join(sorted(set(parts))) if parts else None


def _extract_object_text(text: str) -> str:
    fenced = re.search(r"```(?:json|python)?\s*\n(.*?)(?:```|$)", text, flags=re.S)
    if fenced and "{" in fenced.group(1):
        text = fenced.group(1)
    start = text.find("{")
    if start < 0:
        raise PlanParseError("no '{' in the text: it holds no JSON object")
    return text[start:]


_PY_WORDS = {"True": "true", "False": "false", "None": "null"}
_SCHEMA_KEYS = ("Task Category", "Dataset", "Input", "Output", "Preprocess", "Model Architecture", "Layers",
                "Hyperparameters", "Hypermeters", "optimizer", "loss function", "learning rate", "batch size",
                "epochs", "evaluation metric")
_KEY_AHEAD = re.compile(r"(?:%s)[\"']\s*:" % "|".join(re.escape(key) for key in _SCHEMA_KEYS), re.I)
_CLOSER_AHEAD = re.compile(r"\s*(?:[,:}\]]|$)")


# One pass of a small JSON scanner (85 lines): its state (the bracket stack, the open string, the repairs made) is
# shared by every branch, and split into functions it would have to travel through each of them.
def _repair(text: str) -> tuple[str, list[str]]:
    """Re-emit `text` as JSON: double quotes, no trailing commas, Python words mapped, open brackets closed."""
    out: list[str] = []
    stack: list[str] = []
    repairs: set[str] = set()
    quote: str | None = None
    escaped = False
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if quote is not None:
            if escaped:
                escaped = False
                out.append(char if not (quote == "'" and char == "'") else "'")
                if quote == "'" and char == "'":
                    out[-2] = ""  # \' inside a single-quoted string is a plain quote in JSON
            elif char == "\\":
                escaped = True
                out.append(char)
            elif char == quote and _KEY_AHEAD.match(text, index):
                # `"Input": "shape (32, 32, "Preprocess": ...`: the string never closed before the next key
                while out and out[-1] in " ,":
                    out.pop()
                out.append('", ')
                quote = None
                index -= 1  # read this quote again, as the opening of the key
                repairs.add("unterminated string before a key")
            elif char == quote and not _CLOSER_AHEAD.match(text, index):
                out.append('\\"')  # a quote inside the text: what follows cannot follow a closed string
                repairs.add("unescaped quote")
            elif char == quote:
                quote = None
                out.append('"')
            elif char == '"':
                out.append('\\"')
            elif char == "\n":
                out.append("\\n")
            else:
                out.append(char)
            continue
        if char in "\"'":
            if char == "'":
                repairs.add("single quotes")
            quote = char
            out.append('"')
        elif char in "{[":
            stack.append(char)
            out.append(char)
        elif char in "}]":
            if not stack:
                break
            _drop_trailing_comma(out, repairs)
            closer = "}" if stack.pop() == "{" else "]"
            if closer != char:
                repairs.add("mismatched bracket")
            out.append(closer)
            if not stack:
                if text[index:].strip():
                    repairs.add("text after the object")
                break
        elif char.isalpha() or char == "_":
            end = index
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            word = text[index - 1:end]
            index = end
            if word in _PY_WORDS:
                repairs.add("Python literals")
                word = _PY_WORDS[word]
            out.append(word)
        else:
            out.append(char)
    if quote is not None:
        if escaped:
            out.pop()
        out.append('"')
        repairs.add("unterminated string")
    if stack:
        _drop_trailing_comma(out, set())
        _drop_dangling(out, stack[-1])
        _drop_trailing_comma(out, set())
        out.extend("}" if opener == "{" else "]" for opener in reversed(stack))
        repairs.add(f"truncated: closed {len(stack)} bracket(s)")
    return "".join(out), sorted(repairs)


def _drop_trailing_comma(out: list[str], repairs: set[str]) -> None:
    while out and out[-1].isspace():
        out.pop()
    if out and out[-1] == ",":
        out.pop()
        repairs.add("trailing comma")


_STRING_AT_END = r'"(?:[^"\\]|\\.)*"\s*$'


def _drop_dangling(out: list[str], innermost: str) -> None:
    """Remove a key left without its value by truncation (`"key":`, or a lone `"key"` inside an object)."""
    text = "".join(out).rstrip()
    if text.endswith(":"):
        text = re.sub(r',?\s*' + _STRING_AT_END[:-4] + r'\s*:$', "", text)
    elif innermost == "{" and re.search(r'[{,]\s*' + _STRING_AT_END, text):
        text = re.sub(r',?\s*' + _STRING_AT_END, "", text)
    out[:] = [text]


def parse_json_object(text: str) -> tuple[dict, list[str]]:
    """Return the first JSON object in `text` and the list of repairs needed to read it."""
    if not isinstance(text, str):
        raise PlanParseError(f"expected text, got {type(text).__name__}")
    if not text.strip():
        raise PlanParseError("the text is empty")
    candidate = _extract_object_text(text)
    try:
        value, end = json.JSONDecoder().raw_decode(candidate)
        repairs = ["text after the object"] if candidate[end:].strip() else []
    except json.JSONDecodeError:
        repaired, repairs = _repair(candidate)
        try:
            value = json.loads(repaired)
        except json.JSONDecodeError as error:
            try:  # e.g. implicit string concatenation or \x escapes, which only Python reads
                value, repairs = ast.literal_eval(candidate.strip()), ["Python literal"]
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                raise PlanParseError(f"cannot repair the plan JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(value, dict):
        raise PlanParseError(f"expected a JSON object, got {type(value).__name__}")
    return value, repairs


def model_prompt(prompt_text: str) -> str:
    """The prompt a planner model sees: `prompt_text` without its final space.

    A byte-level BPE pre-tokenizer attaches a space to the punctuation after it (` {"`), so a prompt that ends in a
    space tokenizes differently alone than as the prefix of prompt + completion. Ending at `"Code Plan":` and
    starting the completion with ` {` keeps the boundary identical in training and generation.
    """
    return prompt_text.rstrip()


REQUIREMENT_LABEL = "User Requirement"  # the artifact's key, and the label prompts show
ATTRIBUTES_LABEL = "Dataset Attributes"
PLAN_LABEL = "Code Plan"
MAX_REQUIREMENT_CHARS = 20_000  # far above any DLCodeEval or DLPlanData requirement (the longest is ~1,500)


class RequirementError(InputError):
    """The user requirement cannot be planned for; the message says what to change."""


def check_requirement(user_requirement) -> str:
    """The requirement, or one clear error when it is empty or too long to be a requirement."""
    if not isinstance(user_requirement, str) or not user_requirement.strip():
        raise RequirementError("the user requirement is empty: describe the deep learning task to plan for")
    if len(user_requirement) > MAX_REQUIREMENT_CHARS:
        raise RequirementError(f"the user requirement is {len(user_requirement):,} characters long; keep it under "
                               f"{MAX_REQUIREMENT_CHARS:,} (describe the task, do not paste data or code)")
    return user_requirement


def format_plan_prompt(user_requirement: str, dataset_attributes: str | dict) -> str:
    """The planner's prompt: the DLPlanData record up to `"Code Plan": `, exactly as in the artifact's Test4Chat.txt."""
    check_requirement(user_requirement)
    record = json.dumps({REQUIREMENT_LABEL: user_requirement, ATTRIBUTES_LABEL: dataset_attributes},
                        ensure_ascii=False)
    return record[:-1] + f', "{PLAN_LABEL}": '

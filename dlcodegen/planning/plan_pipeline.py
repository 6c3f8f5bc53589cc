"""`dl-plan-generation`: requirement (+ dataset attributes) -> DLCodeGen solution plan, with a causal LM.

This file is copied into every planner model folder, beside `plan.py` and `errors.py`, so that
`pipeline(model=FOLDER_OR_HUB_ID, trust_remote_code=True)` works with only transformers installed.

Decoding is structured by default: the code writes the plan's JSON skeleton (keys, quotes, commas, brackets, in the
training format `Plan.to_json`) and the model generates only the values, so every plan parses without repair.
`structured=False` gives free decoding (the model writes the whole text), and beam search (`num_beams > 1`) is
free decoding only.
"""

import json
import math
import re

import torch
from transformers import Pipeline

try:  # in a model folder (trust_remote_code): the copy of the plan schema beside this file
    from .plan import ATTRIBUTES_LABEL, REQUIREMENT_LABEL, Plan, PlanParseError, format_plan_prompt, model_prompt
except ImportError:  # in the package, the schema's home. By name: remote-code loading must not require dlcodegen.
    import importlib

    _plan = importlib.import_module("dlcodegen.core.plan")
    ATTRIBUTES_LABEL, REQUIREMENT_LABEL = _plan.ATTRIBUTES_LABEL, _plan.REQUIREMENT_LABEL
    Plan, PlanParseError = _plan.Plan, _plan.PlanParseError
    format_plan_prompt, model_prompt = _plan.format_plan_prompt, _plan.model_prompt

TASK = "dl-plan-generation"  # registered by `import dlcodegen.hf`
# The task name a model folder declares in `custom_pipelines` for `trust_remote_code=True`. It must differ from
# TASK: transformers resolves a task named in `custom_pipelines` as remote code before its registry.
REMOTE_TASK = "solution-plan-generation"
DEFAULT_MAX_NEW_TOKENS = 512

# ---------------------------------------------------------------------------------------------------------------
# Structured decoding: the value scanners (pure functions of the text generated for one value)

# Most tokens one value may take (its leading space, quotes and the character after it included); about 1.5x the
# longest value in DLPlanData-train. A value cut by its cap keeps the text generated so far.
VALUE_TOKEN_CAPS = {"task_category": 16, "input": 64, "output": 48, "preprocess": 96, "layer": 64,
                    "optimizer": 16, "loss_function": 32, "learning_rate": 12, "batch_size": 8, "epochs": 8,
                    "evaluation_metric": 32}
DEFAULT_MAX_LAYERS = 12
# A value stops before the first repeat of a run of this many tokens inside it (a greedy loop; such repeats are
# in 0.4% of DLPlanData-train's input values and 0.2% of its layers, never in the other fields); 0: no stop.
DEFAULT_REPEAT_NGRAM = 8
NO_ITEM = object()  # a layer-list scan that found the end of the list instead of an item
_BARE_END = re.compile(r"[,}\]\n]")
_ESCAPE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})')
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # as Plan.to_json


def find_string_end(text: str, start: int = 0):
    """Index of the first unescaped `"` at or after `start` (inside a JSON string), or None."""
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return index
    return None


def decode_string(raw: str, partial: bool = False) -> str:
    """The value of the JSON string body `raw`; invalid escapes are kept as written. `partial`: `raw` was cut by a
    token cap or the end of generation (a dangling backslash or half a character is dropped)."""
    if partial:
        raw = raw.rstrip("\ufffd")
        if (len(raw) - len(raw.rstrip("\\"))) % 2:
            raw = raw[:-1]
    try:
        return json.loads('"' + raw + '"', strict=False)
    except ValueError:
        def unescape(match):
            code = match.group(1)
            return chr(int(code[1:], 16)) if code[0] == "u" else _ESCAPES.get(code, code)
        return _ESCAPE.sub(unescape, raw)


def parse_bare(text: str):
    """An unquoted value: JSON literal or number when it is one, else the text itself (None when empty)."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def scan_value(text: str, final: bool = False):
    """`(done, value)` for the text generated after `"key":`. A string ends at its first unescaped quote, anything
    else at `,`, `}`, `]` or a newline. `final`: no more text will come (cap or end of generation)."""
    stripped = text.lstrip()
    if not stripped:
        return final, None
    if stripped[0] == '"':
        end = find_string_end(stripped, 1)
        if end is None:
            return (True, decode_string(stripped[1:], partial=True)) if final else (False, None)
        return True, decode_string(stripped[1:end])
    match = _BARE_END.search(stripped)
    if match is None and not final:
        return False, None
    return True, parse_bare(stripped[:match.start()] if match else stripped)


def scan_item(text: str, first: bool, final: bool = False):
    """`(done, item, more)` for the text generated in the layer list: after `"Layers":` (`first`, the text opens
    the list) or after an item's comma. `item` is NO_ITEM at the end of the list; `more` says whether the model
    continued the list after the item (True, `,`), closed it (False) or left that open (None)."""
    stripped = text.lstrip()
    if first:
        if not stripped:
            return (True, NO_ITEM, False) if final else (False, None, None)
        if stripped[0] != "[":  # not a list: a single value (or null)
            done, value = scan_value(stripped, final)
            if not done:
                return False, None, None
            return True, (NO_ITEM if value is None else as_text(value)), False
        stripped = stripped[1:].lstrip()
    if not stripped:
        return (True, NO_ITEM, False) if final else (False, None, None)
    if stripped[0] == "]":
        return True, NO_ITEM, False
    if stripped[0] == '"':
        end = find_string_end(stripped, 1)
        if end is None:
            return (True, decode_string(stripped[1:], partial=True), None) if final else (False, None, None)
        item, rest = decode_string(stripped[1:end]), stripped[end + 1:].lstrip()
    else:
        match = _BARE_END.search(stripped)
        if match is None:
            return (True, as_text(parse_bare(stripped)) or NO_ITEM, None) if final else (False, None, None)
        item, rest = as_text(parse_bare(stripped[:match.start()])), stripped[match.start():]
        if item is None:
            item = NO_ITEM
    if not rest:
        return (True, item, None) if final else (False, None, None)
    return True, item, rest[0] == ","


def as_text(value):
    """A text field's value: strings as they are, other JSON values as their JSON text, null as None."""
    if value is None or isinstance(value, str):
        return value
    return _dumps(value)


def as_number(value, integer: bool = False):
    """A number field's value, or None when `value` is not a (finite) number (or not an integer, for `integer`)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    if integer:
        return int(number) if number.is_integer() else None
    return number


# ---------------------------------------------------------------------------------------------------------------
# Structured decoding: the plan's skeleton, written by the code, asking the decoder for each value


class Generate:
    """Ask the model to continue `text` (the completion so far) with one value (`kind` "value"), the list's first
    item ("first_item") or a following item ("next_item"), in at most `max_tokens` tokens."""

    def __init__(self, text: str, kind: str, max_tokens: int):
        self.text, self.kind, self.max_tokens = text, kind, max_tokens

    def scan(self, generated: str, final: bool = False):
        """`(done, answer)`: the value, or `(item, more)` for the layer list."""
        if self.kind == "value":
            return scan_value(generated, final)
        done, item, more = scan_item(generated, self.kind == "first_item", final)
        return done, (item, more)


class Choose:
    """Ask which of `options` continues `text`: the model's likeliest first token where they differ. `default`
    answers when the model cannot be asked (the plan ran out of tokens)."""

    def __init__(self, text: str, options: tuple, default: int):
        self.text, self.options, self.default = text, options, default


def plan_program(max_layers: int = DEFAULT_MAX_LAYERS, caps: dict | None = None):
    """A generator that writes the plan's completion text exactly as training targets (`" " + Plan.to_json()`),
    yielding a `Generate` or `Choose` request for each value and choice and receiving the answer; it returns the plan
    JSON text. When generation stops (end of text, token budget) the decoder answers each remaining request
    with None (values) or the default (choices), so the plan is always complete."""
    caps = {**VALUE_TOKEN_CAPS, **(caps or {})}

    def value(text, field):
        return (yield Generate(text, "value", caps[field]))

    text = ' {"Task Category":'
    task_category = as_text((yield from value(text, "task_category")))
    text += f' {_dumps(task_category)}, "Dataset": {{"Input":'
    input_ = as_text((yield from value(text, "input")))
    text += f' {_dumps(input_)}, "Output":'
    output = as_text((yield from value(text, "output")))
    text += f' {_dumps(output)}}}, "'
    preprocess = None
    if (yield Choose(text, ('Preprocess":', 'Model Architecture":'), default=1)) == 0:
        preprocess = as_text((yield from value(text + 'Preprocess":', "preprocess")))
    if preprocess is not None:  # Plan.to_dict leaves out a missing preprocess
        text += f'Preprocess": {_dumps(preprocess)}, "'
    text += 'Model Architecture": {"Layers":'

    layers = []
    item, more = yield Generate(text, "first_item", caps["layer"])
    while item is not NO_ITEM:
        layers.append(item)
        listed = text + " [" + ", ".join(_dumps(layer) for layer in layers)
        if len(layers) >= max_layers or more is False:
            break
        if more is None and (yield Choose(listed, (', "', '], "Hyperparameters"'), default=1)) == 1:
            break
        item, more = yield Generate(listed + ",", "next_item", caps["layer"])
    text += " [" + ", ".join(_dumps(layer) for layer in layers) + '], "Hyperparameters": {"optimizer":'

    optimizer = as_text((yield from value(text, "optimizer")))
    text += f' {_dumps(optimizer)}, "loss function":'
    loss_function = as_text((yield from value(text, "loss_function")))
    text += f' {_dumps(loss_function)}, "learning rate":'
    learning_rate = as_number((yield from value(text, "learning_rate")))
    text += f' {_dumps(learning_rate)}, "batch size":'
    batch_size = as_number((yield from value(text, "batch_size")), integer=True)
    text += f' {_dumps(batch_size)}, "epochs":'
    epochs = as_number((yield from value(text, "epochs")), integer=True)
    text += f' {_dumps(epochs)}, "evaluation metric":'
    evaluation_metric = as_text((yield from value(text, "evaluation_metric")))
    text += f" {_dumps(evaluation_metric)}}}}}}}"
    return text[1:]


# ---------------------------------------------------------------------------------------------------------------
# Structured decoding: the batched decoder


class _Row:
    """One plan being decoded: its program, the tokens in the cache and where they are."""

    def __init__(self, prompt_ids, program):
        self.prompt, self.program = list(prompt_ids), program
        self.fed: list[int] = []  # the tokens whose keys/values are valid in this row's cache
        self.columns: list[int] = []  # their cache columns (every other column is masked for this row)
        self.dropped: list[int] = []  # columns that stopped being valid since the last step
        self.request = None
        self.target = None  # the tokens to feed before the model is asked (None: the last generated one)
        self.generated: list[int] = []  # tokens generated for the current Generate request
        self.ngrams: set = set()  # the runs of `repeat_ngram` tokens in `generated`, but the last
        self.choice_tokens = None
        self.spent = 0  # generated tokens, all requests together
        self.stopped = False
        self.plan_text = None

    def answer(self, value) -> None:
        try:
            self.request = self.program.send(value)
        except StopIteration as stop:
            self.request, self.plan_text = None, stop.value
        self.generated, self.ngrams, self.target, self.choice_tokens = [], set(), None, None


def _common_prefix(first: list, second: list) -> int:
    """Length of the common prefix of two token lists (list slices compare at C speed)."""
    size = min(len(first), len(second))
    if first[:size] == second[:size]:
        return size
    low, high = 0, size  # first[:low] == second[:low], first[:high] != second[:high]
    while high - low > 1:
        middle = (low + high) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle
    return low


def _growing_cache(config):
    """A `DynamicCache` whose keys and values live in buffers that grow by doubling, so that a decoding step copies
    only its own keys and values (a plain DynamicCache concatenates, copying the whole cache at every step), and that
    `repack` can gather: rows dropped, each row's valid columns moved together."""
    from transformers import DynamicCache

    class GrowingCache(DynamicCache):
        def __init__(self):
            try:
                super().__init__(config=config)
            except TypeError:  # an older DynamicCache without `config`
                super().__init__()
            self.buffers, self.lengths = {}, {}

        @staticmethod
        def _allocate(like, batch, capacity):
            return like.new_empty((batch, like.shape[1], capacity, like.shape[-1]))

        def update(self, key_states, value_states, layer_idx, *args, **kwargs):
            length, count = self.lengths.get(layer_idx, 0), key_states.shape[-2]
            buffers = self.buffers.get(layer_idx)
            if buffers is None or length + count > buffers[0].shape[-2]:
                capacity = max(256, 2 * (length + count))
                grown = tuple(self._allocate(new, new.shape[0], capacity) for new in (key_states, value_states))
                if buffers is not None:
                    for old, new in zip(buffers, grown):
                        new[:, :, :length] = old[:, :, :length]
                buffers = self.buffers[layer_idx] = grown
            buffers[0][:, :, length:length + count] = key_states
            buffers[1][:, :, length:length + count] = value_states
            self.lengths[layer_idx] = length + count
            return buffers[0][:, :, :length + count], buffers[1][:, :, :length + count]

        def get_seq_length(self, layer_idx=0):
            return self.lengths.get(layer_idx, 0)

        def repack(self, rows, columns):
            """Keep batch rows `rows` (B,); row i's new column j is its old column `columns[i, j]` (B, L)."""
            for layer_idx, buffers in self.buffers.items():
                packed = []
                for old in buffers:
                    new = self._allocate(old, len(rows), max(256, 2 * columns.shape[1]))
                    new[:, :, :columns.shape[1]] = old[rows[:, None], :, columns].permute(0, 2, 1, 3)
                    packed.append(new)
                self.buffers[layer_idx] = tuple(packed)
                self.lengths[layer_idx] = columns.shape[1]

    return GrowingCache()


class StructuredDecoder:
    """Greedy per-value decoding of a batch of prompts with one KV cache.

    Each row syncs the cache to the tokenization of its completion so far (the skeleton the code wrote and the
    values it kept): the longest common prefix with the tokens already fed is kept, the rest is masked out, the
    difference is fed. Rows feed different numbers of tokens in one step (left padding inside the step); position
    ids count a row's valid tokens only. Masked columns and finished rows are dropped from the cache now and then.
    """

    REPACK_SLACK = 32  # cache columns beyond the longest row that trigger a repack

    def __init__(self, model, tokenizer, max_layers: int = DEFAULT_MAX_LAYERS, caps: dict | None = None,
                 repeat_ngram: int = DEFAULT_REPEAT_NGRAM):
        import inspect

        self.model, self.tokenizer = model, tokenizer
        self.max_layers, self.caps, self.repeat_ngram = max_layers, caps, repeat_ngram
        config = model.config
        self.context = (getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)
                        or 1024)
        eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        if eos is None:
            eos = tokenizer.eos_token_id
        self.eos = set(eos if isinstance(eos, (list, tuple)) else [eos]) - {None}
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.eos, default=0)
        parameters = inspect.signature(model.forward).parameters
        self.cache_argument = "cache" if "cache" in parameters else "past_key_values"
        self.keep_logits = "logits_to_keep" in parameters

    def _tokens(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _decode(self, ids) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def decode(self, prompts, max_new_tokens: int | None = None) -> list[str]:
        """The plan JSON text for each prompt (a list of token ids); `max_new_tokens` bounds the tokens the model
        generates for one plan (default 512)."""
        budget = max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        rows = [_Row(prompt, plan_program(self.max_layers, self.caps)) for prompt in prompts]
        for row in rows:
            row.answer(None)
        batch = list(rows)
        cache, valid, length = _growing_cache(self.model.config), torch.zeros((len(batch), 0), dtype=torch.bool), 0
        with torch.no_grad():
            while True:
                pending = []
                for index, row in enumerate(batch):
                    pending.append(self._pending(row) if row.request is not None else [])
                    if row.dropped:
                        valid[index, row.dropped] = False
                        row.dropped = []
                live = [index for index, tokens in enumerate(pending) if tokens]
                if not live:
                    break
                if len(live) <= 0.875 * len(batch) or length - max(len(batch[i].fed) for i in live) >= \
                        self.REPACK_SLACK:
                    batch, pending = [batch[i] for i in live], [pending[i] for i in live]
                    valid, length = self._repack(cache, batch, live)
                valid, length, logits = self._step(batch, pending, cache, valid, length)
                for row, tokens, row_logits in zip(batch, pending, logits):
                    if tokens:
                        self._consume(row, row_logits, budget)
        return [row.plan_text for row in rows]

    def _pending(self, row) -> list[int]:
        """The tokens `row` feeds this step (masking its cache columns that no longer match); [] when its plan is
        complete. Rows that cannot go on (token budget or context spent) are answered without the model."""
        while row.request is not None:
            if row.stopped:
                self._stop(row)
                continue
            if isinstance(row.request, Choose) and row.choice_tokens is None:
                if not self._prepare_choice(row):
                    row.answer(row.request.default)
                    continue
            if row.target is None and not row.generated:
                row.target = row.prompt + self._tokens(row.request.text)
            if row.target is None:
                tokens = [row.generated[-1]]
            else:
                target = row.target
                # ask the model after the target's last token: feed that one again if it is already in the cache
                common = min(_common_prefix(row.fed, target), len(target) - 1)
                row.dropped.extend(row.columns[common:])
                del row.fed[common:], row.columns[common:]
                tokens, row.target = target[common:], None
            if len(row.fed) + len(tokens) > self.context:
                row.stopped = True
                continue
            return tokens
        return []

    def _prepare_choice(self, row) -> bool:
        """Sync `row` to the options' common tokens; False when the options do not differ by a token."""
        request = row.request
        options = [self._tokens(request.text + option) for option in request.options]
        common = min(_common_prefix(options[0], option) for option in options[1:])
        firsts = [ids[common] if len(ids) > common else None for ids in options]
        if None in firsts or len(set(firsts)) < len(firsts):
            return False
        row.choice_tokens, row.target = firsts, row.prompt + options[0][:common]
        return True

    def _stop(self, row) -> None:
        request = row.request
        if isinstance(request, Choose):
            row.answer(request.default)
        else:
            row.answer(request.scan(self._decode(row.generated), final=True)[1])

    def _repack(self, cache, batch, keep):
        """Drop the finished rows and the masked columns: row i's valid columns become the last of the cache."""
        width = max(len(row.fed) for row in batch)
        columns = torch.zeros((len(batch), width), dtype=torch.long)
        valid = torch.zeros((len(batch), width), dtype=torch.bool)
        for index, row in enumerate(batch):
            start = width - len(row.fed)
            columns[index, start:] = torch.tensor(row.columns, dtype=torch.long)
            valid[index, start:] = True
            row.columns = list(range(start, width))
        cache.repack(torch.tensor(keep, dtype=torch.long).to(self.model.device), columns.to(self.model.device))
        return valid, width

    def _step(self, batch, pending, cache, valid, length):
        """One forward pass: each row's pending tokens (left-padded to the widest); the logits after each row."""
        width, size = max(len(tokens) for tokens in pending), len(batch)
        input_ids = torch.full((size, width), self.pad, dtype=torch.long)
        positions = torch.zeros((size, width), dtype=torch.long)
        new_valid = torch.zeros((size, width), dtype=torch.bool)
        for index, (row, tokens) in enumerate(zip(batch, pending)):
            if not tokens:
                continue
            start = width - len(tokens)
            input_ids[index, start:] = torch.tensor(tokens, dtype=torch.long)
            positions[index, start:] = torch.arange(len(row.fed), len(row.fed) + len(tokens))
            new_valid[index, start:] = True
            row.fed.extend(tokens)
            row.columns.extend(range(length + start, length + width))
        valid = torch.cat([valid, new_valid], dim=1)
        total = length + width
        steps = torch.arange(width)
        causal = torch.arange(total)[None, :] <= (length + steps)[:, None]  # (width, total)
        allowed = valid[:, None, :] & causal[None, :, :]
        allowed[:, steps, length + steps] = True  # padding attends to itself: no row of the mask is empty
        dtype = self.model.dtype if self.model.dtype.is_floating_point else torch.float32
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]
        device = self.model.device
        arguments = {"input_ids": input_ids.to(device), "attention_mask": mask.to(device),
                     "position_ids": positions.to(device), self.cache_argument: cache, "use_cache": True}
        if self.keep_logits:
            arguments["logits_to_keep"] = 1
        logits = self.model(**arguments).logits[:, -1, :].float().cpu()
        return valid, total, logits

    def _repeats(self, row) -> bool:
        size, generated = self.repeat_ngram, row.generated
        if not size or len(generated) <= size:
            return False
        row.ngrams.add(tuple(generated[-size - 1:-1]))
        return tuple(generated[-size:]) in row.ngrams

    def _consume(self, row, logits, budget) -> None:
        request = row.request
        if isinstance(request, Choose):
            row.answer(int(logits[row.choice_tokens].argmax()))
            return
        token = int(logits.argmax())
        row.spent += 1
        if token in self.eos:
            row.stopped = True
            self._stop(row)
            return
        row.generated.append(token)
        if self._repeats(row):  # a loop: the value ends before the repeated run
            del row.generated[-self.repeat_ngram:]
            row.answer(request.scan(self._decode(row.generated).rstrip(" ,"), final=True)[1])
            return
        done, answer = request.scan(self._decode(row.generated))
        if done:
            row.answer(answer)
        elif len(row.generated) >= request.max_tokens or row.spent >= budget:
            row.stopped = row.spent >= budget
            row.answer(request.scan(self._decode(row.generated), final=True)[1])


# ---------------------------------------------------------------------------------------------------------------
# The pipeline


# The keys an input dict may hold the requirement and the attributes under (the package's, the short, DLPlanData's).
REQUIREMENT_KEYS = ("requirement", "user_requirement", REQUIREMENT_LABEL)
ATTRIBUTES_KEYS = ("attributes", "dataset_attributes", ATTRIBUTES_LABEL)


def _first(inputs: dict, keys, default=None):
    return next((inputs[key] for key in keys if key in inputs), default)


class DLPlanGenerationPipeline(Pipeline):
    """Inputs: a requirement string, or a dict with `requirement` (or `user_requirement`, `User Requirement`) and
    optional `attributes` (or `dataset_attributes`, `Dataset Attributes`; a string or a dict); a list of those for a batch (`batch_size=N` decodes N plans at once).

    Output per input: `{"plan": dict | None, "plan_text": generated plan text, "repairs": [...], "error": str | None}`.
    Greedy structured decoding by default (the plan always parses, `repairs` is empty): `max_layers` caps the layer
    list (default 12), `max_new_tokens` the tokens the model generates (default 512), and `repeat_ngram` (default 8,
    0: off) ends a value before the first repeat of a run of that many tokens (a greedy loop). `structured=False` gives
    free decoding, the model writing the whole text (then `plan_text` is the raw text and may need repairs);
    `num_beams=3` (the paper's beam search) is free decoding only. `return_plan_object=True` gives the `Plan` itself
    under "plan" (what dlcodegen's planners use) instead of its dict.
    """

    def _sanitize_parameters(self, num_beams=None, max_new_tokens=None, dataset_attributes=None,
                             return_plan_object=None, structured=None, max_layers=None, repeat_ngram=None,
                             **kwargs):
        preprocess, forward, postprocess = {}, {}, {}
        if return_plan_object is not None:
            postprocess["return_plan_object"] = return_plan_object
        if dataset_attributes is not None:
            preprocess["dataset_attributes"] = dataset_attributes
        if num_beams is not None:
            forward["num_beams"] = num_beams
        if max_new_tokens is not None:
            forward["max_new_tokens"] = max_new_tokens
        if structured is not None:
            forward["structured"] = structured
        if max_layers is not None:
            forward["max_layers"] = max_layers
        if repeat_ngram is not None:
            forward["repeat_ngram"] = repeat_ngram
        if structured and num_beams is not None and num_beams > 1:
            raise ValueError("structured decoding is greedy: pass structured=False for beam search")
        return preprocess, forward, postprocess

    def preprocess(self, inputs, dataset_attributes=""):
        if isinstance(inputs, dict):
            requirement = _first(inputs, REQUIREMENT_KEYS)
            attributes = _first(inputs, ATTRIBUTES_KEYS, dataset_attributes)
            if not isinstance(requirement, str):
                raise ValueError(f"an input dict needs the requirement under one of {list(REQUIREMENT_KEYS)} (and "
                                 f"optionally the attributes under one of {list(ATTRIBUTES_KEYS)}); got keys "
                                 f"{sorted(map(str, inputs))}")
        elif isinstance(inputs, str):
            requirement, attributes = inputs, dataset_attributes
        else:
            raise ValueError(f"an input is a requirement string or a dict with {list(REQUIREMENT_KEYS[:2])}, got "
                             f"{type(inputs).__name__}")
        prompt = model_prompt(format_plan_prompt(requirement, attributes if attributes is not None else ""))
        ids = self.tokenizer(prompt)["input_ids"][-self._prompt_budget():]  # keep the end: `"Code Plan":`
        return {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones((1, len(ids)), dtype=torch.long)}

    def _prompt_budget(self) -> int:
        limit = getattr(self.model.config, "n_positions", None) or getattr(
            self.model.config, "max_position_embeddings", 1024)
        return max(32, limit - DEFAULT_MAX_NEW_TOKENS // 2)

    @staticmethod
    def _prompts(model_inputs) -> list[list[int]]:
        """Each prompt's token ids, without the padding a batch added (on either side)."""
        return [ids[mask.bool()].tolist() for ids, mask in zip(model_inputs["input_ids"],
                                                              model_inputs["attention_mask"])]

    def _forward(self, model_inputs, num_beams=1, max_new_tokens=None, structured=None, max_layers=None,
                 repeat_ngram=None):
        if structured is None:
            structured = num_beams == 1
        prompts = self._prompts(model_inputs)
        if structured:
            decoder = StructuredDecoder(self.model, self.tokenizer, max_layers or DEFAULT_MAX_LAYERS,
                                        repeat_ngram=DEFAULT_REPEAT_NGRAM if repeat_ngram is None else repeat_ngram)
            return {"plan_text": decoder.decode(prompts, max_new_tokens)}
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        width = max(len(prompt) for prompt in prompts)
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.model.device)
        attention_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                                      device=self.model.device)
        limit = getattr(self.model.config, "n_positions", None) or getattr(
            self.model.config, "max_position_embeddings", None)
        budget = max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        if limit:
            budget = max(1, min(budget, limit - width))
        output = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=budget,
                                     num_beams=num_beams, do_sample=False, pad_token_id=pad)
        texts = [self.tokenizer.decode(row[width:], skip_special_tokens=True) for row in output]
        return {"plan_text": texts}

    def postprocess(self, model_outputs, return_plan_object=False):
        text = model_outputs["plan_text"]
        if isinstance(text, list):  # a batch of one is not unbatched by the pipeline
            text = text[0]
        try:
            plan = Plan.from_text(text)
        except PlanParseError as error:
            return {"plan": None, "plan_text": text, "repairs": [], "error": str(error)}
        return {"plan": plan if return_plan_object else plan.to_dict(), "plan_text": text,
                "repairs": list(plan.repairs), "error": None}

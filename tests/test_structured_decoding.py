"""Structured decoding: the code writes the plan's JSON skeleton, the model only its values; every plan parses."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dlcodegen.core.plan import Plan, model_prompt
from dlcodegen.planning.plan_pipeline import (NO_ITEM, Choose, StructuredDecoder, as_number, as_text,
                                              decode_string, find_string_end, plan_program, scan_item, scan_value)

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "planner-scratch-small"
REQUEST = {"user_requirement": "I want to build a convolutional neural network to classify images of cats and dogs.",
           "dataset_attributes": "25,000 RGB images of cats and dogs resized to 150x150; labels 'cat' and 'dog'."}


def _run(program, answer):
    """Drive a plan program: `answer(request)` answers each request; returns the plan text and the requests."""
    requests = []
    try:
        request = next(program)
        while True:
            requests.append(request)
            request = program.send(answer(request))
    except StopIteration as stop:
        return stop.value, requests


def _teacher(*completions):
    """Answers as a model would that writes exactly a completion (the training target), the first that the
    request's text begins."""
    def answer(request):
        completion = next((c for c in completions if c.startswith(request.text)), None)
        assert completion is not None, (request.text, completions)
        if isinstance(request, Choose):
            return next(i for i, option in enumerate(request.options)
                        if completion.startswith(request.text + option))
        done, value = request.scan(completion[len(request.text):])
        assert done
        return value
    return answer


# ---------------------------------------------------------------------------------------------------------------
# The skeleton


def test_skeleton_is_the_training_format_for_every_test_plan(plandata):
    """Fed the gold values, the program writes each DLPlanData-test plan exactly as its training target, and every
    request's text is a prefix of that target (the model is asked in distribution)."""
    for row in plandata["test"]:
        gold = Plan.from_text(row["plan_text"])
        text, requests = _run(plan_program(max_layers=1000), _teacher(" " + gold.to_json()))
        assert text == gold.to_json()
        assert any(isinstance(request, Choose) for request in requests)
        assert Plan.from_text(text).repairs == ()


def test_layer_cap_and_list_choices():
    layers = [f"Dense({i})" for i in range(20)]
    gold = Plan(task_category="T", input="i", output="o", layers=layers, optimizer="Adam", loss_function="mse",
                learning_rate=0.001, batch_size=32, epochs=10, evaluation_metric="mae")
    capped = Plan(**{**gold.field_values(), "layers": layers[:12]}).to_json()
    text, _ = _run(plan_program(max_layers=12), _teacher(" " + gold.to_json(), " " + capped))
    assert text == capped

    def undecided(request):  # items end exactly at their quote: the program asks whether the list goes on
        if isinstance(request, Choose):
            return 0 if request.options[0] == ', "' else 1
        return ("Conv2D()", None) if request.kind != "value" else None
    text, requests = _run(plan_program(max_layers=3), undecided)
    plan = Plan.from_text(text)
    assert plan.layers == ["Conv2D()"] * 3 and plan.repairs == () and plan.preprocess is None
    assert sum(isinstance(r, Choose) and r.options[0] == ', "' for r in requests) == 2


# ---------------------------------------------------------------------------------------------------------------
# The value scanners


def test_string_values_end_at_the_first_unescaped_quote():
    assert find_string_end(r'a\"b"c') == 4
    assert find_string_end('a\\\\"b') == 3  # an escaped backslash, then the closing quote
    assert find_string_end(r'no end \"') is None
    assert scan_value(r' "a \"quoted\" word", "Output":') == (True, 'a "quoted" word')
    assert scan_value(' "Image Classification"') == (True, "Image Classification")
    assert scan_value(' "unfinished') == (False, None)
    assert scan_value(' "unfinished', final=True) == (True, "unfinished")
    assert scan_value(' "cut after a backslash \\', final=True) == (True, "cut after a backslash ")
    assert scan_value(' "line\\nbreak"') == (True, "line\nbreak")
    assert decode_string(r"C:\data \d+") == r"C:\data \d+"  # invalid JSON escapes are kept as written
    assert decode_string(r"say \"hi\" \u00e9") == 'say "hi" é'


def test_numbers_and_their_fallback_to_null():
    assert scan_value(" 0.001,") == (True, 0.001)
    assert scan_value(" 1e-05, ") == (True, 1e-05)
    assert scan_value(" 32}") == (True, 32)
    assert scan_value(" 32") == (False, None)  # 32 could go on: 320
    assert scan_value(" 32", final=True) == (True, 32)
    assert scan_value(" null,") == (True, None)
    assert scan_value(" ,") == (True, None)
    assert scan_value(" Adam,") == (True, "Adam")
    assert as_number(0.001) == 0.001 and as_number("64", integer=True) == 64 and as_number(32.0, integer=True) == 32
    assert as_number(32.5, integer=True) is None
    for not_a_number in ("Adam", "learning rate", None, True, float("nan"), float("inf"), 10**400, [1], {"a": 1}):
        assert as_number(not_a_number) is None
    assert as_text(3) == "3" and as_text(None) is None and as_text("x") == "x"


def test_layer_list_items():
    assert scan_item(' ["Conv2D(32)", "Dense', first=True) == (True, "Conv2D(32)", True)
    assert scan_item(' ["Dense(1)"], "Hyper', first=True) == (True, "Dense(1)", False)
    assert scan_item(' ["Dense(1)"', first=True) == (False, None, None)  # the list may go on or close
    assert scan_item(' ["Dense(1)"', first=True, final=True) == (True, "Dense(1)", None)
    assert scan_item(' ["Dense(', first=True, final=True) == (True, "Dense(", None)
    assert scan_item(' [],', first=True) == (True, NO_ITEM, False)
    assert scan_item(" null,", first=True) == (True, NO_ITEM, False)
    assert scan_item(' "Dense(1)",', first=True) == (True, "Dense(1)", False)
    assert scan_item(' "Flatten()", "', first=False) == (True, "Flatten()", True)
    assert scan_item(' "say \\"hi\\""]', first=False) == (True, 'say "hi"', False)
    assert scan_item(" ]", first=False) == (True, NO_ITEM, False)
    assert scan_item("", first=False, final=True) == (True, NO_ITEM, False)


# ---------------------------------------------------------------------------------------------------------------
# The decoder


@pytest.fixture
def one_thread():
    """One intra-op thread: a 5.5M-parameter model gains little from two, and loses much on a busy machine (400 plans
    took 85 s with one thread and 407 s with two, other jobs running on the 2 cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(MODEL)


def _prompts(tokenizer, rows):
    return [tokenizer(model_prompt(row["prompt_text"]))["input_ids"] for row in rows]


def test_a_random_model_still_writes_plans_that_parse(tokenizer, plandata, one_thread):
    """Junk values, end of text anywhere, per-value caps, the token budget and a full context: all still parse."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    longest_token = max(len(tokenizer.decode([token])) for token in range(len(tokenizer)))
    rows = plandata["test"].select(range(6))
    prompts = _prompts(tokenizer, rows)
    for n_positions, max_new_tokens, max_layers in ((1024, 400, 12), (1024, 20, 12), (max(map(len, prompts)) + 60,
                                                                                      None, 2)):
        model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=n_positions, n_embd=32, n_layer=1,
                                           n_head=2, eos_token_id=tokenizer.eos_token_id)).eval()
        caps = {"layer": 6}
        texts = StructuredDecoder(model, tokenizer, max_layers=max_layers, caps=caps).decode(prompts, max_new_tokens)
        for text in texts:
            plan = Plan.from_text(text)
            assert plan.repairs == () and text == plan.to_json()
            assert len(plan.layers) <= max_layers
            assert all(len(layer) <= 6 * longest_token for layer in plan.layers)  # the item cap: 6 tokens


def test_structured_decoding_is_greedy_decoding_while_the_model_keeps_the_format(tokenizer, plandata, one_thread):
    """Batched (left-padded, cache synced at each key), the values are the ones `generate` writes greedily."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(MODEL).eval()
    prompts = _prompts(tokenizer, plandata["test"].select([0, 7, 42]))
    texts = StructuredDecoder(model, tokenizer, repeat_ngram=0, caps={"input": 400}).decode(prompts, 300)
    for prompt, text in zip(prompts, texts):
        output = model.generate(torch.tensor([prompt]), max_new_tokens=150, do_sample=False,
                                pad_token_id=tokenizer.eos_token_id)
        free = tokenizer.decode(output[0, len(prompt):])
        head = text[:text.index('"Output":')]  # the free text loops inside the input: compare up to there
        assert free.startswith(" " + head[:len(free) - 1]), (free, text)


# ---------------------------------------------------------------------------------------------------------------
# The shipped model, through both pipeline forms


def test_every_test_plan_of_the_shipped_model_parses_without_repair(plandata, one_thread):
    import dlcodegen.hf  # noqa: F401
    from transformers import pipeline

    planner = pipeline("dl-plan-generation", model=str(MODEL))
    rows = plandata["test"]
    start = time.perf_counter()
    outputs = planner([{"user_requirement": row["user_requirement"], "dataset_attributes": row["dataset_attributes"]}
                       for row in rows], batch_size=64)
    seconds = time.perf_counter() - start
    assert len(outputs) == len(rows) == 400
    for output in outputs:
        assert output["error"] is None and output["repairs"] == [], output
        assert output["plan"] == Plan.from_text(output["plan_text"]).to_dict()
        assert Plan.from_text(output["plan_text"]).repairs == ()
    print(f"\n400 structured plans in {seconds:.0f} s ({seconds / 400:.2f} s/plan)")


def test_registered_task_decodes_structured_by_default_and_free_on_request():
    import dlcodegen.hf  # noqa: F401
    from transformers import pipeline

    planner = pipeline("dl-plan-generation", model=str(MODEL))
    output = planner(REQUEST)
    assert output["repairs"] == [] and output["plan"]["Task Category"]
    assert output["plan_text"] == Plan.from_text(output["plan_text"]).to_json()
    capped = planner(REQUEST, max_layers=2, max_new_tokens=40)
    assert len(Plan.from_text(capped["plan_text"]).layers) <= 2 and capped["repairs"] == []
    free = planner(REQUEST, structured=False, max_new_tokens=24)
    assert free["plan_text"].startswith(' {"Task Category"')  # the raw text, the record's space included
    assert output["plan_text"].startswith(free["plan_text"][1:len('{"Task Category": "Image Classification"')])
    beams = planner(REQUEST, num_beams=2, max_new_tokens=16)  # beam search is free decoding
    assert beams["plan_text"].startswith(" {")
    with pytest.raises(ValueError, match="structured=False"):
        planner(REQUEST, structured=True, num_beams=2)


def test_remote_code_form_decodes_structured(tmp_path):
    package = REPO / "dlcodegen" / "planning" / "plan_pipeline.py"
    assert (MODEL / "plan_pipeline.py").read_text() == package.read_text()  # refresh: hf.model_folder
    script = ("import json, sys\nfrom transformers import pipeline\n"
              f"p = pipeline(model={str(MODEL)!r}, trust_remote_code=True)\n"
              f"outs = p([{REQUEST!r}, 'Forecast daily sales from tabular data.'], batch_size=2)\n"
              "assert all(o['repairs'] == [] and o['plan']['Task Category'] for o in outs), outs\n"
              "assert not any(name.startswith('dlcodegen') for name in sys.modules)\n"
              "print(json.dumps([o['plan_text'] for o in outs]))\n")
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for text in json.loads(result.stdout.strip().splitlines()[-1]):
        assert Plan.from_text(text).repairs == () and text == Plan.from_text(text).to_json()

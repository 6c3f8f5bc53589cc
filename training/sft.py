"""Fine-tune (or train from scratch) the DLCodeGen plan predictor with TRL's SFTTrainer.

Prompt-completion data from DLPlanData: prompt = the record up to `"Code Plan": ` (requirement + attributes),
completion = the plan as canonical JSON; the loss is on the completion only. The saved folder is a complete Hub
model repo: weights (safetensors), tokenizer, the `dl-plan-generation` pipeline code and a model card with the
test-split metrics.

    # tiny model and tokenizer trained here, on CPU
    python training/sft.py --config training/configs/scratch_small.yaml
    # the paper's base model, for users with network and a GPU (several GPUs: `accelerate launch training/sft.py`)
    python training/sft.py --config training/configs/gpt2_large.yaml
    # LoRA on any causal LM, merged on save
    python training/sft.py --model_name_or_path openai-community/gpt2 --use_peft --output_dir runs/gpt2-lora
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class PlannerArguments:
    dataset_name: str = field(default="build/datasets/dlplandata", metadata={
        "help": "DLPlanData as a dataset folder or Hub id (built with `dlcodegen data build` when the default "
                "folder is missing)"})
    from_scratch: bool = field(default=False, metadata={
        "help": "build a small GPT-2 and train a byte-level BPE tokenizer on the training split instead of "
                "loading --model_name_or_path"})
    vocab_size: int = field(default=8000, metadata={"help": "tokenizer vocabulary (--from_scratch)"})
    n_layer: int = field(default=4, metadata={"help": "transformer blocks (--from_scratch)"})
    n_embd: int = field(default=256, metadata={"help": "hidden size (--from_scratch)"})
    n_head: int = field(default=4, metadata={"help": "attention heads (--from_scratch)"})
    n_positions: int = field(default=1024, metadata={"help": "context length (--from_scratch)"})
    max_train_samples: int | None = field(default=None, metadata={"help": "use only the first N training rows"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "use only the first N validation rows"})
    test_samples: int = field(default=400, metadata={
        "help": "test rows to generate plans for and score into the model card (0 skips)"})
    test_num_beams: int = field(default=1, metadata={"help": "beams when scoring the test split"})
    model_card_template: str = field(default="model_card.md", metadata={"help": "model card template"})


def make_parser():
    from trl import ModelConfig, SFTConfig, TrlParser

    return TrlParser((PlannerArguments, SFTConfig, ModelConfig))


def load_plandata(name: str):
    """DLPlanData from a folder or Hub id; the default folder is built from the artifact when missing."""
    from pathlib import Path

    import datasets

    from dlcodegen.data import load_local

    if name == PlannerArguments.dataset_name and not Path(name).is_dir():
        from dlcodegen.datasets_builder.export import ensure_built

        return load_local("dlplandata", path=ensure_built(Path(name).parent))
    return datasets.load_dataset(name)


def to_prompt_completion(raw):
    """Prompt/completion pairs (completion: canonical plan JSON, closing the record)."""
    from dlcodegen.core.plan import Plan, model_prompt

    def to_pair(row):
        return {"prompt": model_prompt(row["prompt_text"]),
                "completion": " " + Plan.from_text(row["plan_text"]).to_json() + "}"}

    return raw.map(to_pair, remove_columns=raw["train"].column_names, desc="prompt/completion pairs")


def train_tokenizer(texts, vocab_size: int):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=["<|endoftext|>"])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                                        eos_token="<|endoftext|>", unk_token="<|endoftext|>",
                                        pad_token="<|endoftext|>")
    tokenizer.model_max_length = 1024
    return tokenizer


def scratch_model(args: PlannerArguments, tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=len(tokenizer), n_positions=args.n_positions, n_embd=args.n_embd,
                        n_layer=args.n_layer, n_head=args.n_head, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return GPT2LMHeadModel(config)


def main(script_args: PlannerArguments, training_args, model_args) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer, get_peft_config

    from dlcodegen.hf.model_folder import finalize_model_folder
    from dlcodegen.hub import push_folder, require_token

    started = time.time()
    raw = load_plandata(script_args.dataset_name)
    dataset = to_prompt_completion(raw)
    train = dataset["train"]
    evaluation = dataset["validation"]
    if script_args.max_train_samples:
        train = train.select(range(min(script_args.max_train_samples, len(train))))
    if script_args.max_eval_samples:
        evaluation = evaluation.select(range(min(script_args.max_eval_samples, len(evaluation))))

    if script_args.from_scratch:
        tokenizer = train_tokenizer((row["prompt"] + row["completion"] for row in dataset["train"]),
                                    script_args.vocab_size)
        model = scratch_model(script_args, tokenizer)
        base = f"GPT-2 architecture from scratch ({script_args.n_layer} layers, {script_args.n_embd} hidden)"
    else:
        if not model_args.model_name_or_path:
            raise SystemExit("error: pass --model_name_or_path (a Hub id or a local folder) or --from_scratch")
        tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path,
                                                  trust_remote_code=training_args.trust_remote_code)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path,
                                                     trust_remote_code=training_args.trust_remote_code,
                                                     dtype=model_args.dtype or "auto")
        base = model_args.model_name_or_path

    if isinstance(model_args.lora_target_modules, str) and model_args.lora_target_modules.isidentifier():
        # one name on the command line arrives as a string, which PEFT would read as a full-match regex
        model_args.lora_target_modules = [model_args.lora_target_modules]
    push = training_args.push_to_hub
    training_args.push_to_hub = False  # the finished folder (pipeline code and card included) is pushed below
    trainer = SFTTrainer(model=model, args=training_args, train_dataset=train,
                         eval_dataset=evaluation if training_args.eval_strategy != "no" else None,
                         processing_class=tokenizer, peft_config=get_peft_config(model_args))
    result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    final_model = trainer.model
    if model_args.use_peft:
        final_model = final_model.merge_and_unload()
    final_model.save_pretrained(training_args.output_dir)
    tokenizer.save_pretrained(training_args.output_dir)
    train_seconds = time.time() - started

    metrics = {}
    if script_args.test_samples:
        from dlcodegen.metrics.planner_eval import evaluate_planner
        from dlcodegen.planning.planners import NeuralPlanner

        planner = NeuralPlanner(training_args.output_dir, num_beams=script_args.test_num_beams)
        metrics = evaluate_planner(planner, raw["test"], limit=script_args.test_samples)
    best = trainer.state.best_metric
    info = {
        "base": base,
        "peft": bool(model_args.use_peft),
        "train_rows": len(train),
        "epochs": training_args.num_train_epochs,
        "learning_rate": training_args.learning_rate,
        "batch_size": training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps,
        "seed": training_args.seed,
        "train_seconds": round(train_seconds),
        "best_eval_loss": best,
        "final_train_loss": result.training_loss,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({torch.get_num_threads()} threads)",
        "parameters": sum(p.numel() for p in final_model.parameters()),
        "test_samples": script_args.test_samples,
        "test_num_beams": script_args.test_num_beams,
    }
    finalize_model_folder(training_args.output_dir, metrics, info, script_args.model_card_template)
    if push:
        repo_id = training_args.hub_model_id or training_args.output_dir.rstrip("/").split("/")[-1]
        url = push_folder(training_args.output_dir, repo_id, "model", bool(training_args.hub_private_repo),
                          require_token(), "Upload DLCodeGen planner")
        print(f"pushed to {url}")
    print_summary(training_args.output_dir, info, metrics)
    return {"info": info, "metrics": metrics}


def print_summary(output_dir: str, info: dict, metrics: dict) -> None:
    print("\n=== planner training summary ===")
    for key, value in info.items():
        print(f"{key:<18} {value}")
    for key, value in metrics.items():
        print(f"{key:<18} {value if value is None else round(value, 4)}")
    print(f"model folder: {output_dir}")


if __name__ == "__main__":
    script_args, training_args, model_args = make_parser().parse_args_and_config()
    main(script_args, training_args, model_args)

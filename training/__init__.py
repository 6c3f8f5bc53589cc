"""Training, installed as `dlcodegen.training`: the plan predictor with TRL's SFTTrainer (`python training/sft.py
--config training/configs/...`, needs the `[train]` extra) and the retrieval planner's field classifiers
(`python -m dlcodegen.training.classifiers`)."""

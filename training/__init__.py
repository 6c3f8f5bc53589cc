"""Training the plan predictor with TRL's SFTTrainer (`python training/sft.py --config training/configs/...`)."""

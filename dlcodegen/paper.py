"""Figures reported in the DLCodeGen paper, for side-by-side comparison."""

TABLE2_COLUMNS = ("ngram_match_score", "weighted_ngram_match_score", "syntax_match_score", "dataflow_match_score",
                  "codebleu")
TABLE2_COLUMN_TITLES = ("ngram", "w-ngram", "syntax", "dataflow", "CodeBLEU")
TABLE2_METHODS = ("Direct", "PS", "C-CoT", "CEDAR", "DLCodeGen")
TABLE2_BACKBONES = ("DeepSeek-V2.5", "GPT-4o-mini")

# Table II: CodeBLEU and its components (percent) on DLCodeEval.
TABLE2 = {
    ("DeepSeek-V2.5", "Direct"): (4.23, 10.61, 47.62, 13.43, 18.97),
    ("DeepSeek-V2.5", "PS"): (4.57, 13.31, 49.95, 13.70, 20.38),
    ("DeepSeek-V2.5", "C-CoT"): (6.33, 14.32, 52.05, 18.18, 22.72),
    ("DeepSeek-V2.5", "CEDAR"): (10.71, 15.07, 54.94, 20.01, 25.18),
    ("DeepSeek-V2.5", "DLCodeGen"): (12.81, 18.55, 56.27, 22.44, 27.52),
    ("GPT-4o-mini", "Direct"): (3.02, 9.80, 49.39, 12.71, 18.73),
    ("GPT-4o-mini", "PS"): (3.05, 11.59, 49.94, 12.61, 19.30),
    ("GPT-4o-mini", "C-CoT"): (3.52, 11.44, 51.42, 16.78, 20.79),
    ("GPT-4o-mini", "CEDAR"): (8.38, 13.85, 54.37, 19.30, 23.97),
    ("GPT-4o-mini", "DLCodeGen"): (9.78, 16.15, 54.81, 22.12, 25.71),
}

# Table IV: plan prediction on the DLPlanData test split (fine-tuned GPT-2-large, beam search, num_beams=3).
TABLE4_GPT2_LARGE_BEAM = {
    "category_em": 91.75, "input_bleu": 26.90, "output_bleu": 32.04, "layers_mld": 28.39,
    "learning_rate_mae": 0.09, "loss_function_em": 67.00, "optimizer_em": 62.75, "batch_size_mae": 128.26,
    "epochs_mae": 69.14, "metric_em": 66.50,
}

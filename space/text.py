"""Every piece of user-facing text of the Space (like the leaderboard template's about.py)."""

from __future__ import annotations

TITLE = "DLCodeGen: planning-guided generation of deep learning projects"

INTRO = """\
# DLCodeGen
Turn a plain-English deep learning requirement into a complete project, guided by a predicted **solution plan**
(after *Empowering AI to Generate Better AI Code: Guided Generation of Deep Learning Projects with LLMs*), and
compare methods on the **DLCodeEval** leaderboard.
"""

GENERATE_INTRO = """\
Describe the task and, optionally, the dataset. Every stage appears as it runs: the task read from your words (each
fact with the words it was read from), the plan (with what was changed to keep it true to the task), the samples Code
RAG retrieved (BM25, the plan as the query), the template, code 1, code 2 and the final project, then how closely the
final code follows the plan. With the **offline** backend (no LLM, no key) `dlcodegen` runs the offline generator:
the plan written as a Keras project. The LLM methods need the **openai** backend, which the Space's owner enables by
setting `DLCODEGEN_MODEL` (and `OPENAI_BASE_URL`, `OPENAI_API_KEY`) in the Space's settings.
"""

LEADERBOARD_INTRO = """\
CodeBLEU (percent) of each entry's 46 generations against DLCodeEval's reference notebooks, with the paper's
post-processing. **Length-calibrated** is the gain over an unrelated pool notebook cut to the same length (see
About): read it beside CodeBLEU, which rewards long outputs. *paper* rows are the paper's released generations
scored here (the paper's own figure beside it), *baseline* rows are this package's methods that need no LLM,
*submission* rows come from the Submit tab or `dlcodegen leaderboard submit`.
"""

SUBMIT_INTRO = """\
Submit the 46 generations of your method, one JSON object per line (JSON Lines, UTF-8), covering every DLCodeEval
id exactly once:

```json
{"id": 0, "code": "import tensorflow as tf\\n..."}
{"id": 1, "code": "..."}
```

This is what `dlcodegen bench --method NAME --out FILE.jsonl` writes. Nothing is executed: the code is only read
and scored (CodeBLEU and its components, mean lines, the length-calibrated score, plan adherence). The same
generations are accepted once, whatever their name. Scoring takes a few seconds (up to half a minute for the first
submission after a restart). The same from a terminal:

```bash
dlcodegen leaderboard submit FILE.jsonl --method NAME --backbone NAME [--contact TEXT] [--link URL]
```
"""

ABOUT = """\
## About

**The benchmark.** DLCodeEval holds 46 deep learning requirements (with their datasets' attributes) and a reference
Kaggle notebook for each. A method writes one project per requirement; the leaderboard scores the 46 outputs with
CodeBLEU (n-gram, weighted n-gram, syntax and data-flow match) against the references.

**The normalisation.** Before CodeBLEU, every output and reference goes through the paper's post-processing, read
literally (`normalize="dlcodegen"`): markdown fence lines are deleted, comments and docstring blocks removed line by
line, the code is formatted with black (line length 210), joined onto one line, and spaces are put around special
characters (string literals kept whole with their spaces made underscores, numbers such as `0.001` kept whole).

**The paper's values.** The *paper* rows are the paper's 10 released generation sets (Direct, Plan-and-Solve,
Cluster-CoT, CEDAR and DLCodeGen with DeepSeek-V2.5 and GPT-4o-mini), scored here; the *Paper CodeBLEU* column is
the figure the paper reports (Table II). Recomputed with this normalisation, all 10 are within 1.5 points of the paper
(at most 1.30 low, 0.70 on average) and the ranking of the five methods is the paper's for both backbones.

**The calibration.** CodeBLEU on DLCodeEval rewards length and Kaggle-notebook vocabulary: an unrelated notebook of
the sample pool (the *random-sibling* row) scores above every method of the paper. The **length-calibrated** score is
an entry's CodeBLEU minus the CodeBLEU of random other pool notebooks cut, item by item, to the entry's length
(three seeded draws, averaged): the gain over an unrelated notebook of the same length. *Mean lines* is shown beside
the references' mean.

**Plan adherence** reads the plan back out of each output (statically, nothing runs) and compares it, field by field,
with the plan the shipped planner predicts for the item: layers, optimizer, loss, metric, learning rate, batch size,
epochs. **Verify pass %** (seed rows) is the share of outputs that reach one training step under `dlcodegen verify`.

**Privacy.** Submissions are stored with the name, backbone, contact and link you give and are shown publicly. The
Space never shows, logs or stores an API key.
"""

# Generate tab
REQUIREMENT_LABEL = "Requirement"
REQUIREMENT_PLACEHOLDER = "e.g. Classify chest X-ray images as pneumonia or normal with a CNN."
ATTRIBUTES_LABEL = "Dataset attributes (optional)"
ATTRIBUTES_PLACEHOLDER = "e.g. 5,863 grayscale JPEG images in train/val/test folders, two classes."
METHOD_LABEL = "Method"
BACKEND_LABEL = "Backend"
TEMPERATURE_LABEL = "Temperature (LLM methods)"
GENERATE_BUTTON = "Generate"
EXAMPLES_LABEL = "Examples from DLCodeEval"
STATUS_IDLE = "Enter a requirement and press **Generate**."
TASK_LABEL = "Task (read from the requirement)"
TASK_HEADING = "**Task**, read from the requirement"  # the panel's first line (gr.Markdown shows no label)
TASK_IDLE = "*Each fact of the task appears here with the words it was read from.*"
TASK_SKIPPED = "*No task read: {note}.*"
PLAN_LABEL = "Plan"
REPAIRS_HEADING = "**Kept true to the task:**"
PLAN_JSON_LABEL = "Plan (JSON)"
RETRIEVED_LABEL = "Retrieved samples (Code RAG)"
TEMPLATE_LABEL = "Template (Template RAG)"
CODE1_LABEL = "Code 1 (from the retrieved example)"
CODE2_LABEL = "Code 2 (from the template)"
FINAL_LABEL = "Final project"
DOWNLOADS_LABEL = "Download: project.py and project.ipynb"
ADHERENCE_LABEL = "Plan adherence of the final code"
PLAN_HEADERS = ["Field", "Value"]
RETRIEVED_HEADERS = ["Score", "Sample", "Task category", "Requirement"]
ADHERENCE_HEADERS = ["Field", "Adherence %"]

STATUS_ICONS = {"running": "⏳", "finished": "✅", "failed": "❌"}
ERROR_ICON = "❌"
NO_MODEL = ("The openai backend is not configured on this Space: its owner sets DLCODEGEN_MODEL (and "
            "OPENAI_BASE_URL, OPENAI_API_KEY) in the Space's settings. Choose the offline backend meanwhile.")
SKIPPED_PREFIX = "# skipped: "

# Leaderboard tab
SEARCH_LABEL = "Search (method, backbone, contact, hash)"
SOURCES_LABEL = "Sources"
SORT_LABEL = "Sort by (best first)"
BACKBONES_LABEL = "Backbones"
REFRESH_BUTTON = "Refresh"
BOARD_LABEL = "DLCodeEval leaderboard"
BAR_TITLE = "CodeBLEU by entry"
SCATTER_TITLE = "CodeBLEU against mean output lines"
ENTRY_COLUMN, SOURCE_COLUMN = "Entry", "Source"

# Submit tab
SUBMIT_FILE_LABEL = "Generations (.jsonl)"
SUBMIT_METHOD_LABEL = "Method name"
SUBMIT_BACKBONE_LABEL = "Backbone (the LLM, or none)"
SUBMIT_CONTACT_LABEL = "Contact (optional, shown publicly)"
SUBMIT_LINK_LABEL = "Link (optional: paper or code, http(s) URL)"
SUBMIT_BUTTON = "Submit"
ADDED = "Added:"
ALREADY = "Already on the board:"
REJECTED = "Rejected:"
NO_FILE = "choose a .jsonl file first"

TAB_GENERATE, TAB_LEADERBOARD, TAB_SUBMIT, TAB_ABOUT = "Generate", "Leaderboard", "Submit", "About"

# (requirement, dataset attributes): three DLCodeEval items (ids 1, 31 and 34)
EXAMPLES = [
    ("I want to build a convolutional neural network model to classify images of fresh and stale items from a "
     "dataset.",
     "Images of two classes, Fresh and Stale, divided into training, validation and test sets; binary labels "
     "(0 for Fresh, 1 for Stale)."),
    ("I want to predict the prices of a specific type of fruit using an LSTM model, focusing on time series data "
     "to understand price trends.",
     "Time series of fruit prices focusing on 'Potato Red': 2746 rows with columns 'Commodity', 'Date' and "
     "'Average' price."),
    ("I want to build and train a bidirectional LSTM model to classify Yelp reviews based on their star ratings.",
     "1,000,000 Yelp reviews: raw text and star ratings (1 to 5)."),
]

"""The leaderboard: validate a submission, score it, keep it in an append-only store, show the board.

One module per step: `submission` (validation, content hash), `scoring` (CodeBLEU and the calibrated score),
`store` (the append-only folder, safe across processes), `seed` (the rows a fresh board starts with), `board`
(rows for the CLI and the Space), `service` (the one entry point both front ends call), `mirror` (the optional
Hub copy).
"""

"""The child process of `dlcodegen verify`: runs one project under stand-ins and writes how deep it got.

Started by `dlcodegen.verify.runner` as ``python -m dlcodegen.verify.child JOB_DIR`` in a fresh temporary working
directory, never imported by the parent. ``JOB_DIR/job.json`` holds the job and the child writes its progress and
its final answer to ``JOB_DIR/result.json`` (see `dlcodegen.verify.protocol`).

Modules, by concern: `main` (the entry point), `levels` (parse, imports, model_built, train_step), `state` (the
run's state, passed explicitly), `describe` (one-line errors), `sandbox` (limits, output), `network`, `files` (the
standard library's file functions and Keras downloads), `readers` (pandas, NumPy, PIL, OpenCV), `plotting`,
`keras`, `training` (the synthetic step), `guess` and `synthetic` (what the data looks like), `libraries` (which
stand-ins go with which library, and the import stand-in), `rebind` (replacing a Keras function under all its
names). See `dlcodegen.verify` for the design, the levels and the limits of these heuristics.
"""

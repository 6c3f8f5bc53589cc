"""Static analysis of source code, read with `ast` only (never imported or executed): reading `.py`/`.ipynb`
sources, IPython lines made harmless, parsing with syntax repair, scopes and constant propagation, the Keras
layer tracer, and the plan a script implements.

Modules, one concern each: `source` (files, notebooks, magics, parsing), `scope` (scopes, names, constants),
`tracer` (layers), `training` (compile/fit and hyperparameters), `phrasing` (the `Plan`).
"""

from dlcodegen.analysis.phrasing import plan_from_code
from dlcodegen.analysis.source import (notebook_code, parse_code, read_source, strip_magics, strip_magics_counted,
                                       usable_module)

__all__ = ["notebook_code", "parse_code", "plan_from_code", "read_source", "strip_magics", "strip_magics_counted",
           "usable_module"]

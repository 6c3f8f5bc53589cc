"""Replacing a Keras function under every name the public API re-exports it as.

`keras.*` and `tensorflow.keras.*` re-export one function under many module attributes, and the `tensorflow.keras`
modules appear lazily: `replace_everywhere` rebinds every attribute that is the original, and the import stand-in
calls `rebind_new_modules` after each import from the project to catch the modules loaded since.
"""

from __future__ import annotations

import sys

from dlcodegen.verify.child.state import Run

_API_PREFIXES = ("keras", "tensorflow.keras", "tf_keras")


def replace_everywhere(run: Run, original, replacement) -> None:
    run.replacements[id(original)] = (original, replacement)
    run.scanned_modules.clear()
    rebind_new_modules(run)


def rebind_new_modules(run: Run) -> None:
    if not run.replacements:
        return
    for module_name, module in list(sys.modules.items()):
        if module_name in run.scanned_modules or not module_name.startswith(_API_PREFIXES):
            continue
        run.scanned_modules.add(module_name)
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attribute, value in list(namespace.items()):
            entry = run.replacements.get(id(value))
            if entry is not None and entry[0] is value:
                try:
                    setattr(module, attribute, entry[1])
                except (AttributeError, TypeError):
                    pass

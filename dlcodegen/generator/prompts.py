"""The prompts: package-data Jinja templates (`prompts/*.j2`), rendered with `StrictUndefined`."""

from __future__ import annotations

from functools import lru_cache

import jinja2

SYSTEM_TEMPLATE = "system.j2"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("dlcodegen.generator", "prompts"),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
                              trim_blocks=True, lstrip_blocks=True, autoescape=False)


def render(name: str, /, **variables) -> str:
    return _environment().get_template(name).render(**variables).strip() + "\n"


def messages(name: str, /, **variables) -> list[dict]:
    """A chat: the shared system message, then the rendered user prompt."""
    return [{"role": "system", "content": render(SYSTEM_TEMPLATE)},
            {"role": "user", "content": render(name, **variables)}]

"""Which generator a set of options describes: the one home for method/backend resolution (CLI and Space).

`dlcodegen` with the offline backend means the offline generator; an LLM method with the offline backend is a
user error naming the offline methods; an LLM method gets a client from its `LLMConfig`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from dlcodegen.errors import UserError
from dlcodegen.generator.methods import OFFLINE_METHODS, Method, get_method

BACKENDS = ("offline", "openai")
OFFLINE_NOTICE = "no LLM configured (--backend offline): the offline generator writes the project"


@dataclass
class GeneratorSetup:
    method: str = "dlcodegen"
    backend: str | None = None  # None: openai when a model is configured, else offline
    llm: object | None = None  # an LLMConfig; None -> LLMConfig.from_env()
    planner: str | None = None  # retrieval (default), a model folder or Hub id, or hybrid:MODEL
    data_path: object | None = None
    pool_dir: object | None = None
    seed: int = 0
    repair: int = 0
    verifier: Callable | None = None


def resolve_backend(backend: str | None, model: str | None) -> str:
    from dlcodegen.llm import ENV_MODEL

    if backend:
        if backend not in BACKENDS:
            raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        return backend
    return "openai" if (model or os.environ.get(ENV_MODEL)) else "offline"


def resolve_method(name: str, backend: str) -> tuple[Method, bool]:
    """The method that runs, and whether `dlcodegen` was turned into `offline` for want of an LLM."""
    method = get_method(name)
    if method.name == "dlcodegen" and backend == "offline":
        return get_method("offline"), True
    if method.needs_llm and backend == "offline":
        raise UserError(f"method {method.name} needs an LLM: configure one (OPENAI_BASE_URL, DLCODEGEN_MODEL, "
                        f"backend openai) or choose an offline method ({', '.join(OFFLINE_METHODS)})")
    return method, False


def build_generator(setup: GeneratorSetup, planner=None, pool=None, notice: Callable[[str], None] | None = None):
    """(Generator, backend) for the options; `planner` and `pool` may be passed in already loaded (the Space)."""
    from dlcodegen.generator.pool import load_pool
    from dlcodegen.generator.run import Generator, GeneratorConfig
    from dlcodegen.llm import LLMConfig, make_client
    from dlcodegen.planning.planners import load_planner

    llm = setup.llm or LLMConfig.from_env()
    backend = resolve_backend(setup.backend, llm.model)
    method, turned_offline = resolve_method(setup.method, backend)
    if turned_offline and notice:
        notice(OFFLINE_NOTICE)
    client = make_client(llm) if method.needs_llm else None
    planner = planner or load_planner(setup.planner, data_path=setup.data_path)
    pool = pool if pool is not None else load_pool(data_path=setup.data_path, pool_dir=setup.pool_dir)
    repair = setup.repair if (setup.verifier and method.needs_llm) else 0
    config = GeneratorConfig(method=method.name, seed=setup.seed, repair=repair)
    return Generator(planner, pool, client, config, data_path=setup.data_path, verifier=setup.verifier), backend

"""Which generator a set of options describes: the one home for method/backend resolution (CLI, Space, seeding).

`dlcodegen` with the offline backend means the offline generator; an LLM method with the offline backend is a
user error naming the offline methods; an LLM method gets a client from its `LLMConfig`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Literal, Sequence, get_args

from dlcodegen.core.errors import ConfigurationError, InputError
from dlcodegen.core.items import Sample
from dlcodegen.core.protocols import Planner, Verifier
from dlcodegen.generator.methods import OFFLINE_METHODS, Method, get_method

if TYPE_CHECKING:
    from dlcodegen.generator.run import Generator
    from dlcodegen.llm import LLMConfig

Backend = Literal["offline", "openai"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
DEFAULT_REPAIR_ROUNDS = 2  # verify -> repair rounds of an LLM method when a verifier is available
OFFLINE_NOTICE = "no LLM configured (backend offline): the offline generator writes the project (method offline)"


@dataclass
class GeneratorSetup:
    method: str = "dlcodegen"
    backend: Backend | None = None  # None: openai when a model is configured, else offline
    llm: LLMConfig | None = None  # None -> LLMConfig.from_env()
    planner: str | None = None  # retrieval (default), a model folder or Hub id, or hybrid:MODEL
    data_path: str | os.PathLike | None = None  # the built datasets (None: $DLCODEGEN_DATA or the default)
    pool_dir: str | os.PathLike | None = None  # the user's pool (None: $DLCODEGEN_POOL_DIR or the default)
    seed: int = 0
    repair: int = DEFAULT_REPAIR_ROUNDS  # used only with a verifier, for LLM methods
    verifier: Verifier | None = None


@dataclass(frozen=True)
class Resolution:
    """What the options resolve to, decided once: the method that runs, the backend it runs on and the LLM."""

    method: Method
    backend: Backend
    turned_offline: bool  # `dlcodegen` was asked for, the offline generator runs (no LLM configured)
    llm: LLMConfig  # the setup's, else the environment's


def resolve_backend(backend: str | None, model: str | None) -> Backend:
    from dlcodegen.llm import ENV_MODEL

    if backend:
        if backend not in BACKENDS:
            raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        return backend
    return "openai" if (model or os.environ.get(ENV_MODEL)) else "offline"


def resolve(setup: GeneratorSetup) -> Resolution:
    """The method that runs and its backend; an LLM method without an LLM is a user error."""
    from dlcodegen.llm import LLMConfig

    llm = setup.llm or LLMConfig.from_env()
    backend = resolve_backend(setup.backend, llm.model)
    method = get_method(setup.method)
    if method.name == "dlcodegen" and backend == "offline":
        return Resolution(get_method("offline"), backend, True, llm)
    if method.needs_llm and backend == "offline":
        raise ConfigurationError(
            f"method {method.name} needs an LLM: configure one (OPENAI_BASE_URL, DLCODEGEN_MODEL, backend openai) "
            f"or choose an offline method ({', '.join(OFFLINE_METHODS)})")
    return Resolution(method, backend, False, llm)


def build_generator(setup: GeneratorSetup, resolution: Resolution | None = None, planner: Planner | None = None,
                    pool: Sequence[Sample] | None = None, notice: Callable[[str], None] | None = None
                    ) -> tuple[Generator, Backend]:
    """(Generator, backend) for the options, resolved once (pass `resolution` when the caller resolved them);
    `planner` and `pool` may be passed in already loaded (the Space)."""
    from dlcodegen.generator.pool import load_pool
    from dlcodegen.generator.run import Generator, GeneratorConfig
    from dlcodegen.llm import make_client
    from dlcodegen.planning.planners import load_planner

    resolution = resolution or resolve(setup)
    method = resolution.method
    if resolution.turned_offline and notice:
        notice(OFFLINE_NOTICE)
    client = make_client(resolution.llm) if method.needs_llm else None
    planner = planner or load_planner(setup.planner, data_path=setup.data_path)
    pool = pool if pool is not None else load_pool(data_path=setup.data_path, pool_dir=setup.pool_dir)
    repair = setup.repair if (setup.verifier and method.needs_llm) else 0
    config = GeneratorConfig(method=method.name, seed=setup.seed, repair=repair)
    generator = Generator(planner, pool, client, config, data_path=setup.data_path, verifier=setup.verifier)
    return generator, resolution.backend

"""The one `Environment` a run depends on besides its diagrams, and the one function that builds it.

Every entry point takes an Environment: `run` and the durable commands, `worker`, `test`, the pytest plugin, the
scenario runner, `Engine`, `run()` and `Runtime` from Python. It is built once, from the CLI options, the
`[tool.bpmn-runner]` settings of the nearest pyproject.toml and the `bpmn_runner.handlers` entry points, and it
is passed down as a parameter; nothing is set on an engine after it is made.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from .clock import Clock, system_clock
from .models import ScriptContext, SimulateOptions
from .registry import HandlerRegistry, build_registry
from .script_functions import script_context as spiffarena_context
from .settings import Settings, check_commit_mode, load_settings

__all__ = ["DEFAULT_TIMER_WAIT", "Environment", "build_environment", "new_id"]

DEFAULT_TIMER_WAIT = 60.0  # seconds `run` waits in-process for a timer
SIMULATE_MAX_STEPS = 10_000


def new_id() -> str:
    """A fresh random id (instances, jobs, messages)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Environment:
    """Handlers, settings, time, ids and the trust and simulation options of a run.

    `trust_scripts` is the trust level of the script and expression services (sandboxed, or full Python);
    `script_context` is what SpiffArena's script functions answer (None: the defaults); `simulate` walks diagrams
    without handlers, as `simulation` says; `timer_wait` is how long a run waits in-process for a timer;
    `handlers_given` says that handler modules were named (`--handlers` or entry points), so bindings can be
    checked against them; `commit` is where a durable instance commits: `wait-states` (its in-process handlers
    run one after another until it waits, ends or meets an async boundary) or `each-task` (every service task is
    a job with its own commit).
    """

    handlers: HandlerRegistry = field(default_factory=HandlerRegistry)
    settings: Settings = field(default_factory=Settings)
    clock: Clock = system_clock
    sleep: Callable[[float], None] = time.sleep
    id_factory: Callable[[], str] = new_id
    trust_scripts: bool = False
    script_context: ScriptContext | None = None
    simulate: bool = False
    simulation: SimulateOptions | None = None
    max_steps: int | None = None
    timer_wait: float = DEFAULT_TIMER_WAIT
    handlers_given: bool = False
    commit: str = "wait-states"

    def now(self) -> float:
        """The environment's clock as epoch seconds (history rows, leases, due times)."""
        return self.clock().timestamp()

    @property
    def step_limit(self) -> int | None:
        """`max_steps`, or the default limit of a simulation (it may loop for ever without handlers)."""
        if self.max_steps is not None:
            return self.max_steps
        return SIMULATE_MAX_STEPS if self.simulate else None

    def changed(self, **changes: Any) -> "Environment":
        """A copy with some fields changed (a test's fake clock, a worker's registry, ...)."""
        return replace(self, **changes)


def build_environment(*, handler_specs: Iterable[str] | None = None, entry_points: bool = True,
                      handlers: HandlerRegistry | None = None, settings: Settings | None = None,
                      trust_scripts: bool = False, simulate: bool = False, max_steps: int | None = None,
                      timer_wait: float = DEFAULT_TIMER_WAIT, clock: Clock | None = None,
                      sleep: Callable[[float], None] | None = None, id_factory: Callable[[], str] | None = None,
                      simulation: SimulateOptions | None = None, script_context: ScriptContext | None = None,
                      user: str | None = None, commit: str | None = None) -> Environment:
    """The Environment for CLI options and Python keyword arguments, with the project's settings.

    Handlers: the given registry, else the modules named in `handler_specs` plus (with `entry_points`) those of
    the `bpmn_runner.handlers` entry-point group. Settings: the nearest pyproject.toml unless given; a setting
    switches an option on, an option given here is never switched off by a setting. Script context: the given one,
    else `[tool.bpmn-runner.spiffarena]` with `user` (the user SpiffArena's scripts see). Commit mode: `commit`,
    else the setting's (default `wait-states`).
    """
    settings = load_settings() if settings is None else settings
    if script_context is None:
        script_context = spiffarena_context(settings.spiffarena, user or (simulation.user if simulation else None))
    specs = list(handler_specs or [])
    registry = handlers if handlers is not None else build_registry(specs, entry_points=entry_points)
    return Environment(handlers=registry, settings=settings, clock=clock or system_clock,
                       sleep=sleep or time.sleep, id_factory=id_factory or new_id,
                       trust_scripts=trust_scripts or settings.trust_scripts, script_context=script_context,
                       simulate=simulate or simulation is not None, simulation=simulation,
                       max_steps=max_steps, timer_wait=timer_wait,
                       handlers_given=bool(specs) or len(registry) > 0,
                       commit=check_commit_mode(commit) if commit is not None else settings.commit)

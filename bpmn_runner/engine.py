"""The engine: start or restore instances of loaded definitions in an Environment, and call their handlers."""

from __future__ import annotations

import inspect
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from ._spiff.session import Session
from .definitions import Definitions
from .environment import DEFAULT_TIMER_WAIT, Environment, build_environment
from .errors import BpmnError, BpmnRunnerError, HandlerError, InvalidOperationError, UnboundTaskError
from .instance import Instance, UserTaskCallback
from .lint.bindings import binding_problem
from .models import Binding, RunResult, ScriptContext, ServiceCall, SimulateOptions
from .script_functions import current_user
from .registry import HandlerRegistry

class Engine:
    """Runs instances of loaded definitions in the given `Environment` (handlers, clock, ids, trust, ...).

    `Engine(environment=env)` is the way every entry point makes one; `Engine(handlers, simulate=..., clock=...)`
    is a convenience that builds the Environment from those keyword arguments and the project's settings.
    `jobs=True` (durable instances) turns service calls into jobs for workers, except, with `inline=True` (a
    Runtime committing at wait states), those whose handler is here and that the diagram does not mark as a commit
    point (see `runs_inline`); `verify_bindings=False` skips the check that every reachable service task has a
    handler (workers may each have a part of them).
    """

    def __init__(self, handlers: HandlerRegistry | None = None, *, environment: Environment | None = None,
                 simulate: bool = False, trust_scripts: bool = False, max_steps: int | None = None,
                 clock: Callable[[], datetime] | None = None, id_factory: Callable[[], str] | None = None,
                 timer_wait: float = DEFAULT_TIMER_WAIT, sleep: Callable[[float], None] | None = None,
                 simulation: SimulateOptions | None = None, script_context: ScriptContext | None = None,
                 jobs: bool = False, verify_bindings: bool = True, inline: bool = False) -> None:
        if environment is None:
            environment = build_environment(handlers=handlers if handlers is not None else HandlerRegistry(),
                                            simulate=simulate, trust_scripts=trust_scripts, max_steps=max_steps,
                                            clock=clock, id_factory=id_factory, timer_wait=timer_wait, sleep=sleep,
                                            simulation=simulation, script_context=script_context)
        elif handlers is not None:
            environment = environment.changed(handlers=handlers)
        self.environment = environment
        self.jobs = jobs  # service tasks become jobs for workers instead of running in-process
        self.inline = inline  # ... unless their handler is here and no commit point is asked for there
        self._bindings_checked: dict[int, tuple[Definitions, set[tuple[str, frozenset[str]]]]] = {}
        self.verify_bindings = verify_bindings

    @property
    def handlers(self) -> HandlerRegistry:
        return self.environment.handlers

    @property
    def simulate(self) -> bool:
        return self.environment.simulate

    @property
    def simulation(self) -> SimulateOptions:
        return self.environment.simulation or SimulateOptions()

    @property
    def script_context(self) -> ScriptContext:
        return self.environment.script_context or ScriptContext(user=self.simulation.user)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.environment.clock

    # ----- checks -------------------------------------------------------------------------------------------

    def runs_inline(self, definitions: Definitions, binding: Binding, element_id: str) -> bool:
        """A durable instance calls this handler in-process, in the same commit as what came before it: wait-state
        commits, the handler is here, and the element is no commit point (asyncBefore, an external task)."""
        return (self.inline and binding.name in self.handlers
                and definitions.commit_points.get(element_id) not in ("before", "both", "external"))

    def check_bindings(self, definitions: Definitions, process_id: str) -> None:
        """Every service task the process can reach has a registered handler (unless simulating)."""
        if self.simulate or not self.verify_bindings:
            return
        handlers = frozenset(self.handlers.names())
        checked = self._bindings_checked.get(id(definitions))
        if checked is not None and checked[0] is definitions and (process_id, handlers) in checked[1]:
            return  # checked for these handlers already: every start of the same process would read every task
        reachable = definitions.reachable_processes(process_id)
        for bound in definitions.bound_tasks(reachable):
            problem = binding_problem(bound.binding, self.handlers, bound.element_id)
            if problem:
                raise UnboundTaskError(problem, file=bound.document.name, line=bound.line,
                                       element_id=bound.element_id)
        for document, line, element_id, name in definitions.listener_handlers(reachable):
            if name not in self.handlers:
                hint = self.handlers.suggest(name)
                did_you_mean = f" (did you mean {hint!r}?)" if hint else ""
                raise UnboundTaskError(f"listener on {element_id!r} needs a handler for {name!r}{did_you_mean}; "
                                       f"register one with @handler({name!r}) and pass --handlers",
                                       file=document.name, line=line, element_id=element_id)
        self._bindings_checked.setdefault(id(definitions), (definitions, set()))[1].add((process_id, handlers))

    # ----- instances ----------------------------------------------------------------------------------------

    def start(self, definitions: Definitions, process_id: str | None = None,
              data: dict[str, Any] | None = None, *, instance_id: str | None = None,
              business_key: str | None = None) -> "Instance":
        process_id = definitions.choose_process(process_id)
        if definitions.for_simulation and not self.simulate:
            raise InvalidOperationError("these definitions were loaded for a simulation (load(simulate=True)); "
                                        "load them again to run them for real")
        self.check_bindings(definitions, process_id)
        instance = Instance(self, definitions, process_id, instance_id or self.environment.id_factory())
        instance.session = instance._with_clock(lambda: Session.start(
            definitions.built, process_id, dict(data or {}), instance.script_engine, **instance.session_kwargs()))
        instance.session.set_initiator(current_user(self.script_context))
        instance.fire_start_timers = not self.jobs  # in the foreground a timer start starts this one instance now
        if business_key is not None:
            instance.session.workflow.business_key = business_key
        return instance

    def restore(self, definitions: Definitions, process_id: str, state: dict[str, Any], instance_id: str) -> "Instance":
        instance = Instance(self, definitions, process_id, instance_id)
        instance.session = instance._with_clock(lambda: Session.restore(
            definitions.built, process_id, state, instance.script_engine, **instance.session_kwargs()))
        return instance

    def call_handler(self, binding: Binding, call: ServiceCall, task_id: str = "") -> Any:
        registered = self.handlers.get(binding.name)
        if registered is None:
            if self.simulate:
                return None
            raise UnboundTaskError(binding_problem(binding, self.handlers, call.element_id) or "no handler",
                                   element_id=call.element_id, instance_id=call.instance_id)
        try:
            return registered.func(call)
        except BpmnError:
            raise
        except BpmnRunnerError:
            raise
        except Exception as exc:  # the handler's own failure, reported with its element and its file and line
            where = handler_location(registered.func, exc)
            error = HandlerError(f"handler {binding.name!r} failed{where}: {type(exc).__name__}: {exc}",
                                 element_id=call.element_id, instance_id=call.instance_id)
            error.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            raise error from exc


def handler_location(func: Callable[..., Any], exc: BaseException) -> str:
    """` at handlers.py:12`: the last line of the handler's own file the exception passed through."""
    code = getattr(inspect.unwrap(func), "__code__", None)
    if code is None:
        return ""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == code.co_filename:
            line = lineno
    return f" at {Path(code.co_filename).name}:{line or code.co_firstlineno}"


def run(paths: list[str], process_id: str | None = None, *, handlers: HandlerRegistry | None = None,
        data: dict[str, Any] | None = None, simulate: bool = False, trust_scripts: bool = False,
        max_steps: int | None = None, user_task: UserTaskCallback | None = None,
        search_siblings: bool = True, environment: Environment | None = None,
        business_key: str | None = None) -> RunResult:
    """Load diagrams and run one instance in memory until it ends or waits: the Python way to `bpmn-runner run`.

    The keyword arguments build an Environment with the project's `[tool.bpmn-runner]` settings; pass
    `environment` to give one instead."""
    from .definitions import load
    definitions = load(list(paths), search_siblings=search_siblings)
    engine = Engine(handlers, environment=environment, simulate=simulate, trust_scripts=trust_scripts,
                    max_steps=max_steps)
    instance = engine.start(definitions, process_id, data, business_key=business_key)
    return instance.run(user_task)

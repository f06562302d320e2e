"""One running process instance: its session, handler calls, the foreground run loop, user tasks and its result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from ._spiff import clock as spiff_clock
from ._spiff.business_keys import business_key as spiff_business_key
from ._spiff import timers as spiff_timers
from ._spiff import waits as spiff_waits
from ._spiff.script_engine import RunnerScriptEngine
from ._spiff.service_calls import PENDING
from ._spiff.session import LiveTask, Session
from .definitions import Definitions
from .errors import BpmnError, BpmnRunnerError, ExecutionError, UnboundTaskError
from .jsondata import json_safe
from .models import Binding, HistoryEvent, RunResult, ServiceCall, WaitingTask
from .script_functions import current_user, script_functions
from .simulation import Simulator
from .task_forms import json_schema, simulated_form_data, waiting_task
from .user_forms import validate_form_data

if TYPE_CHECKING:
    from .engine import Engine

UserTaskCallback = Callable[[WaitingTask], "dict[str, Any] | None"]


@dataclass
class PendingJob:
    """A service call the engine queued instead of running (job mode): a worker runs it later. `failure` is the
    error of a handler that ran in-process and failed: the store makes it a job whose first attempt failed."""

    task_id: str
    binding: Binding
    call: ServiceCall
    failure: BaseException | None = None


class Instance:
    """One running process instance."""

    def __init__(self, engine: Engine, definitions: Definitions, process_id: str, instance_id: str) -> None:
        self.engine = engine
        self.definitions = definitions
        self.process_id = process_id
        self.instance_id = instance_id
        self.simulator = Simulator(engine.simulation, flows=dict(definitions.sequence_flows),
                                   flow_names=definitions.flow_names) if engine.simulate else None
        self.script_engine = RunnerScriptEngine(trusted=engine.environment.trust_scripts, simulate=engine.simulate,
                                                simulator=self.simulator)
        self.script_engine.script_context = engine.script_context
        self.script_engine.names = script_functions(engine.script_context, instance_id=instance_id,
                                                    process_id=process_id, people=self)
        self.session: Session = None  # type: ignore[assignment]
        self.error: str | None = None
        self.new_jobs: list[PendingJob] = []
        self.inline_calls = 0  # handlers of a durable instance run in-process (wait-state commits)
        self._fired_timers: set[str] = set()  # timer tasks a simulation fired
        # True: fire the top process's timer start events once now (a foreground run); a start event's id: fire
        # only that one (a worker starting one repetition of it)
        self.fire_start_timers: bool | str = False

    @property
    def business_key(self) -> str | None:
        """The instance's business key (Camunda 7: not unique; a called process has the one `camunda:in` passed)."""
        return spiff_business_key(self.session.workflow)

    def session_kwargs(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "flows": self.definitions.sequence_flows,
                "call_handler": self._call_handler, "simulate": self.engine.simulate,
                "max_steps": self.engine.environment.step_limit,
                "commit_points": self.definitions.commit_points if self.engine.inline else None}

    def _call_handler(self, binding: Binding, call: ServiceCall, task_id: str) -> Any:
        if self.simulator is not None and binding.name not in self.engine.handlers:
            if binding.kind == "listener":
                self.simulator.record(call.element_id, f"listener {binding.name!r} has no handler; skipped")
                return None
            errors = self.definitions.error_boundaries(call.element_id)
            thrown = self.simulator.decide_outcome(call.element_id, errors) if errors else None
            if thrown is not None:
                boundary, code = thrown
                self.simulator.record(call.element_id, f"no handler for {binding.name!r}; threw error {code!r} to "
                                                       f"boundary event {boundary}")
                raise BpmnError(code or "simulated", "simulated error")
            self.simulator.record(call.element_id, f"no handler for {binding.name!r}; completed with no result")
        if self.engine.jobs and binding.kind != "listener" and \
                not (self.engine.simulate and binding.name not in self.engine.handlers):
            if self.engine.runs_inline(self.definitions, binding, call.element_id):
                return self._call_inline(binding, call, task_id)
            self.new_jobs.append(PendingJob(task_id, binding, call))
            return PENDING
        return self.engine.call_handler(binding, call, task_id)

    def _call_inline(self, binding: Binding, call: ServiceCall, task_id: str) -> Any:
        """A durable instance's handler run in-process. A failure (or a BPMN error, which may find no catcher)
        leaves the task waiting as a job, so the store can commit what came before and retry or catch it there."""
        self.inline_calls += 1
        try:
            return self.engine.call_handler(binding, call, task_id)
        except (BpmnError, BpmnRunnerError) as error:
            self.new_jobs.append(PendingJob(task_id, binding, call, failure=error))
            return PENDING

    def take_new_jobs(self) -> list["PendingJob"]:
        """Service calls queued since the last call, for the store to turn into job rows."""
        jobs, self.new_jobs = self.new_jobs, []
        return jobs

    def take_inline_calls(self) -> int:
        """How many handlers ran in-process since the last call."""
        count, self.inline_calls = self.inline_calls, 0
        return count

    def complete_service_task(self, task_id: str, result: Any) -> None:
        self._with_clock(lambda: self.session.complete_service_task(task_id, result))

    def raise_in_service_task(self, task_id: str, error: BpmnError) -> None:
        self._with_clock(lambda: self.session.raise_in_service_task(task_id, error))

    def fire_due_timers(self) -> None:
        self._with_clock(self.session.fire_due_timers)

    def continue_async(self, task_id: str) -> None:
        """Go on past the commit point (asyncBefore/asyncAfter) this task is held at."""
        self._with_clock(lambda: self.session.continue_async(task_id))

    def next_timer_due(self) -> datetime | None:
        return self.session.next_timer_due()

    def records(self) -> tuple[list[HistoryEvent], list[str], list[dict[str, Any]]]:
        """What the instance did so far, in order: history events, sequence flows taken, messages thrown (the
        live lists: a caller keeps their lengths to take what came after)."""
        session = self.session
        return session.history, session.flows_taken, session.messages_sent

    def dispose(self) -> None:
        """Free an instance nothing will use again (an ended one its store has committed) at once, without the cyclic
        garbage collector (`Session.dispose`); it cannot be used afterwards (disposing of it again does nothing)."""
        session = self.__dict__.get("session")
        if session is not None:
            session.dispose()  # its script engine is this instance's
        self.__dict__.clear()

    def forget_records(self) -> None:
        """Drop what `records` holds (and the path): a store has committed it, and a long-running instance that
        stays live in memory must not grow with its history."""
        session = self.session
        for records in (session.history, session.flows_taken, session.messages_sent, session.path):
            del records[:]

    def timer_waits(self) -> list[tuple[str, str, datetime]]:
        """(task id, element id, due time) of each timer the instance waits at: what the store makes jobs of."""
        return spiff_waits.timer_waits(self.session)

    def event_waits(self) -> list[dict[str, Any]]:
        """Each message and signal catch the instance waits at, with what correlates it (plain values)."""
        return spiff_waits.event_waits(self.session)

    def _with_clock(self, action: Callable[[], Any]) -> Any:
        token = spiff_clock.use_clock(self.engine.clock)
        try:
            return action()
        finally:
            spiff_clock.reset_clock(token)

    def run(self, user_task: UserTaskCallback | None = None, *,
            on_step: Callable[[str], None] | None = None) -> RunResult:
        """Run until the instance ends, fails, or waits for something that will not come by itself soon.
        `user_task` answers user tasks as they come; `on_step(element_id)` hears each completed element."""
        self.session.on_step = on_step
        waiting = None
        try:
            waiting = self._with_clock(lambda: self._loop(user_task))
        except ExecutionError as exc:
            self.error = str(exc)
        except UnboundTaskError as exc:
            self.error = str(exc)
        finally:
            self.session.on_step = None
        return self.result(waiting)

    def _loop(self, user_task: UserTaskCallback | None) -> list[LiveTask] | None:
        """Run; returns what the instance waits at when the loop last looked and nothing moved since (else None)."""
        session = self.session
        while True:
            if isinstance(self.fire_start_timers, str):  # a worker starts this repetition at its timer start event
                only, self.fire_start_timers = self.fire_start_timers, False
                spiff_timers.fire_start_timers_once(session, only)
            session.run_engine_steps()
            if self.fire_start_timers:
                self.fire_start_timers = False
                notes = spiff_timers.fire_start_timers_once(session)
                if notes:
                    session.notes.extend(notes)
                    continue
            self._collect_outgoing()
            if session.has_ready_work():  # e.g. a timer that refresh_timers just fired
                continue
            if session.is_completed():
                return None
            if session.failed_tasks():
                raise ExecutionError("the instance stopped at a failed task", instance_id=self.instance_id,
                                     element_id=session.failed_tasks()[0])
            waiting = session.waiting()
            people = [w for w in waiting if w.kind in ("user", "manual")]
            if people and (user_task is not None or self.engine.simulate):
                task = people[0]
                answer = user_task(self._waiting_task(task)) if user_task is not None else None
                if answer is None and not self.engine.simulate:
                    return None
                session.complete_user_task(task.task_id, answer if answer is not None else
                                           self._default_form_data(task), current_user(self.engine.script_context))
                continue
            timers = [w for w in waiting if w.kind in ("timer", "user")]  # user: timeout listeners
            if timers and self._advance_timers():
                continue
            if not waiting and self.simulator is not None:
                if session.release_stuck_joins():
                    continue
                raise ExecutionError("the walk stalled: nothing can run and nothing waits",
                                     instance_id=self.instance_id)
            return None if timers else waiting  # advancing timers may have changed what waits

    def _advance_timers(self) -> bool:
        session = self.session
        if self.simulator is not None:  # a timer fires at once, once: a cycle that comes back again is a wait
            fired = 0
            waiting = [w for w in session.waiting() if w.kind == "timer" and w.task_id not in self._fired_timers]
            for element_id in dict.fromkeys(w.element_id for w in waiting):
                self._fired_timers.update(w.task_id for w in waiting if w.element_id == element_id)
                fired += session.fire_timer_now(element_id)
                self.simulator.record(element_id, "the timer fired at once")
            return fired > 0
        due = session.next_timer_due()
        if due is None:
            return False
        environment = self.engine.environment
        wait = (due - environment.clock()).total_seconds()
        if wait > environment.timer_wait:
            return False
        if wait > 0:
            environment.sleep(wait + 0.01)
        # SpiffWorkflow fires a timer only when its due time is strictly past: a timer due now is due, so look
        # a millisecond ahead.
        clock = self.engine.clock
        token = spiff_clock.use_clock(lambda: clock() + timedelta(milliseconds=1))
        try:
            session.fire_due_timers()
        finally:
            spiff_clock.reset_clock(token)
        # An injected clock that does not move would otherwise spin here for ever.
        return session.has_ready_work() or wait > 0

    def _collect_outgoing(self) -> None:
        for event in self.session.outgoing_events():
            if event["kind"] == "message":
                self.session.messages_sent.append({"name": event["name"], "at": self.engine.environment.now(),
                                                   "payload": json_safe(event["payload"])})

    def _default_form_data(self, task: LiveTask) -> dict[str, Any]:
        return simulated_form_data(self.definitions, task, self.simulator)

    def _waiting_task(self, task: LiveTask) -> WaitingTask:
        return waiting_task(self.definitions, task)

    def _json_schema(self, task: LiveTask) -> dict[str, Any] | None:
        return json_schema(self.definitions, task)

    # ----- interactions -------------------------------------------------------------------------------------

    def waiting(self) -> list[WaitingTask]:
        return [self._waiting_task(t) for t in self.session.waiting()]

    def complete_user_task(self, task_id: str, data: dict[str, Any] | None = None, *,
                           user: str | None = None) -> None:
        """Complete a waiting user task as `user` (else the environment's user: --user, $BPMN_RUNNER_USER); data
        for a SpiffArena JSON-schema form must satisfy the schema."""
        task = next((t for t in self.session.waiting() if t.task_id == task_id and t.kind == "user"), None)
        schema = self._json_schema(task) if task is not None else None
        if schema is not None:
            validate_form_data(schema, dict(data or {}), task_name=task.name)
        who = user or current_user(self.engine.script_context)
        self._with_clock(lambda: self.session.complete_user_task(task_id, dict(data or {}), who))

    def initiator(self) -> str | None:
        """The user who started the instance (`start --user`, or $BPMN_RUNNER_USER then)."""
        return self.session.people().get("initiator") if self.session is not None else None

    def last_user_completing(self, process_id: str, task_name: str) -> str | None:
        return self.session.last_user_completing(process_id, task_name) if self.session is not None else None

    def claim(self, task_id: str, user: str) -> None:
        """Assign an open user task to `user` (Tasklist's claim)."""
        self._with_clock(lambda: self.session.claim_user_task(task_id, user))

    def unclaim(self, task_id: str) -> None:
        """Clear the assignee of an open user task (Tasklist's unclaim)."""
        self._with_clock(lambda: self.session.claim_user_task(task_id, None))

    def send_message(self, name: str, payload: dict[str, Any] | None = None,
                     correlations: dict[str, Any] | None = None) -> bool:
        return self._with_clock(lambda: self.session.send_message(name, dict(payload or {}), correlations))

    def send_signal(self, name: str, payload: dict[str, Any] | None = None) -> bool:
        return self._with_clock(lambda: self.session.send_signal(name, payload))

    def fire_timers(self, element_id: str | None = None) -> int:
        return self._with_clock(lambda: self.session.fire_timer_now(element_id))

    def state(self) -> dict[str, Any]:
        return self.session.state()

    def state_json(self, ended: bool = False) -> str:
        """The state as JSON text: what a store writes, without a round trip through a dict; `ended`: only what
        is kept of an instance that has ended (its people), as it is never restored."""
        return self.session.state_json(ended)

    # ----- outcome ------------------------------------------------------------------------------------------

    def status(self) -> str:
        if self.error is not None or self.session.failed_tasks():
            return "failed"
        if self.session.is_completed():
            return "completed"
        return "waiting"

    def result(self, live: list[LiveTask] | None = None) -> RunResult:
        """The outcome so far; `live`: what the run loop found the instance waiting at, unchanged since."""
        session = self.session
        status = self.status()
        error = self.error
        if status == "failed" and error is None:
            error = f"instance {self.instance_id}: failed at {', '.join(session.failed_tasks())}"
        if status != "waiting":
            waiting = []
        else:
            waiting = [self._waiting_task(t) for t in live] if live is not None else self.waiting()
        return RunResult(status=status, instance_id=self.instance_id, process_id=self.process_id,
                         data=json_safe(session.data()), path=list(session.path), waiting=waiting, error=error,
                         flows=list(session.flows_taken), history=list(session.history),
                         notes=list(self.definitions.notes) + list(session.notes),
                         messages_sent=list(session.messages_sent),
                         messages_received=list(session.messages_received),
                         **self._simulation_result())

    def _simulation_result(self) -> dict[str, Any]:
        if self.simulator is None:
            return {}
        reached = set(self.session.path) | {self.process_id}  # an assumption about the process itself
        assumed = [s for s in self.definitions.simulated if s.element_id in reached] + self.simulator.substitutions
        # the load and the run may both note one stub: each assumption once
        return {"simulated": list(dict.fromkeys(assumed)), "choices": list(self.simulator.choices), "simulation": True}

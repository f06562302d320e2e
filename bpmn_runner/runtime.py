"""Durable instances: the store-backed operations behind `start`, `complete`, `message`, `signal`, `retry`,
`cancel`, `show`, `instances`, `tasks` and the job steps a worker runs.

Every change to an instance is a *step*: restore the saved state, apply one thing (a handler's result, a fired
timer, a message, a person's answer), run until the instance waits again, and commit in one transaction the new
state (version + 1), the jobs created and finished, the history rows, the waits and the messages thrown. A step
that meets a concurrent change is redone from a fresh read; a step whose job lease was lost is dropped.

Service tasks of stored instances never run here: they become jobs (`kind="service"`) that workers claim.
Timers are jobs too (`kind="timer"`, due at the timer's time), and so is routing a message thrown by an
instance or published from outside (`kind="message"`).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Collection, Iterable

from . import expressions
from .expressions.feel_bridge import to_string as feel_string
from ._spiff import clock as spiff_clock
from ._spiff import waits as spiff_waits
from .definitions import Definitions, load, load_sources
from .engine import Engine, Instance, PendingJob
from .errors import (BpmnError, BpmnRunnerError, ConcurrentUpdateError, ExecutionError, InvalidOperationError,
                     NotFoundError)
from .loader.messages import message_catalog
from .models import Binding, RunResult, ServiceCall
from .registry import HandlerRegistry
from .store import (ENDED_STATUSES, DefinitionRecord, InstanceRecord, JobRecord, LeaseLostError, MessageRecord,
                    StepRecord, Store, WaitRecord)

DEFAULT_TTL = 3600.0          # seconds a published message that nothing waits for stays buffered
DEFAULT_ATTEMPTS = 3
BASE_BACKOFF = 1.0            # seconds before the second attempt; doubles each time ...
MAX_BACKOFF = 60.0            # ... up to this
MAX_STEP_TRIES = 20
MAX_BUFFERED_DELIVERIES = 100
LIVE_INSTANCES = 256          # live instances a thread keeps between steps (see Runtime._remember)

Clock = Callable[[], datetime]


@dataclass
class _Live:
    """A live instance as this thread last committed it (see Runtime._remember)."""

    version: int
    instance: Instance
    marks: tuple[int, int, int]       # lengths of the session's history, flows and messages at that commit
    record: InstanceRecord
    jobs: list[JobRecord]


class StepFailed(ExecutionError):
    """The engine failed while running a step (a script, a condition, an uncaught BPMN error, ...)."""


class StoreEngine(Engine):
    """Job mode. Handler bindings are checked only when asked (`start --handlers`): the handlers run in workers,
    which may each have a part of them."""

    verify_bindings = False

    def check_bindings(self, definitions: Definitions, process_id: str) -> None:
        if self.verify_bindings:
            super().check_bindings(definitions, process_id)


# ----- small helpers ----------------------------------------------------------------------------------------

def content_hash(contents: Iterable[bytes]) -> str:
    """sha256 over the sorted file contents: the same files give the same definition, whatever their names."""
    digest = hashlib.sha256()
    for content in sorted(contents):
        digest.update(len(content).to_bytes(8, "big"))
        digest.update(content)
    return digest.hexdigest()


def key_string(value: Any) -> str | None:
    """A correlation key as a string, as Zeebe compares them: 42 and "42" match; 42.0 is "42"."""
    return feel_string(value)


_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                       r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str) -> float:
    """An ISO 8601 duration in seconds (`PT10M`, `P1DT2H`; a month counts 30 days, a year 365)."""
    match = _DURATION.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT5M")
    years, months, weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return (((years * 365 + months * 30 + weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds


def retry_policy(binding: Binding | dict[str, Any]) -> tuple[int, list[float] | None]:
    """(attempts, backoff seconds or None for the default) from `zeebe:taskDefinition retries` or
    `camunda:failedJobRetryTimeCycle` (`R5/PT1M`: 5 attempts 1 minute apart; `PT1M,PT5M`: 3 attempts)."""
    retries = binding.get("retries") if isinstance(binding, dict) else binding.retries
    cycle = binding.get("retry_cycle") if isinstance(binding, dict) else binding.retry_cycle
    if retries is not None:
        return max(1, int(retries)), None
    if cycle:
        text = str(cycle).strip()
        try:
            if text.upper().startswith("R"):
                count, _, duration = text.partition("/")
                return max(1, int(count[1:] or DEFAULT_ATTEMPTS)), [parse_duration(duration)]
            waits = [parse_duration(part) for part in text.split(",") if part.strip()]
            return len(waits) + 1, waits
        except ValueError:
            pass  # validate reports the malformed cycle; run with the defaults
    return DEFAULT_ATTEMPTS, None


def backoff_after(job: JobRecord, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    if job.backoff:
        return float(job.backoff[min(attempt - 1, len(job.backoff) - 1)])
    return min(BASE_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _encode_source(name: str, content: bytes) -> dict[str, str]:
    try:
        return {"name": name, "text": content.decode("utf-8"), "encoding": "utf-8"}
    except UnicodeDecodeError:
        return {"name": name, "text": content.decode("latin-1"), "encoding": "latin-1"}  # byte-preserving


def _decode_source(source: dict[str, str]) -> tuple[str, bytes]:
    return source["name"], source["text"].encode(source.get("encoding") or "utf-8")


# ----- the runtime ------------------------------------------------------------------------------------------

class Runtime:
    """Store-backed instances. Clock and id factory are injected; one Runtime may serve several threads."""

    def __init__(self, store: Store, handlers: HandlerRegistry | None = None, *, clock: Clock | None = None,
                 id_factory: Callable[[], str] | None = None, trust_scripts: bool = False,
                 message_ttl: float = DEFAULT_TTL, worker_id: str = "cli", check_bindings: bool = False) -> None:
        self.store = store
        self.handlers = handlers or HandlerRegistry()
        self.clock = clock or spiff_clock.system_clock
        self.id_factory = id_factory or (lambda: uuid.uuid4().hex)
        self.message_ttl = message_ttl
        self.worker_id = worker_id
        self.engine = StoreEngine(self.handlers, jobs=True, timer_wait=0, clock=self.clock,
                                  id_factory=self.id_factory, trust_scripts=trust_scripts)
        self.engine.verify_bindings = check_bindings
        self._local = threading.local()
        self._catalogs: dict[str, dict[str, Any]] = {}
        self._deployed: dict[int, tuple[Definitions, str]] = {}

    def now(self) -> float:
        return self.clock().timestamp()

    # ----- definitions --------------------------------------------------------------------------------------

    def _cache(self) -> dict[str, Definitions]:
        cache = getattr(self._local, "definitions", None)
        if cache is None:
            cache = self._local.definitions = {}
        return cache

    def deploy(self, paths: list[str | Path]) -> tuple[str, Definitions]:
        """Load diagram files (with the called processes beside them) and store them once per content hash."""
        definitions = load(list(paths), search_siblings=True)
        return self.deploy_definitions(definitions), definitions

    def deploy_definitions(self, definitions: Definitions) -> str:
        known = self._deployed.get(id(definitions))
        if known is not None and known[0] is definitions:
            return known[1]  # stored already by this runtime: starting many instances reads and hashes once
        contents = [(doc.name, Path(doc.path).read_bytes()) for doc in definitions.documents]
        digest = content_hash(c for _, c in contents)
        catalog = message_catalog(definitions.documents)
        self.store.save_definition(DefinitionRecord(
            digest, definitions.family, definitions.executable_processes(),
            [_encode_source(n, c) for n, c in contents], catalog, self.now()))
        self._cache()[digest] = definitions
        self._catalogs[digest] = catalog
        self._deployed[id(definitions)] = (definitions, digest)
        return digest

    def definitions_for(self, digest: str) -> Definitions:
        cache = self._cache()
        if digest not in cache:
            record = self.store.get_definition(digest)
            cache[digest] = load_sources([_decode_source(s) for s in record.sources])
            self._catalogs[digest] = record.catalog
        return cache[digest]

    def catalog_for(self, digest: str) -> dict[str, Any]:
        if digest not in self._catalogs:
            self._catalogs[digest] = self.store.get_definition(digest).catalog
        return self._catalogs[digest]

    def sources_for(self, digest: str) -> list[tuple[str, bytes]]:
        return [_decode_source(s) for s in self.store.get_definition(digest).sources]

    # ----- starting -----------------------------------------------------------------------------------------

    def start(self, paths: list[str | Path] | None = None, process_id: str | None = None,
              data: dict[str, Any] | None = None, *, business_key: str | None = None,
              definitions: Definitions | None = None) -> dict[str, Any]:
        """Store the definition, create an instance, run it to its first wait and commit. A start that fails
        before its first wait is stored as `failed` with the error."""
        if definitions is None:
            digest, definitions = self.deploy(list(paths or []))
        else:
            digest = self.deploy_definitions(definitions)
        process_id = definitions.choose_process(process_id)
        instance = self.engine.start(definitions, process_id, dict(data or {}), instance_id=self.id_factory())
        return self._commit_new(instance, digest, business_key)

    def _commit_new(self, instance: Instance, digest: str, business_key: str | None, *,
                    action: Callable[[Instance], Any] | None = None, consumed: list[str] | None = None,
                    done_job: tuple[str, str] | None = None, result: RunResult | None = None) -> dict[str, Any]:
        now = self.now()
        record = InstanceRecord(instance.instance_id, digest, instance.process_id, business_key, "running", None,
                                0, {}, [], None, now, now)
        if result is None and action is not None:
            first = instance.run()  # to the start event that waits for the message or signal
            if first.status == "failed":
                result = first
            else:
                action(instance)
        step = self._build_step(instance, record, [], expected_version=None, allow_failed=True,
                                consumed=consumed or [], done_job=done_job, result=result)
        status = self.store.commit_step(step)
        if instance.engine is self.engine:
            self._remember(instance, step, status, [])
        self._after_commit(step)
        return self._outcome(step, status)

    def record_run(self, definitions: Definitions, instance: Instance, result: RunResult) -> dict[str, Any]:
        """Record an in-process `run` (completed, waiting or failed) with its history; a waiting one can then be
        completed, messaged or worked on like any stored instance."""
        digest = self.deploy_definitions(definitions)
        return self._commit_new(instance, digest, None, result=result)

    # ----- the step -----------------------------------------------------------------------------------------

    def restore(self, record: InstanceRecord) -> Instance:
        definitions = self.definitions_for(record.definition_hash)
        return self.engine.restore(definitions, record.process_id, record.state or {}, record.id)

    def _live(self) -> "OrderedDict[str, _Live]":
        live = getattr(self._local, "live", None)
        if live is None:
            live = self._local.live = OrderedDict()
        return live

    def _remember(self, instance: Instance, step: StepRecord, status: str, previous_jobs: list[JobRecord]) -> None:
        """Keep the live instance this thread just committed, with its row and jobs as committed. Its next step
        here goes on from memory and commits against that version without reading the store first; if anyone
        changed the instance meanwhile, that commit fails on the version and the step is redone from the store.
        (Job changes that bump no version, leases and retry times, do not matter to a step.)"""
        session = instance.session
        if status in ENDED_STATUSES:
            return
        # what the session recorded is committed now: forget it, so a long-running instance stays small
        for records in (session.history, session.flows_taken, session.messages_sent, session.path):
            del records[:]
        record = step.instance
        record.status = status
        finished = set(step.delete_job_ids)
        if step.done_job is not None and not step.release_done_job:
            finished.add(step.done_job[0])
        jobs = [j for j in self._jobs_of_step(step, previous_jobs) if j.id not in finished]
        live = self._live()
        live[instance.instance_id] = _Live(record.version, instance, (0, 0, 0), record, jobs)
        while len(live) > LIVE_INSTANCES:
            live.popitem(last=False)

    @staticmethod
    def _jobs_of_step(step: StepRecord, previous: list[JobRecord]) -> list[JobRecord]:
        """The instance's jobs after the step, as far as a step cares (ids, kinds, tasks, due times)."""
        out = []
        for job in list(previous) + [j for j in step.new_jobs if j.instance_id == step.instance.id]:
            if job.id in step.timer_updates:
                job = JobRecord(**{**job.__dict__, "due_at": step.timer_updates[job.id]})
            out.append(job)
        return out

    def step(self, instance_id: str, action: Callable[[Instance], Any], *, done_job: tuple[str, str] | None = None,
             consumed: list[str] | None = None,
             lease_next: tuple[str, float, Collection[str]] | None = None) -> dict[str, Any]:
        """Restore, apply `action`, run to the next wait, commit; redone from a fresh read on a concurrent change.

        Raises InvalidOperationError when the instance has ended (or `action` finds nothing to act on),
        StepFailed when the engine fails, LeaseLostError when `done_job` is no longer held. With `lease_next`
        (worker, lease until, handlers) the new service jobs it can run come back leased to it (`leased_jobs`).
        """
        for attempt in range(MAX_STEP_TRIES):
            cached = self._live().pop(instance_id, None)
            if cached is not None and attempt == 0:
                record, jobs, instance, marks = cached.record, cached.jobs, cached.instance, cached.marks
            else:
                record, jobs = self.store.load_for_step(instance_id)
                instance, marks = None, (0, 0, 0)
            if record.status in ENDED_STATUSES:
                raise InvalidOperationError(f"instance {instance_id} is {record.status}", instance_id=instance_id)
            if instance is None:
                instance = self.restore(record)
            action(instance)
            step = self._build_step(instance, record, jobs, expected_version=record.version,
                                    consumed=list(consumed or []), done_job=done_job, marks=marks)
            leased = step.lease_new_jobs(*lease_next) if lease_next is not None else []
            try:
                status = self.store.commit_step(step)
            except LeaseLostError:
                raise
            except ConcurrentUpdateError:
                if attempt:
                    time.sleep(random.uniform(0, 0.005 * attempt))
                continue
            self._remember(instance, step, status, jobs)
            self._after_commit(step)
            return {**self._outcome(step, status), **({"leased_jobs": leased} if leased else {})}
        raise ConcurrentUpdateError(f"instance {instance_id} kept changing under this step; gave up after "
                                    f"{MAX_STEP_TRIES} tries", instance_id=instance_id)

    def _build_step(self, instance: Instance, record: InstanceRecord, jobs: list[JobRecord], *,
                    expected_version: int | None, allow_failed: bool = False, consumed: list[str],
                    done_job: tuple[str, str] | None = None, result: RunResult | None = None,
                    marks: tuple[int, int, int] = (0, 0, 0)) -> StepRecord:
        digest = record.definition_hash
        catalog = self.catalog_for(digest)
        business_key = record.business_key
        if result is None:
            result = instance.run()
        # Messages buffered before this instance waited for them are delivered now, in the same step.
        for _ in range(MAX_BUFFERED_DELIVERIES):
            if result.status != "waiting":
                break
            match = self._buffered_match(instance, business_key, catalog, consumed)
            if match is None:
                break
            message, correlations = match
            instance.send_message(message.name, message.payload, correlations or None)
            consumed.append(message.id)
            result = instance.run()
        now = self.now()
        status = result.status
        if status == "failed":
            if not allow_failed:
                raise StepFailed(result.error or "the instance failed", instance_id=instance.instance_id)
        session = instance.session
        # what happened in this step: the session's records since `marks` (a live instance keeps its earlier ones)
        sent = list(session.messages_sent[marks[2]:])
        history = [self._history_row(instance, h) for h in session.history[marks[0]:]]
        history += [{"instance_id": instance.instance_id, "process_id": instance.process_id, "element_id": flow,
                     "event": "taken", "at": time.time(), "element_type": "sequenceFlow", "name": "",
                     "data_changes": {}, "detail": ""} for flow in session.flows_taken[marks[1]:]]
        new_jobs: list[JobRecord] = []
        delete: list[str] = []
        timer_updates: dict[str, float] = {}
        waits: list[WaitRecord] = []
        timers: dict[str, tuple[str, float]] = {}
        release = False
        if status == "failed":
            delete = [j.id for j in jobs if done_job is None or j.id != done_job[0]]
        else:
            service_tasks = {w.task_id for w in result.waiting if w.kind == "service"}
            timers = {task_id: (element_id, due.timestamp()) for task_id, element_id, due in
                      spiff_waits.timer_waits(session)}
            existing = {j.task_id: j for j in jobs if j.kind == "timer"}
            for job in jobs:
                if job.kind == "service" and job.task_id not in service_tasks:
                    delete.append(job.id)
                elif job.kind == "timer" and job.task_id not in timers:
                    delete.append(job.id)
            for task_id, (element_id, due) in timers.items():
                job = existing.get(task_id)
                if job is None:
                    new_jobs.append(JobRecord(self.id_factory(), instance.instance_id, "timer", task_id, element_id,
                                              None, {}, due, 0, DEFAULT_ATTEMPTS, None, created_at=now))
                elif done_job is not None and job.id == done_job[0]:
                    release = True
                    timer_updates[job.id] = due
                elif abs(job.due_at - due) > 1e-6:
                    timer_updates[job.id] = due
            have = {j.task_id for j in jobs if j.kind == "service"}
            for pending in instance.take_new_jobs():
                if pending.task_id not in have:
                    new_jobs.append(self._service_job(pending, instance.instance_id, now))
            waits = self._waits(instance, result, business_key, catalog, now)
        if done_job is not None and done_job[0] in delete:
            delete.remove(done_job[0])
        messages: list[MessageRecord] = []
        for message in sent:
            msg = MessageRecord(self.id_factory(), message["name"],
                                self._thrown_key(message, result.data, business_key, catalog),
                                message.get("payload") if isinstance(message.get("payload"), dict) else {},
                                now, now + self.message_ttl, status="pending",
                                source_instance_id=instance.instance_id)
            messages.append(msg)
            new_jobs.append(JobRecord(self.id_factory(), None, "message", msg.id, msg.name, None, {}, now, 0,
                                      DEFAULT_ATTEMPTS, None, created_at=now))
        if status == "waiting":
            finished = set(delete) | ({done_job[0]} if done_job is not None and not release else set())
            busy = any(j.kind == "service" for j in new_jobs) or any(
                j.kind == "service" and j.id not in finished for j in jobs)
            due_now = any(due <= now for _, due in timers.values())
            status = "running" if busy or due_now else "waiting"
        record_out = InstanceRecord(
            id=instance.instance_id, definition_hash=digest, process_id=instance.process_id,
            business_key=business_key, status=status, state=instance.state_json(), version=(expected_version or 0) + 1,
            data=_json_safe(result.data),
            waiting=[{"task_id": w.task_id, "element_id": w.element_id, "name": w.name, "kind": w.kind,
                      "detail": w.detail, **({"instructions": w.instructions} if w.instructions else {})}
                     for w in result.waiting],
            error=result.error if status == "failed" else None, created_at=record.created_at, updated_at=now)
        had_waits = expected_version is not None and any(
            w.get("kind") not in ("service", "timer") for w in record.waiting)
        return StepRecord(instance=record_out, expected_version=expected_version, now=now, new_jobs=new_jobs,
                          delete_job_ids=delete, timer_updates=timer_updates, history=history, waits=waits,
                          new_messages=messages, consumed_messages=consumed, done_job=done_job,
                          release_done_job=release, had_waits=had_waits)

    def _history_row(self, instance: Instance, h: Any) -> dict[str, Any]:
        return {"instance_id": instance.instance_id, "process_id": h.process_id or instance.process_id,
                "element_id": h.element_id, "event": h.event, "at": h.at, "element_type": h.element_type,
                "name": h.name, "data_changes": _json_safe(h.data_changes), "detail": h.detail}

    def _service_job(self, pending: PendingJob, instance_id: str, now: float) -> JobRecord:
        attempts, backoff = retry_policy(pending.binding)
        payload = {"call": _json_safe(asdict(pending.call)), "binding": _json_safe(asdict(pending.binding))}
        return JobRecord(self.id_factory(), instance_id, "service", pending.task_id, pending.call.element_id,
                         pending.binding.name, payload, now, 0, attempts, backoff, created_at=now)

    def _waits(self, instance: Instance, result: RunResult, business_key: str | None,
               catalog: dict[str, Any], now: float) -> list[WaitRecord]:
        out = []
        for w in result.waiting:
            if w.kind in ("user", "manual"):
                form = [{"id": f.id, "label": f.label, "type": f.type, "default": f.default, "required": f.required,
                         "options": list(f.options)} for f in w.fields]
                out.append(WaitRecord(instance.instance_id, w.task_id, w.kind, "", w.element_id, w.name, None,
                                      _json_safe(form), now))
        for ev in spiff_waits.event_waits(instance.session):
            key = self._wait_key(ev, business_key, catalog, instance.instance_id)
            out.append(WaitRecord(instance.instance_id, ev["task_id"], ev["kind"], ev["event_name"],
                                  ev["element_id"], ev["name"], key, [], now))
        return out

    def _wait_key(self, wait: dict[str, Any], business_key: str | None, catalog: dict[str, Any],
                  instance_id: str) -> str | None:
        """The correlation key value a message must carry to reach this catch (None: any message of the name)."""
        if wait["kind"] != "message" or wait["start"]:
            return None
        info = catalog.get("messages", {}).get(wait["event_name"], {})
        if info.get("key"):
            try:
                return key_string(expressions.evaluate(info["key"], wait["data"]))
            except BpmnRunnerError as exc:
                raise StepFailed(f"the correlation key {info['key']!r} of message {wait['event_name']!r} cannot be "
                                 f"evaluated: {getattr(exc, 'message', exc)}", element_id=wait["element_id"],
                                 instance_id=instance_id) from None
        if info.get("properties") or wait["properties"]:
            names = set(wait["properties"]) | {p for p, _ in info.get("properties", [])}
            for values in wait["correlations"].values():
                for name in sorted(names):
                    if isinstance(values, dict) and name in values:
                        return key_string(values[name])
            for _, expression in info.get("properties", []):
                try:
                    value = expressions.evaluate(expression, wait["data"])
                except BpmnRunnerError:
                    continue
                if value is not None:
                    return key_string(value)
            return None
        return business_key

    def _thrown_key(self, message: dict[str, Any], data: dict[str, Any], business_key: str | None,
                    catalog: dict[str, Any]) -> str | None:
        """The correlation key a message thrown by an instance carries, by the same rules as its catch."""
        info = catalog.get("messages", {}).get(message["name"], {})
        payload = message.get("payload") if isinstance(message.get("payload"), dict) else {}
        if info.get("key"):
            try:
                return key_string(expressions.evaluate(info["key"], {**data, **payload}))
            except BpmnRunnerError:
                return None
        for _, expression in info.get("properties", []):
            try:
                value = expressions.evaluate(expression, payload or data)
            except BpmnRunnerError:
                continue
            if value is not None:
                return key_string(value)
        return business_key

    def _buffered_match(self, instance: Instance, business_key: str | None, catalog: dict[str, Any],
                        consumed: list[str]) -> tuple[MessageRecord, dict[str, Any]] | None:
        waits = [w for w in spiff_waits.event_waits(instance.session) if w["kind"] == "message"]
        if not waits:
            return None
        buffered = [m for m in self.store.buffered_messages(sorted({w["event_name"] for w in waits}), self.now())
                    if m.id not in consumed]
        for message in buffered:
            for wait in waits:
                if wait["event_name"] != message.name:
                    continue
                key = self._wait_key(wait, business_key, catalog, instance.instance_id)
                if message.business_key is not None and message.business_key != business_key:
                    continue
                if key is None or key == message.correlation_key:
                    return message, wait["correlations"]
        return None

    def _outcome(self, step: StepRecord, status: str) -> dict[str, Any]:
        rec = step.instance
        out = {"instance_id": rec.id, "process_id": rec.process_id, "status": status,
               "business_key": rec.business_key, "waiting": rec.waiting}
        if rec.error:
            out["error"] = rec.error
        follow = [(j.id, j.handler) for j in step.new_jobs
                  if j.kind == "service" and status != "incident" and j.locked_by is None]
        if follow:
            out["new_service_jobs"] = follow
        return out

    def _after_commit(self, step: StepRecord) -> None:
        """Route the messages the step threw right away (a worker would otherwise pick their jobs up)."""
        queue = [j.id for j in step.new_jobs if j.kind == "message"]
        for job_id in queue:
            try:
                self.process_job_now(job_id)
            except BpmnRunnerError:
                continue  # the job stays; a worker retries it

    def process_job_now(self, job_id: str) -> dict[str, Any] | None:
        """Claim one message job and route its message now, if no one else holds it."""
        claimed, _ = self.store.claim_jobs(self.worker_id, [], now=self.now(), lease=30.0, ids=[job_id])
        if not claimed:
            return None
        job = claimed[0]
        try:
            return self.run_message_job(job, self.worker_id)
        except (StepFailed, ExecutionError) as exc:
            self.fail_job(job, self.worker_id, str(exc))
            raise

    # ----- jobs, as a worker runs them ----------------------------------------------------------------------

    def service_call(self, job: JobRecord) -> tuple[Binding, ServiceCall]:
        raw_call = dict(job.payload.get("call") or {})
        raw_binding = dict(job.payload.get("binding") or {})
        raw_call["attempt"] = job.attempts
        call = ServiceCall(**{k: v for k, v in raw_call.items() if k in ServiceCall.__dataclass_fields__})
        binding = Binding(**{k: v for k, v in raw_binding.items() if k in Binding.__dataclass_fields__})
        return binding, call

    def complete_service_job(self, job: JobRecord, worker: str, result: Any = None, error: BpmnError | None = None,
                             *, lease_next: tuple[str, float, Collection[str]] | None = None) -> dict[str, Any] | None:
        """A handler returned (or raised a BpmnError): apply it to the instance and commit, if the job is still
        this worker's and its task still waits. Returns None when the result was dropped."""
        def act(instance: Instance) -> None:
            if error is not None:
                instance.raise_in_service_task(job.task_id, error)
            else:
                instance.complete_service_task(job.task_id, result)
        try:
            return self.step(job.instance_id or "", act, done_job=(job.id, worker), lease_next=lease_next)
        except LeaseLostError:
            return None  # another worker has the job now: its result counts, not this one
        except (InvalidOperationError, NotFoundError):
            self.store.drop_job(job.id, worker)  # the task no longer waits (cancelled, or done by another worker)
            return None

    def fire_timer_job(self, job: JobRecord, worker: str) -> dict[str, Any] | None:
        try:
            return self.step(job.instance_id or "", lambda instance: instance.fire_due_timers(),
                             done_job=(job.id, worker))
        except LeaseLostError:
            return None
        except (InvalidOperationError, NotFoundError):
            self.store.drop_job(job.id, worker)
            return None

    def run_message_job(self, job: JobRecord, worker: str) -> dict[str, Any]:
        message = self.store.get_message(job.task_id)
        if message is None or message.status not in ("pending", "buffered"):
            self.store.drop_job(job.id, worker)
            return {"outcome": "gone"}
        return self.route_message(message, job=(job.id, worker), job_record=job)

    def fail_job(self, job: JobRecord, worker: str | None, error: str, *, final: bool = False) -> str:
        """A failed attempt: back off and retry, or after the last attempt (or when `final`) an incident."""
        now = self.now()
        if not final and job.attempts < job.max_attempts:
            self.store.fail_job(job, worker, error, now=now, retry_at=now + backoff_after(job, job.attempts))
            return "retry"
        row = None
        if job.instance_id:
            row = {"instance_id": job.instance_id, "process_id": "", "element_id": job.element_id,
                   "event": "failed", "at": time.time(), "element_type": job.kind, "name": "", "data_changes": {},
                   "detail": error}
            try:
                row["process_id"] = self.store.get_instance(job.instance_id).process_id
            except NotFoundError:
                row = None
        self.store.fail_job(job, worker, error, now=now, retry_at=None, history_row=row)
        return "incident"

    # ----- messages and signals -----------------------------------------------------------------------------

    def _known_names(self, kind: str) -> set[str]:
        names: set[str] = set()
        for digest, catalog in self.store.catalogs().items():
            self._catalogs.setdefault(digest, catalog)
            if kind == "message":
                names.update(catalog.get("caught", []))
            for entry in catalog.get("starts", {}).values():
                names.update(entry.get(kind, []))
        return names

    def publish_message(self, name: str, *, correlations: dict[str, Any] | None = None,
                        payload: dict[str, Any] | None = None, business_key: str | None = None,
                        message_id: str | None = None, ttl: float | None = None) -> dict[str, Any]:
        """Deliver a message to the instance waiting for it, start an instance at a message start event, or
        buffer it until its time to live when nothing waits yet. A message no stored process could ever
        catch is refused; a second message with the same `message_id` is refused (Zeebe's message id)."""
        correlations = dict(correlations or {})
        values = [key_string(v) for v in correlations.values() if v is not None]
        key = values[0] if values else business_key
        if name not in self._known_names("message") and not self.store.find_waits("message", name):
            raise InvalidOperationError(f"no stored process catches or starts with message {name!r}; it can match "
                                        f"nothing (check the message name, or start the process first)")
        now = self.now()
        ttl = self.message_ttl if ttl is None else ttl
        message = MessageRecord(self.id_factory(), name, key, _json_safe(dict(payload or {})), now, now + ttl,
                                status="pending", business_key=business_key, message_id=message_id)
        job = JobRecord(self.id_factory(), None, "message", message.id, name, None, {}, now, 0, DEFAULT_ATTEMPTS,
                        None, created_at=now)
        self.store.insert_message(message, job)
        claimed, _ = self.store.claim_jobs(self.worker_id, [], now=now, lease=30.0, ids=[job.id])
        if not claimed:
            return {"message": message.id, "name": name, "outcome": "queued"}
        try:
            outcome = self.route_message(message, job=(job.id, self.worker_id), job_record=claimed[0])
        except (StepFailed, ExecutionError) as exc:
            self.fail_job(claimed[0], self.worker_id, str(exc))
            raise
        return {"message": message.id, "name": name, "correlation_key": key, **outcome}

    def _matching_waits(self, message: MessageRecord) -> list[WaitRecord]:
        waits = [w for w in self.store.find_waits("message", message.name)
                 if message.business_key is None or w.business_key == message.business_key
                 or (w.correlation_key is not None and w.correlation_key == message.business_key)]
        exact = [w for w in waits if w.correlation_key is not None and w.correlation_key == message.correlation_key]
        anyone = [w for w in waits if w.correlation_key is None]
        return exact + anyone

    def route_message(self, message: MessageRecord, *, job: tuple[str, str] | None = None,
                      job_record: JobRecord | None = None) -> dict[str, Any]:
        tried: set[str] = set()
        for _ in range(MAX_STEP_TRIES):
            waits = [w for w in self._matching_waits(message) if w.instance_id not in tried]
            if not waits:
                break
            wait = waits[0]
            tried.add(wait.instance_id)

            def deliver(instance: Instance, wait: WaitRecord = wait) -> None:
                here = [w for w in spiff_waits.event_waits(instance.session)
                        if w["kind"] == "message" and w["event_name"] == message.name and w["task_id"] == wait.task_id]
                if not here:
                    raise InvalidOperationError(f"instance {wait.instance_id} no longer waits for {message.name!r}")
                if not instance.send_message(message.name, message.payload, here[0]["correlations"] or None):
                    raise InvalidOperationError(f"instance {wait.instance_id} did not catch {message.name!r}")
            try:
                out = self.step(wait.instance_id, deliver, done_job=job, consumed=[message.id])
            except InvalidOperationError:
                continue
            except StepFailed:
                if job_record is not None:
                    job_record.instance_id = wait.instance_id  # the incident belongs to the receiving instance
                raise
            return {"outcome": "delivered", "instance_id": out["instance_id"], "status": out["status"]}
        started = self._start_by_event("message", message.name, message.payload, message.business_key,
                                       consumed=[message.id], done_job=job)
        if started is not None:
            return {"outcome": "started", "instance_id": started["instance_id"], "status": started["status"]}
        now = self.now()
        if message.expires_at > now:
            self.store.settle_message(message.id, "buffered", job=job)
            return {"outcome": "buffered", "expires_at": message.expires_at}
        self.store.settle_message(message.id, "expired", job=job)
        return {"outcome": "unmatched"}

    def _start_by_event(self, kind: str, name: str, payload: dict[str, Any], business_key: str | None, *,
                        consumed: list[str] | None = None,
                        done_job: tuple[str, str] | None = None) -> dict[str, Any] | None:
        """Start the newest version of the first stored process with a `kind` start event named `name`."""
        started = self._start_all_by_event(kind, name, payload, business_key, consumed=consumed,
                                           done_job=done_job, first_only=True)
        return started[0] if started else None

    def _start_all_by_event(self, kind: str, name: str, payload: dict[str, Any], business_key: str | None, *,
                            consumed: list[str] | None = None, done_job: tuple[str, str] | None = None,
                            first_only: bool = False) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for process_id, _version, digest in sorted(self.store.latest_processes()):
            starts = self.catalog_for(digest).get("starts", {}).get(process_id, {})
            if name not in starts.get(kind, []):
                continue
            definitions = self.definitions_for(digest)
            if process_id not in definitions.executable_processes():
                continue
            instance = self.engine.start(definitions, process_id, {}, instance_id=self.id_factory())

            def trigger(inst: Instance, process_id: str = process_id) -> None:
                caught = inst.send_message(name, payload) if kind == "message" else inst.send_signal(name, payload)
                if not caught:
                    raise InvalidOperationError(f"process {process_id} did not start on {kind} {name!r}")
            out.append(self._commit_new(instance, digest, business_key, action=trigger, consumed=consumed,
                                        done_job=done_job))
            if first_only:
                break
        return out

    def send_signal(self, name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Broadcast a signal: every instance waiting for it catches it, and every process with a signal start
        event for it starts. A signal no stored process knows is refused."""
        payload = dict(payload or {})
        waits = self.store.find_waits("signal", name)
        if not waits and name not in self._known_names("signal"):
            raise InvalidOperationError(f"no instance waits for signal {name!r} and no stored process starts with it")
        delivered, errors = [], []
        for instance_id in dict.fromkeys(w.instance_id for w in waits):
            def catch(instance: Instance) -> None:
                if not instance.send_signal(name, payload):
                    raise InvalidOperationError(f"instance {instance.instance_id} no longer waits for {name!r}")
            try:
                self.step(instance_id, catch)
                delivered.append(instance_id)
            except InvalidOperationError:
                continue
            except ExecutionError as exc:
                errors.append(str(exc))
        started = self._start_all_by_event("signal", name, payload, None)
        out: dict[str, Any] = {"signal": name, "delivered": delivered,
                               "started": [s["instance_id"] for s in started]}
        if errors:
            out["errors"] = errors
        return out

    # ----- people, retries, cancellation --------------------------------------------------------------------

    def complete_task(self, task_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        waits = self.store.find_waits(("user", "manual"), task_id=task_id)
        exact = [w for w in waits if w.task_id == task_id]
        waits = exact or waits
        if not waits:
            raise NotFoundError(f"no open user task {task_id!r} (see `bpmn-runner tasks`)")
        if len({w.task_id for w in waits}) > 1:
            raise InvalidOperationError(f"task id prefix {task_id!r} is ambiguous; give more of it")
        wait = waits[0]
        return self.step(wait.instance_id, lambda instance: instance.complete_user_task(wait.task_id, data or {}))

    def retry(self, ident: str) -> dict[str, Any]:
        instance_id = self.store.resolve_instance_id(ident)
        count = self.store.retry_instance(instance_id, self.now())
        return {"instance_id": instance_id, "status": "running", "jobs": count}

    def cancel(self, ident: str) -> dict[str, Any]:
        instance_id = self.store.resolve_instance_id(ident)
        record = self.store.get_instance(instance_id)
        rows = [{"instance_id": instance_id, "process_id": record.process_id, "element_id": w.get("element_id", ""),
                 "event": "cancelled", "at": time.time(), "element_type": "", "name": w.get("name", ""),
                 "data_changes": {}, "detail": "cancelled"} for w in record.waiting]
        self.store.cancel_instance(instance_id, self.now(), rows)
        return {"instance_id": instance_id, "status": "cancelled"}

    # ----- reading ------------------------------------------------------------------------------------------

    def _live_status(self, record: InstanceRecord, due: set[str] | None = None) -> str:
        if record.status == "waiting":
            due = self.store.due_timer_instances(self.now()) if due is None else due
            if record.id in due:
                return "running"
        return record.status

    def list_instances(self, *, status: str | None = None, process_id: str | None = None,
                       business_key: str | None = None, limit: int | None = None,
                       after: str | None = None) -> list[dict[str, Any]]:
        """Instances, oldest first, `limit` at a time after instance `after`; `running` includes those waiting at
        a timer that is due now."""
        now = self.now()
        due = self.store.due_timer_instances(now)
        out = []
        for record in self.store.list_instances(status=status, process_id=process_id, business_key=business_key,
                                                limit=limit, after=after, timers_due_at=now):
            live = self._live_status(record, due)
            out.append({"instance_id": record.id, "process_id": record.process_id,
                        "business_key": record.business_key, "status": live,
                        "waiting": [w.get("element_id") for w in record.waiting], "error": record.error,
                        "created_at": record.created_at, "updated_at": record.updated_at,
                        "ended_at": record.ended_at})
        return out

    def list_tasks(self, instance: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        instance_id = self.store.resolve_instance_id(instance) if instance else None
        waits = self.store.find_waits(("user", "manual"), instance_id=instance_id, limit=limit)
        instructions: dict[tuple[str, str], str] = {}  # SpiffArena's instructionsForEndUser, kept with the instance
        for owner in {w.instance_id for w in waits}:
            for row in self.store.get_instance(owner).waiting:
                if row.get("instructions"):
                    instructions[(owner, row.get("task_id", ""))] = row["instructions"]
        return [{"task_id": w.task_id, "instance_id": w.instance_id, "element_id": w.element_id, "name": w.name,
                 "kind": w.kind, "process_id": w.process_id, "business_key": w.business_key, "fields": w.form,
                 "since": w.created_at, "instructions": instructions.get((w.instance_id, w.task_id), "")}
                for w in waits]

    def show(self, ident: str) -> dict[str, Any]:
        instance_id = self.store.resolve_instance_id(ident)
        record = self.store.get_instance(instance_id)
        jobs = self.store.jobs_of(instance_id)
        history = self.store.history_of(instance_id)
        waits = {(w.task_id, w.kind): w for w in self.store.waits_of(instance_id)}
        sent, received = self.store.messages_of(instance_id)
        waiting = []
        for w in record.waiting:
            row = dict(w)
            found = waits.get((w.get("task_id"), w.get("kind")))
            if found is not None and found.correlation_key is not None:
                row["correlation_key"] = found.correlation_key
            timer = next((j for j in jobs if j.kind == "timer" and j.task_id == w.get("task_id")), None)
            if timer is not None:
                row["due_at"] = timer.due_at
            waiting.append(row)
        incidents = [{"element_id": j.element_id, "kind": j.kind, "job_id": j.id, "error": j.last_error,
                      "attempts": j.attempts, "at": record.updated_at} for j in jobs if j.status == "incident"]
        return {
            "instance_id": record.id, "process_id": record.process_id,
            "process_version": self.store.process_version(record.process_id, record.definition_hash),
            "definition": record.definition_hash, "business_key": record.business_key,
            "status": self._live_status(record), "error": record.error, "data": record.data, "waiting": waiting,
            "incidents": incidents,
            "jobs": [{"job_id": j.id, "kind": j.kind, "element_id": j.element_id, "handler": j.handler,
                      "status": j.status, "due_at": j.due_at, "attempts": j.attempts,
                      "max_attempts": j.max_attempts, "locked_by": j.locked_by, "locked_until": j.locked_until,
                      "last_error": j.last_error} for j in jobs],
            "history": [{k: v for k, v in h.items() if k not in ("instance_id",)} for h in history],
            "messages_sent": [_message_view(m) for m in sent],
            "messages_received": [_message_view(m) for m in received],
            "created_at": record.created_at, "updated_at": record.updated_at, "ended_at": record.ended_at,
        }

    def instance_view(self, ident: str) -> tuple[list[tuple[str, bytes]], dict[str, Any]]:
        """(the stored diagram files, the run dict `report.render_instance_report` draws) for one instance."""
        shown = self.show(ident)
        history = [h for h in shown["history"] if h["event"] != "taken"]
        view = {
            "instance_id": shown["instance_id"], "process_id": shown["process_id"], "status": shown["status"],
            "business_key": shown["business_key"], "data": shown["data"], "error": shown["error"],
            "path": [h["element_id"] for h in history if h["event"] == "completed"],
            "flows": [h["element_id"] for h in shown["history"] if h["event"] == "taken"],
            "waiting": [{"element_id": w.get("element_id"), "name": w.get("name"), "kind": w.get("kind"),
                         "detail": w.get("detail", "")} for w in shown["waiting"]],
            "incidents": shown["incidents"], "history": history,
            "messages_sent": shown["messages_sent"], "messages_received": shown["messages_received"],
        }
        return self.sources_for(shown["definition"]), view

    def heatmap_stats(self, process_id: str) -> tuple[list[tuple[str, bytes]], dict[str, Any]]:
        """(the newest stored diagram files of the process, the stats `report.render_heatmap_report` draws)."""
        latest = [d for p, _v, d in self.store.latest_processes() if p == process_id]
        if not latest:
            raise NotFoundError(f"no stored process {process_id!r}")
        rows = self.store.history_of_process(process_id)
        durations: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        flows: dict[str, int] = {}
        entered: dict[tuple[str, str], list[float]] = {}
        for row in rows:
            ident, event = row["element_id"], row["event"]
            if event == "taken":
                flows[ident] = flows.get(ident, 0) + 1
            elif event == "entered":
                entered.setdefault((row["instance_id"], ident), []).append(row["at"])
            elif event in ("completed", "failed", "cancelled"):
                if event == "completed":
                    counts[ident] = counts.get(ident, 0) + 1
                started = entered.get((row["instance_id"], ident))
                if started:
                    durations.setdefault(ident, []).append(max(0.0, row["at"] - started.pop(0)) * 1000)
        elements = {}
        for ident in sorted(set(counts) | set(durations)):
            values = sorted(durations.get(ident, []))
            mean = sum(values) / len(values) if values else None
            p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))] if values else None
            elements[ident] = {"count": counts.get(ident, 0), "mean_ms": mean, "p95_ms": p95}
        by_status: dict[str, int] = {}
        for record in self.store.list_instances(process_id=process_id):
            by_status[record.status] = by_status.get(record.status, 0) + 1
        stats = {"process_id": process_id, "elements": elements, "flows": flows, "instances_by_status": by_status}
        return self.sources_for(latest[0]), stats


def _message_view(m: MessageRecord) -> dict[str, Any]:
    return {"id": m.id, "name": m.name, "correlation_key": m.correlation_key, "payload": m.payload,
            "status": m.status, "at": m.consumed_at or m.created_at, "from": m.source_instance_id,
            "to": m.target_instance_id}


def write_sources(sources: list[tuple[str, bytes]], folder: Path) -> list[str]:
    """Write stored diagram files into `folder` (for reports, which read files); returns their paths."""
    paths = []
    for index, (name, content) in enumerate(sources):
        target = folder / f"{index:02d}-{Path(name).name}"
        target.write_bytes(content)
        paths.append(str(target))
    return paths


__all__ = ["DEFAULT_TTL", "Runtime", "StepFailed", "backoff_after", "content_hash", "key_string", "parse_duration",
           "retry_policy", "write_sources"]

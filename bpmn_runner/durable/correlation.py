"""Correlation: publish and route messages, broadcast signals, and start processes at message or signal starts."""

from __future__ import annotations

from typing import Any, Callable

from ..engine import Engine
from ..instance import Instance
from ..environment import Environment
from ..errors import ConcurrentUpdateError, ExecutionError, InvalidOperationError
from ..jsondata import json_safe
from ..store import JobRecord, MessageRecord, Store, WaitRecord
from .deployments import Deployments
from .keys import StepFailed, payload_key
from .policy import DEFAULT_ATTEMPTS, key_string
from .steps import MAX_STEP_TRIES, DoneJob, Steps

FailJob = Callable[..., str]  # (job, worker, error, *, final=False) -> "retry" or "incident"


class Correlation:
    """Messages and signals between stored instances and from outside."""

    def __init__(self, *, store: Store, environment: Environment, engine: Engine, deployments: Deployments,
                 steps: Steps, message_ttl: float, worker_id: str, fail_job: FailJob) -> None:
        self.store = store
        self.environment = environment
        self.engine = engine
        self.deployments = deployments
        self.steps = steps
        self.message_ttl = message_ttl
        self.worker_id = worker_id
        self.fail_job = fail_job

    def now(self) -> float:
        return self.environment.now()

    # ----- messages -----------------------------------------------------------------------------------------

    def publish_message(self, name: str, *, correlations: dict[str, Any] | None = None,
                        payload: dict[str, Any] | None = None, business_key: str | None = None,
                        message_id: str | None = None, ttl: float | None = None) -> dict[str, Any]:
        """Deliver a message to the instance waiting for it, start an instance at a message start event, or
        buffer it until its time to live when nothing waits yet. A message no stored process could ever
        catch is refused; a second message with the same `message_id` is refused (Zeebe's message id)."""
        correlations = dict(correlations or {})
        values = [key_string(v) for v in correlations.values() if v is not None]
        key = values[0] if values else business_key
        if name not in self.deployments.known_names("message") and not self.store.find_waits("message", name):
            raise InvalidOperationError(f"no stored process catches or starts with message {name!r}; it can match "
                                        f"nothing (check the message name, or start the process first)")
        key = self._key_from_payload(name, dict(payload or {}), key)
        if key is None:
            self._refuse_ambiguous(name)
        now = self.now()
        ttl = self.message_ttl if ttl is None else ttl
        new_id = self.environment.id_factory
        message = MessageRecord(new_id(), name, key, json_safe(dict(payload or {})), now, now + ttl,
                                status="pending", business_key=business_key, message_id=message_id)
        job = JobRecord(new_id(), None, "message", message.id, name, None, {}, now, 0, DEFAULT_ATTEMPTS,
                        None, created_at=now)
        self.store.insert_message(message, job)
        return self._route_stored(message, job)

    def _route_stored(self, message: MessageRecord, job: JobRecord, *, held: bool = False) -> dict[str, Any]:
        """Route a stored message now, unless someone else holds its job (then it is `queued`); `held`: the job
        was stored leased to this worker already."""
        if held:
            claimed = [job]
        else:
            claimed, _ = self.store.claim_jobs(self.worker_id, [], now=self.now(), lease=30.0, ids=[job.id])
        if not claimed:
            return {"message": message.id, "name": message.name, "outcome": "queued"}
        try:
            outcome = self.route_message(message, job=(job.id, self.worker_id), job_record=claimed[0])
        except (StepFailed, ExecutionError) as exc:
            self.fail_job(claimed[0], self.worker_id, str(exc))
            raise
        return {"message": message.id, "name": message.name, "correlation_key": message.correlation_key, **outcome}

    def receive_event(self, event_id: str, name: str, *, correlation_key: str | None,
                      payload: dict[str, Any] | None = None, business_key: str | None = None) -> dict[str, Any]:
        """An event from a broker as message `name`: stored with `event_id` in the inbox and the routing job in
        one transaction, then routed like a published message. The same `event_id` again is not routed twice
        (`outcome` "duplicate"); one stored before a crash but not routed yet is routed now. Unlike
        `publish_message`, a name no stored process knows yet is buffered (its process may be deployed later)."""
        if correlation_key is None and business_key is None:
            self._refuse_ambiguous(name)
        now = self.now()
        new_id = self.environment.id_factory
        message = MessageRecord(new_id(), name, correlation_key if correlation_key is not None else business_key,
                                json_safe(dict(payload or {})), now, now + self.message_ttl, status="pending",
                                business_key=business_key)
        # stored leased to this worker (one attempt), as a claim would: routed next without a claim of its own
        job = JobRecord(new_id(), None, "message", message.id, name, None, {}, now, 1, DEFAULT_ATTEMPTS,
                        None, created_at=now, locked_by=self.worker_id, locked_until=now + 30.0)
        try:
            seen = self.store.receive_event(event_id, message, job)
        except ConcurrentUpdateError:
            seen = self.store.receive_event(event_id, message, job)
        if seen is None:
            return self._route_stored(message, job, held=True)
        pending = self.store.message_job(seen)
        earlier = self.store.get_message(seen) if pending is not None else None
        if pending is None or earlier is None:
            return {"message": seen, "name": name, "outcome": "duplicate"}
        return {**self._route_stored(earlier, pending), "duplicate": True}

    def _key_from_payload(self, name: str, payload: dict[str, Any], given: str | None) -> str | None:
        """The key of a message from outside: the one given, else the one its own retrieval expressions read from
        its payload (SpiffArena). A payload they cannot read could never be caught (a catch evaluates them on
        it): with a key that names a waiting instance it goes there and becomes that instance's incident;
        otherwise it is refused here, with nothing stored, rather than left buffered for nobody."""
        found, problem = payload_key(name, payload, list(self.store.catalogs().values()))
        if found is not None or problem is None:
            return given if given is not None else found
        if given is not None and any(w.correlation_key == given for w in self.store.find_waits("message", name)):
            return given
        raise InvalidOperationError(f"message {name!r}: its payload does not give its correlation properties "
                                    f"({problem}), so no catch could take it; send a payload that has them"
                                    + ("" if given is not None else ", or give --correlation PROPERTY=VALUE"))

    def _refuse_ambiguous(self, name: str) -> None:
        """A message without a correlation key or business key cannot pick among several waiting instances:
        Camunda 7's correlate() refuses a message that matches more than one execution rather than choose one
        (or, here, buffer it)."""
        waiting: dict[str, str | None] = {}
        for w in self.store.find_waits("message", name):
            waiting.setdefault(w.instance_id, w.correlation_key)
        if len(waiting) > 1:
            named = ", ".join(iid + (f" (key {k})" if k is not None else "") for iid, k in waiting.items())
            raise InvalidOperationError(f"message {name!r} has no correlation key and {len(waiting)} instances wait "
                                        f"for it: {named}; give --correlation KEY=VALUE or --business-key K to "
                                        f"name one")

    def _matching_waits(self, message: MessageRecord) -> list[WaitRecord]:
        waits = [w for w in self.store.find_waits("message", message.name)
                 if message.business_key is None or w.business_key == message.business_key
                 or (w.correlation_key is not None and w.correlation_key == message.business_key)]
        exact = [w for w in waits if w.correlation_key is not None and w.correlation_key == message.correlation_key]
        anyone = [w for w in waits if w.correlation_key is None]
        if anyone:
            starting = self._processes_starting_with(message.name)
            anyone = [w for w in anyone if w.process_id not in starting or not self._failed_start(w)]
        if message.correlation_key is None and message.business_key is None:
            # Camunda 7: a message without criteria matches any execution that waits for it, also one whose
            # key is its business key (publish_message refuses it first when several instances wait)
            anyone += [w for w in waits if w.correlation_key is not None and w.correlation_key == w.business_key]
        return exact + anyone

    def _processes_starting_with(self, name: str) -> set[str]:
        return {process_id for catalog in self.store.catalogs().values()
                for process_id, entry in catalog.get("starts", {}).items() if name in entry.get("message", [])}

    def _failed_start(self, wait: WaitRecord) -> bool:
        """Whether this is the start event of an instance whose message start failed (`_start_incident`) and is
        still in that incident: another message of the name starts its own instance; after `retry` the instance
        takes its message again."""
        record = self.store.get_instance(wait.instance_id)
        if record.status != "incident":
            return False
        starts = self.deployments.catalog_for(record.definition_hash).get("starts", {}).get(record.process_id, {})
        return wait.event_name in starts.get("message", [])

    def route_message(self, message: MessageRecord, *, job: DoneJob | None = None,
                      job_record: JobRecord | None = None) -> dict[str, Any]:
        """Deliver to the first waiting instance that still catches it, else start a process, else buffer."""
        tried: set[str] = set()
        for _ in range(MAX_STEP_TRIES):
            waits = [w for w in self._matching_waits(message) if w.instance_id not in tried]
            if not waits:
                break
            wait = waits[0]
            tried.add(wait.instance_id)

            def deliver(instance: Instance, wait: WaitRecord = wait) -> None:
                here = [w for w in instance.event_waits()
                        if w["kind"] == "message" and w["event_name"] == message.name and w["task_id"] == wait.task_id]
                if not here:
                    raise InvalidOperationError(f"instance {wait.instance_id} no longer waits for {message.name!r}")
                if not instance.send_message(message.name, message.payload, here[0]["correlations"] or None):
                    raise InvalidOperationError(f"instance {wait.instance_id} did not catch {message.name!r}")
            try:
                out = self.steps.step(wait.instance_id, deliver, done_job=job, consumed=[message.id])
            except InvalidOperationError:
                continue
            except ExecutionError as exc:
                if job is None or job_record is None:
                    raise
                return self._delivery_incident(message, wait, exc, job, job_record)
            return {"outcome": "delivered", "instance_id": out["instance_id"], "status": out["status"]}
        started = self.start_by_event("message", message.name, message.payload, message.business_key,
                                      consumed=[message.id], done_job=job, first_only=True, job_record=job_record)
        if started and started[0].get("outcome") == "incident":
            return started[0]
        if started:
            return {"outcome": "started", "instance_id": started[0]["instance_id"], "status": started[0]["status"]}
        now = self.now()
        if message.expires_at > now:
            self.store.settle_message(message.id, "buffered", job=job)
            return {"outcome": "buffered", "expires_at": message.expires_at}
        self.store.settle_message(message.id, "expired", job=job)
        return {"outcome": "unmatched"}

    def _delivery_incident(self, message: MessageRecord, wait: WaitRecord, exc: ExecutionError, job: DoneJob,
                           job_record: JobRecord) -> dict[str, Any]:
        """A message the waiting instance could not take (a retrieval expression fails on the payload, a script or
        mapping after the catch fails) is an incident of that instance at once: the message stays pending with
        its job, which `retry` runs again; it is never left as an orphan with no instance to show it on."""
        text = getattr(exc, "message", None) or str(exc)
        reason = text if text.startswith(f"message {message.name!r}") else \
            f"message {message.name!r} could not be delivered at {wait.element_id}: {text}"
        job_record.instance_id = wait.instance_id
        self.fail_job(job_record, job[1], reason, final=True)
        return {"outcome": "incident", "instance_id": wait.instance_id, "status": "incident", "error": reason}

    # ----- start events -------------------------------------------------------------------------------------

    def start_by_event(self, kind: str, name: str, payload: dict[str, Any], business_key: str | None, *,
                       consumed: list[str] | None = None, done_job: DoneJob | None = None,
                       first_only: bool = False, job_record: JobRecord | None = None) -> list[dict[str, Any]]:
        """Start the newest version of each stored process with a `kind` start event named `name` (with
        `first_only`, of the first one). A message job's start that fails becomes an incident of the instance
        it was starting (see `_start_incident`)."""
        out: list[dict[str, Any]] = []
        for process_id, _version, digest in sorted(self.store.latest_processes()):
            starts = self.deployments.catalog_for(digest).get("starts", {}).get(process_id, {})
            if name not in starts.get(kind, []):
                continue
            definitions = self.deployments.definitions_for(digest)
            if process_id not in definitions.executable_processes():
                continue
            instance = self.engine.start(definitions, process_id, {}, instance_id=self.environment.id_factory(),
                                         business_key=business_key)

            def trigger(inst: Instance, process_id: str = process_id) -> None:
                caught = inst.send_message(name, payload) if kind == "message" else inst.send_signal(name, payload)
                if not caught:
                    raise InvalidOperationError(f"process {process_id} did not start on {kind} {name!r}")
            try:
                out.append(self.steps.commit_new(instance, digest, business_key, action=trigger, consumed=consumed,
                                                 done_job=done_job))
            except ExecutionError as exc:
                if kind != "message" or done_job is None or job_record is None:
                    raise
                out.append(self._start_incident(name, process_id, digest, business_key, exc, done_job, job_record))
            if first_only:
                break
        return out

    def _start_incident(self, name: str, process_id: str, digest: str, business_key: str | None,
                        exc: ExecutionError, job: DoneJob, job_record: JobRecord) -> dict[str, Any]:
        """A message that cannot start its process (its retrieval expression fails on the payload, its message
        variable cannot be set) leaves the instance it was starting stored at its start event, in an incident
        that holds the message's job: `instances --status incident` shows it, `retry` delivers the message again."""
        definitions = self.deployments.definitions_for(digest)
        fresh = self.engine.start(definitions, process_id, {}, instance_id=self.environment.id_factory())
        committed = self.steps.commit_new(fresh, digest, business_key)
        text = getattr(exc, "message", None) or str(exc)
        reason = text if text.startswith(f"message {name!r}") else \
            f"message {name!r} could not start process {process_id}: {text}"
        job_record.instance_id = committed["instance_id"]
        self.fail_job(job_record, job[1], reason, final=True)
        return {"outcome": "incident", "instance_id": committed["instance_id"], "status": "incident", "error": reason}

    # ----- signals ------------------------------------------------------------------------------------------

    def send_signal(self, name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Broadcast a signal: every instance waiting for it catches it, and every process with a signal start
        event for it starts. A signal no stored process knows is refused."""
        payload = dict(payload or {})
        waits = self.store.find_waits("signal", name)
        if not waits and name not in self.deployments.known_names("signal"):
            raise InvalidOperationError(f"no instance waits for signal {name!r} and no stored process starts with it")
        delivered, errors, handler_errors, ran = [], [], [], 0
        for instance_id in dict.fromkeys(w.instance_id for w in waits):
            def catch(instance: Instance) -> None:
                if not instance.send_signal(name, payload):
                    raise InvalidOperationError(f"instance {instance.instance_id} no longer waits for {name!r}")
            try:
                outcome = self.steps.step(instance_id, catch)
                delivered.append(instance_id)
                ran += outcome.get("handlers_run", 0)
                handler_errors += outcome.get("handler_errors", [])
            except InvalidOperationError:
                continue
            except ExecutionError as exc:
                errors.append(str(exc))
        started = self.start_by_event("signal", name, payload, None)
        ran += sum(s.get("handlers_run", 0) for s in started)
        out: dict[str, Any] = {"signal": name, "delivered": delivered,
                               "started": [s["instance_id"] for s in started]}
        if ran:
            out["handlers_run"] = ran
        if handler_errors:
            out["handler_errors"] = handler_errors
        if errors:
            out["errors"] = errors
        return out

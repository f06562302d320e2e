"""Plain dataclasses that cross layers: what handlers receive and what a run reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

RunStatus = Literal["completed", "waiting", "failed"]

#: A Camunda 8 script task (one FEEL expression into a variable) is rewritten to a script starting with this.
FEEL_SCRIPT_MARKER = "#!feel "
#: A JavaScript expression (condition, parameter) is rewritten to this line followed by its code.
JAVASCRIPT_MARKER = "#!javascript\n"
#: A JavaScript script task is rewritten to this, its result variable (may be empty), a newline and its code.
JAVASCRIPT_TASK_MARKER = "#!javascript-task "
#: A Camunda 7 input/output parameter with a list, map or script inside is this followed by its JSON tree.
CAMUNDA_PARAMETER_MARKER = "#!camunda-parameter "
JAVASCRIPT_FORMATS = frozenset({"javascript", "js", "ecmascript", "text/javascript", "application/javascript",
                                "application/x-javascript", "text/ecmascript", "application/ecmascript"})

#: In a simulation, what cannot run as drawn (a script in another language, a missing called process, a flow
#: without a condition) is rewritten to a script or expression starting with this, followed by what was assumed.
SIMULATED_MARKER = "#!simulated "


@dataclass
class SimulateOptions:
    """How `run --simulate` walks a diagram that nothing is bound to yet."""

    choose: dict[str, str] = field(default_factory=dict)   # gateway id -> flow id (or target id, or flow name)
    seed: int | None = None                                 # --random: pick at every gateway with this seed
    all_paths: bool = False                                 # walk each decision point's alternatives in turn
    max_paths: int = 50                                     # bound for all_paths
    loop_rounds: int = 20                                   # a gateway passed this often leaves its loop
    models: str | None = None                               # SpiffArena process-model tree to find called ids in
    user: str | None = None                                 # the current user SpiffArena scripts see


@dataclass
class ScriptContext:
    """What SpiffArena's script functions (get_current_user(), get_env(), ...) answer, and where secrets come from."""

    user: str | None = None                    # --user, else $BPMN_RUNNER_USER
    env: str = "local"                         # get_env(); [tool.bpmn-runner.spiffarena] env
    frontend_url: str = "http://localhost:7001"
    secrets_file: str | None = None            # a JSON object of secrets; else $BPMN_RUNNER_SECRET_<NAME>


@dataclass(frozen=True)
class Simulated:
    """One thing a simulation assumed instead of running it as drawn."""

    element_id: str
    assumed: str

    def to_json(self) -> dict[str, str]:
        return {"element_id": self.element_id, "assumed": self.assumed}


@dataclass(frozen=True)
class Binding:
    """How a service-like task names its handler, read from one of the four dialects."""

    name: str                     # topic / job type / operator id / class / expression
    dialect: str                  # camunda7 | camunda8 | spiff | bpmn
    kind: str = "topic"           # topic | class | expression | delegateExpression | type | operator | implementation
    retries: int | None = None
    retry_cycle: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    result_variable: str | None = None
    arguments: tuple[str, ...] = ()   # Camunda 7 `${bean.method(a, b)}`: the argument expressions


@dataclass
class Mapping:
    """One input or output mapping: `target` receives the value of `source` (an expression or literal)."""

    target: str
    source: str


@dataclass
class IoMappings:
    """The input and output mappings of one task, in the order the diagram lists them."""

    inputs: list[Mapping] = field(default_factory=list)
    outputs: list[Mapping] = field(default_factory=list)


@dataclass(frozen=True)
class TaskReader:
    """How to read a task's handler binding, mappings, SpiffArena parameters, listeners, scope and assignment from
    its XML element, and a DMN file's decisions: the loader hands one to the spec builder, which must not know the
    dialects itself."""

    binding: Callable[[Any], Binding | None]
    io_mappings: Callable[[Any], IoMappings]
    spiff_parameters: Callable[[Any], dict[str, str]]
    connector: Callable[[Any], dict[str, Any] | None]
    #: Camunda execution and task listeners of an element (or of a sequence flow, or a process)
    listeners: Callable[[Any], list[dict[str, Any]]]
    #: the variable scope of an element: input/output mappings and, for call activities, what is passed
    scope: Callable[[Any], dict[str, Any] | None]
    #: a user task's assignee, candidates, dates and priority (expressions evaluated when the task is created)
    assignment: Callable[[Any], dict[str, str]]
    #: a parsed DMN root element and its file name to the decision model's definitions (`dmn.Definitions`)
    decisions: Callable[[Any, str], Any]
    #: the same from a DMN file's contents (parsed hardened), for a spec restored from JSON
    decisions_from_bytes: Callable[[bytes, str], Any]


@dataclass
class ServiceCall:
    """Everything a handler is given for one call of one task."""

    params: dict[str, Any]
    data: dict[str, Any]
    headers: dict[str, str]
    instance_id: str
    element_id: str
    idempotency_key: str
    topic: str = ""
    element_name: str = ""
    attempt: int = 1
    process_id: str = ""
    #: the evaluated arguments of a Camunda 7 method expression: `${calc.add(a, b)}` gives [a, b]
    args: list[Any] = field(default_factory=list)
    #: the business key of the process instance the task runs in (a called process: the one camunda:in passed)
    business_key: str | None = None


@dataclass
class ListenerCall:
    """What a listener handler is given: Camunda's execution or task listener event at one element.

    Return a dict of variables to set (or None); raise BpmnError or any exception as a service handler would."""

    event: str                    # start | end | take | create | assignment | complete | delete
    listener: str                 # the handler name: class, delegate expression, expression or job type
    scope: str                    # execution | task
    data: dict[str, Any]
    instance_id: str
    element_id: str
    element_name: str = ""
    process_id: str = ""
    args: list[Any] = field(default_factory=list)
    task: dict[str, Any] = field(default_factory=dict)   # task listeners: assignee, candidate groups, ...
    business_key: str | None = None


@dataclass
class UserTaskField:
    """One field of a user task form."""

    id: str
    label: str
    type: str = "string"
    default: Any = None
    required: bool = False
    options: list[str] = field(default_factory=list)


@dataclass
class WaitingTask:
    """A task an instance waits at: a user task, a timer, a message or a signal."""

    element_id: str
    name: str
    kind: str                     # user | timer | message | signal | other
    task_id: str = ""
    fields: list[UserTaskField] = field(default_factory=list)
    detail: str = ""              # message name, timer due time, ...
    #: user tasks: assignee, candidateUsers, candidateGroups, dueDate, followUpDate, priority, formKey (evaluated)
    assignment: dict[str, Any] = field(default_factory=dict)
    instructions: str = ""        # SpiffArena's instructionsForEndUser of a user task
    form_schema: dict[str, Any] | None = None  # a SpiffArena user task's JSON schema (the data must fit it)


@dataclass
class HistoryEvent:
    """One element event in a run, in the order it happened."""

    element_id: str
    event: str                    # entered | completed | failed | cancelled
    at: float
    element_type: str = ""
    name: str = ""
    process_id: str = ""
    data_changes: dict[str, Any] = field(default_factory=dict)
    detail: str = ""


@dataclass
class RunResult:
    """What `run` returns: the outcome of running an instance until it ends or waits."""

    status: RunStatus
    instance_id: str
    process_id: str
    data: dict[str, Any]
    path: list[str]
    waiting: list[WaitingTask] = field(default_factory=list)
    error: str | None = None
    flows: list[str] = field(default_factory=list)
    history: list[HistoryEvent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    messages_sent: list[dict[str, Any]] = field(default_factory=list)
    messages_received: list[dict[str, Any]] = field(default_factory=list)
    simulated: list[Simulated] = field(default_factory=list)
    choices: list[dict[str, str]] = field(default_factory=list)   # gateway decisions of a simulation
    simulation: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "instance_id": self.instance_id,
            "process_id": self.process_id,
            "data": self.data,
            "path": self.path,
            "waiting": [w.element_id for w in self.waiting],
        }
        if self.error is not None:
            out["error"] = self.error
        if self.simulation:
            out["simulated"] = [s.to_json() for s in self.simulated]
            out["choices"] = list(self.choices)
        return out

    def to_view(self) -> dict[str, Any]:
        """The JSON-ready dict the instance report renders."""
        return {
            "instance_id": self.instance_id, "process_id": self.process_id, "status": self.status,
            "business_key": None, "data": self.data, "error": self.error, "path": list(self.path),
            "flows": list(self.flows),
            "waiting": [{"element_id": w.element_id, "name": w.name, "kind": w.kind, "detail": w.detail}
                        for w in self.waiting],
            "incidents": [],
            "history": [{"element_id": h.element_id, "event": h.event, "at": h.at, "name": h.name,
                         "element_type": h.element_type, "data_changes": h.data_changes, "detail": h.detail}
                        for h in self.history],
            "messages_sent": list(self.messages_sent), "messages_received": list(self.messages_received),
        }

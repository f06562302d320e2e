"""Our SpiffWorkflow parser: all four dialects, no recursion limit, timers as modelers write them, link events."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.event_parsers import SendTaskParser
from SpiffWorkflow.bpmn.specs.data_spec import BpmnDataStoreSpecification
from SpiffWorkflow.bpmn.specs.defaults import EndEvent as DefaultEndEvent
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaEndEventParser, CamundaIntermediateCatchEventParser, CamundaIntermediateThrowEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser as CamundaBusinessRuleTaskParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask as CamundaBusinessRuleTask
from SpiffWorkflow.bpmn.specs.defaults import SendTask as DefaultSendTask
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffEndEventParser, SpiffIntermediateCatchEventParser, SpiffIntermediateThrowEventParser, SpiffSendTaskParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser as SpiffBusinessRuleTaskParser
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask as SpiffBusinessRuleTask
from SpiffWorkflow.spiff.specs.defaults import SendTask as SpiffSendTask

from ..models import TaskReader
from ..namespaces import NSMAP as DIALECT_NSMAP
from . import compensation_parse
from . import decisions as runner_decisions
from . import implicit_flow
from .implicit_flow import ImplicitFlowMixin
from .specs import PassThroughTask, ResultVariableBusinessRuleTask, ServiceTask, SpiffPassThroughTask, SpiffServiceTask
from .event_parsers import (LINK_XPATH, TimerTextMixin, find_link_catch, make_catch_parser,
                            make_end_event_parser, make_start_event_parser, make_throw_parser)

implicit_flow.apply()


def _io(reader: TaskReader, node: Any) -> tuple[list[list[str]], list[list[str]]]:
    io = reader.io_mappings(node)
    return [[m.target, m.source] for m in io.inputs], [[m.target, m.source] for m in io.outputs]


def make_service_parser(base: type, service_class: type, reader: TaskReader) -> type:
    class RunnerServiceTaskParser(base):
        """Service tasks in every dialect become handler-bound specs (an unbound one is reported by validate)."""

        def create_task(self) -> Any:
            binding = reader.binding(self.node)
            inputs, outputs = _io(reader, self.node)
            kwargs = dict(self.bpmn_attributes)
            if service_class is SpiffServiceTask:
                kwargs.update(_spiff_scripts(self))
            raw = _binding_dict(binding)
            connector = reader.connector(self.node)
            if raw is not None and connector is not None and binding.kind == "connector":
                raw["connector"] = connector
            return service_class(self.spec, self.bpmn_id, binding=raw, inputs_mapping=inputs,
                                 outputs_mapping=outputs, spiff_params=reader.spiff_parameters(self.node), **kwargs)
    return RunnerServiceTaskParser


def _spiff_scripts(parser: TaskParser) -> dict[str, Any]:
    extensions = parser.parse_extensions() if hasattr(parser, "parse_extensions") else {}
    return {"prescript": extensions.get("preScript"), "postscript": extensions.get("postScript")}


def _binding_dict(binding: Any) -> dict[str, Any] | None:
    if binding is None:
        return None
    return {"name": binding.name, "dialect": binding.dialect, "kind": binding.kind, "retries": binding.retries,
            "retry_cycle": binding.retry_cycle, "headers": dict(binding.headers),
            "result_variable": binding.result_variable, "arguments": list(binding.arguments)}


def make_send_parser(base: type, service_class: type, send_class: type, reader: TaskReader) -> type:
    service_parser = make_service_parser(base, service_class, reader)

    class RunnerSendTaskParser(base):
        """A send task with a handler binding runs the handler; without one it throws its message."""

        def create_task(self) -> Any:
            if reader.binding(self.node) is not None:
                return service_parser.create_task(self)
            self.spec_class = send_class
            return super().create_task()
    return RunnerSendTaskParser


def _decision_ref(node: Any) -> str | None:
    ref = node.get(f"{{{DIALECT_NSMAP['camunda']}}}decisionRef")
    if ref:
        return ref
    zeebe = node.xpath("./bpmn:extensionElements/zeebe:calledDecision", namespaces=DIALECT_NSMAP)
    if zeebe and zeebe[0].get("decisionId"):
        return zeebe[0].get("decisionId")
    spiff = node.xpath("./bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=DIALECT_NSMAP)
    if spiff and (spiff[0].text or "").strip():
        return spiff[0].text.strip()
    return None


def _zeebe_result_variable(node: Any) -> str | None:
    called = node.xpath("./bpmn:extensionElements/zeebe:calledDecision", namespaces=DIALECT_NSMAP)
    return (called[0].get("resultVariable") or None) if called else None


def _decision_binding(node: Any) -> dict[str, Any]:
    """How a business rule task names its decision and stores the result (Camunda 7 attributes, Camunda 8
    zeebe:calledDecision); the version binding is read and kept (a file set has one version of each decision)."""
    camunda = DIALECT_NSMAP["camunda"]
    called = node.xpath("./bpmn:extensionElements/zeebe:calledDecision", namespaces=DIALECT_NSMAP)
    if called:
        return {"dialect": "camunda8", "decision_ref": called[0].get("decisionId"),
                "result_variable": called[0].get("resultVariable") or None}
    return {"dialect": "camunda7" if node.get(f"{{{camunda}}}decisionRef") else "bpmn",
            "decision_ref": node.get(f"{{{camunda}}}decisionRef"),
            "result_variable": node.get(f"{{{camunda}}}resultVariable") or None,
            "map_decision_result": node.get(f"{{{camunda}}}mapDecisionResult") or None,
            "decision_ref_binding": node.get(f"{{{camunda}}}decisionRefBinding") or None,
            "decision_ref_version": node.get(f"{{{camunda}}}decisionRefVersion") or None,
            "version_tag": node.get(f"{{{camunda}}}decisionRefVersionTag") or None}


def make_business_rule_parser(base: type, service_class: type, rule_class: type, reader: TaskReader) -> type:
    service_parser = make_service_parser(base, service_class, reader)

    class RunnerBusinessRuleTaskParser(base):
        """A business rule task runs a handler when it has a binding, else evaluates its DMN decision."""

        def create_task(self) -> Any:
            if reader.binding(self.node) is not None:
                return service_parser.create_task(self)
            ref = _decision_ref(self.node)
            if ref is None:
                raise ValidationException(
                    "business rule task names no decision (camunda:decisionRef, zeebe:calledDecision or "
                    "spiffworkflow:calledDecisionId) and no handler binding", node=self.node, file_name=self.filename)
            kwargs = dict(self.bpmn_attributes)
            parser = self.process_parser.parser
            if rule_class is not SpiffBusinessRuleTask and not runner_decisions.is_python_decision(parser, ref):
                engine = runner_decisions.engine_for(self.process_parser.parser, ref)
                if engine is None:
                    self.process_parser.parser.get_engine(ref, self.node)  # raises: no such decision
                return runner_decisions.DecisionTask(self.spec, self.bpmn_id, engine=engine,
                                                     decision=_decision_binding(self.node), **kwargs)
            cls = rule_class
            if rule_class is SpiffBusinessRuleTask:
                kwargs.update(_spiff_scripts(self))
            elif _zeebe_result_variable(self.node):
                cls = ResultVariableBusinessRuleTask
            return cls(self.spec, self.bpmn_id, dmnEngine=self.process_parser.parser.get_engine(ref, self.node),
                       **kwargs)

        def parse_extensions(self, node: Any = None) -> dict[str, Any]:
            extensions = super().parse_extensions(node) if hasattr(super(), "parse_extensions") else {}
            variable = _zeebe_result_variable(self.node)
            if variable:
                extensions = {**extensions, "resultVariable": variable}
            return extensions

        @staticmethod
        def get_decision_ref(node: Any) -> str | None:
            ref = None if reader.binding(node) is not None else _decision_ref(node)
            # a decision chosen at run time (`=expr` in Camunda 8, `${expr}` in Camunda 7) is no load dependency
            return None if ref is not None and runner_decisions.is_dynamic_ref(ref) else ref
    return RunnerBusinessRuleTaskParser


def make_task_parser(base: type, pass_through: type) -> type:
    class RunnerPlainTaskParser(base):
        """A plain `bpmn:task` passes straight through, as in Camunda."""

        def create_task(self) -> Any:
            self.spec_class = pass_through
            return super().create_task()
    return RunnerPlainTaskParser


_THROW_TAG = full_tag("intermediateThrowEvent")
_PARSED_LATER = (full_tag("startEvent"), full_tag("boundaryEvent"))  # SpiffWorkflow parses these itself


def flow_successors(parser: ProcessParser, node: Any) -> list[Any]:
    """Nodes reached from `node`: sequence-flow targets, attached boundary events, link catches."""
    out = []
    for flow in parser.get_outgoing_sequence_flows(node.get("id")):
        target = parser.get_node_by_id(flow.get("targetRef"))
        if target is not None:
            out.append(target)
    out.extend(parser.get_boundary_events(node.get("id")))
    if node.tag == _THROW_TAG:
        for link in node.xpath(LINK_XPATH, namespaces=DIALECT_NSMAP):
            catch = find_link_catch(node, link)
            if catch is not None:
                out.append(catch)
    return out


class SinksFirstMixin:
    """Parse nodes in post-order before SpiffWorkflow's recursive walk, so every recursion hits its cache."""

    def add_tasks(self) -> None:
        starts = self.entry_nodes()  # type: ignore[attr-defined]
        order: list[Any] = []
        seen: set[str] = set()
        for start in starts:
            stack: list[tuple[Any, int, list[Any]]] = [(start, 0, flow_successors(self, start))]
            seen.add(start.get("id"))
            while stack:
                node, index, successors = stack.pop()
                if index < len(successors):
                    stack.append((node, index + 1, successors))
                    nxt = successors[index]
                    if nxt.get("id") not in seen:
                        seen.add(nxt.get("id"))
                        stack.append((nxt, 0, flow_successors(self, nxt)))
                else:
                    order.append(node)
        for node in order:
            if node.tag in _PARSED_LATER:
                continue
            if self.parser._get_parser_class(node.tag)[0] is None:
                continue
            self.parse_node(node)
        super().add_tasks()


class RunnerProcessParser(compensation_parse.CompensationScopeMixin, SinksFirstMixin, ImplicitFlowMixin,
                          ProcessParser):
    pass


class RunnerSpiffProcessParser(compensation_parse.CompensationScopeMixin, SinksFirstMixin, ImplicitFlowMixin,
                               SpiffProcessParser):
    pass


def _build_overrides(family: str, reader: TaskReader) -> dict[str, tuple[type, type]]:
    if family == "spiff":
        base: type = SpiffBpmnParser
        service_class, pass_through = SpiffServiceTask, SpiffPassThroughTask
        end, catch, throw, send = SpiffEndEventParser, SpiffIntermediateCatchEventParser, \
            SpiffIntermediateThrowEventParser, SpiffSendTaskParser
        rule_base, rule_class, send_class = SpiffBusinessRuleTaskParser, SpiffBusinessRuleTask, SpiffSendTask
        task_base, _ = base.OVERRIDE_PARSER_CLASSES[full_tag("task")]
    else:
        base = CamundaParser
        service_class, pass_through = ServiceTask, PassThroughTask
        end, catch, throw, send = CamundaEndEventParser, CamundaIntermediateCatchEventParser, \
            CamundaIntermediateThrowEventParser, SendTaskParser
        rule_base, rule_class, send_class = CamundaBusinessRuleTaskParser, CamundaBusinessRuleTask, DefaultSendTask
        task_base, _ = base.OVERRIDE_PARSER_CLASSES[full_tag("task")]
    overrides = dict(base.OVERRIDE_PARSER_CLASSES)
    end_spec = overrides.get(full_tag("endEvent"), (None, DefaultEndEvent))[1]
    catch_spec = overrides[full_tag("intermediateCatchEvent")][1]
    throw_spec = overrides[full_tag("intermediateThrowEvent")][1]
    overrides.update({
        full_tag("serviceTask"): (make_service_parser(task_base, service_class, reader), service_class),
        full_tag("sendTask"): (make_send_parser(send, service_class, send_class, reader), send_class),
        full_tag("businessRuleTask"): (make_business_rule_parser(rule_base, service_class, rule_class, reader),
                                        rule_class),
        full_tag("task"): (make_task_parser(task_base, pass_through), pass_through),
        full_tag("endEvent"): (make_end_event_parser(end), end_spec),
        full_tag("intermediateCatchEvent"): (make_catch_parser(catch, pass_through), catch_spec),
        full_tag("intermediateThrowEvent"): (make_throw_parser(throw, pass_through), throw_spec),
    })
    if family != "spiff":
        # Camunda 7 and Zeebe treat a manual task as a pass-through; SpiffArena shows it to a person.
        overrides[full_tag("manualTask")] = (make_task_parser(task_base, pass_through), pass_through)
        # SpiffWorkflow's Camunda script task parser skips Camunda's multi-instance reading (camunda:collection)
        script_tag = full_tag("scriptTask")
        script_parser, script_spec = overrides.get(script_tag) or base.PARSER_CLASSES[script_tag]
        overrides[script_tag] = (type("RunnerCamundaScriptTaskParser", (script_parser,), {
            "_add_multiinstance_task": CamundaTaskParser._add_multiinstance_task}), script_spec)
    start_parser, start_spec = overrides.get(full_tag("startEvent")) or base.PARSER_CLASSES[full_tag("startEvent")]
    overrides[full_tag("startEvent")] = (make_start_event_parser(start_parser), start_spec)
    boundary_parser, boundary_spec = overrides.get(full_tag("boundaryEvent")) or \
        base.PARSER_CLASSES[full_tag("boundaryEvent")]
    overrides[full_tag("boundaryEvent")] = (
        type(f"Runner{boundary_parser.__name__}", (TimerTextMixin, boundary_parser), {}), boundary_spec)
    return overrides


class DocumentationDataStore(BpmnDataStoreSpecification):
    """A data store drawn for documentation: reading and writing it changes nothing, as in Camunda."""

    def get(self, my_task: Any) -> None:
        return None

    def set(self, my_task: Any) -> None:
        return None


def _add_data_stores(self: Any, bpmn: Any) -> None:
    """Data stores without a registered implementation are documentation, not a reason to refuse the file."""
    for data_store in bpmn.xpath(".//bpmn:dataStore", namespaces=self.namespaces):
        store_id = data_store.get("id")
        if not store_id:
            continue
        cls = self.DATA_STORE_CLASSES.get(data_store.get("name") or "", DocumentationDataStore)
        self.data_stores[store_id] = cls(store_id, data_store.get("name") or store_id,
                                         data_store.get("capacity"), data_store.get("isUnlimited"))


def make_parser_class(family: str, reader: TaskReader) -> type:
    """The parser class for a family: 'spiff' (SpiffArena files) or 'camunda' (Camunda 7, Camunda 8 and plain BPMN)."""
    base = SpiffBpmnParser if family == "spiff" else CamundaParser
    attrs = {
        "OVERRIDE_PARSER_CLASSES": _build_overrides(family, reader),
        "PROCESS_PARSER_CLASS": RunnerSpiffProcessParser if family == "spiff" else RunnerProcessParser,
        "_add_data_stores": _add_data_stores,
        "create_parser": compensation_parse.create_parser_once(base),
        "runner_reader": reader,  # scopes.py and decisions.py read listeners, scopes and DMN through it
    }
    if family != "spiff":
        attrs["add_dmn_xml"] = runner_decisions.add_dmn_xml
    return type(f"Runner{base.__name__}", (base,), attrs)


_PARSER_CLASSES: dict[tuple[str, TaskReader], type] = {}


def new_parser(family: str, reader: TaskReader) -> Any:
    """A parser for one family that reads tasks with `reader` (the loader's dialect readers)."""
    key = (family, reader)
    if key not in _PARSER_CLASSES:
        _PARSER_CLASSES[key] = make_parser_class(family, reader)
    return _PARSER_CLASSES[key]()


def family_for(dialects: set[str]) -> str:
    return "spiff" if "spiff" in dialects else "camunda"

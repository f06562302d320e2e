"""Modeler and code in step: element templates from handlers, handler stubs from diagrams, drift both ways."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from lxml import etree
from typer.testing import CliRunner

from bpmn_runner import Engine, HandlerRegistry, ServiceCall, handler, load
from bpmn_runner.cli import app
from bpmn_runner.loader.dialects import read_binding
from bpmn_runner.lint import drift
from bpmn_runner.modeler.drift import (HANDLER_INPUT_MISSING, HANDLER_NOT_REGISTERED, HANDLER_UNUSED,
                                       UNBOUND_SERVICE_TASK, find_drift, provided_inputs)
from bpmn_runner.modeler.scaffold import scaffold
from bpmn_runner.modeler.templates import element_templates
from bpmn_runner.definitions import BoundTask

from .scenario import definitions_xml, write
from .test_elements import END, START, chain, flow

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
EXAMPLE_HANDLERS = [str(PROCESSES / f"{name}_handlers.py") for name in ("order", "loan", "expense", "order_events")]
SCHEMAS = Path(__file__).parent / "data" / "element-templates-schema"
# The schema package versions checked against; tests/data/element-templates-schema/README.md says where from.
SCHEMA_VERSIONS = {"camunda7": ("@camunda/element-templates-json-schema", "0.22.1"),
                   "camunda8": ("@camunda/zeebe-element-templates-json-schema", "0.46.0")}

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def schema_validator(platform: str) -> Draft7Validator:
    """The published schema, offline. ECMAScript `(?<name>` groups are spelled `(?P<name>` for Python's `re`."""
    text = (SCHEMAS / platform / "schema.json").read_text(encoding="utf-8")
    schema = json.loads(re.sub(r"\(\?<(?![=!])", "(?P<", text))
    Draft7Validator.check_schema(schema)  # the schema itself is valid draft-07, regexes included
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_errors(validator: Draft7Validator, template: Any) -> list[str]:
    def leaves(error):
        if not error.context:
            yield error
        for child in error.context:
            yield from leaves(child)
    return [f"{list(leaf.absolute_path)}: {leaf.message[:160]}"
            for error in validator.iter_errors(template) for leaf in leaves(error)]


def example_registry() -> HandlerRegistry:
    return HandlerRegistry.from_specs(EXAMPLE_HANDLERS)


def import_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"scaffold_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- typed handler declarations ----------------------------------------------------------------

def test_handler_declares_label_and_typed_inputs_with_names_or_python_types() -> None:
    @handler("erp.check", label="Check stock", inputs={"sku": str, "quantity": "int"}, outputs=["inStock"])
    def check(call: ServiceCall) -> dict:
        """Look the SKU up.

        More detail."""
        return {}

    info = check.__bpmn_runner_handler__[0]
    assert info.label == "Check stock" and info.description == "Look the SKU up."
    assert info.inputs == {"sku": "string", "quantity": "integer"} and info.outputs == {"inStock": "any"}


def test_an_unknown_declared_type_fails_when_the_module_is_imported() -> None:
    with pytest.raises(TypeError, match=r"input 'qty' has type 'integr'.*integer"):
        handler("erp.check", inputs={"qty": "integr"})


# --- element templates -------------------------------------------------------------------------

@pytest.mark.parametrize("platform", ["camunda7", "camunda8"])
def test_templates_for_the_example_handlers_pass_the_published_schema(platform: str) -> None:
    validator = schema_validator(platform)
    templates = element_templates(example_registry(), platform)
    assert len(templates) == 18
    for file_name, template in templates:
        assert schema_errors(validator, template) == [], file_name
    # the whole folder as one array (another form Camunda Modeler accepts) passes too
    assert schema_errors(validator, [t for _, t in templates]) == []


@pytest.mark.parametrize("platform", ["camunda7", "camunda8"])
def test_the_schema_check_rejects_a_template_with_the_other_platforms_binding(platform: str) -> None:
    other = "camunda8" if platform == "camunda7" else "camunda7"
    _, wrong = element_templates(example_registry(), other)[0]
    broken = dict(wrong, properties=wrong["properties"] + [{"type": "Hidden", "value": "x",
                                                             "binding": {"type": "no-such-binding"}}])
    assert schema_errors(schema_validator(platform), broken)


def _apply(template: dict[str, Any], platform: str) -> etree._Element:
    """Apply a template to an empty service task the way Camunda Modeler writes the XML."""
    xml = definitions_xml('<bpmn:serviceTask id="task" name="Templated"/>')
    task = etree.fromstring(xml.encode()).find(".//{http://www.omg.org/spec/BPMN/20100524/MODEL}serviceTask")
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn",
          "zeebe": "http://camunda.org/schema/zeebe/1.0"}
    ext = etree.SubElement(task, f"{{{ns['bpmn']}}}extensionElements")
    io = None
    for prop in template["properties"]:
        binding, value = prop["binding"], prop.get("value", "")
        if binding["type"] == "property":
            prefix, local = binding["name"].split(":")
            task.set(f"{{{ns[prefix]}}}{local}", value)
        elif binding["type"] == "zeebe:taskDefinition":
            node = ext.find(f"{{{ns['zeebe']}}}taskDefinition")
            node = node if node is not None else etree.SubElement(ext, f"{{{ns['zeebe']}}}taskDefinition")
            node.set(binding["property"], value)
        elif binding["type"] == "zeebe:input":
            io = io if io is not None else etree.SubElement(ext, f"{{{ns['zeebe']}}}ioMapping")
            etree.SubElement(io, f"{{{ns['zeebe']}}}input", source=value, target=binding["name"])
        elif binding["type"] == "camunda:inputParameter":
            io = io if io is not None else etree.SubElement(ext, f"{{{ns['camunda']}}}inputOutput")
            etree.SubElement(io, f"{{{ns['camunda']}}}inputParameter", name=binding["name"]).text = value
        else:
            raise AssertionError(f"unexpected binding {binding} for {platform}")
    return task


@pytest.mark.parametrize("platform,dialect", [("camunda7", "camunda7"), ("camunda8", "camunda8")])
def test_a_task_made_from_a_template_binds_to_its_handler_and_gets_every_declared_input(
        platform: str, dialect: str) -> None:
    registry = example_registry()
    for _, template in element_templates(registry, platform):
        task = _apply(template, platform)
        binding = read_binding(task)
        assert binding is not None and binding.dialect == dialect and binding.name in registry
        declared = registry.get(binding.name).info.inputs
        assert set(declared) <= provided_inputs(BoundTask(None, task, binding))  # type: ignore[arg-type]
        assert template["name"] == (registry.get(binding.name).info.label or template["name"])


def test_element_templates_command_writes_one_file_per_handler(tmp_path: Path) -> None:
    out = tmp_path / ".camunda" / "element-templates"
    result = invoke("element-templates", "--handlers", EXAMPLE_HANDLERS[0], "--platform", "camunda7", "-o", str(out))
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 11 and "payment.charge.camunda7.json" in files
    charge = json.loads((out / "payment.charge.camunda7.json").read_text(encoding="utf-8"))
    assert charge["name"] == "Charge payment" and charge["appliesTo"] == ["bpmn:ServiceTask"]
    values = {p["binding"].get("name"): p.get("value") for p in charge["properties"]}
    assert values["camunda:type"] == "external" and values["camunda:topic"] == "payment.charge"
    assert {"amount", "card", "currency"} <= set(values)
    assert schema_errors(schema_validator("camunda7"), charge) == []
    assert ".camunda/element-templates" in result.output


def test_element_templates_command_names_the_platforms_and_needs_handlers(tmp_path: Path) -> None:
    result = invoke("element-templates", "--handlers", EXAMPLE_HANDLERS[0], "--platform", "zeebe", "-o",
                    str(tmp_path))
    assert result.exit_code == 2 and "camunda7 or camunda8" in result.output
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n", encoding="utf-8")
    result = invoke("element-templates", "--handlers", str(empty), "--platform", "camunda8", "-o", str(tmp_path))
    assert result.exit_code == 2 and "no handlers registered" in result.output


# --- scaffold ----------------------------------------------------------------------------------

def _unbound_c7_diagram(tmp_path: Path) -> Path:
    body = (START
            + '<bpmn:serviceTask id="Check" name="Check stock" camunda:type="external" camunda:topic="erp.check">'
              '<bpmn:extensionElements><camunda:inputOutput>'
              '<camunda:inputParameter name="sku">${order.sku}</camunda:inputParameter>'
              '<camunda:inputParameter name="warehouse">MAIN</camunda:inputParameter>'
              '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>'
            + '<bpmn:exclusiveGateway id="gw" default="f_no"/>'
            + '<bpmn:serviceTask id="Charge" name="Charge card" camunda:delegateExpression="${chargeDelegate}"/>'
            + '<bpmn:serviceTask id="Back" name="Back-order" camunda:class="com.acme.BackOrder"/>'
            + '<bpmn:serviceTask id="Nothing" name="Ask someone"/>'
            + END + '<bpmn:endEvent id="end2"/>'
            + chain("start", "Check", "gw") + flow("f_yes", "gw", "Charge", "${inStock &amp;&amp; ok}")
            + flow("f_no", "gw", "Back") + chain("Charge", "Nothing", "end") + chain("Back", "end2"))
    return write(tmp_path, body, "unbound.bpmn")


def test_scaffold_writes_a_module_whose_stubs_handlers_lists(tmp_path: Path) -> None:
    diagram = _unbound_c7_diagram(tmp_path)
    out = tmp_path / "stubs" / "new_handlers.py"
    result = invoke("scaffold", str(diagram), str(PROCESSES / "loan_approval_c8.bpmn"),
                    str(PROCESSES / "expense_approval_spiff.bpmn"), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "'Nothing'" in result.output and "names no handler" in result.output  # the task with no binding
    listed = invoke("handlers", "--handlers", str(out))
    assert listed.exit_code == 0, listed.output
    expected = {"erp.check", "chargeDelegate", "com.acme.BackOrder", "credit.score", "loan.approve",
                "loan.reject", "finance/policy_check", "finance/pay_out"}
    assert {line.split()[0] for line in listed.output.splitlines()} == expected


def test_each_stub_documents_its_task_and_raises_naming_it(tmp_path: Path) -> None:
    diagram = _unbound_c7_diagram(tmp_path)
    out = tmp_path / "new_handlers.py"
    assert invoke("scaffold", str(diagram), str(PROCESSES / "expense_approval_spiff.bpmn"),
                  str(PROCESSES / "loan_approval_c8.bpmn"), "-o", str(out)).exit_code == 0
    module = import_file(out)
    registry = HandlerRegistry()
    registry.add_module(module)

    check = registry.get("erp.check")
    doc = check.func.__doc__
    assert "Check" in doc and "Check stock" in doc and "unbound.bpmn:" in doc
    assert "sku (any) <- ${order.sku}" in doc and "warehouse (string) <- MAIN" in doc
    assert "inStock" in doc and "ok" in doc                       # read by the gateway condition after it
    assert check.info.inputs == {"sku": "any", "warehouse": "string"}
    assert set(check.info.outputs) == {"inStock", "ok"} and check.info.label == "Check stock"

    assert set(registry.get("credit.score").info.outputs) == {"score"}           # its own output mapping reads it
    policy = registry.get("finance/policy_check")
    assert policy.info.inputs == {"total": "number", "category": "string"}
    assert set(policy.info.outputs) == {"approved"} and "resultVariable 'policy'" in policy.func.__doc__
    assert "delegateExpression" in registry.get("chargeDelegate").func.__doc__

    call = ServiceCall(params={}, data={}, headers={}, instance_id="i", element_id="Check", idempotency_key="k")
    for name, registered in registry.items():
        with pytest.raises(NotImplementedError) as raised:
            registered.func(call)
        assert str(raised.value).startswith(f"{name}: implement the handler for task '")
    message = r"^erp\.check: implement the handler for task 'Check stock' \(Check\)$"
    with pytest.raises(NotImplementedError, match=message):
        check.func(call)


def test_running_a_diagram_on_its_stubs_fails_at_the_stub_naming_the_task(tmp_path: Path) -> None:
    out = tmp_path / "loan_stubs.py"
    assert invoke("scaffold", str(PROCESSES / "loan_approval_c8.bpmn"), "-o", str(out)).exit_code == 0
    registry = HandlerRegistry.from_specs([str(out)])
    result = Engine(registry).start(load([PROCESSES / "loan_approval_c8.bpmn"]), None,
                                    {"applicant": {"income": 1}}).run()
    assert result.status == "failed"
    assert "implement the handler for task 'Score applicant' (Activity_ScoreApplicant)" in result.error


def test_scaffold_skips_tasks_whose_handlers_exist_and_writes_nothing_when_none_are_missing(tmp_path: Path) -> None:
    out = tmp_path / "more.py"
    result = invoke("scaffold", str(PROCESSES), "-o", str(out), *sum((["--handlers", h] for h in EXAMPLE_HANDLERS), []))
    assert result.exit_code == 0 and "nothing to scaffold" in result.output and not out.exists()
    result = invoke("scaffold", str(PROCESSES), "-o", str(out), "--handlers", EXAMPLE_HANDLERS[0])
    assert result.exit_code == 0
    names = {line.split()[0] for line in invoke("handlers", "--handlers", str(out)).output.splitlines()}
    assert names == {"credit.score", "loan.approve", "loan.reject", "finance/policy_check", "finance/pay_out",
                     "stock.reserve", "shipping.book"}


def test_scaffold_never_overwrites_and_wants_a_py_file(tmp_path: Path) -> None:
    out = tmp_path / "handlers.py"
    out.write_text("# my real handlers\n", encoding="utf-8")
    result = invoke("scaffold", str(PROCESSES / "loan_approval_c8.bpmn"), "-o", str(out))
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text(encoding="utf-8") == "# my real handlers\n"
    assert invoke("scaffold", str(PROCESSES / "loan_approval_c8.bpmn"), "-o", str(out), "--force").exit_code == 0
    result = invoke("scaffold", str(PROCESSES / "loan_approval_c8.bpmn"), "-o", str(tmp_path / "stubs.txt"))
    assert result.exit_code == 2 and ".py" in result.output


def test_a_hostile_task_name_cannot_break_or_inject_into_the_module(tmp_path: Path) -> None:
    name = 'Pay """; import os; os.system("x") #\\ \\N{bad} \'\'\' end"'
    escaped = name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    body = (START + f'<bpmn:serviceTask id="t" name="{escaped}&#10;next line" camunda:type="external" '
            f'camunda:topic="pay&quot;)&#10;import os #"/>' + END + chain("start", "t", "end"))
    diagram = write(tmp_path, body)
    generated = scaffold([diagram])
    out = tmp_path / "hostile.py"
    out.write_text(generated.source, encoding="utf-8")
    module = import_file(out)
    registry = HandlerRegistry()
    registry.add_module(module)
    topic = 'pay")\nimport os #'
    assert registry.names() == [topic]  # the name the diagram binds to, byte for byte
    assert name in registry.get(topic).func.__doc__
    assert "os" not in vars(module)
    with pytest.raises(NotImplementedError, match="implement the handler for task"):
        registry.get(topic).func(None)


def test_scaffold_reports_a_broken_diagram_as_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<bpmn:definitions", encoding="utf-8")
    result = invoke("scaffold", str(broken), "-o", str(tmp_path / "x.py"))
    assert result.exit_code == 3 and "broken.bpmn" in result.output and "Traceback" not in result.output


# --- drift -------------------------------------------------------------------------------------

def test_the_examples_and_their_handlers_do_not_drift() -> None:
    findings = find_drift(load([PROCESSES]), example_registry())
    assert findings == []


def test_drift_reports_tasks_without_handlers_and_handlers_no_diagram_uses() -> None:
    registry = HandlerRegistry.from_specs([EXAMPLE_HANDLERS[0], EXAMPLE_HANDLERS[2]])  # order + expense
    findings = find_drift(load([PROCESSES / "loan_approval_c8.bpmn", PROCESSES / "order_fulfillment.bpmn"]),
                          registry)
    missing = [f for f in findings if f.rule_id == HANDLER_NOT_REGISTERED]
    assert {re.search(r"'([^']+)'", f.message).group(1) for f in missing} == {
        "Activity_ScoreApplicant", "Activity_ApproveLoan", "Activity_RejectLoan"}
    assert all(f.severity == "error" and f.file.endswith("loan_approval_c8.bpmn") and f.line > 1 for f in missing)
    unused = [f for f in findings if f.rule_id == HANDLER_UNUSED]
    assert [(f.severity, Path(f.file).name) for f in unused] == [("info", "expense_handlers.py")] * 2
    assert "'finance/pay_out'" in unused[0].message and "'finance/policy_check'" in unused[1].message
    assert unused[0].line > 1  # the line of its @handler
    assert str(missing[0]).startswith(f"{missing[0].file}:{missing[0].line}: error: ")
    assert str(missing[0]).endswith("[handler-not-registered]")


def test_drift_reports_a_declared_input_the_diagram_does_not_map(tmp_path: Path) -> None:
    text = (PROCESSES / "order_fulfillment.bpmn").read_text(encoding="utf-8")
    dropped = '<camunda:inputParameter name="warehouse">MAIN</camunda:inputParameter>'
    assert dropped in text
    diagram = tmp_path / "order.bpmn"
    diagram.write_text(text.replace(dropped, ""), encoding="utf-8")
    findings = find_drift(load([diagram]), HandlerRegistry.from_specs([EXAMPLE_HANDLERS[0]]))
    assert [(f.rule_id, f.severity) for f in findings] == [(HANDLER_INPUT_MISSING, "warning")]
    finding = findings[0]
    assert "'warehouse'" in finding.message and "Activity_CheckStock" in finding.message
    assert finding.line == text.splitlines().index(next(
        line for line in text.splitlines() if 'id="Activity_CheckStock"' in line)) + 1


def test_stubs_written_for_a_diagram_close_the_drift(tmp_path: Path) -> None:
    diagram = _unbound_c7_diagram(tmp_path)
    out = tmp_path / "stubs.py"
    out.write_text(scaffold([diagram]).source, encoding="utf-8")
    findings = find_drift(load([diagram]), HandlerRegistry.from_specs([str(out)]))
    # only the task that names no handler is left: the stubs bind everything else and ask for what is mapped
    assert [(f.rule_id, "Nothing" in f.message) for f in findings] == [(UNBOUND_SERVICE_TASK, True)]


def test_the_linter_reports_drift_both_ways_with_the_input_check(tmp_path: Path) -> None:
    from bpmn_runner.lint import lint

    text = (PROCESSES / "loan_approval_c8.bpmn").read_text(encoding="utf-8")
    diagram = tmp_path / "loan.bpmn"
    diagram.write_text(text.replace('<zeebe:input source="=applicant.income" target="income" />', ""),
                       encoding="utf-8")
    registry = HandlerRegistry.from_specs([EXAMPLE_HANDLERS[1], EXAMPLE_HANDLERS[2]])  # loan + expense
    findings = lint([diagram], handlers=registry, handlers_given=True)
    by_rule = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    gap, = by_rule[HANDLER_INPUT_MISSING]
    assert gap.severity == "warning" and "'income'" in gap.message and "Activity_ScoreApplicant" in gap.message
    assert gap.file.endswith("loan.bpmn") and gap.line > 1
    assert {f.message.split("'")[1] for f in by_rule[HANDLER_UNUSED]} == {"finance/policy_check", "finance/pay_out"}
    assert [r.id for r in drift.RULES] == [HANDLER_INPUT_MISSING] and drift.ACROSS_DOCUMENTS == ()


def test_schema_versions_named_in_the_test_data_readme() -> None:
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    for platform, (package, version) in SCHEMA_VERSIONS.items():
        assert package in readme and version in readme
        assert "MIT License" in (SCHEMAS / platform / "LICENSE").read_text(encoding="utf-8")


def test_scaffold_counts_a_name_a_later_script_reads_as_an_output(tmp_path: Path) -> None:
    """Issue 14: a returned name is read when a later script (or a SpiffArena pre/post-script) reads it."""
    body = (START + '<bpmn:serviceTask id="t" name="Score" camunda:type="external" camunda:topic="credit.score"/>'
            '<bpmn:scriptTask id="s"><bpmn:script>limit = 100&#10;ok = score &gt; limit and len(name) &gt; 0'
            '</bpmn:script></bpmn:scriptTask>' + END + chain("start", "t", "s", "end"))
    generated = scaffold([write(tmp_path, body)], HandlerRegistry())
    out = tmp_path / "scored.py"
    out.write_text(generated.source, encoding="utf-8")
    registry = HandlerRegistry()
    registry.add_module(import_file(out))
    outputs = set(registry.get("credit.score").info.outputs)
    assert {"score", "name"} <= outputs and "limit" not in outputs and "len" not in outputs

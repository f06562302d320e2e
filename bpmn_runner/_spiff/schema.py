"""Where the OMG BPMN 2.0 XSD that SpiffWorkflow ships lives (what its BpmnValidator uses), for the linter."""

from __future__ import annotations

from importlib.resources import files


def bpmn_xsd_path() -> str:
    """The path of `BPMN20.xsd`; the schemas it includes sit beside it."""
    return str(files("SpiffWorkflow.bpmn.parser") / "schema" / "BPMN20.xsd")

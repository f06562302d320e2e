"""Fuzzing: mutated copies of valid diagrams never make the loader, the linter or a simulated run fail with anything
but our own errors, and the linter never hits an internal error or reports a finding without a line."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bpmn_runner import Engine, load
from bpmn_runner.errors import BpmnRunnerError
from bpmn_runner.lint import RULES, lint

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("processes/*.bpmn"), *ROOT.glob("tests/data/**/*.bpmn")])
TEXTS = {p.name: p.read_bytes() for p in SOURCES}
TOKENS = [b"<", b">", b"&", b'"', b"'", b"/>", b"]]>", b"<![CDATA[", b"<!DOCTYPE d>", b"&lol;", b"&#0;", b"\x00",
          b"\xff\xfe", b"\xc3(", b"</bpmn:process>", b"<bpmn:task id=\"dup\"/>", b"xmlns:bpmn=\"urn:x\"",
          b"<bpmn:startEvent id=\"s2\"/>", b"isExecutable=\"false\"", b"__import__('os')", b"PT", b"R/", b"${",
          b"=", "é€😀".encode()]

TEXTS_IN_ELEMENTS = ["", "x > ", "amount > 100", "PT5X", "R/PT1H", "__import__('os').system('id')", "${a.b}",
                     "=x +", "while True: pass", "'a' * 10**10", "import os", "2025-02-30"]
BYTE_MUTATIONS = ["truncate", "delete", "insert", "duplicate", "flip"]
TREE_MUTATIONS = ["drop", "clone", "retarget", "retext", "reparent"]
mutation = st.tuples(st.sampled_from(BYTE_MUTATIONS + TREE_MUTATIONS * 3), st.floats(0, 1), st.floats(0, 1),
                     st.sampled_from(TOKENS))


def mutate(content: bytes, steps: list[tuple[str, float, float, bytes]]) -> bytes:
    for kind, where, other, token in steps:
        content = (_mutate_tree if kind in TREE_MUTATIONS else _mutate_bytes)(content, kind, where, other, token)
    return content


def _mutate_bytes(content: bytes, kind: str, where: float, other: float, token: bytes) -> bytes:
    at = int(where * len(content))
    if kind == "truncate":
        return content[:at]
    if kind == "delete":
        return content[:at] + content[at + 1 + int(other * 200):]
    if kind == "insert":
        return content[:at] + token + content[at:]
    if kind == "duplicate":
        end = min(len(content), at + 1 + int(other * 400))
        return content[:end] + content[at:end] + content[end:]
    if not content:
        return content
    return content[:at] + bytes([content[min(at, len(content) - 1)] ^ 0x20]) + content[at + 1:]


def _mutate_tree(content: bytes, kind: str, where: float, other: float, token: bytes) -> bytes:
    """Keep the XML well-formed and break the model: drop, clone, move or rewire elements, or change texts."""
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return _mutate_bytes(content, "insert", where, other, token)
    elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
    if not elements:
        return content
    element = elements[int(where * len(elements)) % len(elements)]
    partner = elements[int(other * len(elements)) % len(elements)]
    parent = element.getparent()
    if kind == "drop" and parent is not None:
        parent.remove(element)
    elif kind == "clone" and parent is not None:
        parent.append(copy.deepcopy(element))
    elif kind == "reparent" and parent is not None and element not in partner.iterancestors() \
            and partner is not element:
        partner.append(element)
    elif kind == "retarget":
        attrs = [a for a in element.attrib if a in REFERENCES] or list(element.attrib)
        if attrs:
            ids = [e.get("id") for e in elements if e.get("id")] or ["x"]
            element.set(attrs[int(other * len(attrs)) % len(attrs)],
                        ids[int(other * len(ids)) % len(ids)] if other < 0.8 else "nowhere")
    elif kind == "retext":
        element.text = TEXTS_IN_ELEMENTS[int(other * len(TEXTS_IN_ELEMENTS)) % len(TEXTS_IN_ELEMENTS)]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


REFERENCES = {"id", "sourceRef", "targetRef", "attachedToRef", "calledElement", "default", "messageRef",
              "processRef", "bpmnElement"}


@pytest.mark.skipif(not SOURCES, reason="no example diagrams")
@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source=st.sampled_from(sorted(TEXTS)), steps=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_diagrams_fail_only_with_our_errors(tmp_path_factory: pytest.TempPathFactory, source: str,
                                                    steps: list[tuple[str, float, float, bytes]]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / source
    path.write_bytes(mutate(TEXTS[source], steps))
    findings = lint([path])
    for finding in findings:
        assert finding.rule in RULES, str(finding)
        assert finding.line >= 1 and "\n" not in finding.message
    try:
        definitions = load([path], search_siblings=True)
    except BpmnRunnerError as exc:
        assert exc.file and exc.line and "\n" not in str(exc), str(exc)
        assert any(f.severity != "info" for f in findings), f"validate saw nothing in what load refused: {exc}"
        return
    for process_id in definitions.entry_processes():
        try:
            result = Engine(None, simulate=True, max_steps=50, timer_wait=0).start(definitions, process_id).run()
        except BpmnRunnerError:
            continue
        assert result.status in ("completed", "waiting", "failed")

"""Generators of synthetic BPMN files for tests and benchmarks (chains, loops, parallel splits)."""

from __future__ import annotations

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
          'id="Defs_{pid}" '
          'targetNamespace="http://bpmn.io/schema/bpmn">\n<bpmn:process id="{pid}" isExecutable="true">\n')
FOOTER = "</bpmn:process>\n</bpmn:definitions>\n"


def _flow(fid: str, src: str, dst: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}"/>\n'
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}">'
            f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>\n')


def service(tid: str, topic: str = "noop", dialect: str = "external") -> str:
    """A Camunda 7 external task (always a job in a store), or with dialect "zeebe" a Camunda 8 job type (run
    in-process, with wait-state commits, where its handler is)."""
    if dialect == "zeebe":
        return (f'<bpmn:serviceTask id="{tid}"><bpmn:extensionElements><zeebe:taskDefinition type="{topic}"/>'
                f'</bpmn:extensionElements></bpmn:serviceTask>\n')
    return f'<bpmn:serviceTask id="{tid}" camunda:type="external" camunda:topic="{topic}"/>\n'


def chain(n: int, pid: str = "chain", topic: str = "noop", dialect: str = "external") -> str:
    """start -> n service tasks -> end."""
    parts = [HEADER.format(pid=pid), '<bpmn:startEvent id="start"/>\n']
    prev = "start"
    for i in range(n):
        parts.append(service(f"t{i}", topic, dialect))
        parts.append(_flow(f"f{i}", prev, f"t{i}"))
        prev = f"t{i}"
    parts.append('<bpmn:endEvent id="end"/>\n')
    parts.append(_flow("f_end", prev, "end"))
    parts.append(FOOTER)
    return "".join(parts)


def loop(pid: str = "loop", topic: str = "count", body: str = "") -> str:
    """start -> merge -> body (service, increments i) -> gateway (i < n -> merge, else end)."""
    return "".join([
        HEADER.format(pid=pid),
        '<bpmn:startEvent id="start"/>\n',
        '<bpmn:exclusiveGateway id="merge"/>\n',
        service("body", topic),
        body,
        '<bpmn:exclusiveGateway id="check" default="f_done"/>\n',
        '<bpmn:endEvent id="end"/>\n',
        _flow("f0", "start", "merge"),
        _flow("f1", "merge", "body"),
        _flow("f2", "body", "check"),
        _flow("f_again", "check", "merge", "${i &lt; n}"),
        _flow("f_done", "check", "end"),
        FOOTER,
    ])


def parallel(branches: int, pid: str = "fanout", topic: str = "noop") -> str:
    """start -> parallel split into `branches` service tasks -> join -> end."""
    parts = [HEADER.format(pid=pid), '<bpmn:startEvent id="start"/>\n', '<bpmn:parallelGateway id="split"/>\n',
             '<bpmn:parallelGateway id="join"/>\n', '<bpmn:endEvent id="end"/>\n',
             _flow("f0", "start", "split"), _flow("f_end", "join", "end")]
    for i in range(branches):
        parts.append(service(f"b{i}", topic))
        parts.append(_flow(f"fs{i}", "split", f"b{i}"))
        parts.append(_flow(f"fj{i}", f"b{i}", "join"))
    parts.append(FOOTER)
    return "".join(parts)


def straight_through(pid: str = "straight", tasks: int = 10, dialect: str = "external") -> str:
    """start -> 10 service tasks -> exclusive gateway -> end (the W1 benchmark shape)."""
    parts = [HEADER.format(pid=pid), '<bpmn:startEvent id="start"/>\n']
    prev = "start"
    for i in range(tasks):
        parts.append(service(f"t{i}", "noop", dialect))
        parts.append(_flow(f"f{i}", prev, f"t{i}"))
        prev = f"t{i}"
    parts.append('<bpmn:exclusiveGateway id="gw" default="f_b"/>\n')
    parts.append('<bpmn:endEvent id="end_a"/>\n<bpmn:endEvent id="end_b"/>\n')
    parts.append(_flow("f_gw", prev, "gw"))
    parts.append(_flow("f_a", "gw", "end_a", "${x &gt; 100}"))
    parts.append(_flow("f_b", "gw", "end_b"))
    parts.append(FOOTER)
    return "".join(parts)

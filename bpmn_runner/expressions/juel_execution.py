"""JUEL's view of the running execution: `execution.*` facts and `${bean.method()}` calls, set per evaluation."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping


_INFO: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("juel_execution_info", default={})
# execution.<property> (and get<Property>()) -> the key of the running execution's facts
_EXECUTION_FACTS = {"processBusinessKey": "businessKey", "businessKey": "businessKey",
                    "processInstanceId": "instanceId", "id": "instanceId", "currentActivityId": "elementId",
                    "activityId": "elementId", "eventName": "eventName"}


@contextmanager
def execution_info(info: Mapping[str, Any]) -> Iterator[None]:
    """Facts about the running execution that `execution.processBusinessKey` and friends read while evaluating."""
    token = _INFO.set(info)
    try:
        yield
    finally:
        _INFO.reset(token)


# `${bean.method(args)}` where `bean` is no variable: a resolver (handler name, arguments) -> (found, value) that calls
# the handler registered as "bean.method", as Camunda calls the bean's method
BeanResolver = Callable[[str, list[Any]], tuple[bool, Any]]
BEANS: contextvars.ContextVar[BeanResolver | None] = contextvars.ContextVar("juel_beans", default=None)


@contextmanager
def bean_calls(resolver: BeanResolver | None) -> Iterator[None]:
    """While evaluating, `${bean.method(a, b)}` calls `resolver("bean.method", [a, b])` when `bean` is no variable."""
    token = BEANS.set(resolver)
    try:
        yield
    finally:
        BEANS.reset(token)


def current_execution_info() -> Mapping[str, Any]:
    """The facts `execution_info` set for the expression or script being evaluated (for JavaScript's execution)."""
    return dict(_INFO.get())


class Execution:
    """Stands for Camunda's `execution` object: its variable accessors and a few facts (business key, ids)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def fact(self, name: str) -> tuple[bool, Any]:
        """(known, value) of a fact of the running execution; nothing is known outside one."""
        key = _EXECUTION_FACTS.get(name)
        info = _INFO.get()
        if key is None or not info:
            return False, None
        return True, info.get(key)

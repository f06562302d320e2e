"""Correlation keys: the value a message must carry to reach a waiting catch, and the one a thrown message carries."""

from __future__ import annotations

from typing import Any

from .. import expressions
from ..instance import Instance
from ..errors import BpmnRunnerError, StepFailed  # noqa: F401  StepFailed: re-exported from its old home
from ..store import MessageRecord, Store
from .policy import key_string


def wait_key(wait: dict[str, Any], business_key: str | None, catalog: dict[str, Any],
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


def thrown_key(message: dict[str, Any], data: dict[str, Any], business_key: str | None,
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


def payload_key(name: str, payload: dict[str, Any], catalogs: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(key, problem): the correlation key a message arriving from outside carries, read from its payload by the
    retrieval expressions of that message only (SpiffArena: each correlation property has one expression per
    message; the expressions written for other messages are never evaluated). `problem` says why no key could
    be read when the message has properties; (None, None) when it has none."""
    properties: dict[str, str] = {}
    for catalog in catalogs:
        for prop, expression in catalog.get("messages", {}).get(name, {}).get("properties", []):
            properties.setdefault(prop, expression)
    problems = []
    for prop in sorted(properties):
        expression = properties[prop]
        try:
            value = expressions.evaluate(expression, payload)
        except BpmnRunnerError as exc:
            problems.append(f"correlation property {prop} ({expression}): {getattr(exc, 'message', exc)}")
            continue
        if value is not None:
            return key_string(value), None
        problems.append(f"correlation property {prop} ({expression}) is null in the payload")
    return None, ("; ".join(problems) or None)


def buffered_match(store: Store, instance: Instance, business_key: str | None, catalog: dict[str, Any],
                   consumed: list[str], now: float) -> tuple[MessageRecord, dict[str, Any]] | None:
    """A buffered message one of the instance's message catches takes now, with that catch's correlations."""
    waits = [w for w in instance.event_waits() if w["kind"] == "message"]
    if not waits:
        return None
    # a payload its own retrieval expressions cannot read would fail the catch and with it this step (the
    # person completing a task, the worker finishing a job): such a message is never taken from the buffer
    buffered = [m for m in store.buffered_messages(sorted({w["event_name"] for w in waits}), now)
                if m.id not in consumed and _readable(m, catalog)]
    for message in buffered:
        for wait in waits:
            if wait["event_name"] != message.name:
                continue
            key = wait_key(wait, business_key, catalog, instance.instance_id)
            if message.business_key is not None and message.business_key != business_key:
                continue
            if key is None or key == message.correlation_key:
                return message, wait["correlations"]
    return None


def _readable(message: MessageRecord, catalog: dict[str, Any]) -> bool:
    found, problem = payload_key(message.name, message.payload if isinstance(message.payload, dict) else {},
                                 [catalog])
    return found is not None or problem is None

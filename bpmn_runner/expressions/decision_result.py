"""Camunda 7's `decisionResult` in a business rule task's output mapping: the Java API's methods on our rows.

`${decisionResult.getSingleResult().dish}`, `${decisionResult.singleEntry}`, `${decisionResult.collectEntries("x")}`
(DmnDecisionResult and DmnDecisionResultEntries, docs.camunda.org javadoc), evaluated by the JUEL evaluator."""

from __future__ import annotations

from typing import Any, Callable

from ._problems import Problem


class RuleResultView:
    """One matched rule's outputs (DmnDecisionResultEntries, a Map of output name to value)."""

    def __init__(self, entries: dict[str, Any]) -> None:
        self.value = dict(entries)

    def _single_entry(self) -> Any:
        if len(self.value) > 1:
            raise Problem(f"getSingleEntry(): the result has {len(self.value)} entries; use getEntry(name)")
        return next(iter(self.value.values()), None)

    def call(self, method: str, args: list[Any]) -> Any:
        entries = self.value
        table: dict[str, Callable[..., Any]] = {
            "getSingleEntry": self._single_entry, "getFirstEntry": lambda: next(iter(entries.values()), None),
            "getEntry": lambda name: entries.get(name), "get": lambda name: entries.get(name),
            "getEntryMap": lambda: dict(entries), "size": lambda: len(entries), "isEmpty": lambda: not entries,
            "containsKey": lambda name: name in entries, "keySet": lambda: list(entries)}
        return _call(table, method, args, "a decision result entry map")

    def property(self, name: str) -> Any:
        getters = {"singleEntry": self._single_entry, "firstEntry": lambda: self.call("getFirstEntry", []),
                   "entryMap": lambda: dict(self.value), "empty": lambda: not self.value}
        if name in self.value:
            return self.value[name]
        if name in getters:
            return getters[name]()
        return None  # a Map's missing key is null in EL


class DecisionResultView:
    """The whole result (DmnDecisionResult, a List of rule results)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = [RuleResultView(row) for row in rows]
        self.value = [dict(row.value) for row in self.rows]

    def _single_result(self) -> RuleResultView | None:
        if len(self.rows) > 1:
            raise Problem(f"getSingleResult(): {len(self.rows)} rules matched; use getResultList() or "
                          f"collectEntries(name)")
        return self.rows[0] if self.rows else None

    def _single_entry(self) -> Any:
        single = self._single_result()
        return None if single is None else single.call("getSingleEntry", [])

    def call(self, method: str, args: list[Any]) -> Any:
        rows = self.rows
        table: dict[str, Callable[..., Any]] = {
            "getSingleResult": self._single_result, "getFirstResult": lambda: rows[0] if rows else None,
            "getSingleEntry": self._single_entry, "getResultList": lambda: [dict(r.value) for r in rows],
            "collectEntries": lambda name: [r.value[name] for r in rows if name in r.value],
            "size": lambda: len(rows), "isEmpty": lambda: not rows, "get": lambda index: rows[int(index)]}
        return _call(table, method, args, "the decision result")

    def property(self, name: str) -> Any:
        getters = {"singleResult": self._single_result, "firstResult": lambda: self.call("getFirstResult", []),
                   "singleEntry": self._single_entry, "resultList": lambda: self.call("getResultList", []),
                   "empty": lambda: not self.rows}
        if name not in getters:
            raise Problem(f"the decision result has no property '{name}'; use singleResult, singleEntry, "
                          f"resultList or collectEntries(name)")
        return getters[name]()


def _call(table: dict[str, Callable[..., Any]], method: str, args: list[Any], what: str) -> Any:
    if method not in table:
        raise Problem(f"the method {method}() is not available on {what}; use one of {', '.join(sorted(table))}")
    try:
        return table[method](*args)
    except (TypeError, IndexError, ValueError):
        raise Problem(f"wrong number or type of arguments for {method}()") from None


RESULT_VIEWS = (RuleResultView, DecisionResultView)
DECISION_ROWS = "decision_result_rows"   # where a business rule task keeps its rows for its output mappings


def decision_result_scope(internal_data: dict[str, Any]) -> dict[str, Any] | None:
    """`{"decisionResult": ...}` for the output mappings of a business rule task that evaluated a decision."""
    rows = internal_data.pop(DECISION_ROWS, None)
    return None if rows is None else {"decisionResult": DecisionResultView(rows)}

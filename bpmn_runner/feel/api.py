"""Compiled FEEL expressions and unary tests, cached by their text (the package's public entry points)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from .errors import FeelEvaluationError, FeelSyntaxError
from .compile_tests import compile_tests
from .compiler import Scope, compile_node
from .functions import BUILTINS, accepts, load_builtins
from .parser import NameIndex, parse_expression, parse_unary_tests
from .values import Range, to_feel

load_builtins()
_EMPTY: Mapping[str, Any] = {}
_FEEL_SCALARS = frozenset({Decimal, str, bool, type(None)})


@lru_cache(maxsize=64)
def _name_index(names: frozenset[str]) -> NameIndex:
    return NameIndex(sorted(names), functions_only=sorted(BUILTINS))


class FeelExpression:
    """A parsed FEEL expression; `evaluate(context)` may be called any number of times."""

    __slots__ = ("text", "_ast", "_run", "_variables", "_problems")

    def __init__(self, text: str, names: frozenset[str] = frozenset()) -> None:
        self.text = text
        self._ast = parse_expression(text, _name_index(names))
        try:
            self._run = compile_node(self._ast)
        except RecursionError:
            raise FeelSyntaxError("the expression is nested too deeply", text, 0) from None
        self._variables: frozenset[str] | None = None
        self._problems: list[str] | None = None

    @property
    def call_problems(self) -> list[str]:
        """Calls that cannot succeed, found without data: unknown functions and built-ins given a wrong number
        (or wrong names) of arguments. FEEL yields null for them; a linter or a strict caller reports them."""
        if self._problems is None:
            self._problems = [problem for name, count, keys in _calls(self._ast, frozenset())
                              if (problem := _call_problem(name, count, keys)) is not None]
        return self._problems

    @property
    def variables(self) -> frozenset[str]:
        """The free names the expression reads (best effort, for linting): not built-ins, not loop variables."""
        if self._variables is None:
            self._variables = frozenset(free_names(self._ast))
        return self._variables

    def evaluate(self, context: Mapping[str, Any] | None = None, *,
                 on_missing: Callable[[str], Any] | None = None,
                 types: Callable[[Any, str], bool | None] | None = None) -> Any:
        """The value of the expression.

        `on_missing(name)` gives the value of a name absent from `context` (default: null); `types(value, name)`
        answers `instance of` for type names FEEL does not know (DMN item definitions such as `tPerson`)."""
        try:
            return self._run(Scope(context if context is not None else _EMPTY, None, on_missing, types))
        except RecursionError:
            raise FeelEvaluationError(f"the evaluation of {self.text[:80]!r} recursed too deeply") from None

    def __repr__(self) -> str:
        return f"FeelExpression({self.text!r})"


def test_scope(context: Mapping[str, Any] | None, types: Callable[[Any, str], bool | None] | None = None) -> Scope:
    """The scope `FeelUnaryTests.matches_in` evaluates in."""
    return Scope(context if context is not None else _EMPTY, None, None, types)


class FeelUnaryTests:
    """Parsed DMN input entry (unary tests): `matches(value, context)` -> True, False or None."""

    __slots__ = ("text", "_ast", "_test", "is_any")

    def __init__(self, text: str, names: frozenset[str] = frozenset()) -> None:
        self.text = text
        self._ast = parse_unary_tests(text, _name_index(names))
        self.is_any = self._ast[0] == "ut_any"
        if self.is_any:
            self._test: Callable[[Scope, Any], Any] = lambda scope, value: True
        elif self._ast[0] == "ut_not":
            inner = compile_tests(self._ast[1])

            def negated(scope: Scope, value: Any) -> Any:
                outcome = inner(scope, value)
                return None if outcome is None else not outcome
            self._test = negated
        else:
            self._test = compile_tests(self._ast[1])

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(free_names(self._ast)) - {"?"}

    def matches(self, value: Any, context: Mapping[str, Any] | None = None, *,
                types: Callable[[Any, str], bool | None] | None = None) -> bool | None:
        """Does `value` pass the tests? `?` in a test is the value; None when FEEL cannot tell (null)."""
        if value.__class__ not in _FEEL_SCALARS:
            value = to_feel(value)
        return self._test(Scope(context if context is not None else _EMPTY, None, None, types), value)

    def matches_in(self, scope: Scope, value: Any) -> bool | None:
        """`matches` in a scope made once by `test_scope` (a decision table tests many cells against one)."""
        if value.__class__ not in _FEEL_SCALARS:
            value = to_feel(value)
        return self._test(scope, value)

    def __repr__(self) -> str:
        return f"FeelUnaryTests({self.text!r})"


@lru_cache(maxsize=4096)
def _compile_expression(text: str, names: frozenset[str]) -> FeelExpression:
    return FeelExpression(text, names)


@lru_cache(maxsize=4096)
def _compile_unary_tests(text: str, names: frozenset[str]) -> FeelUnaryTests:
    return FeelUnaryTests(text, names)


def compile_expression(text: str, names: Iterable[str] | None = None) -> FeelExpression:
    """Parse (once: the result is cached by text) a FEEL expression; FeelSyntaxError names the column."""
    return _compile_expression(text, frozenset(names) if names else frozenset())


def compile_unary_tests(text: str, names: Iterable[str] | None = None) -> FeelUnaryTests:
    """Parse (once, cached) DMN unary tests: `-`, `< 5`, `[1..2]`, `"a", "b"`, `not(...)`, `? > 3`."""
    return _compile_unary_tests(text, frozenset(names) if names else frozenset())


def evaluate(text: str, context: Mapping[str, Any] | None = None) -> Any:
    """Evaluate FEEL `text` against `context` (plain Python values are accepted)."""
    return compile_expression(text, context.keys() if context and _has_spaced(context) else None).evaluate(context)


def _has_spaced(context: Mapping[str, Any]) -> bool:
    return any(not k.isidentifier() for k in context)


def parse_range_text(text: str) -> Range | None:
    tests = compile_unary_tests(text)
    ast = tests._ast
    if ast[0] != "ut_list" or len(ast[1]) != 1:
        return None
    test = ast[1][0]
    if test[0] != "ut_expr" or test[1][0] != "range" or not all(_literal_endpoint(n) for n in test[1][1:3]):
        return None
    result = compile_node(test[1])(Scope(_EMPTY))
    return result if isinstance(result, Range) and result.operator != "null" else None


_TEMPORAL_CONSTRUCTORS = frozenset({"date", "time", "date and time", "duration"})


def _literal_endpoint(node: Any) -> bool:
    """range() accepts literal endpoints only: literals and date("..."), time("..."), ... of a string literal."""
    if node[0] == "lit":
        return True
    return (node[0] == "call" and node[1][0] == "name" and node[1][1] in _TEMPORAL_CONSTRUCTORS
            and node[3] is None and len(node[2]) == 1 and node[2][0][0] == "lit" and isinstance(node[2][0][1], str))


def _call_problem(name: str, count: int, keys: tuple[str, ...] | None) -> str | None:
    function = BUILTINS.get(name)
    if function is None:
        return f"unknown function '{name}'"
    if not accepts(function, count, keys):
        given = f"named arguments {', '.join(keys)}" if keys else f"{count} argument{'s' * (count != 1)}"
        return f"wrong number of arguments for {name}(): {given}"
    return None


def _calls(node: Any, bound: frozenset[str]) -> list[tuple[str, int, tuple[str, ...] | None]]:
    """(name, positional count, named keys) of every call of a free name."""
    found: list[tuple[str, int, tuple[str, ...] | None]] = []
    if isinstance(node, list):
        for child in node:
            found += _calls(child, bound)
        return found
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return found
    kind = node[0]
    if kind == "lit":
        return found
    if kind == "call" and node[1][0] == "name" and node[1][1] not in bound:
        keys = tuple(key for key, _ in node[3]) if node[3] else None
        found.append((node[1][1], len(node[2]), keys))
    if kind in ("for", "some", "every"):
        inner = bound | {"partial"}
        for name, start, end in node[1]:
            found += _calls(start, inner) + _calls(end, inner)
            inner = inner | {name}
        return found + _calls(node[2], inner)
    if kind == "function":
        return found + _calls(node[2], bound | {name for name, _ in node[1]})
    if kind == "context":
        inner = bound
        for key, value in node[1]:
            inner = inner | {key}
        for key, value in node[1]:
            found += _calls(value, inner)
        return found
    if kind == "filter":
        return found + _calls(node[1], bound) + _calls(node[2], bound | {"item"})
    if kind == "call":
        return found + _calls(node[1], bound) + _calls(node[2], bound) + _calls(
            [value for _, value in node[3] or ()], bound)
    for child in node[1:]:
        found += _calls(child, bound)
    return found


def free_names(node: Any, bound: frozenset[str] = frozenset()) -> set[str]:
    if isinstance(node, list):
        return set().union(*(free_names(child, bound) for child in node)) if node else set()
    if not isinstance(node, tuple) or not node:
        return set()
    kind = node[0]
    if kind == "name":
        return set() if node[1] in bound or node[1] in BUILTINS else {node[1]}
    if kind == "lit":
        return set()
    if kind in ("for", "some", "every"):
        names: set[str] = set()
        inner = bound | ({"partial"} if kind == "for" else set())
        for name, start, end in node[1]:
            names |= free_names(start, inner) | free_names(end, inner)
            inner = inner | {name}
        return names | free_names(node[2], inner)
    if kind == "function":
        return free_names(node[2], bound | {name for name, _ in node[1]})
    if kind == "context":
        names = set()
        inner = bound
        for key, value in node[1]:
            names |= free_names(value, inner)
            inner = inner | {key}
        return names
    if kind == "filter":
        # inside a filter, bare names are mostly the fields of the items: only the list itself is counted
        return free_names(node[1], bound)
    if kind == "path":
        return free_names(node[1], bound)
    if kind == "call" and node[3]:
        return free_names(node[1], bound) | free_names(node[2], bound) | free_names(
            [value for _, value in node[3]], bound)
    if kind == "instance":
        return free_names(node[1], bound)
    return set().union(*(free_names(child, bound) for child in node[1:]))

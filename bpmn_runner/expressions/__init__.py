"""Conditions, mappings and script tasks in the three dialects modelers use: Python, JUEL (`${}`) and FEEL (`=`)."""

from __future__ import annotations

from typing import Any, Callable, Mapping, TypeVar

from ..errors import ExpressionError
from . import feel_bridge as feel, juel, python_safe, scripts
from ._problems import Missing, MissingVariableError, Problem

__all__ = ["MissingVariableError", "dialect_of", "evaluate", "check_syntax", "referenced_names", "execute_script",
           "evaluate_mapping"]

_T = TypeVar("_T")
_QUOTE_LIMIT = 120


def dialect_of(expression: str) -> str:
    """'feel' for text starting with '=', 'juel' for text containing ${...} or #{...}, otherwise 'python'."""
    text = expression.strip()
    if text.startswith("="):
        return "feel"
    if "${" in text or "#{" in text:
        return "juel"
    return "python"


def evaluate(expression: str, data: Mapping[str, Any], *, trusted: bool = False) -> Any:
    """Evaluate a condition or value in its dialect against the process data."""
    dialect = _dialect_checked(expression)
    if dialect == "feel":
        return _guarded(expression, "evaluate", lambda: feel.evaluate(_feel_source(expression), data,
                                                                          _feel_offset(expression)))
    if dialect == "juel":
        return _guarded(expression, "evaluate", lambda: juel.evaluate(expression, data))
    if trusted:
        return _guarded(expression, "evaluate", lambda: python_safe.evaluate_trusted(expression, data))
    return _guarded(expression, "evaluate", lambda: python_safe.evaluate(expression, data))


def check_syntax(expression: str) -> None:
    """Raise ExpressionError if the expression does not parse in its dialect."""
    dialect = _dialect_checked(expression)
    if dialect == "feel":
        _guarded(expression, "parse", lambda: feel.parse(_feel_source(expression), _feel_offset(expression)))
    elif dialect == "juel":
        _guarded(expression, "parse", lambda: juel.split(expression))
    else:
        _guarded(expression, "parse", lambda: python_safe.parse(expression))


def referenced_names(expression: str) -> set[str]:
    """The top-level variable names the expression reads (paths contribute their first name)."""
    dialect = _dialect_checked(expression)
    if dialect == "feel":
        return _guarded(expression, "parse", lambda: feel.referenced_names(_feel_source(expression)))
    if dialect == "juel":
        return _guarded(expression, "parse", lambda: juel.referenced_names(expression))
    return _guarded(expression, "parse", lambda: python_safe.referenced_names(expression))


def evaluate_mapping(source: str, data: Mapping[str, Any], *, trusted: bool = False) -> Any:
    """An input/output mapping source: `=feel`, `${juel}` (also inside text), or a literal string as is."""
    if not isinstance(source, str):
        raise ExpressionError(f"a mapping source must be text, not {type(source).__name__}")
    if dialect_of(source) == "python":
        return source
    return evaluate(source, data, trusted=trusted)


def execute_script(script: str, data: dict[str, Any], *, trusted: bool = False) -> None:
    """Run a Python script task body; names it assigns are written into `data`, names it deletes are removed."""
    if not isinstance(script, str):
        raise ExpressionError(f"a script must be text, not {type(script).__name__}")
    try:
        scripts.execute(script, data, trusted=trusted)
    except RecursionError:
        raise ExpressionError("script is nested too deeply") from None


def _dialect_checked(expression: str) -> str:
    if not isinstance(expression, str):
        raise ExpressionError(f"an expression must be text, not {type(expression).__name__}")
    return dialect_of(expression)


def _feel_source(expression: str) -> str:
    return expression.strip()[1:]


def _feel_offset(expression: str) -> int:
    """Where the FEEL source starts in the text (after the `=`), so that error columns count from the text."""
    return expression.index("=") + 1


def _quote(expression: str) -> str:
    text = " ".join(expression.split())
    if not text:
        return '""'
    return text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT - 1] + "…"


def _guarded(expression: str, action: str, work: Callable[[], _T]) -> _T:
    """Run dialect code, turning its internal errors into one-line ExpressionErrors that quote the expression."""
    quoted = _quote(expression)
    try:
        return work()
    except Missing as exc:
        raise MissingVariableError(f"cannot {action} {quoted}: {exc}", name=exc.name) from None
    except Problem as exc:
        error = ExpressionError(f"cannot {action} {quoted}: {exc}")
        error.position = getattr(exc, "position", None)  # type: ignore[attr-defined]  # FEEL syntax: the offset
        raise error from None
    except ExpressionError:
        raise
    except RecursionError:
        raise ExpressionError(f"cannot {action} {quoted}: the expression is nested too deeply") from None
    except Exception as exc:  # a bug or an unforeseen input must still surface as one clean line
        kind = type(exc).__name__ if type(exc).__module__ == "builtins" else "unexpected error"
        raise ExpressionError(f"cannot {action} {quoted}: {kind}: {exc}") from None

"""Conditions, mappings and script tasks in the three dialects modelers use: Python, JUEL (`${}`) and FEEL (`=`)."""

from __future__ import annotations

from typing import Any, Callable, Mapping, TypeVar

from ..errors import ExpressionError
from ..models import CAMUNDA_PARAMETER_MARKER, JAVASCRIPT_FORMATS, JAVASCRIPT_MARKER
from . import bpmn_engine_js, feel_bridge as feel, javascript, juel, python_safe, scripts
from .juel import bean_calls, execution_info
from .script_names import script_names
from ._problems import Missing, MissingVariableError, Problem

__all__ = ["MissingVariableError", "dialect_of", "evaluate", "evaluate_condition", "check_syntax",
           "referenced_names", "execute_script", "evaluate_mapping", "execution_info", "bean_calls"]

_T = TypeVar("_T")
_QUOTE_LIMIT = 120


def dialect_of(expression: str) -> str:
    """'javascript' for a rewritten JavaScript expression, 'feel' for text starting with '=', 'juel' for text
    containing ${...} or #{...}, otherwise 'python'."""
    if expression.startswith(JAVASCRIPT_MARKER):
        return "javascript"
    if expression.startswith(CAMUNDA_PARAMETER_MARKER):
        return "camunda-parameter"
    text = expression.strip()
    if text.startswith("="):
        return "feel"
    if "${" in text or "#{" in text:
        return "juel"
    return "python"


def evaluate(expression: str, data: Mapping[str, Any], *, trusted: bool = False,
             names: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a condition or value in its dialect against the process data (Python expressions also see
    `names`: script modules and functions)."""
    dialect = _dialect_checked(expression)
    if dialect == "javascript":  # bpmn-engine's script conditions end with next(err, result): adapt() reads it
        return javascript.evaluate(bpmn_engine_js.adapt(expression[len(JAVASCRIPT_MARKER):]), data)
    if dialect == "feel":
        return _guarded(expression, "evaluate", lambda: feel.evaluate(_feel_source(expression), data,
                                                                          _feel_offset(expression)))
    if dialect == "juel":
        return _guarded(expression, "evaluate", lambda: juel.evaluate(expression, data))
    if trusted:
        return _guarded(expression, "evaluate",
                        lambda: python_safe.evaluate_trusted(expression, {**script_names(names), **data}))
    return _guarded(expression, "evaluate", lambda: python_safe.evaluate(expression, data, script_names(names)))


def evaluate_condition(expression: str, data: Mapping[str, Any], *, trusted: bool = False,
                       names: Mapping[str, Any] | None = None) -> Any:
    """A sequence-flow, completion or event condition: JUEL must give a Boolean (Camunda 7's rule); other dialects
    are taken as before."""
    dialect = _dialect_checked(expression)
    if dialect == "juel":
        return _guarded(expression, "evaluate", lambda: juel.evaluate_condition(expression, data))
    result = evaluate(expression, data, trusted=trusted, names=names)
    if dialect == "javascript" and not isinstance(result, bool):  # Camunda 7's ScriptCondition rule
        raise ExpressionError(f"condition script returns non-Boolean: {result!r}")
    return result


def check_syntax(expression: str) -> None:
    """Raise ExpressionError if the expression does not parse in its dialect."""
    dialect = _dialect_checked(expression)
    if dialect == "camunda-parameter":
        for text in _parameter_texts(_parameter_tree(expression)):
            check_syntax(text)
    elif dialect == "javascript":
        javascript.check_syntax(expression[len(JAVASCRIPT_MARKER):])
    elif dialect == "feel":
        _guarded(expression, "parse", lambda: feel.parse(_feel_source(expression), _feel_offset(expression)))
    elif dialect == "juel":
        _guarded(expression, "parse", lambda: juel.split(expression))
    else:
        _guarded(expression, "parse", lambda: python_safe.parse(expression))


def referenced_names(expression: str) -> set[str]:
    """The top-level variable names the expression reads (paths contribute their first name)."""
    dialect = _dialect_checked(expression)
    if dialect == "camunda-parameter":
        return set().union(*(referenced_names(t) for t in _parameter_texts(_parameter_tree(expression))
                             if dialect_of(t) != "python"))
    if dialect == "javascript":
        return set()  # not analysed: a script may read any variable through execution.getVariable
    if dialect == "feel":
        return _guarded(expression, "parse", lambda: feel.referenced_names(_feel_source(expression)))
    if dialect == "juel":
        return _guarded(expression, "parse", lambda: juel.referenced_names(expression))
    return _guarded(expression, "parse", lambda: python_safe.referenced_names(expression))


def evaluate_mapping(source: str, data: Mapping[str, Any], *, trusted: bool = False) -> Any:
    """An input/output mapping source: `=feel`, `${juel}` (also inside text), or a literal string as is."""
    if not isinstance(source, str):
        raise ExpressionError(f"a mapping source must be text, not {type(source).__name__}")
    dialect = dialect_of(source)
    if dialect == "camunda-parameter":
        return _parameter_value(_parameter_tree(source), data, trusted)
    if dialect == "python":
        return source
    return evaluate(source, data, trusted=trusted)


def _parameter_tree(source: str) -> Any:
    import json
    return json.loads(source[len(CAMUNDA_PARAMETER_MARKER):])


def _parameter_value(tree: Mapping[str, Any], data: Mapping[str, Any], trusted: bool) -> Any:
    """A Camunda 7 list, map or script parameter; values inside are literals, `${...}` or nested forms."""
    if "list" in tree:
        return [_parameter_value(item, data, trusted) for item in tree["list"]]
    if "map" in tree:
        return {key: _parameter_value(value, data, trusted) for key, value in tree["map"]}
    if "script" in tree:
        if tree["script"] not in JAVASCRIPT_FORMATS:
            raise ExpressionError(f"script format {tree['script']!r} is not supported; use javascript")
        outcome = javascript.run_script(tree["code"], data, info=juel.current_execution_info())
        if isinstance(data, dict):  # Camunda 7: execution.setVariable in a parameter script sets a process variable
            for name in outcome.removed:
                data.pop(name, None)
            data.update(outcome.changed)
        return outcome.result
    return evaluate_mapping(tree["text"], data, trusted=trusted)


def _parameter_texts(tree: Mapping[str, Any]) -> list[str]:
    """Every expression text inside a parameter tree (scripts as JavaScript), for syntax checks and names."""
    if "list" in tree:
        return [t for item in tree["list"] for t in _parameter_texts(item)]
    if "map" in tree:
        return [t for _, value in tree["map"] for t in _parameter_texts(value)]
    if "script" in tree:
        return [JAVASCRIPT_MARKER + tree["code"]] if tree["script"] in JAVASCRIPT_FORMATS else []
    return [tree["text"]]


def execute_script(script: str, data: dict[str, Any], *, trusted: bool = False,
                   names: dict[str, Any] | None = None) -> None:
    """Run a Python script task body; names it assigns are written into `data`, names it deletes are removed."""
    if not isinstance(script, str):
        raise ExpressionError(f"a script must be text, not {type(script).__name__}")
    try:
        scripts.execute(script, data, trusted=trusted, names=script_names(names))
    except RecursionError:
        raise ExpressionError("script is nested too deeply") from None


def _dialect_checked(expression: str) -> str:
    if expression is None:
        raise ExpressionError("an expression the element needs is empty; fill it in in the modeler")
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

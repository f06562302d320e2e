"""Camunda 7 JUEL (`${...}` / `#{...}`): evaluation following the EL coercion rules (syntax in juel_parser.py).

Departures from Camunda: an unknown top-level variable, an absent map key and an out-of-range list index all raise
MissingVariableError (EL would return null for the last two); division or remainder by zero is an error rather
than Infinity; Java method calls are limited to `execution.getVariable/hasVariable/getVariables` and a few
String, List and Map methods.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ._problems import Missing, Problem
from .decision_result import RESULT_VIEWS
from .el_coercion import arithmetic, compare, equals, to_bool, to_number, to_text
from .juel_execution import BEANS, Execution, bean_calls, current_execution_info, execution_info
from .juel_parser import Node, parse, referenced_names, split
from .spin import Spin, describe_value

__all__ = ["bean_calls", "current_execution_info", "evaluate", "evaluate_condition", "execution_info", "parse",
           "path_text", "referenced_names", "split"]


def evaluate(text: str, data: Mapping[str, Any]) -> Any:
    """A single `${...}` gives its value; text with embedded expressions gives a string."""
    parts = split(text.strip())
    if len(parts) == 1 and parts[0][1] is not None:
        return _value(_eval(parts[0][1], data))
    parts = split(text)
    return "".join(literal if node is None else to_text(_value(_eval(node, data))) for literal, node in parts)


def evaluate_condition(text: str, data: Mapping[str, Any]) -> bool:
    """A whole `${...}` condition, as Camunda 7 takes it: the value must be a Boolean, never coerced."""
    result = evaluate(text, data)
    if result is None:
        raise Problem("condition expression returns null")
    if not isinstance(result, bool):
        raise Problem(f"condition expression returns non-Boolean: {to_text(result)!r} is {describe_value(result)}")
    return result


def _value(result: Any) -> Any:
    if isinstance(result, (Spin, *RESULT_VIEWS)):
        return result.value
    if isinstance(result, Execution):
        raise Problem("'execution' can only be used to call getVariable(), hasVariable() or getVariables()")
    return result


def _eval(node: Node, data: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "name":
        name = node[1]
        if name in data:
            return data[name]
        if name == "execution":
            return Execution(data)
        raise Missing(name)
    if kind == "prop":
        base = _eval(node[1], data)
        return _property(base, node[2], node)
    if kind == "index":
        base = _eval(node[1], data)
        return _index(base, _eval(node[2], data), node)
    if kind == "call":
        target = node[1]
        resolver = BEANS.get()
        if resolver is not None and target[0] == "name" and target[1] not in data and target[1] != "execution":
            found, value = resolver(f"{target[1]}.{node[2]}", [_eval(a, data) for a in node[3]])
            if found:
                return value
        return _call(_eval(node[1], data), node[2], [_eval(a, data) for a in node[3]], node)
    if kind == "spin":
        if len(node[1]) != 1:
            raise Problem("S() takes one argument")
        return Spin.of(_eval(node[1][0], data))
    if kind == "and":
        return to_bool(_eval(node[1], data)) and to_bool(_eval(node[2], data))
    if kind == "or":
        return to_bool(_eval(node[1], data)) or to_bool(_eval(node[2], data))
    if kind == "not":
        return not to_bool(_eval(node[1], data))
    if kind == "empty":
        value = _eval(node[1], data)
        return value is None or (isinstance(value, (str, list, dict, tuple, set)) and len(value) == 0)
    if kind == "neg":
        value = to_number(_eval(node[1], data))
        return -value
    if kind == "cond":
        return _eval(node[2], data) if to_bool(_eval(node[1], data)) else _eval(node[3], data)
    if kind == "bin":
        op = node[1]
        left, right = _eval(node[2], data), _eval(node[3], data)
        if op in ("==", "!="):
            equal = equals(left, right)
            return equal if op == "==" else not equal
        if op in ("<", ">", "<=", ">="):
            return compare(op, left, right)
        return arithmetic(op, left, right)
    raise Problem(f"cannot evaluate node {kind}")  # unreachable unless the parser grows a node kind


def path_text(node: Node) -> str:
    kind = node[0]
    if kind == "name":
        return node[1]
    if kind == "prop":
        return f"{path_text(node[1])}.{node[2]}"
    if kind == "index":
        key = node[2]
        inner = repr(key[1]) if key[0] == "lit" else "…"
        return f"{path_text(node[1])}[{inner}]"
    if kind == "call":
        return f"{path_text(node[1])}.{node[2]}()"
    return "(…)"


def _property(base: Any, name: str, node: Node) -> Any:
    if base is None:
        return None  # EL: a property of null is null
    if isinstance(base, dict):
        if name in base:
            return base[name]
        raise Missing(path_text(node))
    if isinstance(base, Execution):
        known, value = base.fact(name)
        if known:
            return value
        raise Problem(f"execution.{name} is not available; use execution.getVariable('name')")
    if isinstance(base, RESULT_VIEWS):
        return base.property(name)
    raise Problem(f"{path_text(node[1])} is {describe_value(base)}, which has no property '{name}'")


def _index(base: Any, key: Any, node: Node) -> Any:
    if base is None:
        return None
    if isinstance(base, dict):
        if key in base:
            return base[key]
        if str(key) in base:
            return base[str(key)]
        raise Missing(path_text(node))
    if isinstance(base, (list, tuple, str)):
        index = to_number(key)
        if not isinstance(index, int):
            raise Problem(f"{path_text(node[1])} needs a whole-number index, not {key!r}")
        if 0 <= index < len(base):
            return base[index]
        raise Missing(path_text(node))
    raise Problem(f"{path_text(node[1])} is {describe_value(base)}, which cannot be indexed")


def _call(target: Any, method: str, args: list[Any], node: Node) -> Any:
    def arity(n: int) -> None:
        if len(args) != n:
            raise Problem(f"{method}() takes {n} argument{'s' if n != 1 else ''}, {len(args)} given")

    if isinstance(target, (Spin, *RESULT_VIEWS)):
        return target.call(method, args)
    if isinstance(target, Execution):
        if method in ("getVariable", "getVariableLocal"):
            arity(1)
            return target.data.get(str(args[0]))
        if method in ("hasVariable", "hasVariableLocal"):
            arity(1)
            return str(args[0]) in target.data
        if method in ("getVariables", "getVariablesLocal"):
            arity(0)
            return dict(target.data)
        if method.startswith("get") and len(method) > 3:
            known, value = target.fact(method[3].lower() + method[4:])
            if known:
                arity(0)
                return value
        raise Problem(f"execution.{method}() is not available; only getVariable, hasVariable and getVariables")
    table: dict[str, Callable[..., Any]] | None = None
    if isinstance(target, str):
        table = {"length": lambda: len(target), "isEmpty": lambda: not target,
                 "startsWith": lambda s: target.startswith(to_text(s)),
                 "endsWith": lambda s: target.endswith(to_text(s)), "contains": lambda s: to_text(s) in target,
                 "equals": lambda s: target == s, "equalsIgnoreCase": lambda s: target.lower() == to_text(s).lower(),
                 "toUpperCase": target.upper, "toLowerCase": target.lower, "trim": target.strip,
                 "indexOf": lambda s: target.find(to_text(s)),
                 "substring": lambda start, end=None: target[start:end]}
    elif isinstance(target, (list, tuple)):
        table = {"size": lambda: len(target), "isEmpty": lambda: not target, "contains": lambda v: v in target,
                 "get": lambda i: _index(target, i, ("index", node[1], ("lit", i)))}
    elif isinstance(target, dict):
        table = {"size": lambda: len(target), "isEmpty": lambda: not target,
                 "containsKey": lambda k: k in target, "get": target.get}
    if target is None:
        raise Problem(f"cannot call {method}() because {path_text(node[1])} is null")
    if table is None or method not in table:
        raise Problem(f"the method {method}() is not available on {describe_value(target)}")
    try:
        return table[method](*args)
    except TypeError:
        raise Problem(f"wrong number or type of arguments for {method}()") from None

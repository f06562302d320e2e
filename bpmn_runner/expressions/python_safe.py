"""Python expressions (SpiffArena conditions): sandboxed with simpleeval, or plain `eval` when trusted."""

from __future__ import annotations

import ast
import builtins
from functools import lru_cache
from typing import Any, Mapping

import simpleeval

from .script_names import SCRIPT_TYPES, ModuleView
from ._limits import SizeGuard, check_format_spec
from ._problems import Missing, Problem

_BLOCKED_FUNCTIONS = frozenset({
    "open", "exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "dir", "input", "breakpoint", "type", "help", "exit", "quit", "memoryview", "object", "super",
})
# Read-only methods; the ones that can amplify a string are wrapped by SizeGuard.method.
_STR_METHODS = frozenset({
    "capitalize", "casefold", "center", "count", "endswith", "find", "index", "isalnum", "isalpha", "isascii",
    "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "join", "ljust", "lower",
    "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition",
    "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill",
})
_ALLOWED_METHODS: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    dict: frozenset({"get", "keys", "values", "items"}),
    list: frozenset({"index", "count"}),
    tuple: frozenset({"index", "count"}),
    int: frozenset({"bit_length", "real", "imag"}),
    float: frozenset({"is_integer", "real", "imag"}),
}
_TYPE_NAMES = {type(None): "None", dict: "dict", list: "list", tuple: "tuple", str: "string", int: "number",
               float: "number", bool: "boolean"}


def _functions(guard: SizeGuard) -> dict[str, Any]:
    return {"len": len, "str": str, "int": int, "float": float, "bool": bool, "abs": abs, "min": min, "max": max,
            "round": round, "sum": guard.sum, "any": any, "all": all, "sorted": sorted, "list": list,
            "dict": dict, "set": set, "tuple": tuple, "range": guard.range, "enumerate": enumerate, "zip": zip}


def _path(node: ast.AST) -> str:
    return ast.unparse(node)


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval with our name lookup, dotted access to dict keys, method allow-list and size guards."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.guard = SizeGuard()
        operators = dict(simpleeval.DEFAULT_OPERATORS)
        operators.update({ast.Add: self.guard.add, ast.Mult: self.guard.mul, ast.Pow: self.guard.pow,
                          ast.LShift: self.guard.lshift, ast.Mod: self.guard.mod})
        super().__init__(operators=operators, functions=_functions(self.guard), names=data)

    def _eval(self, node: ast.AST) -> Any:
        if type(node) not in self.nodes:
            raise Problem(f"{_feature_name(node)} is not allowed in an expression")
        return super()._eval(node)

    def _eval_name(self, node: ast.Name) -> Any:
        if node.id.startswith("__"):
            raise Problem(f"the name '{node.id}' is not allowed")
        if node.id in self.names:
            return self.names[node.id]
        if node.id in self.functions:
            return self.functions[node.id]
        raise Missing(node.id)

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        name = node.attr
        if name.startswith("_"):
            raise Problem(f"access to '{name}' is not allowed")
        value = self._eval(node.value)
        if isinstance(value, dict) and name in value:
            return value[name]
        if isinstance(value, ModuleView) or (isinstance(value, type) and value in SCRIPT_TYPES) or \
                (not isinstance(value, type) and isinstance(value, SCRIPT_TYPES)):
            return getattr(value, name)
        allowed = _ALLOWED_METHODS.get(type(value), frozenset())
        if name in allowed:
            return self.guard.method(value, name, getattr(value, name))
        if isinstance(value, dict):
            if hasattr(dict, name):
                raise Problem(f"'.{name}' is not available on a dict (only get, keys, values, items)")
            raise Missing(_path(node))
        if value is None:
            raise Problem(f"{_path(node.value)} is None, so it has no '{name}'")
        raise Problem(f"'.{name}' is not available on a {_TYPE_NAMES.get(type(value), 'value of this type')}")

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        container = self._eval(node.value)
        key = self._eval(node.slice)
        try:
            return container[key]
        except KeyError:
            raise Missing(_path(node)) from None
        except IndexError:
            raise Problem(f"{_path(node)} is out of range (the list has {len(container)} items)") from None
        except TypeError:
            raise Problem(f"{_path(node.value)} cannot be indexed with {key!r}") from None

    def _eval_call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name):
            name = node.func.id
            if name in _BLOCKED_FUNCTIONS:
                raise Problem(f"the function '{name}' is not allowed in an expression")
            if name not in self.functions:
                raise Problem(f"unknown function '{name}'")
            func = self.functions[name]
        elif isinstance(node.func, ast.Attribute):
            func = self._eval(node.func)
            if not callable(func):
                raise Problem(f"{_path(node.func)} is not a function")
        else:
            raise Problem("only named functions and methods can be called")
        args = [self._eval(a) for a in node.args]
        kwargs = dict(self._eval(k) for k in node.keywords)
        return func(*args, **kwargs)

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        if node.format_spec is not None:
            spec = self._eval(node.format_spec)
            check_format_spec(spec)
            return format(self._eval(node.value), spec)
        return self._eval(node.value)


def _feature_name(node: ast.AST) -> str:
    names = {"Lambda": "lambda", "NamedExpr": "':=' assignment", "Await": "await", "Yield": "yield",
             "Starred": "'*' unpacking", "SetComp": "a set comprehension"}
    return names.get(type(node).__name__, type(node).__name__)


@lru_cache(maxsize=512)
def parse(expression: str) -> ast.expr:
    """Parse one Python expression; statements such as imports or assignments are syntax errors here."""
    text = expression.strip()
    if not text:
        raise Problem("the expression is empty")
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        if text.split(None, 1)[0] in ("import", "from"):
            raise Problem("imports are not allowed in an expression") from None
        raise Problem(f"{exc.msg} at column {exc.offset or 1}") from None
    except (RecursionError, MemoryError, ValueError):
        raise Problem("the expression is nested too deeply or contains invalid characters") from None


def evaluate(expression: str, data: Mapping[str, Any], names: Mapping[str, Any] | None = None) -> Any:
    """Evaluate in the sandbox: only the data, a few safe functions (and `names`), and size-checked operators."""
    tree = parse(expression)
    evaluator = _Evaluator({**(names or {}), **data})
    evaluator.functions.update({k: v for k, v in (names or {}).items() if callable(v) and k not in data})
    try:
        return evaluator.eval(expression, previously_parsed=tree)
    except Problem:
        raise
    except simpleeval.IterableTooLong:
        raise Problem("the result would be too long") from None
    except simpleeval.InvalidExpression as exc:
        raise Problem(str(exc).removeprefix("Sorry, ").removeprefix("Sorry! ")) from None
    except ZeroDivisionError:
        raise Problem("division by zero") from None
    except RecursionError:
        raise Problem("the expression is nested too deeply") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise Problem("the number has too many digits to turn into text") from None
        raise Problem(str(exc) or "invalid value") from None
    except (TypeError, ArithmeticError, AttributeError, KeyError, IndexError) as exc:
        raise Problem(str(exc) or type(exc).__name__) from None


def evaluate_trusted(expression: str, data: Mapping[str, Any]) -> Any:
    """Evaluate as plain Python with normal builtins; the data is a copied globals dict."""
    text = expression.strip()
    parse(text)
    namespace: dict[str, Any] = dict(data)
    namespace["__builtins__"] = builtins
    try:
        return eval(text, namespace)  # noqa: S307 - the caller chose to trust the diagram
    except NameError as exc:
        raise Missing(exc.name or str(exc)) from None
    except Exception as exc:  # any failure of user code becomes one ExpressionError
        raise Problem(f"{type(exc).__name__}: {exc}") from None


def referenced_names(expression: str) -> set[str]:
    """Names read from the data: loaded names minus comprehension variables and called functions."""
    tree = parse(expression)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            bound.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loaded - bound - (called & (set(_functions(SizeGuard())) | _BLOCKED_FUNCTIONS))

"""Script task bodies: RestrictedPython with time, memory and size bounds, or plain `exec` when trusted."""

from __future__ import annotations

import ast
import builtins
import copy
import os
import textwrap
import time
import types
from functools import lru_cache
from typing import Any, Callable

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence,
                                     safer_getattr_raise)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, copy_locations

from ..errors import ExpressionError
from ._limits import MAX_FORMAT_WIDTH, MAX_LENGTH, LimitExceeded, SizeGuard, check_format_spec
from ._problems import MissingVariableError

SCRIPT_FILENAME = "<script>"
TIME_LIMIT_SECONDS = 2.0
MEMORY_LIMIT_BYTES = 256 * 1024 * 1024  # growth of the process's resident memory while a script runs
_CHECK_EVERY = 16  # ticks between two time/memory checks
_TRUST_HINT = "is not allowed in a sandboxed script; pass --trust-scripts to run scripts as full Python"
_GUARDED_BINOPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}
_SANDBOX_NAMES = ("abs", "bool", "callable", "chr", "complex", "divmod", "float", "hash", "hex", "int", "len",
                  "oct", "ord", "round", "slice", "min", "max", "any", "all", "enumerate", "zip", "map", "filter",
                  "reversed", "issubclass", "next", "bin")
_SIZED_TYPES = (str, list, dict, set, frozenset, tuple)
_PROVIDED = set(_SANDBOX_NAMES) | {"sorted", "list", "dict", "set", "frozenset", "tuple", "sum", "print",
                                    "isinstance", "pow", "range", "repr", "str"}
# Builtins a sandboxed script cannot use; a NameError for one of them is reported as a refused feature.
_UNAVAILABLE = {"KeyboardInterrupt"} | {name for name in dir(builtins)
                                        if not name.startswith("_") and not name[0].isupper() and name not in _PROVIDED}


class _Stop(BaseException):
    """Raised by `_tick_` once a limit is hit; a BaseException so `except Exception` does not catch it, and raised
    again at every later tick so that even `except BaseException` cannot keep a loop going."""


# ---------------------------------------------------------------- compile-time policy


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy with our wording, no imports or classes, and size-checked operators."""

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name and name.startswith("_") and name != "_":
            self.error(node, f"the name '{name}'")
        else:
            super().check_name(node, name, allow_magic_methods)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_") or node.attr in INSPECT_ATTRIBUTES:
            self.error(node, f"the attribute '{node.attr}'")
            return node
        return super().visit_Attribute(node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "a class definition")
        return node

    # Every loop iteration and function call starts with `_tick_(line)`, which enforces the time and memory limits.
    def visit_While(self, node: ast.While) -> Any:
        return self._ticking(super().visit_While(node))

    def visit_For(self, node: ast.For) -> Any:
        return self._ticking(super().visit_For(node))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        return self._ticking(super().visit_FunctionDef(node))

    @staticmethod
    def _ticking(node: Any) -> Any:
        tick = ast.Expr(_call("_tick_", [ast.Constant(node.lineno)], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _call("_tick_", [ast.Constant(node.iter.lineno)], node.iter))
        return node

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval", "compile", "open", "__import__"):
            self.error(node, f"{node.func.id}()")
            return node
        return super().visit_Call(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        # RestrictedPython refuses `totals[key] += 1`; rewrite it as `totals[key] = totals[key] + 1`, which
        # evaluates `totals` and `key` twice -- harmless for the plain names and constants scripts use there.
        if isinstance(node.target, ast.Subscript):
            load = ast.Subscript(value=copy.deepcopy(node.target.value), slice=copy.deepcopy(node.target.slice),
                                 ctx=ast.Load())
            assign = ast.Assign(targets=[node.target], value=ast.BinOp(left=load, op=node.op, right=node.value))
            ast.copy_location(load, node.target)
            ast.copy_location(assign.value, node)
            ast.copy_location(assign, node)
            return self.visit(assign)
        return super().visit_AugAssign(node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        symbol = _GUARDED_BINOPS.get(type(node.op))
        if symbol is None:
            return node
        return _call("_op_", [ast.Constant(symbol), node.left, node.right], node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        spec = node.format_spec
        if spec is not None:
            if not all(isinstance(part, ast.Constant) for part in getattr(spec, "values", [])):
                self.error(node, "a computed format spec in an f-string")
                return node
            try:
                check_format_spec("".join(str(part.value) for part in spec.values))  # type: ignore[attr-defined]
            except LimitExceeded:
                self.error(node, f"an f-string format width over {MAX_FORMAT_WIDTH:,}")
                return node
        # Only the value: the spec is a constant JoinedStr that must stay one (visit_JoinedStr would wrap it).
        node.value = self.visit(node.value)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        return _call("_size_", [super().visit_JoinedStr(node)], node)

    def visit_List(self, node: ast.List) -> Any:
        return self._sized_display(super().visit_List(node))

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return self._sized_display(super().visit_Tuple(node))

    def visit_Set(self, node: ast.Set) -> Any:
        return self._sized_display(super().visit_Set(node))

    @staticmethod
    def _sized_display(node: Any) -> Any:
        # `[*xs, *xs]` doubles a list without any guarded operator, so check displays that unpack.
        if isinstance(getattr(node, "ctx", None), ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts):
            return _call("_size_", [node], node)
        return node

    def visit_Assign(self, node: ast.Assign) -> Any:
        # `xs[len(xs):] = xs` grows a list in place; check the assigned value's size.
        if any(isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Slice) for t in node.targets):
            node.value = _call("_size_", [node.value], node.value)
        return super().visit_Assign(node)


def _call(name: str, args: list[ast.expr], where: ast.AST) -> ast.Call:
    new = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(new, where)
    copy_locations(new.func, where)
    return new


@lru_cache(maxsize=256)
def _compile(script: str) -> types.CodeType:
    try:
        tree = ast.parse(script, SCRIPT_FILENAME, "exec")
    except SyntaxError as exc:
        raise ExpressionError(_syntax_message(exc)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("script is nested too deeply or contains invalid characters") from None
    result = compile_restricted_exec(tree, SCRIPT_FILENAME, policy=_Policy)
    if result.errors:
        raise ExpressionError(_policy_message(result.errors[0]))
    assert result.code is not None
    return result.code


def _syntax_message(exc: SyntaxError) -> str:
    text = (exc.text or "").strip()
    return f"script line {exc.lineno or 1}: {exc.msg}" + (f" in {text!r}" if text else "")


def _policy_message(error: str) -> str:
    # RestrictedPython reports 'Line N: <what>'; ours name only the forbidden thing, its own are full sentences.
    head, _, what = error.partition(": ")
    line = head.removeprefix("Line ").strip()
    what = what.rstrip(".")
    if what.endswith(" not allowed"):
        return f"script line {line}: {what} in a sandboxed script; pass --trust-scripts to run scripts as full Python"
    if " is " in what or " are " in what:
        return f"script line {line}: {what}; this {_TRUST_HINT}"
    return f"script line {line}: {what} {_TRUST_HINT}"


def check_script(script: str) -> None:
    """Raise ExpressionError if a script does not parse or uses a feature the sandbox refuses."""
    _compile(textwrap.dedent(script))


# ---------------------------------------------------------------- runtime guards


def _sized(make: Callable[..., Any]) -> Callable[..., Any]:
    def build(*args: Any, **kwargs: Any) -> Any:
        return _check_size(make(*args, **kwargs))
    build.__name__ = getattr(make, "__name__", "builtin")
    return build


def _check_size(value: Any) -> Any:
    if isinstance(value, _SIZED_TYPES) and len(value) > MAX_LENGTH:
        raise LimitExceeded(f"a value of {len(value):,} items is over the limit of {MAX_LENGTH:,}")
    return value


def _namespace_tools(guard: SizeGuard) -> tuple[dict[str, Any], dict[str, Any]]:
    """The builtins and the RestrictedPython hooks (`_getattr_`, `_write_`, ...) for one run."""
    sized = {t.__name__: _sized(t) for t in _SIZED_TYPES}
    sized["sorted"] = _sized(sorted)
    sized["repr"] = _sized(repr)
    types_by_wrapper = {sized[t.__name__]: t for t in _SIZED_TYPES}

    def unwrap(cls: Any) -> Any:
        if isinstance(cls, tuple):
            return tuple(unwrap(c) for c in cls)
        return types_by_wrapper.get(cls, cls)

    def guarded_isinstance(obj: Any, cls: Any) -> bool:
        return isinstance(obj, unwrap(cls))

    def guarded_getattr(obj: Any, name: str) -> Any:
        if isinstance(obj, dict) and not hasattr(type(obj), name):  # SpiffArena's dot access: payload.initial_var
            if name in obj:
                return obj[name]
            raise MissingVariableError(f"the dict has no key '{name}'", name=name)
        return guard.method(obj, name, safer_getattr_raise(obj, name))

    # KeyboardInterrupt is left out so that a script cannot fake a Ctrl-C, which is the one thing we let through.
    sandbox_builtins: dict[str, Any] = {name: value for name, value in safe_builtins.items()
                                        if (name[0].isupper() and name != "KeyboardInterrupt")
                                        or name in _SANDBOX_NAMES}
    sandbox_builtins.update({name: getattr(builtins, name) for name in _SANDBOX_NAMES})
    sandbox_builtins.update(sized)
    sandbox_builtins.update({"pow": guard.pow, "range": guard.range, "sum": guard.sum,
                             "isinstance": guarded_isinstance})
    hooks = {
        "_getattr_": guarded_getattr,
        "_getitem_": lambda obj, key: obj[key],
        "_getiter_": lambda obj: obj,
        "_write_": full_write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_inplacevar_": guard.binop,
        "_op_": guard.binop,
        "_size_": _check_size,
        "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
        "_print_": _Printer,
    }
    return sandbox_builtins, hooks


class _Printer:
    """`print` in a sandboxed script writes to stdout, as it does in a trusted one."""

    def __init__(self, _getattr_: Any = None) -> None:
        pass

    def __call__(self) -> str:
        return ""  # the `printed` variable of RestrictedPython: we do not collect output

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        kwargs.pop("file", None)
        print(*objects, **kwargs)


def _resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class _Watchdog:
    """Called at every loop iteration and function call of a sandboxed script; stops it past the limits."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + TIME_LIMIT_SECONDS
        self.memory_start = _resident_bytes()
        self.ticks = 0
        self.reason: str | None = None

    def tick(self, line: int) -> bool:
        if self.reason:
            raise _Stop()
        self.ticks += 1
        if self.ticks % _CHECK_EVERY == 0:
            if time.monotonic() > self.deadline:
                self.reason = (f"script line {line}: the script ran longer than {TIME_LIMIT_SECONDS:g} s "
                               "(an endless loop?)")
            elif self.memory_start is not None:
                now = _resident_bytes()
                if now is not None and now - self.memory_start > MEMORY_LIMIT_BYTES:
                    self.reason = (f"script line {line}: the script used more than "
                                   f"{MEMORY_LIMIT_BYTES // (1024 * 1024)} MB of memory")
            if self.reason:
                raise _Stop()
        return True


# ---------------------------------------------------------------- running


def execute(script: str, data: dict[str, Any], *, trusted: bool = False, names: dict[str, Any] | None = None) -> None:
    """Run a script body against a copy of `data`, then write assigned and deleted names back into `data`.
    `names` (modules and functions) are visible too but never written back."""
    source = textwrap.dedent(script)
    if trusted:
        code = _compile_trusted(source)
        visible = dict(data)
    else:
        code = _compile(source)
        visible = {k: v for k, v in data.items() if not k.startswith("_")}
    try:
        copies = copy.deepcopy(visible)
    except Exception:  # data that cannot be deep-copied is shared rather than refused
        copies = dict(visible)
    provided = {k: v for k, v in (names or {}).items() if k not in copies}
    namespace = {**provided, **copies}
    if trusted:
        namespace["__builtins__"] = builtins
        _run(code, namespace, watchdog=None)
    else:
        watchdog = _Watchdog()
        sandbox_builtins, hooks = _namespace_tools(SizeGuard())
        hooks["_tick_"] = watchdog.tick
        namespace.update(hooks)
        namespace["__builtins__"] = sandbox_builtins
        namespace["__name__"] = "script"
        _run(code, namespace, watchdog=watchdog)
        for name in hooks:
            namespace.pop(name, None)
    for name, value in provided.items():
        if namespace.get(name) is value:
            del namespace[name]
    _write_back(namespace, copies, data)


@lru_cache(maxsize=256)
def _compile_trusted(script: str) -> types.CodeType:
    try:
        return compile(script, SCRIPT_FILENAME, "exec")
    except SyntaxError as exc:
        raise ExpressionError(_syntax_message(exc)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("script is nested too deeply or contains invalid characters") from None


def _run(code: types.CodeType, namespace: dict[str, Any], watchdog: _Watchdog | None) -> None:
    try:
        exec(code, namespace)  # noqa: S102 - sandboxed by the policy and hooks, or trusted by the caller
    except _Stop:
        pass
    except NameError as exc:
        if watchdog is None or not watchdog.reason:
            raise _name_error(exc, sandboxed=watchdog is not None) from None
    except Exception as exc:
        if watchdog is None or not watchdog.reason:
            line = _script_line(exc)
            detail = str(exc) if isinstance(exc, LimitExceeded) else f"{type(exc).__name__}: {exc}"
            if isinstance(exc, RecursionError):
                detail = "recursion is too deep"
            raise ExpressionError(f"script line {line}: {detail}") from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit from exit(), or a raised BaseException: never let it stop the engine
        if watchdog is None or not watchdog.reason:
            what = "called exit()" if isinstance(exc, SystemExit) else f"raised {type(exc).__name__}: {exc}"
            raise ExpressionError(f"script line {_script_line(exc)}: the script {what}") from None
    if watchdog is not None and watchdog.reason:
        raise ExpressionError(watchdog.reason)


def _name_error(exc: NameError, *, sandboxed: bool) -> ExpressionError:
    name = getattr(exc, "name", None) or str(exc)
    line = _script_line(exc)
    if sandboxed and name in _UNAVAILABLE:
        return ExpressionError(f"script line {line}: the builtin '{name}' {_TRUST_HINT}")
    return MissingVariableError(f"script line {line}: unknown variable '{name}'", name=name)


def _script_line(exc: BaseException) -> int:
    line = 1
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _write_back(namespace: dict[str, Any], copies: dict[str, Any], data: dict[str, Any]) -> None:
    updates: dict[str, Any] = {}
    for name, value in namespace.items():
        if name.startswith("_") or isinstance(value, (types.ModuleType, type)) or callable(value):
            continue
        if name in copies and value is copies[name] and _same(value, data.get(name)):
            continue  # untouched, even if it was not JSON to begin with
        updates[name] = _storable(name, value)
    removed = [name for name in copies if name not in namespace]
    data.update(updates)
    for name in removed:
        del data[name]


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _storable(name: str, value: Any) -> Any:
    """The value as JSON-compatible data (tuples become lists), or an ExpressionError naming the variable."""
    try:
        return _jsonable(value)
    except (TypeError, RecursionError):
        kind = type(value).__name__
        raise ExpressionError(f"script variable '{name}' holds a {kind} (or contains something) that cannot be "
                              "stored as process data; convert it to text, a number, a list or a dict, or "
                              f"`del {name}` at the end of the script") from None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("non-text key")
        return {k: _jsonable(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)

"""Script task bodies: RestrictedPython with time, memory and size bounds, or plain `exec` when trusted."""

from __future__ import annotations

import builtins
import copy
import os
import textwrap
import time
import types
from functools import lru_cache
from typing import Any, Callable

from RestrictedPython import safe_builtins
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence,
                                     safer_getattr_raise)

from ..errors import ExpressionError
from ._limits import MAX_LENGTH, LimitExceeded, SizeGuard
from ._problems import MissingVariableError
from .script_policy import SCRIPT_FILENAME, TRUST_HINT, compile_sandboxed, syntax_message

TIME_LIMIT_SECONDS = 2.0
MEMORY_LIMIT_BYTES = 256 * 1024 * 1024  # growth of the process's resident memory while a script runs
_CHECK_EVERY = 16  # ticks between two time/memory checks
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



def check_script(script: str) -> None:
    """Raise ExpressionError if a script does not parse or uses a feature the sandbox refuses."""
    compile_sandboxed(textwrap.dedent(script))


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
        code = compile_sandboxed(source)
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
        raise ExpressionError(syntax_message(exc)) from None
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
        return ExpressionError(f"script line {line}: the builtin '{name}' {TRUST_HINT}")
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

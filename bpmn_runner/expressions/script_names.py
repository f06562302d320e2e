"""What a script may use beside the process data: the modules SpiffArena offers to scripts (datetime, timedelta,
time, decimal, json, random, uuid, re), as read-only views that reach no other module, and nothing else."""

from __future__ import annotations

import datetime as _datetime
import decimal as _decimal
import json as _json
import random as _random
import re as _re
import time as _time
import types
import uuid as _uuid
from typing import Any, Iterable


class ModuleView:
    """A module's public functions, classes and constants; never a submodule, nothing that starts with '_'."""

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self.__dict__["_name"] = name
        self.__dict__["_values"] = values

    def __getattr__(self, attr: str) -> Any:
        try:
            return self.__dict__["_values"][attr]
        except KeyError:
            raise AttributeError(f"module {self.__dict__['_name']!r} has no attribute {attr!r} here") from None

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"module {self.__dict__['_name']!r} cannot be changed")

    def __repr__(self) -> str:
        return f"<module {self.__dict__['_name']}>"


def module_view(module: types.ModuleType, *, leave_out: Iterable[str] = (), extra: dict[str, Any] | None = None,
                name: str | None = None) -> ModuleView:
    skipped = set(leave_out)
    values = {attr: getattr(module, attr) for attr in dir(module)
              if not attr.startswith("_") and attr not in skipped
              and not isinstance(getattr(module, attr), types.ModuleType)}
    values.update(extra or {})
    return ModuleView(name or module.__name__, values)


def _datetime_view() -> ModuleView:
    """`datetime` works both ways SpiffArena scripts write it: `datetime.now()` and `datetime.datetime.now()`."""
    cls = _datetime.datetime
    shortcuts = {attr: getattr(cls, attr) for attr in ("now", "utcnow", "today", "fromisoformat", "strptime",
                                                       "fromtimestamp", "combine", "min", "max")}
    return module_view(_datetime, extra=shortcuts)


SCRIPT_MODULES: dict[str, Any] = {
    "datetime": _datetime_view(),
    "timedelta": _datetime.timedelta,
    "time": module_view(_time, leave_out=("sleep",)),  # a sleeping script would hold the engine
    "decimal": module_view(_decimal),
    "json": module_view(_json),
    "random": module_view(_random),
    "uuid": module_view(_uuid),
    "re": module_view(_re),
}


def script_names(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The names a script or expression sees beside the data (the data wins where a name is both)."""
    return {**SCRIPT_MODULES, **(extra or {})}


#: Classes the script modules offer (datetime, date, timedelta, Decimal, UUID, ...): an expression may use the
#: public attributes of these classes and of their instances (`now()`, `.year`, `.isoformat()`).
SCRIPT_TYPES: tuple[type, ...] = tuple({value for view in SCRIPT_MODULES.values() if isinstance(view, ModuleView)
                                        for value in view.__dict__["_values"].values()
                                        if isinstance(value, type) and not issubclass(value, BaseException)}
                                       | {_datetime.timedelta, _re.Pattern, _re.Match})

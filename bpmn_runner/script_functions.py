"""The functions SpiffArena documents for scripts in process models (get_current_user(), get_env(), ...), answered
from the user's settings instead of a SpiffArena server, and the secrets source behind `secret:NAME` parameters."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Protocol

from .errors import InvalidOperationError
from .models import ScriptContext

SECRET_PREFIX = "secret:"


def script_context(settings: dict[str, str], user: str | None = None) -> ScriptContext:
    """The script context from `[tool.bpmn-runner.spiffarena]` (env, frontend_url, secrets_file) and --user."""
    unknown = set(settings) - {"env", "frontend_url", "secrets_file"}
    if unknown:
        raise InvalidOperationError(f"[tool.bpmn-runner.spiffarena]: unknown setting {', '.join(sorted(unknown))}; "
                                    f"the settings are env, frontend_url and secrets_file")
    defaults = ScriptContext()
    return ScriptContext(user=user, env=settings.get("env", defaults.env),
                         frontend_url=settings.get("frontend_url", defaults.frontend_url),
                         secrets_file=settings.get("secrets_file"))


def user_record(name: str | None) -> dict[str, Any]:
    """A user as SpiffArena's get_current_user() returns one (the fields scripts read)."""
    username = name or "anonymous"
    return {"username": username, "display_name": username, "email": f"{username}@localhost" if name else "",
            "service": "bpmn-runner", "service_id": username}


def current_user(context: ScriptContext) -> str | None:
    """The user acting now: --user, else $BPMN_RUNNER_USER."""
    return context.user or os.environ.get("BPMN_RUNNER_USER") or None


class People(Protocol):
    """What the instance knows about its people (the engine's Instance answers)."""

    def initiator(self) -> str | None: ...

    def last_user_completing(self, process_id: str, task_name: str) -> str | None: ...


def script_functions(context: ScriptContext, *, instance_id: str, process_id: str,
                     current_task: Callable[[], dict[str, Any]] | None = None,
                     people: People | None = None) -> dict[str, Callable[..., Any]]:
    """get_env, get_current_user, get_frontend_url, get_process_initiator_user, get_toplevel_process_info,
    get_process_info, get_current_task_info, get_last_user_completing_task and get_secret, for one instance.
    The initiator and the completing users come from `people` (recorded by start/complete --user)."""
    user = current_user(context)
    info = {"process_instance_id": instance_id, "process_model_identifier": process_id}

    def initiator() -> dict[str, Any]:
        return user_record(people.initiator() if people is not None else user)

    def last_completing(*args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """SpiffArena's (bpmn_process_identifier, task_bpmn_identifier): None when no one completed it yet."""
        process = kwargs.get("bpmn_process_identifier", args[0] if len(args) == 2 else process_id)
        task = kwargs.get("task_bpmn_identifier", args[-1] if args else None)
        if task is None:
            raise InvalidOperationError("get_last_user_completing_task(bpmn_process_identifier, "
                                        "task_bpmn_identifier) needs the task's id")
        name = people.last_user_completing(str(process), str(task)) if people is not None else None
        return user_record(name) if name else None

    return {
        "get_env": lambda: context.env,
        "get_current_user": lambda: user_record(user),
        "get_process_initiator_user": initiator,
        "get_last_user_completing_task": last_completing,
        "get_frontend_url": lambda: context.frontend_url,
        "get_toplevel_process_info": lambda: dict(info),
        "get_process_info": lambda: dict(info),
        "get_current_task_info": current_task or (lambda: {}),
        "get_secret": lambda name: read_secret(context, str(name)),
    }


_ENV_NAME = re.compile(r"[^A-Za-z0-9]+")


def read_secret(context: ScriptContext, name: str) -> str:
    """A secret by name: from the JSON file the settings name, else $BPMN_RUNNER_SECRET_<NAME> (non-alphanumerics
    as '_', upper case). Never stored in instance data by bpmn-runner."""
    if context.secrets_file:
        path = Path(context.secrets_file)
        try:
            secrets = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidOperationError(f"secrets file {path}: cannot read it as a JSON object: {exc}") from exc
        if isinstance(secrets, dict) and name in secrets:
            return str(secrets[name])
    variable = "BPMN_RUNNER_SECRET_" + _ENV_NAME.sub("_", name).strip("_").upper()
    value = os.environ.get(variable)
    if value is None:
        where = f"the secrets file {context.secrets_file} or " if context.secrets_file else ""
        raise InvalidOperationError(f"secret {name!r} is not set; put it in {where}the environment variable "
                                    f"{variable}")
    return value


def resolve_secret_reference(value: Any, context: ScriptContext) -> Any:
    """A parameter value `"secret:xero/OAuth"` becomes that secret; anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(SECRET_PREFIX):
        return read_secret(context, value[len(SECRET_PREFIX):])
    return value

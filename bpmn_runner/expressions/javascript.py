"""JavaScript scripts and expressions in a fresh, bounded V8 isolate (mini-racer), with Camunda 7's script API.

Each run gets a new isolate: nothing survives between runs, nothing of the host is reachable (no require, process,
fetch or file access), and time and heap are bounded. Variables go in and come back as JSON.
Camunda's `execution.getVariable/setVariable/getVariables/hasVariable/removeVariable` and the Spin JSON helper
`S(...)` (`prop`, `stringValue`, `numberValue`, `boolValue`, `elements`, `toString`, ...) are provided.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from py_mini_racer import JSEvalException, JSOOMException, JSParseException, JSTimeoutException, MiniRacer

from ..errors import ExpressionError

__all__ = ["ScriptOutcome", "run_script", "evaluate", "check_syntax", "DEFAULT_TIME_LIMIT", "DEFAULT_MEMORY_LIMIT"]

DEFAULT_TIME_LIMIT = 5.0                  # seconds of JavaScript per script run
DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024   # bytes of V8 heap per script run

_PRELUDE = r"""
(function (varsText, infoText, extraText) {
  const vars = JSON.parse(varsText), info = JSON.parse(infoText), extra = JSON.parse(extraText);
  const changed = {};
  const removed = {};
  const plain = (v) => (v !== null && typeof v === 'object' && v.__spin === true) ? v.value() : v;
  globalThis.execution = {
    getVariable(name) { return name in changed ? changed[name] : (name in vars && !(name in removed) ? vars[name] : null); },
    getVariableLocal(name) { return this.getVariable(name); },
    hasVariable(name) { return name in changed || (name in vars && !(name in removed)); },
    hasVariableLocal(name) { return this.hasVariable(name); },
    getVariables() { const out = {}; for (const k in vars) if (!(k in removed)) out[k] = vars[k];
                     for (const k in changed) out[k] = changed[k]; return out; },
    getVariablesLocal() { return this.getVariables(); },
    setVariable(name, value) { changed[String(name)] = plain(value); delete removed[String(name)]; },
    setVariableLocal(name, value) { this.setVariable(name, value); },
    setVariables(map) { for (const k in map) this.setVariable(k, map[k]); },
    removeVariable(name) { delete changed[name]; removed[name] = true; },
    getId() { return info.instanceId || null; },
    getProcessInstanceId() { return info.instanceId || null; },
    getActivityId() { return info.elementId || null; },
    getCurrentActivityId() { return info.elementId || null; },
    getProcessBusinessKey() { return info.businessKey || null; },
    getBusinessKey() { return info.businessKey || null; },
    getEventName() { return info.eventName || null; },
  };
  class SpinJsonError extends Error {}
  function wrap(value) {
    return {
      __spin: true,
      value() { return value; },
      prop(name, newValue) {
        if (arguments.length > 1) { value[name] = plain(newValue); return this; }
        if (value === null || typeof value !== 'object' || Array.isArray(value) || !(name in value))
          throw new SpinJsonError("Unable to find '" + name + "'");
        return wrap(value[name]);
      },
      hasProp(name) { return value !== null && typeof value === 'object' && !Array.isArray(value) && name in value; },
      deleteProp(name) { delete value[name]; return this; },
      fieldNames() { return value !== null && typeof value === 'object' ? Object.keys(value) : []; },
      isObject() { return value !== null && typeof value === 'object' && !Array.isArray(value); },
      isArray() { return Array.isArray(value); },
      isString() { return typeof value === 'string'; },
      isNumber() { return typeof value === 'number'; },
      isBoolean() { return typeof value === 'boolean'; },
      isNull() { return value === null; },
      isValue() { return value === null || ['string', 'number', 'boolean'].includes(typeof value); },
      stringValue() { if (typeof value !== 'string') throw new SpinJsonError('Expected String, got ' + JSON.stringify(value)); return value; },
      numberValue() { if (typeof value !== 'number') throw new SpinJsonError('Expected Number, got ' + JSON.stringify(value)); return value; },
      boolValue() { if (typeof value !== 'boolean') throw new SpinJsonError('Expected Boolean, got ' + JSON.stringify(value)); return value; },
      elements() {
        if (!Array.isArray(value)) throw new SpinJsonError('Expected Array, got ' + JSON.stringify(value));
        const list = value.map(wrap);
        list.size = () => list.length;
        list.get = (i) => list[i];
        return list;
      },
      append(item) { value.push(plain(item)); return this; },
      toString() { return JSON.stringify(value); },
      toJSON() { return value; },
    };
  }
  globalThis.S = function (input) {
    if (input !== null && typeof input === 'object' && input.__spin === true) return input;
    if (typeof input === 'string') {
      try { return wrap(JSON.parse(input)); } catch (e) { throw new SpinJsonError('Unable to parse JSON: ' + e.message); }
    }
    return wrap(input === undefined ? null : input);
  };
  for (const k in extra) globalThis[k] = extra[k];
  for (const k in vars) if (!(k in globalThis)) globalThis[k] = vars[k];
  globalThis.__bpmnRunnerCollect = (result) => JSON.stringify({
    result: plain(result === undefined ? null : result), changed: changed, removed: Object.keys(removed)});
})
//# sourceURL=bpmn-runner-prelude
"""

_SCRIPT_NAME = "script"
_SOURCE_URL = f"\n//# sourceURL={_SCRIPT_NAME}"
_LOCATION = re.compile(rf"^{_SCRIPT_NAME}:(\d+): (.*)$")
_FRAME = re.compile(rf"\b{_SCRIPT_NAME}:(\d+):\d+\)?$")


@dataclass
class ScriptOutcome:
    """What a script did: the value of its last expression, the variables it set and the ones it removed."""

    result: Any = None
    changed: dict[str, Any] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


def run_script(code: str, variables: Mapping[str, Any], *, time_limit: float = DEFAULT_TIME_LIMIT,
               memory_limit: int = DEFAULT_MEMORY_LIMIT, globals: Mapping[str, Any] | None = None,
               info: Mapping[str, Any] | None = None, store_globals: bool = False) -> ScriptOutcome:
    """Run `code` with the variables readable by name and through `execution`; return what it changed.

    `globals` are extra JSON values visible by name; `info` fills execution.getActivityId() and friends. Camunda 7
    stores only what `execution.setVariable` sets; with `store_globals` (bpmn.io style) top-level assignments to
    variables that exist are stored too."""
    racer = MiniRacer()
    try:
        racer.eval(_PRELUDE, timeout_sec=time_limit, max_memory=memory_limit)(
            _json_in(variables), _json_in(info or {}), _json_in(globals or {}))
        result = racer.eval(code + _SOURCE_URL, timeout_sec=time_limit, max_memory=memory_limit)
        collect = racer.eval("globalThis.__bpmnRunnerCollect")
        raw = json.loads(collect(result))
        outcome = ScriptOutcome(raw["result"], raw["changed"], raw["removed"])
        if store_globals:
            names = [k for k in variables if k not in outcome.changed]
            if names:
                current = json.loads(racer.eval(
                    "JSON.stringify(Object.fromEntries(%s.map(k => [k, globalThis[k] === undefined ? null : "
                    "globalThis[k]])))" % json.dumps(names), timeout_sec=time_limit, max_memory=memory_limit))
                outcome.changed.update({k: v for k, v in current.items() if v != variables.get(k)})
        return outcome
    except JSTimeoutException:
        _drain(racer)
        raise ExpressionError(f"JavaScript ran longer than {time_limit:g} s and was stopped") from None
    except JSOOMException:
        _drain(racer)
        raise ExpressionError(f"JavaScript used more than {memory_limit // (1024 * 1024)} MB and was "
                              f"stopped") from None
    except (JSParseException, JSEvalException) as exc:
        raise ExpressionError(describe_js_error(str(exc))) from None
    finally:
        racer.close()


def evaluate(code: str, variables: Mapping[str, Any], **options: Any) -> Any:
    """The value of a JavaScript expression or script (its last statement), as a condition or parameter uses it."""
    return run_script(code, variables, **options).result


def check_syntax(code: str) -> None:
    """Raise ExpressionError if the script does not parse (compiled, never run)."""
    racer = MiniRacer()
    try:
        racer.eval("(code) => { new Function(code); }", timeout_sec=DEFAULT_TIME_LIMIT)(code)
    except JSEvalException as exc:
        raise ExpressionError(describe_js_error(str(exc))) from None
    finally:
        racer.close()


def describe_js_error(text: str) -> str:
    """One line from V8's error report: `line 2: ReferenceError: foo is not defined`."""
    lines = text.strip().splitlines()
    if lines:
        match = _LOCATION.match(lines[0])
        if match:
            return f"JavaScript error at line {match.group(1)}: {match.group(2)}"
    message = next((line for line in reversed(lines) if line.strip() and not line.startswith("    at ")), text)
    message = re.sub(r"^[\w-]+:\d+: ", "", message.strip())
    frame = next((m for m in map(_FRAME.search, lines) if m), None)
    where = f" at line {frame.group(1)}" if frame else ""
    return f"JavaScript error{where}: {message}"


def _drain(racer: MiniRacer) -> None:
    """Wait until the stopped script has really ended, so V8's late callback does not reach a closed isolate."""
    try:
        racer.eval("0", timeout_sec=DEFAULT_TIME_LIMIT)
    except (JSTimeoutException, JSOOMException, JSEvalException):
        pass


def _json_in(value: Any) -> str:
    """JSON text, so only plain data (no Python objects) enters the isolate."""
    return json.dumps(value, default=str)

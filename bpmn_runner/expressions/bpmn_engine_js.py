"""bpmn-engine's JavaScript conventions (bpmn.io's engine, https://github.com/paed01/bpmn-engine): a script task
reads `environment.variables`, writes `environment.output`, and ends by calling `next(err, result)`; `this` holds
the same `environment`. Such a script is wrapped to run on the Camunda-style `execution` API of javascript.py."""

from __future__ import annotations

import re

_USES_CONVENTION = re.compile(r"\bnext\s*\(|\benvironment\s*\.\s*(variables|output|services)\b")

# One line, so that the script's own line numbers stay what the modeler shows. What the script sets in
# `environment.output` is written last: it wins over the (unchanged) value still in `environment.variables`.
_BEFORE = ("(function () { const environment = { variables: execution.getVariables(), output: {}, services: {} }; "
           "let __nextCalled = false, __nextError = null, __nextResult = null; "
           "function next(err, result) { __nextCalled = true; __nextError = err || null; "
           "__nextResult = result === undefined ? null : result; } "
           "const __returned = (function () { ")
_AFTER = ("\n}).call({ environment: environment }); "
          "if (__nextError) { throw (__nextError instanceof Error ? __nextError : new Error(String(__nextError))); } "
          "for (const k in environment.variables) if (environment.variables[k] !== execution.getVariable(k)) "
          "execution.setVariable(k, environment.variables[k]); "
          "for (const k in environment.output) execution.setVariable(k, environment.output[k]); "
          "return __nextCalled ? __nextResult : __returned; })()")


def uses_bpmn_engine_convention(code: str) -> bool:
    return bool(_USES_CONVENTION.search(code))


def adapt(code: str) -> str:
    """The script wrapped for bpmn-engine's conventions when it uses them; else unchanged."""
    return _BEFORE + code + _AFTER if uses_bpmn_engine_convention(code) else code

"""FEEL (DMN 1.5 chapter 10): the expression language of DMN and of Camunda 8, parsed once and evaluated safely.

Values: number -> Decimal (34 digits), string -> str, boolean -> bool, null -> None, date -> datetime.date,
date and time -> datetime.datetime, time -> datetime.time, days and time duration -> datetime.timedelta,
years and months duration -> YearsMonthsDuration, list -> list, context -> dict, range -> Range,
function -> FeelFunction.
"""

from __future__ import annotations

from .api import FeelExpression, FeelUnaryTests, compile_expression, compile_unary_tests, evaluate, test_scope
from .builtins_core import to_string
from .errors import FeelEvaluationError, FeelSyntaxError
from .functions import BUILTINS
from .types import conforms
from .values import FeelFunction, Range, YearsMonthsDuration, kind_of, to_feel, to_json, to_python

__all__ = [
    "BUILTINS", "FeelEvaluationError", "FeelExpression", "FeelFunction", "FeelSyntaxError", "FeelUnaryTests",
    "Range", "YearsMonthsDuration", "compile_expression", "compile_unary_tests", "conforms", "evaluate",
    "kind_of", "test_scope", "to_feel", "to_json", "to_python", "to_string",
]

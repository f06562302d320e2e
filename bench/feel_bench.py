"""FEEL evaluation speed: a parsed condition, a unary-test row and a parse, in microseconds per call."""

from __future__ import annotations

import timeit
from decimal import Decimal

from bpmn_runner.feel import compile_expression, compile_unary_tests


def per_call_us(fn, number: int = 20000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    condition = compile_expression('amount > 100 and status = "open"')
    data = {"amount": Decimal(250), "status": "open"}
    plain = {"amount": 250, "status": "open"}
    tests = compile_unary_tests('[1..5], > 10')
    print(f"condition `amount > 100 and status = \"open\"` (Decimal inputs): "
          f"{per_call_us(lambda: condition.evaluate(data)):.2f} us")
    print(f"same condition, plain int input converted on read:        "
          f"{per_call_us(lambda: condition.evaluate(plain)):.2f} us")
    print(f"unary tests `[1..5], > 10` matching 11:                      "
          f"{per_call_us(lambda: tests.matches(Decimal(11))):.2f} us")
    big = compile_expression('sum(for x in 1..100 return x * 2)')
    print(f"`sum(for x in 1..100 return x * 2)`:                          {per_call_us(big.evaluate, 500):.1f} us")
    from bpmn_runner.feel.api import FeelExpression
    text = 'amount > 100 and status = "open"'
    print(f"parse + compile of the condition (uncached):                  "
          f"{per_call_us(lambda: FeelExpression(text), 2000):.1f} us")


if __name__ == "__main__":
    main()

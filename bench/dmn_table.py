"""Bench row: evaluate a 1,000-rule decision table (issue 12 target: under 1 ms per evaluation).

    .venv/bin/python bench/dmn_table.py [--rules 1000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bpmn_runner import load_decisions

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def table_xml(rules: int, feel_cells: bool = False) -> str:
    """Interval and string cells; with `feel_cells`, written so they need the FEEL evaluator (computed bounds,
    a function of `?`)."""
    def cells(i: int) -> tuple[str, str]:
        if feel_cells:
            return f"[{i * 10}..{i * 10} + 9]", f'starts with(?, "{"AB"[i % 2]}")'
        return f"[{i * 10}..{i * 10 + 9}]", f'"{"AB"[i % 2]}"'
    rows = "".join(f'<rule id="r{i}"><inputEntry><text>{cells(i)[0]}</text></inputEntry>'
                   f'<inputEntry><text>{cells(i)[1]}</text></inputEntry>'
                   f'<outputEntry><text>{i}</text></outputEntry></rule>' for i in range(rules))
    return (f'<definitions xmlns="{NS}" id="b" name="b" namespace="urn:bench"><decision id="d" name="D">'
            f'<decisionTable hitPolicy="UNIQUE"><input><inputExpression><text>amount</text></inputExpression>'
            f'</input><input><inputExpression><text>kind</text></inputExpression></input><output name="o"/>'
            f'{rows}</decisionTable></decision></definitions>')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    for feel_cells, label in ((False, "literal cells"), (True, "cells through the FEEL evaluator")):
        per = _per_evaluation(args.rules, args.repeat, feel_cells)
        print(f"DMN table, {args.rules} rules x 2 inputs (UNIQUE), {label}: {per * 1000:.3f} ms per evaluation "
              f"(target < 1 ms)")


def _per_evaluation(rules: int, repeat: int, feel_cells: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.dmn"
        path.write_text(table_xml(rules, feel_cells), encoding="utf-8")
        model = load_decisions([path])
    from bpmn_runner.decisions import convert_inputs
    feel_inputs = convert_inputs(model, {"amount": 0, "kind": "A"})
    model.evaluate("d", feel_inputs)           # compile the cells once
    started = time.perf_counter()
    for i in range(repeat):
        feel_inputs["amount"] = type(feel_inputs["amount"])((i * 37) % (rules * 10))
        model.evaluate("d", feel_inputs)
    return (time.perf_counter() - started) / repeat


if __name__ == "__main__":
    main()

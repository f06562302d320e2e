"""Run the DMN TCK: `python bench/dmn_tck.py DIR...` writes tck_results.csv and prints the pass counts.

Values are compared as the TCK's own runners compare them (`bpmn_runner.dmn.tck.same_value`): numbers as decimals
to the TCK's comparison precision 1e-8, everything else exactly (kinds, offsets, list order, context keys)."""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter

from bpmn_runner.dmn.tck import NUMBER_PRECISION
from bpmn_runner.tck_runner import TckRow, find_directories, run_directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", help="TCK directories, or folders holding them (compliance-level-*)")
    parser.add_argument("--csv", default="tck_results.csv", help="where to write the TCK's CSV (tck_results.csv)")
    parser.add_argument("--failures", action="store_true", help="print every failing test case")
    args = parser.parse_args(argv)
    rows: list[TckRow] = []
    for directory in find_directories(args.paths):
        found = run_directory(directory)
        rows.extend(found)
        counts = Counter(r.outcome.status for r in found)
        print(f"{directory.parent.name}/{directory.name}: {counts['SUCCESS']}/{len(found)}"
              + "".join(f" {k}={v}" for k, v in sorted(counts.items()) if k != "SUCCESS"))
        if args.failures:
            for row in found:
                if row.outcome.status != "SUCCESS":
                    print(f"    {row.outcome.case_id}: {row.outcome.status} {row.outcome.message[:300]}")
    with open(args.csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for row in rows:
            writer.writerow(row.csv_fields())
    totals = {}
    for level in ("compliance-level-2", "compliance-level-3"):
        mine = [r for r in rows if r.directory.startswith(level)]
        totals[level] = (sum(1 for r in mine if r.outcome.status == "SUCCESS"), len(mine))
    print(f"wrote {len(rows)} rows to {args.csv}")
    exact = {level: sum(1 for r in rows if r.directory.startswith(level) and r.outcome.exact) for level in totals}
    print(f"of which every number is equal to the last digit (not only to the TCK's {NUMBER_PRECISION:e}): "
          f"level 2 {exact['compliance-level-2']}, level 3 {exact['compliance-level-3']}")
    print(f"TCK: level 2 {totals['compliance-level-2'][0]}/{totals['compliance-level-2'][1]}, "
          f"level 3 {totals['compliance-level-3'][0]}/{totals['compliance-level-3'][1]} test cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark bpmn-runner against raw SpiffWorkflow 3.2 on the issue-3 workloads; prints a table, writes a plot.

    .venv/bin/pip install matplotlib && .venv/bin/python bench/run.py [--quick]

Every measurement runs in its own subprocess (so raw SpiffWorkflow never sees bpmn-runner's patches, and peak
memory is per workload), with a timeout. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

SIDES = ("raw", "lifted", "runner")
FULL = {"W1": [2000], "W2": [10, 100, 1000, 5000], "W3": [50], "W4": [10, 100, 1000, 10000], "W6": [200, 2000]}
QUICK = {"W1": [300], "W2": [10, 100, 1000, 5000], "W3": [10], "W4": [10, 100, 1000, 10000], "W6": [200, 2000]}
QUICK_LIFTED_MAX = 1000  # --quick: raw SpiffWorkflow with lifted limits only up to this size (it is quadratic)
UNITS = {"W1": "inst/s", "W2": "µs/task", "W3": "ms/inst", "W4": "µs/iter", "W6": "ms"}
ROUNDS = {"W1": 3, "W3": 3, "W6": 3}  # rows of a few seconds: measured in turns, best of three per side


def better(workload: str, new: dict[str, Any], old: dict[str, Any]) -> bool:
    return new["value"] > old["value"] if workload == "W1" else new["value"] < old["value"]


# ----- models ---------------------------------------------------------------------------------------------------

def write_models(models: Path) -> None:
    """The BPMN files, from tests/generate.py; raw SpiffWorkflow evaluates conditions as Python, so `${..}` goes."""
    from tests import generate
    models.mkdir(parents=True, exist_ok=True)
    files = {"straight.bpmn": generate.straight_through(), "loop.bpmn": generate.loop(),
             "parallel_50.bpmn": generate.parallel(50)}
    for n in FULL["W2"]:
        files[f"chain_{n}.bpmn"] = generate.chain(n, topic="stamp")
    for elements in FULL["W6"]:
        files[f"parse_{elements}.bpmn"] = generate.chain((elements - 3) // 2)  # n tasks + 2 events + n+1 flows
    for name, text in files.items():
        (models / name).write_text(text, encoding="utf-8")
        (models / f"raw_{name}").write_text(text.replace("${", "").replace("}</bpmn:condition", "</bpmn:condition"),
                                            encoding="utf-8")


# ----- one measurement, in a worker process ----------------------------------------------------------------------

def worker(side_name: str, workload: str, size: int, models: Path) -> dict[str, Any]:
    from bench import workloads
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        s = workloads.side(side_name)  # imports are not the workload's memory
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = workloads.WORKLOADS[workload](s, models, size)
    except BaseException as exc:  # noqa: BLE001 - a crash is a result here (RecursionError, spec errors)
        cause = exc.__cause__ or exc.__context__
        text = f"{type(exc).__name__}: {exc}"
        if isinstance(cause, RecursionError) or "recursion" in text.lower():
            text = "RecursionError (" + text[:120] + ")"
        result = {"ok": False, "why": text[:200]}
    result["peak_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return result


def run_worker(args: list[str]) -> None:
    side_name, workload, size, models = args[0], args[1], int(args[2]), Path(args[3])
    box: dict[str, Any] = {}
    if side_name == "lifted":  # deep recursion needs a big C stack: run in a thread that has one
        threading.stack_size(512 * 1024 * 1024)
        thread = threading.Thread(target=lambda: box.update(worker(side_name, workload, size, models)))
        thread.start()
        thread.join()
    else:
        box.update(worker(side_name, workload, size, models))
    print(json.dumps(box))


def measure(side_name: str, workload: str, size: int, models: Path, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", side_name, workload, str(size), str(models)]
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"ok": False, "why": f"did not finish in {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return {"ok": False, "why": f"crashed: {last[:150]}"}
    result = json.loads(lines[-1])
    result["wall_s"] = time.perf_counter() - started
    return result


# ----- the table ------------------------------------------------------------------------------------------------

def fmt(result: dict[str, Any] | None) -> str:
    if result is None:
        return "—"
    if not result.get("ok"):
        return "✗"
    value = result["value"]
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"


def speedup(workload: str, raw: dict[str, Any] | None, lifted: dict[str, Any] | None,
            runner: dict[str, Any] | None) -> str:
    base, mark = (raw, "") if raw and raw.get("ok") else (lifted, "†") if lifted and lifted.get("ok") else (None, "")
    if base is None or not (runner and runner.get("ok")):
        return "—"
    ratio = runner["value"] / base["value"] if workload == "W1" else base["value"] / runner["value"]
    return f"{ratio:,.2f}×{mark}"


def table(results: dict[str, dict[str, Any]], sizes: dict[str, list[int]]) -> tuple[str, list[str]]:
    names = {"W1": "W1 straight-through, in memory", "W2": "W2 chain {}", "W3": "W3 parallel split 50 + join",
             "W4": "W4 loop {}", "W6": "W6 parse {} elements"}
    head = ["workload", "unit", "raw Spiff", "raw, limits lifted", "bpmn-runner", "speed-up",
            "state bytes raw → runner", "peak MB raw / runner"]
    rows, notes = [], []
    for workload, values in sizes.items():
        for size in values:
            got = {s: results.get(f"{workload}:{size}:{s}") for s in SIDES}
            state = "—"
            if workload == "W4":
                a, mark = (got["raw"], "") if got["raw"] and got["raw"].get("ok") else (got["lifted"], "†")
                b = got["runner"]
                state = (f"{a['state_bytes']:,}{mark}" if a and a.get("ok") else "✗") + " → " + \
                        (f"{b['state_bytes']:,}" if b and b.get("ok") else "✗")
            peak = " / ".join(f"{got[s]['peak_mb']:.1f}" if got[s] and "peak_mb" in got[s] else "—"
                              for s in ("raw", "runner"))
            label = names[workload].format(f"{size:,}")
            rows.append([label, UNITS[workload], fmt(got["raw"]), fmt(got["lifted"]), fmt(got["runner"]),
                         speedup(workload, got["raw"], got["lifted"], got["runner"]), state, peak])
            for s in SIDES:
                if got[s] is not None and not got[s].get("ok"):
                    notes.append(f"✗ {label}, {s}: {got[s].get('why')}")
        if workload == "W1":
            rows.append(["W1 straight-through, persisted (SQLite)", "inst/s", "n/a", "n/a",
                         persisted_w1(), "—", "—", "—"])
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    text = "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])
    return text, notes


def persisted_w1() -> str:
    """W1 persisted to SQLite: every step committed through the store (raw SpiffWorkflow has no store)."""
    from store_bench import persisted_w1 as measure
    return measure()


def targets(results: dict[str, dict[str, Any]]) -> list[str]:
    out = []

    def get(key: str) -> dict[str, Any]:
        return results.get(key) or {}
    for key, label in (("W2:5000:runner", "chain of 5,000 tasks"), ("W4:10000:runner", "loop of 10,000 iterations")):
        steps = get(key).get("steps") or {}
        if steps:
            ratio = steps["end_us"] / steps["start_us"]
            out.append(f"1. flat cost, {label}: step at start {steps['start_us']:.1f} µs, at end "
                       f"{steps['end_us']:.1f} µs, ratio {ratio:.2f} (target ≤ 1.5) "
                       f"{'MET' if ratio <= 1.5 else 'NOT MET'}")
    small, large = get("W4:10:runner").get("state_bytes"), get("W4:10000:runner").get("state_bytes")
    if small and large:
        out.append(f"2. state, loop after 10 / 10,000 iterations: {small:,} / {large:,} bytes, ratio "
                   f"{large / small:.2f} (target ≤ 2) {'MET' if large <= 2 * small else 'NOT MET'}")
    w1 = SIZES.get("W1") or [0]  # --only without W1: no such row
    raw, runner = get(f"W1:{w1[0]}:raw"), get(f"W1:{w1[0]}:runner")
    if raw.get("ok") and runner.get("ok"):
        out.append(f"3. no tax on small processes, straight-through: raw {raw['value']:,.0f} inst/s, bpmn-runner "
                   f"{runner['value']:,.0f} inst/s (target ≥ raw) "
                   f"{'MET' if runner['value'] >= raw['value'] else 'NOT MET'}")
        ratio = runner["value"] / raw["value"]
        out.append(f"4. faster core (issue 15), straight-through in memory: {ratio:.2f}x raw SpiffWorkflow "
                   f"(target ≥ 2) {'MET' if ratio >= 2 else 'NOT MET'}")
    w6 = SIZES.get("W6") or [0]
    raw, runner = get(f"W6:{w6[0]}:raw"), get(f"W6:{w6[0]}:runner")
    if raw.get("ok") and runner.get("ok"):
        ratio = raw["value"] / runner["value"]
        out.append(f"5. loading (issue 15), a {w6[0]:,}-element file: {runner['value']:.2f} ms against raw "
                   f"SpiffWorkflow's parse {raw['value']:.2f} ms, {ratio:.2f}x (target ≥ 1) "
                   f"{'MET' if ratio >= 1 else 'NOT MET'}")
    return out


# ----- the plot -------------------------------------------------------------------------------------------------

def plot(results: dict[str, dict[str, Any]]) -> Path | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (.venv/bin/pip install matplotlib)")
        return None
    styles = {"raw": ("raw SpiffWorkflow", "tab:red", "o"), "lifted": ("raw SpiffWorkflow, limits lifted",
              "tab:orange", "s"), "runner": ("bpmn-runner", "tab:blue", "^")}
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for col, (workload, what) in enumerate((("W2", "chain length (tasks)"), ("W4", "loop iterations"))):
        ax = axes[0][col]
        for s, (label, color, marker) in styles.items():
            points = sorted((int(k.split(":")[1]), r["value"]) for k, r in results.items()
                            if k.startswith(workload + ":") and k.endswith(":" + s) and r.get("ok"))
            if points:
                ax.plot(*zip(*points), label=label, color=color, marker=marker)
        ax.set(xscale="log", yscale="log", xlabel=what, ylabel=f"mean {UNITS[workload]}",
               title=f"{'Chain' if workload == 'W2' else 'Loop'}: mean cost per step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        ax = axes[1][col]
        for s, (label, color, _) in styles.items():
            candidates = [(int(k.split(":")[1]), r) for k, r in results.items()
                          if k.startswith(workload + ":") and k.endswith(":" + s) and r.get("ok") and r.get("steps")]
            if candidates:
                size, r = max(candidates, key=lambda c: c[0])
                xs, ys = zip(*r["steps"]["curve"])
                ax.plot(xs, ys, label=f"{label} (n={size:,})", color=color)
        ax.set(yscale="log", xlabel="step number" if workload == "W2" else "iteration",
               ylabel="µs per step (median of bucket)", title="Cost of each step along the longest run")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("bpmn-runner vs raw SpiffWorkflow 3.2: cost per step")
    fig.tight_layout()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "cost-per-step.png"
    fig.savefig(path, dpi=120)
    fig.savefig(ROOT / "bench" / "cost-per-step.png", dpi=60)
    plt.close(fig)
    return path


# ----- main -----------------------------------------------------------------------------------------------------

SIZES = FULL


def main() -> None:
    global SIZES
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer instances; skip the slow raw runs (a few minutes)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W2,W4")
    parser.add_argument("--timeout", type=float, help="seconds per measurement (default 300, --quick 60)")
    args = parser.parse_args()
    SIZES = dict(QUICK if args.quick else FULL)
    if args.only:
        SIZES = {k: v for k, v in SIZES.items() if k in args.only.split(",")}
    timeout = args.timeout or (60 if args.quick else 300)
    models = OUT / "models"
    write_models(models)
    results: dict[str, dict[str, Any]] = {}
    from importlib.metadata import version
    print(f"bpmn-runner vs SpiffWorkflow {version('SpiffWorkflow')}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; {'quick' if args.quick else 'full'} run, timeout {timeout:.0f} s per measurement")
    for workload, values in SIZES.items():
        for size in values:
            for attempt in range(ROUNDS.get(workload, 1)):  # short rows: alternate the sides, keep each side's best
                for s in SIDES:
                    if s == "lifted" and workload in ("W1", "W3"):
                        continue  # nothing deep there: the lifted limits change nothing
                    previous = results.get(f"{workload}:{size}:raw")
                    if s == "lifted" and previous and previous.get("ok"):
                        continue  # stock SpiffWorkflow finished: no need to lift anything
                    if s == "lifted" and args.quick and size > QUICK_LIFTED_MAX:
                        continue
                    key = f"{workload}:{size}:{s}"
                    if attempt and not results[key].get("ok"):
                        continue
                    print(f"  {key} ...", end="", flush=True)
                    result = measure(s, workload, size, models, timeout)
                    print(f" {fmt(result)} {'' if result.get('ok') else result.get('why')}")
                    if attempt == 0 or (result.get("ok") and better(workload, result, results[key])):
                        results[key] = result
    text, notes = table(results, SIZES)
    print()
    print(text)
    print()
    print("speed-up: how many times faster bpmn-runner is; † = compared with raw SpiffWorkflow with its limits "
          "lifted, because stock SpiffWorkflow cannot finish that row.")
    print("— = not run (not needed, or too slow for --quick).")
    print("raw, limits lifted: iterator depth limit removed, recursion limit 1,000,000 in a 512 MB-stack thread.")
    print("State bytes: JSON of the finished instance without the spec, on both sides. "
          "Peak MB: growth of max RSS during the workload (after imports).")
    for note in notes:
        print(note)
    print()
    for line in targets(results):
        print(line)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    path = plot(results)
    if path is not None:
        print(f"\nplot: {path.relative_to(ROOT)} (and bench/cost-per-step.png)")


if __name__ == "__main__":
    main()

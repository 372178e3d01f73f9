"""Benchmark: build and solve the shipped Zhangye scenario on every backend.

Each backend runs in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its
own. Reported per backend: scenario-load, model-build and solve seconds, peak memory, status,
objective, bound and gap, and the solve time as a ratio to the fastest backend.

    python benchmarks/bench_zhangye.py [--repeat 3] [--backends highs,cbc,cpsat] [--time-limit 600]

Not part of the test suite: timings belong here, not in unit tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "zhangye" / "scenario.yaml"

_CHILD = r"""
import json, resource, sys, time
from dingdian.scenario.loader import load_scenario
from dingdian.run.backends import solve
t0 = time.perf_counter()
scenario = load_scenario(sys.argv[1])
load = time.perf_counter() - t0
r = solve(scenario.problem, sys.argv[2], time_limit=float(sys.argv[3]))
print(json.dumps({"load_s": load, "build_s": r.build_seconds, "solve_s": r.solve_seconds,
                  "status": r.status, "objective": r.objective, "bound": r.bound, "gap": r.gap,
                  "variables": r.n_variables, "constraints": r.n_constraints,
                  "peak_mib": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024}))
"""


def run_once(backend: str, time_limit: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(SCENARIO), backend, str(time_limit)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backends", default="highs,cbc,cpsat")
    ap.add_argument("--time-limit", type=float, default=600.0)
    args = ap.parse_args()
    rows = []
    for backend in args.backends.split(","):
        runs = [run_once(backend, args.time_limit) for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("load_s", "build_s", "solve_s", "peak_mib")}
        rows.append({"backend": backend, **runs[-1], **med})
    fastest = min(r["solve_s"] for r in rows)
    print(f"Zhangye scenario, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, median of {args.repeat} runs")
    print("| backend | variables | constraints | load s | build s | solve s | solve ratio "
          "| peak MiB | status | objective | bound | gap |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        gap = "—" if r["gap"] is None else f"{r['gap']:.2e}"
        print(f"| {r['backend']} | {r['variables']} | {r['constraints']} | {r['load_s']:.2f} "
              f"| {r['build_s']:.2f} | {r['solve_s']:.2f} | {r['solve_s'] / fastest:.1f}× "
              f"| {r['peak_mib']:.0f} | {r['status']} | {r['objective']} | {r['bound']} "
              f"| {gap} |")


if __name__ == "__main__":
    main()

"""Benchmark: where planners wait (issue 16), reported as ratios in one run.

1. ``dingdian solve`` on the shipped Zhangye scenario end to end (unique plan, beds, nursing,
   every output file): wall seconds (median of ``--repeat``), the child's peak resident memory,
   and the solver's share of the wall time (``summary.json``: site model, beds, nursing);
2. the site model (optimum and tie-break) on every backend, on the shipped scenarios and on a
   generated city of Zhangye's size (``generate.py``, seed 2025): seconds and the ratio to
   HiGHS;
3. a sweep of 20 Zhangye variants (``dingdian sweep --workers 2``): wall seconds.

``--block-workers N`` passes ``--workers N`` to items 1 and 2 (the model's blocks side by side,
:mod:`dingdian.run.forked`; 1: one after the other); without it they use the default.

Each measurement runs in a fresh process. The machine (CPU, cores, load average before and
after) is recorded with the figures:

    python benchmarks/bench_wait.py --repeat 5 --out benchmarks/results/wait.json
    python benchmarks/bench_wait.py --only backends --backends highs,cpsat
    python benchmarks/bench_wait.py --only end_to_end --block-workers 1

Not part of the test suite: timings belong here, not in unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: the 20 runs of the sweep benchmark: the shipped variants' settings, and weights moved
SWEEP_RUNS = [
    "{name: base}",
    "{name: published, set: {options.exit_mode: exact, options.admit_mode: exact}}",
    "{name: radius_800, set: {radius: 800}}",
    "{name: no_street_quotas, set: {options.street_quotas: false}}",
    "{name: exits_first_ganzhou, set: {allocation.sequencing.counties: [甘州区]}}",
    "{name: zone_overrides, set: {allocation.zones.budget_per_year: 1}}",
    "{name: pass_mark, set: {rules.pass_mark: 60}}",
    "{name: churn_1, set: {weights.churn: 1}}",
    "{name: churn_10, set: {weights.churn: 10}}",
    "{name: crowding_0, set: {weights.crowding: 0}}",
    "{name: crowding_5, set: {weights.crowding: 5}}",
    "{name: coverage_5, set: {weights.coverage: 5}}",
    "{name: coverage_20, set: {weights.coverage: 20}}",
    "{name: spread_0, set: {weights.spread: 0}}",
    "{name: spread_6, set: {weights.spread: 6}}",
    "{name: exit_score_2, set: {weights.exit_score: 2}}",
    "{name: admit_review_2, set: {weights.admit_review: 2}}",
    "{name: radius_1300, set: {radius: 1300}}",
    "{name: gz_x0.8, set: {exit_scale.甘州区.pharmacy: 0.8}}",
    "{name: gz_x1.2, set: {exit_scale.甘州区.pharmacy: 1.2}}",
]

_SITE_CHILD = r"""
import json, resource, sys, time
from dingdian.scenario.loader import load_scenario
from dingdian.run.backends import solve
scenario = load_scenario(sys.argv[1], allow_outside=True)
t0 = time.perf_counter()
r = solve(scenario.problem, sys.argv[2], time_limit=float(sys.argv[3]),
          workers=None if sys.argv[4] == "default" else int(sys.argv[4]))
print(json.dumps({"wall_s": time.perf_counter() - t0, "build_s": r.build_seconds,
                  "solve_s": r.solve_seconds, "status": r.status, "objective": r.objective,
                  "stages": {s["stage"]: s["seconds"] for s in r.stages}}))
"""


def _machine() -> dict:
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "load_average": os.getloadavg()}


def _timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``cmd``: ``(wall seconds, peak MiB of the child, completed process)``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    done = subprocess.CompletedProcess(cmd, code, out, err)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {err.strip()[-400:]}")
    return wall, usage.ru_maxrss / 1024, done


def end_to_end(repeat: int, block_workers: int | None = None) -> dict:
    """Item 1: ``dingdian solve scenarios/zhangye`` in a fresh process, ``repeat`` times."""
    runs = []
    extra = [] if block_workers is None else ["--workers", str(block_workers)]
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            wall, peak, _ = _timed([sys.executable, "-m", "dingdian", "solve",
                                    str(SCENARIOS / "zhangye"), "--out", str(out), *extra])
            s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        solver = s["solve_seconds"] + sum((s.get(k) or {}).get("solve_seconds", 0.0)
                                          for k in ("beds", "nursing"))
        runs.append({"wall_s": round(wall, 2), "peak_mib": round(peak), "solver_s":
                     round(solver, 2), "site_build_s": s["build_seconds"],
                     "stages": {st["stage"]: st["seconds"] for st in s["stages"]}})
    med = statistics.median(r["wall_s"] for r in runs)
    return {"runs": runs, "block_workers": block_workers, "median_wall_s": med,
            "max_peak_mib": max(r["peak_mib"] for r in runs),
            "solver_share": round(statistics.median(r["solver_s"] / r["wall_s"] for r in runs), 2)}


def backends(names: list[str], time_limit: float, block_workers: int | None = None) -> dict:
    """Item 2: the site model, optimum and tie-break, per scenario and backend."""
    from generate import city_scenario  # noqa: PLC0415 - benchmarks/ on sys.path

    cases = {"zhangye": SCENARIOS / "zhangye" / "scenario.yaml",
             "heze": SCENARIOS / "heze" / "scenario.yaml",
             "generated_2025": city_scenario(2025)}
    out = {}
    for case, path in cases.items():
        rows = {}
        for backend in names:
            _, peak, done = _timed([sys.executable, "-c", _SITE_CHILD, str(path), backend,
                                    str(time_limit), str(block_workers or "default")])
            rows[backend] = {**json.loads(done.stdout.strip().splitlines()[-1]),
                             "peak_mib": round(peak)}
        base = rows.get("highs", next(iter(rows.values())))["solve_s"]
        for row in rows.values():
            row["ratio_to_highs"] = round(row["solve_s"] / base, 2)
        out[case] = rows
    return out


def sweep(workers: int) -> dict:
    """Item 3: the 20 variants of :data:`SWEEP_RUNS` on ``workers`` workers."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "sweep.yaml"
        spec.write_text(f"scenario: {SCENARIOS / 'zhangye' / 'scenario.yaml'}\nsolver: highs\n"
                        "runs:\n" + "".join(f"  - {r}\n" for r in SWEEP_RUNS), encoding="utf-8")
        wall, peak, done = _timed([sys.executable, "-m", "dingdian", "sweep", str(spec), "--out",
                                   str(Path(tmp) / "out"), "--workers", str(workers),
                                   "--allow-outside"])
        rows = (Path(tmp) / "out" / "sweep.csv").read_text(encoding="utf-8").splitlines()
    return {"runs": len(rows) - 1, "workers": workers, "wall_s": round(wall, 1),
            "peak_mib_parent": round(peak)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--backends", default="highs,cbc,cpsat")
    ap.add_argument("--time-limit", type=float, default=600)
    ap.add_argument("--workers", type=int, default=2, help="the sweep's workers")
    ap.add_argument("--block-workers", type=int, default=None,
                    help="dingdian solve --workers for items 1 and 2 (default: its default)")
    ap.add_argument("--only", choices=["end_to_end", "backends", "sweep"], action="append")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    parts = args.only or ["end_to_end", "backends", "sweep"]
    result: dict = {"machine": _machine()}
    if "end_to_end" in parts:
        result["end_to_end"] = end_to_end(args.repeat, args.block_workers)
        print(json.dumps(result["end_to_end"], ensure_ascii=False), flush=True)
    if "backends" in parts:
        result["backends"] = backends(args.backends.split(","), args.time_limit,
                                      args.block_workers)
        print(json.dumps(result["backends"], ensure_ascii=False), flush=True)
    if "sweep" in parts:
        result["sweep"] = sweep(args.workers)
        print(json.dumps(result["sweep"], ensure_ascii=False), flush=True)
    result["machine"]["load_average_after"] = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    result["commit"] = commit
    if args.out:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")


if __name__ == "__main__":
    main()

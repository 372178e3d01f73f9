"""Benchmark: build and solve province-sized instances (1×, 10×, 100× Zhangye) on every backend.

The instances come from :mod:`benchmarks.generate` (``k`` Zhangye-like cities). Each case —
one scale, one backend — runs in a fresh subprocess in its own process group, so that

* its peak memory is its own: the child's ``VmHWM`` (peak resident set) read from ``/proc``
  just before it ends, or before it is killed; a CBC run adds the CBC process's own peak
  (``RUSAGE_CHILDREN``) when it finishes;
* it can be killed whatever the solver does: after ``--kill-after`` seconds of wall time the
  whole process group gets SIGKILL and the case is recorded as ``killed at N s``, with the
  load and build figures it had already reported (HiGHS has been seen to run far past its own
  time limit on the monolithic 100× model).

``--builder decomposed`` splits the problem as :mod:`dingdian.run.decompose` does and first builds
every part alone on two workers (:mod:`build_parts`: the parallel build's wall and CPU
seconds), then solves the parts with ``dingdian.run.decompose.solve_parts`` on two workers (its
``solve s`` is that whole wall time, the parts' rebuilds included; its peak memory is the
parent's, the workers' peaks are not added). ``--time-limit 0`` stops after the build. Both
builders solve to the optimum only (stage L1) unless ``--unique`` adds the tie-break (L2). A
vectorised transcription of the model (a numpy/CSR builder, ~5× cheaper to build) was measured
on the h2 branch and not kept: a second copy of the formulation drifted from models/site.py as
soon as the allocation rules were added (see benchmarks/README.md). Reported per case: load s (the normal loader, city by city, and the merge), build s (wall and
CPU seconds of :func:`dingdian.models.site.build_site_model`), solve s (the backend, including PuLP's
hand-over of the model to the solver), peak MiB, status, objective, bound, gap; and per backend
the growth exponent between sizes, the slope of log(seconds) against log(scale).

    python benchmarks/bench_scale.py --scales 1,10 --backends highs,cbc,cpsat \\
        --time-limit 600 --kill-after 900 --out benchmarks/results/scale.json

Not part of the test suite. The first run generates (and caches) the cities.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

_CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
from generate import load_province
from dingdian.models.site import build_site_model
from dingdian.run.backends import solve_model

def peak_mib():
    with open(f"/proc/{os.getpid()}/status") as fh:
        hwm = next(line for line in fh if line.startswith("VmHWM"))
    return int(hwm.split()[1]) / 1024

def say(**kw):
    print(json.dumps(kw), flush=True)

scale, backend, limit, builder = int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
unique = sys.argv[6] == "unique"
t0 = time.perf_counter()
problem = load_province(scale)
say(phase="load", load_s=time.perf_counter() - t0, facilities=len(problem.facilities),
    peak_mib=peak_mib())
t0, c0 = time.perf_counter(), time.process_time()
if builder == "decomposed":  # county by county (solver/run/decompose.py), two workers
    from build_parts import build_parallel
    from dingdian.run.decompose import solve_parts
    b = build_parallel(problem, workers=2)  # the parts' builds alone, timed in parallel
    say(phase="build", peak_mib=peak_mib(), **b)
    if limit <= 0:  # --time-limit 0: build only
        sys.exit(0)
    dec = solve_parts(problem, backend, time_limit=limit, workers=2, unique=unique)
    r = dec.result
    say(phase="solve", solve_s=dec.wall_seconds, parts_build_s=r.build_seconds,
        parts_solve_s=r.solve_seconds, largest_part_s=max(p.build_seconds + p.solve_seconds
                                                          for _, p in dec.parts),
        status=r.status, objective=r.objective, bound=r.bound, gap=r.gap, peak_mib=peak_mib(),
        solver_child_peak_mib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    sys.exit(0)
model = build_site_model(problem)
size = dict(variables=model.lp.numVariables(), constraints=model.lp.numConstraints())
build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
say(phase="build", build_s=build_s, build_cpu_s=build_cpu_s, peak_mib=peak_mib(), **size)
if limit <= 0:  # --time-limit 0: build only
    sys.exit(0)
r = solve_model(model, backend, limit, build_s, stages=("L2",) if unique else ())
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
say(phase="solve", solve_s=r.solve_seconds, status=r.status, objective=r.objective, bound=r.bound,
    gap=r.gap, peak_mib=peak_mib(), solver_child_peak_mib=child)
"""


def _peak_of(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            hwm = next(line for line in fh if line.startswith("VmHWM"))
        return int(hwm.split()[1]) / 1024
    except (OSError, StopIteration):
        return None


def run_case(scale: int, backend: str, time_limit: float, kill_after: float,
             builder: str = "pulp", unique: bool = False) -> dict:
    """One case in a fresh process group; the phases it reported, or what it had when killed."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(HERE), str(scale), backend, str(time_limit),
         builder, "unique" if unique else "any"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,
    )
    killed = False
    try:
        out, err = proc.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        peak = _peak_of(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        killed = True
    wall = time.perf_counter() - t0
    row: dict = {"scale": scale, "backend": backend, "builder": builder, "wall_s": wall,
                 "unique": unique, "commit": machine()["commit"]}
    for line in out.splitlines():
        if line.startswith("{"):
            row.update(json.loads(line))
    if killed:
        row["status"] = f"killed at {wall:.0f} s"
        if peak is not None:
            row["peak_mib"] = max(row.get("peak_mib", 0.0), peak)
    elif proc.returncode != 0:
        row["status"] = f"failed ({proc.returncode}): {err.strip().splitlines()[-1:]}"
    row["peak_mib"] = max(row.get("peak_mib", 0.0), row.get("solver_child_peak_mib", 0.0))
    return row


def _case(row: dict) -> str:
    return f"{row['backend']} ({row.get('builder', 'pulp')})"


def growth(rows: list[dict], key: str) -> dict[tuple[str, int, int], float]:
    """Log-log slope of ``key`` between consecutive scales, per backend and builder (solve
    seconds only between optimal solves)."""
    out = {}
    for case in dict.fromkeys(_case(r) for r in rows):
        mine = sorted((r for r in rows if _case(r) == case and r.get(key)
                       and (key != "solve_s" or r.get("status") == "optimal")),
                      key=lambda r: r["scale"])  # a stopped solve says nothing of growth
        for a, b in zip(mine, mine[1:], strict=False):
            if a[key] > 0 and b[key] > 0:
                out[case, a["scale"], b["scale"]] = (
                    math.log(b[key] / a[key]) / math.log(b["scale"] / a["scale"]))
    return out


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "python": platform.python_version(), "date": date.today().isoformat(),
            "commit": commit, "load_average": os.getloadavg()}


def _num(v, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def table(rows: list[dict]) -> str:
    lines = ["| scale | backend (builder) | facilities | variables | constraints | load s | build s "
             "| build CPU s | solve s | build/solve | solve vs HiGHS | peak MiB | status "
             "| objective | bound | gap |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    highs = {(r["scale"], r.get("builder", "pulp")): r.get("solve_s") for r in rows
             if r["backend"] == "highs" and r.get("status") == "optimal"}
    for r in rows:
        solve = r.get("solve_s")
        ratio = (r["build_s"] / solve) if solve and r.get("build_s") else None
        ref = highs.get((r["scale"], r.get("builder", "pulp")))
        vs = solve / ref if solve and ref and r.get("status") == "optimal" else None
        lines.append(
            f"| {r['scale']}× | {_case(r)} | {_num(r.get('facilities'), ',')} "
            f"| {_num(r.get('variables'), ',')} | {_num(r.get('constraints'), ',')} "
            f"| {_num(r.get('load_s'), '.1f')} | {_num(r.get('build_s'), '.1f')} "
            f"| {_num(r.get('build_cpu_s'), '.1f')} | {_num(solve, '.1f')} "
            f"| {_num(ratio, '.2f')} | {_num(vs, '.2f')} | {_num(r.get('peak_mib'), ',.0f')} "
            f"| {r.get('status')} "
            f"| {_num(r.get('objective'), ',.0f')} | {_num(r.get('bound'), ',.0f')} "
            f"| {_num(r.get('gap'), '.2e')} |")
    return "\n".join(lines)


def growth_table(rows: list[dict]) -> str:
    keys = [("load_s", "load"), ("build_s", "build"), ("build_cpu_s", "build CPU"),
            ("solve_s", "solve"), ("peak_mib", "peak memory")]
    slopes = {k: growth(rows, k) for k, _ in keys}
    pairs = sorted({p for s in slopes.values() for p in s})
    lines = ["| backend | sizes | " + " | ".join(label for _, label in keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    for backend, a, b in pairs:
        cells = [_num(slopes[k].get((backend, a, b)), ".2f") for k, _ in keys]
        lines.append(f"| {backend} | {a}×→{b}× | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10")
    ap.add_argument("--backends", default="highs,cbc,cpsat")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--kill-after", type=float, default=900.0,
                    help="wall seconds per case before the whole case is killed")
    ap.add_argument("--builder", choices=("pulp", "decomposed"), default="pulp",
                    help="pulp: dingdian.models.site, one model (every backend); decomposed: "
                         "dingdian.run.decompose, county by county")
    ap.add_argument("--unique", action="store_true",
                    help="run the tie-break stage (L2) after the optimum, as `dingdian solve` "
                         "does by default (default here: the optimum only, stage L1)")
    ap.add_argument("--out", type=Path, help="JSON file for the rows (appended to if present)")
    args = ap.parse_args(argv)
    from generate import generate

    scales = [int(s) for s in args.scales.split(",")]
    generate(max(scales))  # cached cities: generation is not timed
    rows = []
    if args.out and args.out.is_file():
        rows = json.loads(args.out.read_text(encoding="utf-8"))["rows"]
    for scale in scales:
        for backend in args.backends.split(","):
            row = run_case(scale, backend, args.time_limit, args.kill_after, args.builder,
                           args.unique)
            row["time_limit"] = args.time_limit
            rows = [r for r in rows if (r["scale"], _case(r)) != (scale, _case(row))] + [row]
            print(json.dumps(row), flush=True)
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1,
                                               ensure_ascii=False), encoding="utf-8")
    rows.sort(key=lambda r: (r["scale"], r["backend"], r.get("builder", "pulp")))
    print(json.dumps(machine()))
    print(table(rows))
    print()
    print(growth_table(rows))


if __name__ == "__main__":
    main()

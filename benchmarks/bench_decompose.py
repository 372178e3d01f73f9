"""Benchmark: the decomposed solve against the monolithic one, on the 1× and k× instances.

For each scale and backend: the monolithic solve (:func:`dingdian.run.backends.solve`) and the
decomposed one (:func:`dingdian.run.decompose.solve_parts`, a process pool of ``--workers``), their
wall seconds, objectives, the number of parts, and how many facilities' plans differ (0: the
plans are identical). Scale 1 is the shipped Zhangye scenario; scale k > 1 is the province of
``benchmarks/generate.py`` (k Zhangye-like cities in one problem).

    python benchmarks/bench_decompose.py [--scale 1 --scale 10] [--backends highs]
        [--workers 2] [--time-limit 3600] [--skip-monolithic]

Not part of the test suite: timings belong here, not in unit tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from dingdian.run.backends import solve  # noqa: E402
from dingdian.run.decompose import solve_parts  # noqa: E402
from dingdian.scenario.loader import load_scenario  # noqa: E402


def instance(scale: int):
    if scale == 1:
        return load_scenario(ROOT / "scenarios" / "zhangye" / "scenario.yaml").problem
    from generate import load_province  # benchmarks/generate.py: k cities in one problem

    return load_province(scale)


def compare(problem, backend: str, workers: int | None, time_limit: float | None,
            monolithic: bool) -> dict:
    t0 = time.perf_counter()
    dec = solve_parts(problem, backend, time_limit, workers=workers)
    row = {"backend": backend, "facilities": len(problem.facilities), "parts": len(dec.parts),
           "workers": dec.workers, "decomposed_s": round(time.perf_counter() - t0, 1),
           "decomposed_status": dec.result.status, "decomposed_objective": dec.result.objective,
           "largest_part_s": round(max(p.build_seconds + p.solve_seconds
                                       for _, p in dec.parts), 1)}
    if monolithic:
        t0 = time.perf_counter()
        mono = solve(problem, backend, time_limit)
        row.update(monolithic_s=round(time.perf_counter() - t0, 1),
                   monolithic_status=mono.status, monolithic_objective=mono.objective)
        if mono.has_plan and dec.result.has_plan:
            differ = (mono.designated != dec.result.designated.loc[mono.designated.index])
            row["facilities_differing"] = int(differ.any(axis=1).sum())
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, action="append")
    ap.add_argument("--backends", default="highs")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--skip-monolithic", action="store_true")
    args = ap.parse_args(argv)
    for scale in args.scale or [1]:
        problem = instance(scale)
        for backend in args.backends.split(","):
            row = compare(problem, backend, args.workers, args.time_limit,
                          not args.skip_monolithic)
            print(json.dumps({"scale": scale, **row}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()

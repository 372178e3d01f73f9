"""Build the parts of a decomposed problem in parallel, and nothing else (issue 6, item 2).

The decomposed solve (:mod:`dingdian.run.decompose`) builds each part's model in the worker that
solves it, with the one formulation of :mod:`dingdian.models.site`. Those builds are interleaved with
solves, so their wall time cannot be read off a solve. This module times the same builds
alone: the problem is split as :func:`dingdian.run.decompose.split` splits it, every part is built by
:func:`dingdian.models.site.build_site_model` on the same engine (:func:`dingdian.run.engine.run_all`), and the
models are dropped (a PuLP model is not worth shipping back to the parent).

Reported: the wall seconds of the whole parallel build, including the split and the workers'
start; the CPU seconds summed over parts; the largest part's build; the model size summed over
parts (the monolithic model's size, since the parts partition its rows and columns).
"""

from __future__ import annotations

import gc
import time

from dingdian.models.site import build_site_model
from dingdian.run.decompose import components, split
from dingdian.run.engine import run_all


def build_part(problem) -> dict:
    """Build one part's model in this process; its size and seconds (the model is dropped)."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    model = build_site_model(problem)
    row = {"build_s": time.perf_counter() - t0, "build_cpu_s": time.process_time() - c0,
           "variables": model.lp.numVariables(), "constraints": model.lp.numConstraints()}
    del model
    return row


def build_parallel(problem, workers: int | None = None) -> dict:
    """Split ``problem`` and build every part on ``workers`` processes; the figures above."""
    t0 = time.perf_counter()
    parts = split(problem, components(problem))
    split_s = time.perf_counter() - t0
    rows = run_all(build_part, parts, workers=workers)
    return {
        "parts": len(parts),
        "split_s": split_s,
        "build_s": time.perf_counter() - t0,
        "build_cpu_s": sum(r["build_cpu_s"] for r in rows),
        "largest_part_build_s": max(r["build_s"] for r in rows),
        "variables": sum(r["variables"] for r in rows),
        "constraints": sum(r["constraints"] for r in rows),
    }

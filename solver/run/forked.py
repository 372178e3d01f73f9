"""Blocks solved side by side: the same calls, each in a forked worker process.

:mod:`dingdian.run.blocks` splits a built model into independent blocks. Solved one after the
other they use one core: HiGHS's branch and bound is serial, and ``highspy`` holds Python's
lock while it runs, so threads gain nothing. :func:`side_by_side` runs a list of calls in
``workers`` processes forked from this one. A fork shares the built model with the parent
(copy on write), so nothing is pickled on the way in; each call's result (a status, numbers and
a dictionary of values) is pickled on the way back. The calls are the ones the serial path
makes, in the same order (largest block first), so the plan is the same.

A worker

* ignores Ctrl-C: the parent gets it, stops the pool and raises it, as a serial solve would;
* dies with the parent (Linux ``PR_SET_PDEATHSIG``), so a killed run leaves no worker behind;
* resets HiGHS's thread pool, whose threads a fork does not copy.

Forking is used on Linux only (``fork`` is unsafe on macOS and missing on Windows); elsewhere,
with one worker or one call, the calls run here in order. Measured on Zhangye (2 cores, HiGHS,
benchmarks/bench_wait.py): the site model's (L1) and (L2) 10.1 s in series, 5.5 s side by side.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from dingdian.run.engine import default_workers
from dingdian.run.solvers import die_with_parent

T = TypeVar("T")

#: the most worker processes a solve uses by default: each holds its own solver (HiGHS about
#: 200 MB on Zhangye's largest block), and beyond the largest block's own time more gain nothing
MAX_WORKERS = 4

#: a model with fewer rows is solved in series by default: forking the workers (about 0.05 s)
#: costs more than the blocks' solves save
MIN_ROWS = 2000

_calls: Sequence[Callable[[], object]] = ()  # the calls of the pool in progress, read by workers


def can_fork() -> bool:
    """Whether this platform forks workers safely (Linux)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def auto_workers(blocks: int, rows: int, workers: int | None = None) -> int:
    """The worker processes for a model of ``blocks`` blocks and ``rows`` rows: ``workers`` when
    given (at most one per block), else the CPUs up to :data:`MAX_WORKERS` when the model has
    at least :data:`MIN_ROWS` rows; 1 where forking is not used (:func:`can_fork`)."""
    if blocks < 2 or not can_fork():
        return 1
    if workers is not None:
        return max(1, min(workers, blocks))
    if rows < MIN_ROWS:
        return 1
    return max(1, min(MAX_WORKERS, default_workers(), blocks))


def side_by_side(calls: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """Each of ``calls`` made once, in ``workers`` forked processes, its results in order.

    Calls are handed out in order as workers come free. An exception in a call is raised here
    (the first in order); so is Ctrl-C, after the workers are stopped. A worker that dies (a
    solver's crash, the kernel's out-of-memory kill) raises
    :class:`~concurrent.futures.process.BrokenProcessPool` rather than leaving the run waiting.
    With one worker, one call or no fork (:func:`can_fork`), the calls run here, in order.
    """
    global _calls
    if workers <= 1 or len(calls) <= 1 or not can_fork():
        return [call() for call in calls]
    _calls = calls
    pool = ProcessPoolExecutor(min(workers, len(calls)), multiprocessing.get_context("fork"),
                               initializer=_worker_start, initargs=(os.getpid(),))
    try:
        with warnings.catch_warnings():  # Python 3.12+: fork with threads running (ours wait)
            warnings.simplefilter("ignore", DeprecationWarning)
            futures = [pool.submit(_call, j) for j in range(len(calls))]
        results = [future.result() for future in futures]
    except BaseException:
        # stop the workers now (no public call before Python 3.14's ``kill_workers``)
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        _calls = ()
    pool.shutdown(wait=True)
    return results


def _call(index: int):
    return _calls[index]()


def _worker_start(parent: int) -> None:
    """A worker's first step (module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die = die_with_parent(parent)
    if die is not None:
        die()
    highspy = sys.modules.get("highspy")
    if highspy is not None:
        highspy.Highs.resetGlobalScheduler(True)

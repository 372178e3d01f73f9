"""Run independent tasks in parallel: a local process pool, or Dask distributed.

One function, :func:`run_all`, maps a picklable top-level function over a list of picklable
items and returns the results in the order of the items. It is the engine of both the
decomposed solve (:mod:`dingdian.run.decompose`, one task per independent part) and scenario sweeps
(:mod:`dingdian.pipeline.sweep`, one task per run). Which engine runs the tasks is chosen by
``scheduler``:

* ``None`` (default) — a local :class:`concurrent.futures.ProcessPoolExecutor` with
  ``workers`` processes (default: the CPU count, never more than the tasks). Processes start
  from a fork server (``forkserver``), not by forking this process: a solver library may hold
  threads or locks in the parent, which a plain ``fork`` would copy half-way. One task, or
  ``workers=1``, runs in this process with no pool at all.
* ``"local"`` — a Dask ``LocalCluster`` of ``workers`` single-threaded worker processes,
  started for the call and closed after it (``dask[distributed]``).
* ``"tcp://host:8786"`` (any other string) — the Dask scheduler at that address; its workers
  run the tasks, ``workers`` is ignored (the cluster decides). The workers must have dingdian
  installed and see the same files (the scenario, the output folder) under the same paths.

Every task runs in a process of its own (processes, not threads): the HiGHS backend silences
the C-level stdout of its process while it solves, which threads would tangle. A pool's worker
processes live for the whole call and take one task after the other, so a module a task imports
is imported once per worker, not once per task.

``on_done(index, result)``, if given, is called in this process as each task finishes, in the
order they finish (``index`` is the item's position), on every engine: a sweep counts its runs
done with it. The returned list is in item order whatever the order of the calls.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

#: modules the fork server imports before it forks workers (a sweep's run also loads, checks
#: and writes: its workers start with those modules too)
PRELOAD = ["dingdian.run.backends", "dingdian.run.decompose", "dingdian.pipeline.sweep",
           "dingdian.scenario.loader", "dingdian.check.verify", "dingdian.write.outputs"]
#: how long a Dask client tries to reach a scheduler address
CONNECT_TIMEOUT = "10s"
#: the words written to summaries and printed: which engine ran the tasks
LOCAL_POOL = "process pool"
IN_PROCESS = "this process"


class EngineError(RuntimeError):
    """The engine could not start (Dask missing, a scheduler address that is none or is
    unreachable); one line."""


def default_workers() -> int:
    """The CPU count this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def describe(scheduler: str | None, workers: int | None, tasks: int) -> tuple[str, int]:
    """``(engine words, workers)`` that :func:`run_all` will use for ``tasks`` tasks."""
    if scheduler is None:
        n = min(workers or default_workers(), max(1, tasks))
        return (IN_PROCESS if n <= 1 else LOCAL_POOL), n
    if scheduler == "local":
        return "dask LocalCluster", min(workers or default_workers(), max(1, tasks))
    return f"dask {scheduler}", 0


def check_scheduler(scheduler: str | None) -> None:
    """Raise :class:`EngineError` (one line) when ``scheduler`` is neither ``None``, ``"local"``
    nor an address Dask can parse (``tcp://host:8786``; a ``host:port`` means ``tcp://``), so
    a typo is said before anything is solved. Whether the scheduler answers is seen later."""
    if scheduler is None or scheduler == "local":
        return
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError as exc:  # pragma: no cover - a dependency of dingdian
        raise EngineError("Dask is not installed: pip install 'dask[distributed]'") from exc
    try:
        protocol, location = parse_address(str(scheduler))
        if protocol in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise EngineError(f"{scheduler!r} is not a Dask scheduler address: "
                          f"{' '.join(str(exc).split())} (give tcp://host:8786, or 'local')"
                          ) from None


def run_all(fn: Callable[[Any], Any], items: Sequence, *, workers: int | None = None,
            scheduler: str | None = None,
            on_done: Callable[[int, Any], None] | None = None) -> list:
    """``[fn(item) for item in items]``, run by the engine ``scheduler`` chooses (see above).

    ``fn`` must be a module-level function and the items picklable. ``on_done(index, result)``
    is called here as each task finishes, in the order they finish; the list returned is in
    item order. An exception raised by a task (or by ``on_done``) is raised here as soon as it
    is seen, and the tasks not yet started are cancelled.
    """
    items = list(items)
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not items:
        return []
    check_scheduler(scheduler)
    done = on_done or (lambda _i, _r: None)
    if scheduler is None:
        return _run_pool(fn, items, workers, done)
    return _run_dask(fn, items, workers, scheduler, done)


def _run_pool(fn, items: list, workers: int | None, done) -> list:
    _, n = describe(None, workers, len(items))
    results: list = [None] * len(items)
    if n <= 1:
        for i, item in enumerate(items):
            results[i] = fn(item)
            done(i, results[i])
        return results
    ctx = _context()
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx)
    try:
        pending = {pool.submit(fn, item): i for i, item in enumerate(items)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in sorted(finished, key=pending.get):  # ties in item order
                i = pending.pop(f)
                results[i] = f.result()
                done(i, results[i])
        return results
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


def _context():
    """The fork server, with the solver's modules imported once in it (fast task start)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _run_dask(fn, items: list, workers: int | None, scheduler: str, done) -> list:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - a dependency of dingdian
        raise EngineError("Dask is not installed: pip install 'dask[distributed]'") from exc
    cluster = None
    try:
        if scheduler == "local":
            _, n = describe(scheduler, workers, len(items))
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise EngineError(f"cannot reach the Dask scheduler at {scheduler}: "
                                  f"{' '.join(str(exc).split())}") from None
        with client:
            futures = client.map(fn, items, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            results: list = [None] * len(items)
            try:
                for f in as_completed(futures):
                    i = index[f.key]
                    results[i] = f.result()
                    done(i, results[i])
            except BaseException:
                client.cancel(futures)
                raise
            return results
    finally:
        if cluster is not None:
            cluster.close()

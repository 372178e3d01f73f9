"""Backends: one PuLP model, three solvers, and the lexicographic stages run on it.

The model is built once by :func:`dingdian.models.site.build_site_model`. The backends differ only in
how that same :class:`pulp.LpProblem` reaches a solver (``highs``, ``cbc``, ``cpsat``):
:mod:`dingdian.run.solvers` owns that. This module is the face the rest of the code uses:
:func:`solve`, :func:`solve_model`, :func:`run_backend`, :func:`check_options`; the tie-break
stages (L2) and (L3) of :mod:`dingdian.models.tiebreak` and one solver's run are in
:mod:`dingdian.run.stages` (their names are re-exported here).

``options`` pass a solver's own parameters through unchanged (``dingdian solve --solver-option
KEY=VALUE``): HiGHS options by name (``mip_max_nodes``), CBC command-line options
(``maxNodes``), CP-SAT ``SatParameters`` fields (``max_deterministic_time``). A HiGHS or CP-SAT
name the solver does not know is refused in one line before the solve (:func:`check_options`);
how each solver takes them, CBC's refusal after the run and a stop they cause:
:mod:`dingdian.run.solvers`.

A time limit covers the whole solve, model building and every stage: each stage gets the time
left (L1 at least :data:`MIN_SECONDS`, so that a solve started late can still find a plan); a
tie-break stage with no time left is not run. Each stage record says how long it was given
(``time_limit``) and whether it ended without a proof (``cut_short``: stopped by the limit or by
the solver's own limits, or not run for lack of time); such an L2 leaves an optimal plan that
is not the unique one every solver returns.
"""

from __future__ import annotations

import functools
import time
from concurrent.futures.process import BrokenProcessPool

import pandas as pd

from dingdian.models.allocation import chosen
from dingdian.models.data import SiteProblem
from dingdian.models.site import SiteModel, build_site_model
from dingdian.result import FEASIBLE, NO_SOLUTION, OPTIMAL, SolveResult
from dingdian.run.blocks import STATUS_ORDER, merge_stages, names_in, split_blocks
from dingdian.run.forked import auto_workers, side_by_side
from dingdian.run.solvers import BackendError, OptionError, Options, quiet_stdout, sat_text
from dingdian.run.stages import (  # noqa: F401 - re-exported: the names callers use
    BACKENDS,
    STAGE_OPTIONS,
    STAGE_WORDS,
    STARTS,
    Progress,
    lexicographic,
    run_backend,
    stage_record,
    tie_breaks,
    time_left,
    value,
)

#: seconds a solve that must return a plan (stage L1, a planner) gets at least, even when the
#: run's time limit is (nearly) used up
MIN_SECONDS = 1.0


def solve(
    problem: SiteProblem,
    backend: str = "highs",
    time_limit: float | None = None,
    elastic: bool = False,
    progress: Progress | None = None,
    unique: bool = True,
    certify: bool = False,
    options: Options | None = None,
    workers: int | None = None,
) -> SolveResult:
    """Build the site model for ``problem`` and solve it with ``backend``.

    ``unique`` (default) refines a proven optimum by the tie-break stage (L2) of
    :mod:`dingdian.models.tiebreak`, so that every backend returns the same plan; ``certify`` adds stage
    (L3), which proves that plan is the only one as good (``SolveResult.unique``). The elastic
    form (which explains infeasibility) is solved in one stage. ``options`` are the solver's
    own parameters, applied to every stage (module docstring). ``workers``: processes for the
    model's independent blocks (:func:`solve_model`).
    """
    if backend not in BACKENDS:
        raise BackendError(f"unknown solver '{backend}': choose one of {', '.join(BACKENDS)}")
    check_options(backend, options)
    say = progress or (lambda _msg: None)
    say("building the model")
    t0 = time.perf_counter()
    model = build_site_model(problem, elastic=elastic)
    build_seconds = time.perf_counter() - t0
    say(f"solving with {backend} ({model.lp.numVariables()} variables, "
        f"{model.lp.numConstraints()} constraints)")
    if time_limit is not None:  # the limit covers the build too
        time_limit = max(MIN_SECONDS, time_limit - build_seconds)
    return solve_model(model, backend, time_limit, build_seconds,
                       stages=("L2", "L3") if certify else ("L2",) if unique and not elastic
                       else (), progress=say, options=options, workers=workers)


def solve_model(
    model: SiteModel,
    backend: str,
    time_limit: float | None = None,
    build_seconds: float = 0.0,
    stages: tuple[str, ...] = (),
    progress: Progress | None = None,
    options: Options | None = None,
    blocks: bool = True,
    workers: int | None = None,
) -> SolveResult:
    """Solve an already built model with one backend and read the plan back.

    ``stages`` are the lexicographic stages of :mod:`dingdian.models.tiebreak` run after a proven
    optimum (``"L2"`` tie-break, ``"L3"`` certificate); the model is left with its objective.
    ``time_limit`` covers all stages (module docstring). ``options`` are the solver's own
    parameters (module docstring). The model is solved block by block
    (:mod:`dingdian.run.blocks`): each block's optimum (L1), largest first, then each block's
    stages; the result adds the blocks up. ``blocks=False`` solves it whole (the same plan
    wherever (L2) leaves one; kept for comparison and benchmarks). ``workers`` processes solve
    the blocks side by side (:mod:`dingdian.run.forked`; default: up to
    :data:`~dingdian.run.forked.MAX_WORKERS` on a model of at least
    :data:`~dingdian.run.forked.MIN_ROWS` rows; 1: one after the other, in this process).
    """
    t0 = time.perf_counter()
    deadline = None if time_limit is None else time.monotonic() + time_limit
    parts = split_blocks(model) if blocks else [model]
    workers = auto_workers(len(parts), model.lp.numConstraints(), workers)
    status, bound, values, message, record, unique = _solve_blocks(
        parts, backend, time_limit, deadline, stages, progress, options,
        model.lp.objective.constant, workers)
    objective = None
    solve_seconds = time.perf_counter() - t0
    designated = terms = choices = None
    if values is not None and status in (OPTIMAL, FEASIBLE):
        designated = _designated(model, values)
        terms = {name: value(expr, values) for name, expr in model.terms.items()}
        objective = value(model.lp.objective, values)
        choices = chosen(model, values)
    gap = None
    if objective is not None and bound is not None:
        gap = abs(objective - bound) / max(1.0, abs(objective))
    return SolveResult(
        backend=backend,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        n_variables=model.lp.numVariables(),
        n_constraints=model.lp.numConstraints(),
        designated=designated,
        objective_terms=terms or {},
        message=message,
        stages=tuple(record),
        unique=unique,
        choices=choices or {},
        options=dict(options or {}),
    )


def _solve_blocks(blocks: list[SiteModel], backend: str, time_limit: float | None,
                  deadline: float | None, stages: tuple[str, ...], progress: Progress | None,
                  options: Options | None, constant: float, workers: int = 1):
    """Every block's (L1), then every block's stages, added up (:mod:`dingdian.run.blocks`):
    ``(status, bound, values, message, stage records, unique)``. With ``workers`` > 1 the
    blocks of each phase run side by side (:mod:`dingdian.run.forked`; HiGHS on one thread
    each), else one after the other, stopping at the first block without a plan. Under a time
    limit each block's (L1) gets a share of the time left by its rows, times the workers (at
    least that share of :data:`MIN_SECONDS`; a block done early leaves its time to the rest; a
    block that found no plan in its share tries once more with all the time left, at least
    :data:`MIN_SECONDS`), so that every block has a plan before any is refined."""
    n = len(blocks)
    sizes = [len(b.lp.constraints()) + 1 for b in blocks]
    after = [sum(sizes[j:]) for j in range(n)]  # the rows of block j and of those after it
    in_worker = options  # the options of a call in a worker: HiGHS on one core each
    if workers > 1 and backend == "highs":  # (not in this process: its HiGHS keeps its threads)
        in_worker = {"threads": 1, **(options or {})}

    def optimum(j: int):
        def call():
            limit = time_limit
            if n > 1 and deadline is not None:  # a share of the time left, by rows
                limit = max(time_left(deadline) * min(1.0, workers * sizes[j] / after[j]),
                            MIN_SECONDS * sizes[j] / after[0])
            t = time.perf_counter()
            return (run_backend(blocks[j], backend, limit, in_worker),
                    time.perf_counter() - t, limit)
        return call

    found, records = [], []
    for j, (run, seconds, limit) in enumerate(_each([optimum(j) for j in range(n)], workers)):
        found.append(run)
        if run[0] == NO_SOLUTION and n > 1 and deadline is not None:
            # its share was too short to find a plan: once more, with all the time left
            t = time.perf_counter()
            limit = max(time_left(deadline), MIN_SECONDS)
            found[-1] = run_backend(blocks[j], backend, limit, options)
            seconds += time.perf_counter() - t
        st, z, b = found[-1][:3]
        records.append([stage_record("L1", st, z, b, seconds, limit)])
        if st not in (OPTIMAL, FEASIBLE):
            break  # no plan in one block: no plan at all
    uniques = [None] * len(found)
    if stages and len(found) == n and all(f[0] == OPTIMAL for f in found):
        owns = [names_in(block) for block in blocks] if n > 1 else [None]
        taus = tie_breaks(blocks[0], owns) if n > 1 else [None]
        if workers > 1 and progress:
            progress(STAGE_WORDS["L2"])
        calls = [functools.partial(
            lexicographic, block, backend, found[j][1], found[j][3], stages, deadline,
            progress if j == 0 and workers <= 1 else None, records[j], in_worker,
            within=owns[j], tau=taus[j]) for j, block in enumerate(blocks)]
        for j, (vals, record, unique) in enumerate(_each(calls, workers)):
            found[j] = (*found[j][:3], vals, found[j][4])
            records[j], uniques[j] = record, unique
    status = min((f[0] for f in found), key=STATUS_ORDER.index)
    bounds = [f[2] for f in found]
    bound = None if None in bounds or len(found) < n else sum(bounds)
    values = None
    if status in (OPTIMAL, FEASIBLE):
        values = {name: v for f in found for name, v in f[3].items()}
    message = "; ".join(dict.fromkeys(f[4] for f in found if f[4]))
    record = list(merge_stages(records))
    if n > 1:  # the blocks' objectives leave out (8)'s ``constant``: add it back to (L1)
        for key in ("objective", "bound"):
            if record and record[0][key] is not None:
                record[0][key] += constant
        bound = None if bound is None else bound + constant
    unique = None if None in uniques else all(uniques)
    return status, bound, values, message, record, unique


def _each(calls: list, workers: int):
    """The results of ``calls``: one after the other, lazily (a caller that stops early makes
    no more calls), or, with ``workers`` > 1, side by side (:mod:`dingdian.run.forked`)."""
    if workers <= 1:
        return (call() for call in calls)
    try:
        return side_by_side(calls, workers)
    except BrokenProcessPool as exc:
        raise BackendError(f"a worker process solving the model's blocks stopped ({exc}); "
                           "--workers 1 solves them in this process") from None


def check_options(backend: str, options: Options | None) -> None:
    """Refuse, in one line, a HiGHS or CP-SAT option name (or value) the solver does not take.

    CBC has no way to ask; an option it does not know is refused after the run (its log).
    """
    if not options:
        return
    if backend == "highs":
        import highspy

        with quiet_stdout():  # HiGHS prints its banner and its own error line
            probe = highspy.Highs()
            probe.setOptionValue("output_flag", False)
            refused = [(k, v) for k, v in options.items()
                       if probe.setOptionValue(k, v) != highspy.HighsStatus.kOk]
        for key, value in refused[:1]:
            raise OptionError(f"HiGHS does not take the option {key}={value!r}: see "
                              "https://ergo-code.github.io/HiGHS/stable/options/definitions/")
    elif backend == "cpsat":
        from google.protobuf import text_format
        from ortools.sat import sat_parameters_pb2

        for key, value in options.items():
            try:
                text_format.Parse(sat_text({key: value}), sat_parameters_pb2.SatParameters())
            except text_format.ParseError:
                raise OptionError(f"CP-SAT does not take the parameter {key}={value!r}: see "
                                   "ortools/sat/sat_parameters.proto") from None


def _designated(model: SiteModel, values: dict[str, float]) -> pd.DataFrame:
    p = model.problem
    years = (p.base_year, *p.years)
    rows = {}
    for f in p.facilities:
        row = []
        for t in years:
            v = model.x[f.id, t]
            row.append(int(v) if isinstance(v, int) else int(round(values.get(v.name, 0.0))))
        rows[f.id] = row
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(years))
    frame.index.name = "facility_id"
    return frame

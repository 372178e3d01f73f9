"""One solver run on a built model, and the lexicographic stages after its optimum.

:func:`run_backend` hands a built model to one solver (:mod:`dingdian.run.solvers`) and reads
back ``(status, objective, bound, values, message)``. :func:`lexicographic` runs the stages
(L2) and (L3) of :mod:`dingdian.models.tiebreak` after a proven optimum, on a shallow copy of
the model, each with the time left before the run's deadline; :func:`tie_breaks` splits (L2)'s
expression over independent blocks (:mod:`dingdian.run.blocks`); :func:`held_switches` finds
(L2) a plan to start from. :mod:`dingdian.run.backends` is the face the rest of the code uses.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pulp

from dingdian.models import tiebreak
from dingdian.models.site_core import SiteModel
from dingdian.result import FEASIBLE, NO_SOLUTION, OPTIMAL
from dingdian.run.solvers import BackendError, Options, run_cbc, run_cpsat, run_highs

Progress = Callable[[str], None]

BACKENDS: tuple[str, ...] = ("highs", "cbc", "cpsat")


#: solver parameters for the stages (L2) and (L3), before the user's own (which win). HiGHS's
#: RENS and RINS sub-MIPs find nothing under the held objective (L1) and take half the time:
#: measured on Zhangye's two largest blocks, (L2) in 2.4 and 3.9 CPU s without them against
#: 5.0 and 4.5 with them (benchmarks/README.md).
STAGE_OPTIONS: dict[str, dict[str, object]] = {
    "highs": {"mip_heuristic_run_rens": False, "mip_heuristic_run_rins": False},
}


#: the backends handed a start for (L2) (:func:`held_switches`). Measured on Zhangye's two
#: largest blocks (HiGHS, CPU s of (L2)): 2.9 -> 1.0 and 1.8 -> 1.8. CP-SAT with the previous
#: stage's plan as a hint was slower (module docstring of :func:`lexicographic`); CBC's start
#: is not measured.
STARTS = ("highs",)

#: what the progress line says as each stage starts
STAGE_WORDS = {"L2": "tie-break stage L2 (score, then id)",
               "L3": "certificate stage L3 (farthest equally good plan)"}


def run_backend(model: SiteModel, backend: str, time_limit: float | None = None,
                options: Options | None = None, start: dict[str, float] | None = None):
    """Run one solver: ``(status, objective, bound, values by variable name, message)``;
    ``start``, a feasible plan to start from, is used by HiGHS only (:data:`STARTS`)."""
    runners = {"highs": run_highs, "cbc": run_cbc, "cpsat": run_cpsat}
    if backend not in runners:
        raise BackendError(f"unknown solver '{backend}': choose one of {', '.join(BACKENDS)}")
    if start is not None and backend in STARTS:
        return run_highs(model, time_limit, dict(options or {}), start)
    return runners[backend](model, time_limit, dict(options or {}))



def time_left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (a :func:`time.monotonic` time), at least 0; None: no limit."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())



def value(expr, values: dict[str, float]) -> float:
    """Evaluate a PuLP expression with solution values given by variable name."""
    total = expr.constant
    for var, coef in expr.items():
        total += coef * values.get(var.name, 0.0)
    return float(round(total, 6))



def stage_record(name: str, status: str, objective, bound, seconds: float,
           time_limit: float | None) -> dict:
    """A stage's record; ``cut_short``: it ended without a proof (:mod:`dingdian.run.backends`)."""
    return {"stage": name, "status": status, "objective": objective, "bound": bound,
            "seconds": round(seconds, 3),
            "time_limit": None if time_limit is None else round(time_limit, 3),
            "cut_short": status in (FEASIBLE, NO_SOLUTION)}



def tie_breaks(model: SiteModel, owns: list[set[str]]) -> list[pulp.LpAffineExpression]:
    """(L2)'s expression of the whole model (``model`` is any of its blocks: they share the
    problem and the variables), split by the blocks whose variable names are ``owns``."""
    block = {name: j for j, own in enumerate(owns) for name in own}
    terms: list[list] = [[] for _ in owns]
    for var, coef in tiebreak.tie_break_expression(model).items():
        if var.name in block:  # a variable in no row and no objective term stays at 0 anyway
            terms[block[var.name]].append((var, coef))
    return [pulp.LpAffineExpression(t) for t in terms]



def lexicographic(model: SiteModel, backend: str, optimum: float, values: dict,
                   stages: tuple[str, ...], deadline: float | None,
                   progress: Progress | None, record: list[dict], options: Options | None,
                   within: set[str] | None = None,
                   tau: pulp.LpAffineExpression | None = None):
    """Stages (L2) and (L3) of :mod:`dingdian.models.tiebreak` after the optimum of (8).

    ``model`` may be one block of a model (:mod:`dingdian.run.blocks`): ``within`` then names
    its variables, ``tau`` is (L2)'s expression restricted to them, and (L3)'s terms are the
    block's.

    Returns the plan's values (stage L2's, or stage L1's when L2 found nothing), the stage
    records and whether (L3) proved the plan unique (``None`` when not asked or not proven).
    Each stage gets the time left before ``deadline``; with none left it is recorded, not
    run (``no_solution``, cut short).
    The stages run on a shallow copy of the PuLP problem (same variables, own rows and
    objective), so ``model`` keeps its objective (8) and no stage row. On HiGHS, (L2) starts
    from :func:`held_switches`'s plan (its time counts in (L2)'s). (Passing the previous
    stage's plan to CP-SAT as a hint was measured slower: 400 s without a proof against 156 s.)
    """
    say = progress or (lambda _msg: None)
    stage_options = {**STAGE_OPTIONS.get(backend, {}), **(options or {})}
    if time_left(deadline) == 0:
        record.append(stage_record("L2", NO_SOLUTION, None, None, 0.0, 0.0))
        return values, record, None
    staged = dataclasses.replace(model, lp=model.lp.copy())
    unique = None
    t0 = time.perf_counter()
    tiebreak.hold_objective(staged, model.lp.objective, optimum)
    if tau is None:
        tau = tiebreak.tie_break_expression(staged)
    staged.lp.setObjective(tau)
    say(STAGE_WORDS["L2"])
    start = held_switches(staged, backend, values, within, deadline, stage_options)
    limit = time_left(deadline)
    st, z, bound, vals, _ = run_backend(staged, backend, limit, stage_options, start)
    if vals is not None:
        z = value(tau, vals)
    record.append(stage_record("L2", st, z, bound, time.perf_counter() - t0, limit))
    if vals is None or st not in (OPTIMAL, FEASIBLE):
        return values, record, unique
    values = vals
    if "L3" in stages and st == OPTIMAL and time_left(deadline) == 0:
        record.append(stage_record("L3", NO_SOLUTION, None, None, 0.0, 0.0))
    elif "L3" in stages and st == OPTIMAL:
        t1 = time.perf_counter()
        tiebreak.hold_tie_break(staged, tau, z)
        plan = {key: (var if isinstance(var, int) else int(round(values[var.name])))
                for key, var in model.x.items()
                if isinstance(var, int) or within is None or var.name in within}
        delta, ones = tiebreak.distance_expression(staged, plan)
        staged.lp.setObjective(-delta)  # maximise delta = ones + expression
        say(STAGE_WORDS["L3"])
        limit = time_left(deadline)
        st3, _z3, b3, vals3, _ = run_backend(staged, backend, limit, stage_options)
        distance = None if vals3 is None else round(ones + value(delta, vals3))
        most = None if b3 is None else ones - b3  # the bound on delta
        record.append(stage_record("L3", st3, distance, most, time.perf_counter() - t1, limit))
        if st3 == OPTIMAL:
            unique = distance == 0
        elif most is not None and most < 0.5:
            unique = True
    return values, record, unique



def held_switches(model: SiteModel, backend: str, values: dict, within: set[str] | None,
                   deadline: float | None, options: dict) -> dict[str, float] | None:
    """A start for (L2): its best plan with the switches of (15) (exits before admissions,
    ``model.switches``) held where the (L1) plan ``values`` has them; None when the backend
    takes no start (:data:`STARTS`), the block has no switch or no time is left.

    With the switches held, (L2)'s relaxation is nearly integral and the restricted solve is
    quick; the plan it finds is feasible for (L2), which still searches every plan and proves
    its own optimum, so the plan returned is the same with or without the start.
    """
    switches = [q for q in model.switches.values() if within is None or q.name in within]
    if backend not in STARTS or not switches or time_left(deadline) == 0:
        return None
    held = dataclasses.replace(model, lp=model.lp.copy())
    for q in switches:
        held.lp.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression([(q, 1)]),
                                                pulp.LpConstraintEQ, rhs=round(values[q.name])),
                              f"start_{q.name}")
    status, _z, _bound, plan, _ = run_backend(held, backend, time_left(deadline), options)
    return plan if status in (OPTIMAL, FEASIBLE) else None

"""Backends: one PuLP model, three solvers.

The model is built once by :func:`dingdian.models.site.build_site_model`. The backends differ only in
how that same :class:`pulp.LpProblem` reaches a solver:

* ``highs`` — PuLP's in-process HiGHS interface (``highspy``);
* ``cbc``   — PuLP's ``COIN_CMD`` on the CBC binary installed by ``pulp[cbc]`` (``cbcbox``);
* ``cpsat`` — the problem exported by PuLP as MPS and read by OR-tools' model builder, which hands
  it to CP-SAT (every variable is integer and every coefficient an integer, as CP-SAT needs).

All three are asked for a proven optimum (relative gap 0, absolute gap below 1: the objective
has integer coefficients, so an absolute gap < 1 proves optimality); with a time limit the best
plan found is returned with status ``feasible`` and its gap.

``options`` pass a solver's own parameters through unchanged, after dingdian's, so that they
win (``dingdian solve --solver-option KEY=VALUE``): HiGHS options by name (``mip_max_nodes``),
CBC command-line options (``maxNodes``), CP-SAT ``SatParameters`` fields
(``max_deterministic_time``). A HiGHS or CP-SAT name the solver does not know is refused in one
line before the solve; CBC reports an unknown option in its log, which is refused after it.
A stop the options cause (a node, solution or deterministic-time limit) is read like a time
limit: the best plan found, ``feasible``, with its gap.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pulp

from dingdian.models.allocation import chosen
from dingdian.models.data import SiteProblem
from dingdian.models.site import SiteModel, build_site_model
from dingdian.result import ERROR, FEASIBLE, INFEASIBLE, NO_SOLUTION, OPTIMAL, SolveResult

BACKENDS: tuple[str, ...] = ("highs", "cbc", "cpsat")

#: CP-SAT parameters: linearization_level 2 adds the LP relaxation's cuts that let CP-SAT prove
#: the optimum of covering models quickly (measured: default stays ~1 % from its bound).
#: ``catch_sigint_signal:false`` leaves Ctrl-C to Python (see :func:`_interruptible`).
CPSAT_PARAMETERS: dict[str, object] = {"linearization_level": 2, "num_workers": 1,
                                       "catch_sigint_signal": False}

Progress = Callable[[str], None]
#: a solver's own parameters by name, passed through (module docstring)
Options = Mapping[str, object]


class BackendError(RuntimeError):
    """A backend is missing or failed; the message is one line for the planner."""


class OptionError(BackendError):
    """A solver option (``--solver-option``) the solver does not take: bad input, one line."""


def solve(
    problem: SiteProblem,
    backend: str = "highs",
    time_limit: float | None = None,
    elastic: bool = False,
    progress: Progress | None = None,
    unique: bool = True,
    certify: bool = False,
    options: Options | None = None,
) -> SolveResult:
    """Build the site model for ``problem`` and solve it with ``backend``.

    ``unique`` (default) refines a proven optimum by the tie-break stage (L2) of
    :mod:`dingdian.models.tiebreak`, so that every backend returns the same plan; ``certify`` adds stage
    (L3), which proves that plan is the only one as good (``SolveResult.unique``). The elastic
    form (which explains infeasibility) is solved in one stage. ``options`` are the solver's
    own parameters, applied to every stage (module docstring).
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
    return solve_model(model, backend, time_limit, build_seconds,
                       stages=("L2", "L3") if certify else ("L2",) if unique and not elastic
                       else (), progress=say, options=options)


def solve_model(
    model: SiteModel,
    backend: str,
    time_limit: float | None = None,
    build_seconds: float = 0.0,
    stages: tuple[str, ...] = (),
    progress: Progress | None = None,
    options: Options | None = None,
) -> SolveResult:
    """Solve an already built model with one backend and read the plan back.

    ``stages`` are the lexicographic stages of :mod:`dingdian.models.tiebreak` run after a proven
    optimum (``"L2"`` tie-break, ``"L3"`` certificate); the model is left with its objective.
    ``options`` are the solver's own parameters (module docstring).
    """
    t0 = time.perf_counter()
    status, objective, bound, values, message = run_backend(model, backend, time_limit, options)
    record = [_stage("L1", status, objective, bound, time.perf_counter() - t0)]
    unique = None
    if stages and status == OPTIMAL:
        values, record, unique = _lexicographic(model, backend, objective, values, stages,
                                                _remaining(time_limit, t0), progress, record,
                                                options)
    solve_seconds = time.perf_counter() - t0
    designated = terms = choices = None
    if values is not None and status in (OPTIMAL, FEASIBLE):
        designated = _designated(model, values)
        terms = {name: _value(expr, values) for name, expr in model.terms.items()}
        objective = _value(model.lp.objective, values)
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


def _stage(name: str, status: str, objective, bound, seconds: float) -> dict:
    return {"stage": name, "status": status, "objective": objective, "bound": bound,
            "seconds": round(seconds, 3)}


def _remaining(time_limit: float | None, since: float) -> float | None:
    if time_limit is None:
        return None
    return max(1.0, time_limit - (time.perf_counter() - since))


def _lexicographic(model: SiteModel, backend: str, optimum: float, values: dict,
                   stages: tuple[str, ...], time_limit: float | None,
                   progress: Progress | None, record: list[dict], options: Options | None):
    """Stages (L2) and (L3) of :mod:`dingdian.models.tiebreak` after the optimum of (8).

    Returns the plan's values (stage L2's, or stage L1's when L2 found nothing), the stage
    records and whether (L3) proved the plan unique (``None`` when not asked or not proven).
    The stages run on a shallow copy of the PuLP problem (same variables, own rows and
    objective), so ``model`` keeps its objective (8) and no stage row. (Passing the previous
    stage's plan to CP-SAT as a hint was measured slower: 400 s without a proof against 156 s.)
    """
    import dataclasses

    from dingdian.models import tiebreak

    say = progress or (lambda _msg: None)
    staged = dataclasses.replace(model, lp=model.lp.copy())
    unique = None
    t0 = time.perf_counter()
    tiebreak.hold_objective(staged, model.lp.objective, optimum)
    tau = tiebreak.tie_break_expression(staged)
    staged.lp.setObjective(tau)
    say("tie-break stage L2 (score, then id)")
    st, z, bound, vals, _ = run_backend(staged, backend, _remaining(time_limit, t0), options)
    if vals is not None:
        z = _value(tau, vals)
    record.append(_stage("L2", st, z, bound, time.perf_counter() - t0))
    if vals is None or st not in (OPTIMAL, FEASIBLE):
        return values, record, unique
    values = vals
    if "L3" in stages and st == OPTIMAL:
        t1 = time.perf_counter()
        tiebreak.hold_tie_break(staged, tau, z)
        plan = {key: (var if isinstance(var, int) else int(round(values[var.name])))
                for key, var in model.x.items()}
        delta, ones = tiebreak.distance_expression(staged, plan)
        staged.lp.setObjective(-delta)  # maximise delta = ones + expression
        say("certificate stage L3 (farthest equally good plan)")
        st3, _z3, b3, vals3, _ = run_backend(staged, backend, _remaining(time_limit, t0),
                                             options)
        distance = None if vals3 is None else round(ones + _value(delta, vals3))
        most = None if b3 is None else ones - b3  # the bound on delta
        record.append(_stage("L3", st3, distance, most, time.perf_counter() - t1))
        if st3 == OPTIMAL:
            unique = distance == 0
        elif most is not None and most < 0.5:
            unique = True
    return values, record, unique


def run_backend(model: SiteModel, backend: str, time_limit: float | None = None,
                options: Options | None = None):
    """Run one solver: ``(status, objective, bound, values by variable name, message)``."""
    runners = {"highs": _run_highs, "cbc": _run_cbc, "cpsat": _run_cpsat}
    if backend not in runners:
        raise BackendError(f"unknown solver '{backend}': choose one of {', '.join(BACKENDS)}")
    return runners[backend](model, time_limit, dict(options or {}))


def check_options(backend: str, options: Options | None) -> None:
    """Refuse, in one line, a HiGHS or CP-SAT option name (or value) the solver does not take.

    CBC has no way to ask; an option it does not know is refused after the run (its log).
    """
    if not options:
        return
    if backend == "highs":
        import highspy

        with _quiet_stdout():  # HiGHS prints its banner and its own error line
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
                text_format.Parse(_sat_text({key: value}), sat_parameters_pb2.SatParameters())
            except text_format.ParseError:
                raise OptionError(f"CP-SAT does not take the parameter {key}={value!r}: see "
                                   "ortools/sat/sat_parameters.proto") from None


def _sat_text(parameters: Options) -> str:
    """CP-SAT parameters as protobuf text (``linearization_level:2 catch_sigint_signal:false``)."""
    def text(v) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    return " ".join(f"{k}:{text(v)}" for k, v in parameters.items())


def _value(expr, values: dict[str, float]) -> float:
    """Evaluate a PuLP expression with solution values given by variable name."""
    total = expr.constant
    for var, coef in expr.items():
        total += coef * values.get(var.name, 0.0)
    return float(round(total, 6))


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


@contextmanager
def _quiet_stdout():
    """Silence C-level stdout (HiGHS prints its banner even with output off)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# --------------------------------------------------------------------------- HiGHS (highspy)
def _run_highs(model: SiteModel, time_limit: float | None, options: dict):
    cmd = pulp.HiGHS(msg=False, gapRel=0.0, gapAbs=0.999, timeLimit=time_limit, **options)
    try:
        with _quiet_stdout():
            model.lp.solve(cmd)
    except pulp.PulpSolverError as exc:  # pragma: no cover - depends on the installation
        return ERROR, None, None, None, f"HiGHS failed: {exc}"
    except KeyError:
        # PuLP 3.3 has no status for a solution or node limit (kSolutionLimit) and raises after
        # it has read the values back; the status is read from HiGHS below all the same.
        pass
    highs = model.lp.solverModel
    info = highs.getInfo()
    model_status = highs.modelStatusToString(highs.getModelStatus())
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = {v.name: v.varValue for v in model.lp.variables()} if has_solution else None
    if model_status == "Optimal":
        return OPTIMAL, info.objective_function_value, info.mip_dual_bound, values, model_status
    if model_status == "Infeasible":
        return INFEASIBLE, None, None, None, model_status
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else None
    if has_solution:
        return FEASIBLE, info.objective_function_value, bound, values, model_status
    return NO_SOLUTION, None, bound, None, model_status


# --------------------------------------------------------------------------- CBC (COIN_CMD)
_CBC_LINE = re.compile(r"^(Result|Objective value|Lower bound|Gap)\s*[-:]\s*(.+)$")


#: environment variable naming the CBC executable (default: the one ``pulp[cbc]`` installs)
CBC_PATH_ENV = "DINGDIAN_CBC_PATH"


def _run_cbc(model: SiteModel, time_limit: float | None, options: dict):
    cmd = pulp.COIN_CMD(msg=False, gapRel=0.0, gapAbs=0.999, timeLimit=time_limit, threads=1,
                        path=os.environ.get(CBC_PATH_ENV) or None,
                        options=[f"{k} {v}" for k, v in options.items()])
    if not cmd.available():
        raise BackendError("CBC is not installed: pip install 'pulp[cbc]' (or choose --solver highs)")
    with tempfile.TemporaryDirectory(prefix="dingdian-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        cmd.optionsDict["logPath"] = str(log_path)
        cmd.logPath = str(log_path)
        try:
            model.lp.solve(cmd)
            failure = None
        except pulp.PulpSolverError as exc:
            failure = f"CBC failed: {exc}"
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
    unknown = re.search(r"(?:No match for|Unrecognized parameter -)\s*([^\s,]+)", log)
    if options and unknown:
        raise OptionError(f"CBC does not take the option {unknown.group(1)}: see `cbc -?`")
    if failure:
        return ERROR, None, None, None, failure
    summary = {}
    for line in log.splitlines():
        m = _CBC_LINE.match(line.strip())
        if m:
            summary[m.group(1)] = m.group(2).strip()
    result = summary.get("Result", "")
    status = pulp.LpStatus[model.lp.status]
    sol_status = model.lp.sol_status
    values = {v.name: v.varValue or 0.0 for v in model.lp.variables()}
    objective = pulp.value(model.lp.objective)
    if status == "Infeasible" or "infeasible" in result.lower():
        return INFEASIBLE, None, None, None, result or status
    if sol_status == pulp.LpSolutionOptimal and "Optimal" in (result or "Optimal"):
        return OPTIMAL, objective, objective, values, result or status
    bound = _printed_lower_bound(summary.get("Lower bound"))
    if sol_status in (pulp.LpSolutionIntegerFeasible, pulp.LpSolutionOptimal):
        return FEASIBLE, objective, bound, values, result or status
    return NO_SOLUTION, None, bound, None, result or status


def _printed_lower_bound(text: str | None) -> float | None:
    """CBC's printed lower bound, widened by its printing precision so that it stays a bound.

    CBC prints the bound with six significant digits (``-4.16632e+06``); the true bound may lie
    up to half a unit of the last printed digit below it.
    """
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    if value is None or not math.isfinite(value):
        return None
    mantissa = text.strip().lstrip("+-").lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
    return value - 0.5 * 10.0 ** (exponent - decimals)


# --------------------------------------------------------------------------- CP-SAT (OR-tools)
def _run_cpsat(model: SiteModel, time_limit: float | None, options: dict):
    fd, mps_path = tempfile.mkstemp(prefix="dingdian-", suffix=".mps")
    os.close(fd)
    try:
        model.lp.writeMPS(mps_path)
        return _run_cpsat_mps(mps_path, time_limit, model.lp.objective.constant, options)
    finally:
        os.unlink(mps_path)


def _run_cpsat_mps(mps_path: str, time_limit: float | None, offset: float,
                   options: Options | None = None):
    """CP-SAT on a model written as MPS by PuLP;
    ``offset`` is the objective's constant, which MPS does not carry."""
    from ortools.linear_solver.python import model_builder as mb

    mbm = mb.Model()
    if not mbm.import_from_mps_file(mps_path):
        return ERROR, None, None, None, "OR-tools could not read the model (MPS import failed)"
    sat = mb.ModelSolver("sat")
    if not sat.solver_is_supported():  # pragma: no cover - depends on the OR-tools build
        raise BackendError("CP-SAT is not available in this OR-tools build: choose --solver highs")
    sat.set_solver_specific_parameters(_sat_text({**CPSAT_PARAMETERS, **(options or {})}))
    if time_limit is not None:
        sat.set_time_limit_in_seconds(time_limit)
    status = _interruptible(sat, mbm)
    S = mb.SolveStatus
    if status == S.INFEASIBLE:
        return INFEASIBLE, None, None, None, "INFEASIBLE"
    if status not in (S.OPTIMAL, S.FEASIBLE):
        return NO_SOLUTION, None, None, None, status.name
    variables = mbm.get_variables()
    values = dict(zip((v.name for v in variables), sat.values(variables).to_numpy(), strict=True))
    objective = sat.objective_value + offset
    bound = sat.best_objective_bound + offset
    if status == S.OPTIMAL or objective - bound < 1 - 1e-9:
        return OPTIMAL, objective, bound, values, "OPTIMAL"
    return FEASIBLE, objective, bound, values, status.name


def _interruptible(sat, mbm):
    """Run ``sat.solve(mbm)`` so that Ctrl-C reaches Python as a KeyboardInterrupt.

    CP-SAT is told not to catch SIGINT (``catch_sigint_signal:false``) and runs in a thread (the
    OR-tools binding releases the GIL); the main thread waits in short joins, so Python's own
    handler raises the interrupt there. The search is then stopped and the interrupt handed on,
    as HiGHS and CBC do. Nothing is guessed from the status or the wall time.
    """
    box: dict = {}

    def run():
        try:
            box["status"] = sat.solve(mbm)
        except BaseException as exc:  # pragma: no cover - re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="cp-sat", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        sat.stop_search()
        worker.join()
        raise
    if "error" in box:  # pragma: no cover
        raise box["error"]
    return box["status"]

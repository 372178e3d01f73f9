"""The solve pipeline behind ``dingdian solve``: load → solve → fall back → explain → verify →
plan beside → (write).

* :func:`load` reads a scenario folder or file (:func:`dingdian.scenario.loader.load_scenario`);
* :func:`check_inputs` reads what :func:`load` leaves to the planners (the beds and nursing
  files) and computes the rules that need no solve, as ``dingdian validate`` does;
* :func:`solve` solves the site model on the chosen backend (whole or by independent county
  groups), falls back to another backend only when asked, explains an infeasible plan, checks
  the plan against every rule, then runs the planners the scenario names (nursing, beds) and
  the rules computed beside the model. It returns a frozen :class:`~dingdian.pipeline.plan.Plan`
  and writes nothing.

Failures that leave no plan are exceptions, each a one-line message:
:class:`~dingdian.errors.ScenarioError` (bad input), :class:`~dingdian.run.backends.OptionError`
(a solver option the solver does not take), :class:`~dingdian.run.engine.EngineError` (a
parallel engine that cannot start), :class:`~dingdian.errors.SolverFailed` (the solver is
missing or crashed) and :class:`~dingdian.errors.PlannerFailed` (the beds or nursing plan is
infeasible or not found). An infeasible site plan is a result, not an error: its
:meth:`~dingdian.pipeline.plan.Plan.explain` says why.

``progress(message, kind="step")`` is called as the work goes on: ``step`` for each stage
(building, solving, planning beds…), ``status`` for a transient state ("explaining
infeasibility"), ``warning`` for a notice the user must see (a fallback).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dingdian.check.verify import check_plan
from dingdian.errors import PlannerFailed, ScenarioError, SolverFailed
from dingdian.pipeline.plan import Plan
from dingdian.planners.beds import plan_beds
from dingdian.planners.beds import read_inputs as read_beds_inputs
from dingdian.planners.extras import rule_extras
from dingdian.planners.nursing import plan_nursing
from dingdian.planners.nursing import read_inputs as read_nursing_inputs
from dingdian.result import ERROR, INFEASIBLE, NO_SOLUTION, ExtraResult
from dingdian.run import backends
from dingdian.run.decompose import solve_parts
from dingdian.run.engine import check_scheduler
from dingdian.run.explain import explain_infeasible, shortfalls
from dingdian.run.scratch import run_folder
from dingdian.scenario.files import Collector
from dingdian.scenario.loader import Scenario, load_scenario
from dingdian.scenario.nursing import read_nursing_config
from dingdian.scenario.scenario_paths import planner_paths
from dingdian.scenario.variants import resolve_config
from dingdian.write.frames import plan_frame

Progress = Callable[..., None]


def _scenario_file(path: str | Path) -> Path:
    """A folder means the scenario.yaml in it."""
    path = Path(path)
    return path / "scenario.yaml" if path.is_dir() and (path / "scenario.yaml").is_file() \
        else path


def load(path: str | Path, *, allow_outside: bool = False) -> Scenario:
    """Read, validate and compile a scenario: a folder holding ``scenario.yaml``, a scenario
    file or a variant. Bad input raises :class:`~dingdian.errors.ScenarioError` naming the
    file, row and field (:class:`~dingdian.errors.ScenarioErrors` when there are several),
    and so does a file that cannot be read. The files it names must lie inside the scenario
    folder unless ``allow_outside`` (:mod:`dingdian.scenario.paths`)."""
    path = _scenario_file(path)
    try:
        return load_scenario(path, allow_outside=allow_outside)
    except OSError as exc:
        raise ScenarioError(str(path), None, None, str(exc.strerror or exc)) from None


def _scenario(scenario: Scenario | str | Path, allow_outside: bool = False) -> Scenario:
    return scenario if isinstance(scenario, Scenario) \
        else load(scenario, allow_outside=allow_outside)


@dataclass(frozen=True)
class Inputs:
    """What :func:`check_inputs` found: the scenario, the planner files it read (``beds``,
    ``nursing`` → the file named in scenario.yaml), the rules computed without a plan and the
    targets no plan can reach within the yearly limits (``shortfalls``, one sentence each)."""

    scenario: Scenario
    planner_files: dict[str, str]
    extras: tuple[ExtraResult, ...]
    shortfalls: tuple[str, ...] = ()

    @property
    def warnings(self) -> list[str]:
        return [line for e in self.extras for line in e.summary.get("warnings") or []]


def check_inputs(scenario: Scenario | str | Path, *, allow_outside: bool = False) -> Inputs:
    """Everything ``dingdian validate`` checks: every file the scenario names, the beds and
    nursing files included, with all their problems raised together
    (:class:`~dingdian.errors.ScenarioErrors`); then the rules that need no solve (street
    split, basic set) and whether each target can be reached within the yearly limits.
    ``allow_outside`` as :func:`load`."""
    found = Collector()
    if isinstance(scenario, Scenario):
        sc, cfg, root = scenario, scenario.config, scenario.root
    else:
        path = _scenario_file(scenario)
        sc = found.run(load, path, allow_outside=allow_outside)
        try:
            cfg, res = resolve_config(path)
            root = res.root
            if found.run(planner_paths, cfg, res, allow_outside) is None:
                cfg = None  # a planner file outside the scenario folder is not read
        except (ScenarioError, OSError):  # the YAML itself: load has said why
            cfg = root = None
    files = {}
    if cfg is not None and cfg.beds:
        found.run(read_beds_inputs, root, cfg.beds)
        files["beds"] = cfg.beds
    if cfg is not None and cfg.nursing:
        if sc is not None:
            found.run(read_nursing_inputs, root, cfg.nursing, sc)
        else:
            found.run(read_nursing_config, root / cfg.nursing)
        files["nursing"] = cfg.nursing
    found.raise_if_any()
    return Inputs(scenario=sc, planner_files=files, extras=tuple(rule_extras(sc)),
                  shortfalls=tuple(shortfalls(sc.problem)))


def read_planner_inputs(sc: Scenario) -> None:
    """Read the beds and nursing files ``sc`` names, raising every problem together
    (:class:`~dingdian.errors.ScenarioErrors`) before anything is solved."""
    found = Collector()
    if sc.config.beds:
        found.run(read_beds_inputs, sc.root, sc.config.beds)
    if sc.config.nursing:
        found.run(read_nursing_inputs, sc.root, sc.config.nursing, sc)
    found.raise_if_any()


@run_folder()  # every solver file of the run in one folder, removed however the run ends
def solve(scenario: Scenario | str | Path, *, solver: str = "highs",
          time_limit: float | None = None, unique: bool = True, certify: bool = False,
          fallback: str | None = None, decompose: bool = False, workers: int | None = None,
          scheduler: str | None = None, options: Mapping[str, object] | None = None,
          planners: bool = True, explain: bool = True,
          progress: Progress | None = None, allow_outside: bool = False) -> Plan:
    """Solve ``scenario`` (a loaded :class:`Scenario` or a path) and return its :class:`Plan`.

    ``solver`` is ``highs``, ``cbc`` or ``cpsat``; ``time_limit`` (seconds) returns the best
    plan found, status ``feasible``, with its gap: one limit for the whole run (site model
    stages, nursing, beds), each solve getting the time left, at least
    :data:`~dingdian.run.backends.MIN_SECONDS` for one that must return a plan; the plan
    records what was cut short (:attr:`Plan.cut_short`). ``unique`` runs the tie-break stage L2 so
    every backend returns the same plan, ``certify`` stage L3. ``fallback`` solves again with
    another backend when ``solver`` is missing or fails. ``decompose`` solves the independent
    county groups in parallel (``workers`` processes, or a Dask ``scheduler`` address or
    ``"local"``); without it ``workers`` processes solve the model's independent blocks side by
    side (:mod:`dingdian.run.forked`; default: up to 4 on a model that is not tiny). ``options`` are the solver's own parameters (site model only, not passed to
    the fallback). ``planners=False`` skips the beds and nursing plans; ``explain=False`` leaves
    an infeasible plan's explanation to :meth:`Plan.explain`. ``allow_outside`` as :func:`load`.
    """
    say = progress or (lambda *_a, **_k: None)
    if options:
        backends.check_options(solver, dict(options))
    if decompose:  # a scheduler address that is none is said before the scenario is read
        check_scheduler(scheduler)
    sc = _scenario(scenario, allow_outside)
    if planners:  # a bad beds or nursing file is said now, not after the site solve
        read_planner_inputs(sc)
    decomposed = None
    deadline = None if time_limit is None else time.monotonic() + time_limit

    def run(name: str):
        """(result, failure): a missing solver or a crash is a failure, not a plan."""
        nonlocal decomposed
        kwargs = {"unique": unique, "certify": certify,
                  "options": dict(options) if options and name == solver else None}
        try:
            if decompose:
                decomposed = solve_parts(sc.problem, name, backends.time_left(deadline),
                                         workers=workers,
                                         scheduler=scheduler, progress=say, **kwargs)
                r = decomposed.result
            else:
                r = backends.solve(sc.problem, backend=name, workers=workers,
                                   time_limit=backends.time_left(deadline), progress=say, **kwargs)
        except backends.OptionError:
            raise
        except backends.BackendError as exc:  # the solver is missing or failed
            return None, str(exc)
        return (None, f"{name}: {r.message}") if r.status == ERROR else (r, None)

    used, fell_back = solver, None
    result, failure = run(solver)
    if failure and fallback and fallback != solver:
        say(f"{failure}; 改用 falling back to {fallback}", kind="warning")
        used, fell_back = fallback, failure
        result, failure = run(fallback)
    if failure:
        raise SolverFailed(failure)
    common = {"scenario": sc, "result": result, "solver": used, "decomposition": decomposed,
              "fallback_from": fell_back, "time_limit": time_limit}
    if result.status == INFEASIBLE:
        explanation = None
        if explain:
            say("分析不可行原因 explaining infeasibility", kind="status")
            explanation = tuple(explain_infeasible(sc.problem, used))
        return Plan(**common, explanation=explanation)
    if not result.has_plan:
        return Plan(**common, time_limit_reached=backends.time_left(deadline) == 0)
    frame = plan_frame(sc.facilities, result.designated, result.choices)
    verification = tuple(check_plan(frame, sc))
    extras = plan_beside(sc, used, backends.time_left(deadline), say) if planners else []
    reached = backends.time_left(deadline) == 0  # the last solve ended at or after the limit
    extras += rule_extras(sc, frame, extras)
    return Plan(**common, extras=tuple(extras), verification=verification,
                time_limit_reached=reached)


def plan_beside(sc: Scenario, backend: str, time_limit: float | None = None,
                progress: Progress | None = None) -> list[ExtraResult]:
    """The planners the scenario names beside the site model: nursing first (the beds it takes
    from surplus hospital beds cap the hospitals' conversion), then beds.

    ``time_limit`` (seconds) covers both: each gets the time left, at least
    :data:`~dingdian.run.backends.MIN_SECONDS`. Bad input raises
    :class:`~dingdian.errors.ScenarioError`; an infeasible plan or none found raises
    :class:`~dingdian.errors.PlannerFailed`.
    """
    say = progress or (lambda *_a, **_k: None)
    deadline = None if time_limit is None else time.monotonic() + time_limit
    extras: list[ExtraResult] = []
    linked: dict = {}
    for key, run in (("nursing", plan_nursing), ("beds", plan_beds)):
        file = getattr(sc.config, key, None)
        if not file:
            continue
        say(f"planning {key} ({file})")
        left = backends.time_left(deadline)
        extra = run(Path(sc.path).parent, file, backend=backend,
                    time_limit=None if left is None else max(backends.MIN_SECONDS, left),
                    **(linked if key == "beds" else {"scenario": sc}))
        status = extra.summary.get("status")
        if status in (INFEASIBLE, NO_SOLUTION, ERROR):
            raise PlannerFailed(key, file, status, extra.summary.get("message", ""))
        extras.append(extra)
        if key == "nursing" and extra.summary.get("converted_by_county") is not None:
            linked["nursing_capacity"] = extra.summary["converted_by_county"]
    return extras

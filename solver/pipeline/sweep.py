"""Scenario sweeps: many variants of one scenario, solved in parallel, one row each.

A sweep is a list of *runs*; each run is a mapping of *settings* over a base scenario::

    {"name": "r800", "radius": 800}
    {"weights.churn": 1, "exit_scale.甘州区.pharmacy": 0.8}

A setting is one of:

* a dotted key of ``scenario.yaml`` (``grid.urban_radius_m``, ``weights.churn``,
  ``options.exit_mode``, ``rules.near_radius_m``, ``overrides.targets`` …), deep-merged like a
  variant's key (:mod:`dingdian.scenario.variants`: mappings merge, lists and values replace);
* an alias: ``radius`` = ``grid.urban_radius_m``, ``rural_radius`` = ``grid.rural_radius_m``;
* ``exit_scale`` / ``admit_scale``, optionally narrowed by a county and/or a kind
  (``exit_scale.pharmacy``, ``exit_scale.甘州区``, ``exit_scale.甘州区.pharmacy``): the yearly
  exit (admission) limits of the county rows (表6/表7) and of their streets' rows (表8/表9)
  times the factor, rounded half up. They become ``overrides.county_quotas`` and
  ``overrides.street_quotas`` entries after the base's own (and the run's own) entries;
* ``solver``: the backend of that run (``highs``, ``cbc``, ``cpsat``);
* ``name``: the run's name (default: its number and settings, ``003_radius=800``), kept as
  given in sweep.csv; its folder is the name made safe (:func:`dingdian.pipeline.sweep_setup.
  run_folder`: ``a/b`` → ``a-b``; ``.``, ``..``, ``variants`` and two runs with one folder are
  refused).

:func:`grid` makes the cartesian product of value lists. :func:`sweep` writes every run as a
variant file ``DIR/variants/<run>.yaml`` (``base:`` the scenario, with the settings; ``dingdian
solve`` on it repeats the run) and checks them all before solving anything. Then the engine of
:mod:`dingdian.run.engine` (a local process pool, or Dask) runs one task per run: load the variant,
solve the site model, check the plan (:func:`dingdian.check.verify.check_plan`) and write it with
:func:`dingdian.write.outputs.write_outputs` to ``DIR/<run>/``, atomically; an infeasible run is
explained (:func:`dingdian.run.explain.explain_infeasible`) and writes no folder. ``DIR/sweep.csv``
(:data:`COLUMNS`, a list or mapping setting as its YAML text ``[甘州区]``) has one row per run,
``DIR/sweep_counts.csv`` every plan's counts.csv rows (county, street and city) after the run's
name: both written atomically when every run is done, in the order of the runs whatever the
order they finish in (``progress`` hears of each run as it
finishes: ``dingdian sweep`` counts the runs done with it).
``write_plans=False`` (``--no-plans``) skips the plan folders, which take most of a run's time
after the solve. Sweeps solve the site model only; the beds and nursing planners are run by
``dingdian solve``.

A sweep file (``dingdian sweep SWEEP.yaml``, :class:`SweepConfig`) holds the same::

    scenario: ../scenarios/zhangye/scenario.yaml   # relative to this file
    solver: highs
    grid: {radius: [800, 1060.82]}                 # the product of these lists, then …
    runs:                                          # … these runs, in this order
      - {name: gz_x0.8, set: {exit_scale.甘州区.pharmacy: 0.8}}
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.pipeline.sweep_setup import prepare, sweep_runs
from dingdian.run.engine import check_scheduler, run_all

#: sweep.csv: these columns, with one column per setting after ``out``
COLUMNS = ["run", "out", "solver", "status", "objective", "bound", "gap", "verified",
           "violations", *(f"designated_{{last}}_{k}" for k in KINDS),
           *(f"admitted_{k}" for k in KINDS), *(f"exited_{k}" for k in KINDS),
           *(f"coverage_{{last}}_{k}" for k in KINDS),
           *(f"population_covered_{{last}}_{k}" for k in KINDS),
           *(f"gain_filled_{{last}}_{k}" for k in KINDS),
           "build_seconds", "solve_seconds", "seconds", "explanation"]
#: sweep_counts.csv: counts.csv of every run with a plan, after the run's name
COUNT_COLUMNS = ["run", "county", "street", "kind", "year", "designated", "admitted", "exited"]
#: ``progress(done, total, row)``: ``(0, N, None)`` once the N runs are checked and start, then
#: ``(k, N, row)`` as each run finishes (k = 1 … N, in the order they finish; ``row`` its
#: sweep.csv row: ``run``, ``status``, ``seconds`` …)
Progress = Callable[[int, int, dict | None], None]


# --------------------------------------------------------------------------- one run
def run_one(task: tuple) -> tuple[dict, pd.DataFrame | None]:
    """Solve one run in a worker (and write its folder): its sweep.csv row and counts."""
    (name, folder, settings, variant, out_dir, backend, time_limit, explain, decompose, write,
     allow_outside, kwargs) = task
    from dingdian.check.verify import check_plan
    from dingdian.result import INFEASIBLE
    from dingdian.run import backends
    from dingdian.scenario.loader import load_scenario
    from dingdian.write import frames, outputs
    from dingdian.write import tables as T

    t0 = time.perf_counter()
    sc = load_scenario(variant, allow_outside=allow_outside)
    if decompose:
        from dingdian.run.decompose import solve_decomposed

        result = solve_decomposed(sc.problem, backend, time_limit, workers=1, **kwargs)
    else:
        # one process a run: the runs are the parallel work (no block workers inside)
        result = backends.solve(sc.problem, backend=backend, time_limit=time_limit, workers=1,
                                **kwargs)
    years = frames.plan_years(sc)
    last = years[-1]
    row: dict = {"run": name, "out": "", **{k: _cell(v) for k, v in settings.items()
                                            if k != "name"},
                 "solver": backend, "status": result.status, "objective": result.objective,
                 "bound": result.bound, "gap": result.gap,
                 "build_seconds": round(result.build_seconds, 3),
                 "solve_seconds": round(result.solve_seconds, 3), "verified": None,
                 "violations": None, "explanation": None}
    row.update({c.format(last=last): None for c in COLUMNS if "{last}" in c or
                c.startswith(("admitted_", "exited_"))})
    counts = None
    if result.has_plan:
        plan = frames.plan_frame(sc.facilities, result.designated, result.choices)
        violations = check_plan(plan, sc)
        row.update(verified=not violations, violations=len(violations))
        if write:
            outputs.write_outputs(Path(out_dir) / folder, sc, result, verification=violations,
                                  extra_summary={"sweep": {"run": name, "settings": settings}})
            row["out"] = folder
        counts = T.counts_frame(sc.facilities, result.designated,
                                counties=list(dict.fromkeys(sc.targets["county"])),
                                streets=frames.street_order(sc.quotas))
        city = counts[counts["county"] == T.CITY_TOTAL]
        coverage = frames.coverage_summary(frames.cells_frame(sc.cells, sc.reach, plan),
                                            [last], sc.reach)
        for kind in KINDS:
            c = city[city["kind"] == kind]
            row[f"designated_{last}_{kind}"] = int(c.loc[c["year"] == last, "designated"].sum())
            row[f"admitted_{kind}"] = int(c["admitted"].sum())
            row[f"exited_{kind}"] = int(c["exited"].sum())
            cov = coverage[kind][str(last)]
            row[f"coverage_{last}_{kind}"] = cov["population_covered_share"]
            row[f"population_covered_{last}_{kind}"] = cov["population_covered"]
            row[f"gain_filled_{last}_{kind}"] = cov["gain_cells_filled"]
        counts = counts.assign(run=name)[["run", *counts.columns]]
    elif result.status == INFEASIBLE and explain:
        from dingdian.run.explain import explain_infeasible

        row["explanation"] = " | ".join(explain_infeasible(sc.problem, backend))
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row, counts


# --------------------------------------------------------------------------- the sweep
def sweep(scenario: str | Path, runs: Sequence[Mapping] = (), out: str | Path = "sweep", *,
          sets: Sequence[str] | Mapping[str, Sequence] = (), backend: str | None = None,
          time_limit: float | None = None, workers: int | None = None,
          scheduler: str | None = None, explain: bool = True, decompose: bool = False,
          write_plans: bool = True, allow_outside: bool = False,
          progress: Progress | None = None, **kwargs) -> pd.DataFrame:
    """Solve every run over ``scenario``; write ``out/sweep.csv``, ``out/sweep_counts.csv``
    and (``write_plans``) one plan folder ``out/<run>/`` per run with a plan.

    ``scenario`` is a scenario (folder or file) or a sweep file (its runs, solver and time
    limit); ``runs`` are mappings of settings (module docstring) and ``sets`` axes crossed with
    them (``["radius=800,1060.82"]`` as ``--set`` gives them, or ``{"radius": [800, 1060.82]}``).
    ``workers``/``scheduler`` choose the engine (:func:`dingdian.run.engine.run_all`), one task
    per run; ``decompose`` splits each run's problem too (solved one part after the other inside
    the run's task). ``allow_outside`` as :func:`dingdian.load`. ``progress(done, total, row)``
    is told when the runs start and as each one finishes (:data:`Progress`; in this process, in
    the order they finish: sweep.csv keeps the order of the runs). ``kwargs`` go to
    :func:`dingdian.run.backends.solve` (``unique``…).
    Bad settings raise :class:`~dingdian.errors.ScenarioError` and a bad ``scheduler`` address
    :class:`~dingdian.run.engine.EngineError` before anything is solved; another sweep running
    in ``out`` raises :class:`~dingdian.write.lock.OutputBusy` (the lock is held for the whole
    sweep). Returns sweep.csv's frame.
    """
    from dingdian.write.lock import output_lock
    from dingdian.write.outputs import atomic_file, write_csv

    out = Path(out)
    check_scheduler(scheduler)
    scenario, runs, options, source = sweep_runs(scenario, runs, sets)
    backend = backend or options.get("solver") or "highs"
    time_limit = time_limit or options.get("time_limit")
    with output_lock(out):  # one sweep at a time in ``out``, from the variants to sweep.csv
        prepared = prepare(scenario, runs, out, backend=backend, source=source,
                           allow_outside=allow_outside)
        tasks = [(name, folder, settings, variant, out, run_backend, time_limit, explain,
                  decompose, write_plans, allow_outside, kwargs)
                 for name, folder, settings, variant, run_backend in prepared]
        done = run_all(run_one, tasks, workers=workers, scheduler=scheduler,
                       on_done=_counter(progress, len(tasks)))
        frame = _frame([row for row, _ in done])
        counts = [c for _, c in done if c is not None]
        counts = pd.concat(counts, ignore_index=True) if counts else \
            pd.DataFrame(columns=COUNT_COLUMNS)
        atomic_file(out / "sweep_counts.csv", lambda p: write_csv(p, counts))
        atomic_file(out / "sweep.csv", lambda p: write_csv(p, frame))
    return frame


def _cell(value):
    """A setting's value as sweep.csv shows it: a list or mapping (a sweep file's
    ``counties: [甘州区]``) as its YAML flow text, ``[甘州区]``; any other value as given."""
    if isinstance(value, list | dict):
        import yaml

        return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                              width=10**6).strip()
    return value


def _counter(progress: Progress | None, total: int):
    """``run_all``'s ``on_done`` that counts the runs done for ``progress`` (None: none)."""
    if progress is None:
        return None
    progress(0, total, None)
    count = [0]

    def on_done(_index: int, result: tuple) -> None:
        count[0] += 1
        progress(count[0], total, result[0])

    return on_done


def _frame(rows: list[dict]) -> pd.DataFrame:
    """sweep.csv's columns in :data:`COLUMNS` order, the settings after ``out``."""
    frame = pd.DataFrame(rows)
    last = next(c.split("_")[1] for c in frame.columns if c.startswith("designated_"))
    fixed = [c.format(last=last) for c in COLUMNS]
    settings = [c for c in frame.columns if c not in fixed]
    return frame[[*fixed[:2], *settings, *fixed[2:]]]

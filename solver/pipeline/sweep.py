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
* ``name``: the run's folder name (default: its number and settings, ``003_radius=800``).

:func:`grid` makes the cartesian product of value lists. :func:`sweep` writes every run as a
variant file ``DIR/variants/<run>.yaml`` (``base:`` the scenario, with the settings; ``dingdian
solve`` on it repeats the run) and checks them all before solving anything. Then the engine of
:mod:`dingdian.run.engine` (a local process pool, or Dask) runs one task per run: load the variant,
solve the site model, check the plan (:func:`dingdian.check.verify.check_plan`) and write it with
:func:`dingdian.write.outputs.write_outputs` to ``DIR/<run>/``, atomically; an infeasible run is
explained (:func:`dingdian.run.explain.explain_infeasible`) and writes no folder. ``DIR/sweep.csv``
(:data:`COLUMNS`) has one row per run, ``DIR/sweep_counts.csv`` every plan's counts.csv rows
(county, street and city) after the run's name: both written atomically when every run is done.
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

import itertools
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dingdian.errors import ScenarioError
from dingdian.models.data import KINDS
from dingdian.run.engine import run_all
from dingdian.scenario.variants import deep_merge, resolve_config

ALIASES = {"radius": "grid.urban_radius_m", "rural_radius": "grid.rural_radius_m"}
SCALES = ("exit_scale", "admit_scale")
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


class SweepRun(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = Field(None, min_length=1)
    set: dict[str, Any] = {}


class SweepConfig(BaseModel):
    """A sweep file (module docstring); unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: str = Field(min_length=1)
    solver: str | None = None
    time_limit: float | None = Field(None, gt=0)
    grid: dict[str, list[Any]] = {}
    runs: list[SweepRun] = []


def grid(axes: Mapping[str, Sequence]) -> list[dict]:
    """The cartesian product of ``{setting: [values]}``, the first key varying slowest."""
    keys = list(axes)
    return [dict(zip(keys, values, strict=True))
            for values in itertools.product(*(list(axes[k]) for k in keys))]


def cross(runs: Sequence[Mapping], axes: Mapping[str, Sequence]) -> list[dict]:
    """Every run (or the base alone) times the product of ``axes``; a named run's name gets
    the axis settings appended (``gz_x0.8_radius=800``)."""
    if not axes:
        return [dict(r) for r in runs]
    out = []
    for run in runs or [{}]:
        for a in grid(axes):
            row = {**run, **a}
            if run.get("name"):
                row["name"] = "_".join([str(run["name"]), *(f"{k}={v}" for k, v in a.items())])
            out.append(row)
    return out


def read_sweep(path: str | Path) -> tuple[Path, list[dict], dict]:
    """A sweep file: ``(scenario path, runs, {solver, time_limit})``; errors → ScenarioError."""
    path = Path(path)
    from dingdian.scenario.schema import field_name, read_yaml

    data, _ = read_yaml(path)
    try:
        cfg = SweepConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ScenarioError(path.name, None, field_name(tuple(err["loc"])), msg) from None
    for key, values in cfg.grid.items():
        if not values:
            raise ScenarioError(path.name, None, f"grid.{key}", "give at least one value")
    runs = grid(cfg.grid) if cfg.grid else []
    runs += [{**({"name": r.name} if r.name else {}), **r.set} for r in cfg.runs]
    options = {k: v for k, v in (("solver", cfg.solver), ("time_limit", cfg.time_limit))
               if v is not None}
    return path.parent / cfg.scenario, runs, options


def parse_set(text: str) -> tuple[str, list]:
    """``--set KEY=V1,V2`` → ``(KEY, [V1, V2])``, each value read as YAML (800 → int)."""
    key, eq, values = text.partition("=")
    key = key.strip()
    if not eq or not key or not values.strip():
        raise ScenarioError("--set", None, key or text, "expected KEY=VALUE[,VALUE…]")
    out = []
    for v in values.split(","):
        try:
            out.append(yaml.safe_load(v) if v.strip() else None)
        except yaml.YAMLError:
            out.append(v.strip())
        if out[-1] is None:
            raise ScenarioError("--set", None, key, f"empty value in {values!r}")
    return key, out


# --------------------------------------------------------------------------- building runs
def run_name(i: int, settings: Mapping) -> str:
    """``003_radius=800_weights.churn=1`` (the given ``name`` if any), safe as a folder name."""
    if settings.get("name"):
        name = str(settings["name"])
    else:
        parts = [f"{k}={v}" for k, v in settings.items()]
        name = "_".join([f"{i + 1:03d}", *parts])
    return re.sub(r"[^\w.=+-]", "-", name)[:120]


def _nested(key: str, value) -> dict:
    out: Any = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def _scale_scope(key: str, scenario, source: str) -> tuple[str | None, str | None]:
    """``exit_scale.甘州区.pharmacy`` → ``("甘州区", "pharmacy")``; unknown names → error."""
    county = kind = None
    counties = set(scenario.quotas["county"])
    for part in key.split(".")[1:]:
        if part in KINDS and kind is None:
            kind = part
        elif part in counties and county is None:
            county = part
        else:
            raise ScenarioError(source, None, key, f"{part!r} is neither a kind ({', '.join(KINDS)}) "
                                f"nor a county with quotas ({', '.join(sorted(counties))})")
    return county, kind


def _scaled_quotas(scenario, key: str, factor, source: str) -> dict[str, list[dict]]:
    """Override entries for ``exit_scale…`` / ``admit_scale…`` (see the module docstring)."""
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 0:
        raise ScenarioError(source, None, key, f"expected a non-negative factor, got {factor!r}")
    col = key.split(".")[0].removesuffix("_scale")
    county, kind = _scale_scope(key, scenario, source)
    q = scenario.quotas
    hit = pd.Series(True, index=q.index)
    if county is not None:
        hit &= q["county"] == county
    if kind is not None:
        hit &= q["kind"] == kind
    out: dict[str, list[dict]] = {"county_quotas": [], "street_quotas": []}
    for r in q[hit].itertuples(index=False):
        entry = {"county": r.county, "kind": r.kind, "year": int(r.year),
                 col: int(getattr(r, col) * factor + 0.5)}
        if r.level == "street":
            entry["street"] = r.area
        out[f"{r.level}_quotas"].append(entry)
    return out


def variant_data(scenario, settings: Mapping, name: str, source: str = "--set") -> dict:
    """The variant mapping of one run over the loaded base ``scenario``."""
    data: dict = {"base": str(Path(scenario.source).resolve()),
                  "name": f"{scenario.config.name}-{name}",
                  "description": "sweep run: " + ", ".join(f"{k}={v}" for k, v in
                                                           settings.items() if k != "name")}
    scaled: dict[str, list[dict]] = {"county_quotas": [], "street_quotas": []}
    for key, value in settings.items():
        if key in ("name", "solver"):
            continue
        head = key.split(".")[0]
        if head in SCALES:
            for section, rows in _scaled_quotas(scenario, key, value, source).items():
                scaled[section] += rows
            continue
        data = deep_merge(data, _nested(ALIASES.get(key, key), value))
    for section, rows in scaled.items():
        if rows:
            overrides = data.setdefault("overrides", {})
            own = overrides.get(section)
            if own is None:  # keep the base's entries: a list would replace them
                own = [o.model_dump(exclude_none=True)
                       for o in getattr(scenario.config.overrides, section)]
            overrides[section] = [*rows, *own]  # the run's own entries win (applied last)
    return data


def prepare(scenario_path: str | Path, runs: Sequence[Mapping], out: str | Path, *,
            backend: str = "highs", source: str = "--set") -> list[tuple[str, dict, Path, str]]:
    """Write and validate every run's variant file: ``[(name, settings, variant, backend)]``.

    Every setting is checked before any solve: a bad key or value is one ScenarioError naming
    ``source`` (``--set`` or the sweep file) and the setting.
    """
    from dingdian.run.backends import BACKENDS
    from dingdian.scenario.loader import load_scenario
    from dingdian.write.outputs import atomic_directory

    base = load_scenario(scenario_path)
    out = Path(out)
    runs = list(runs) or [{}]
    names = [run_name(i, s) for i, s in enumerate(runs)]
    dup = [n for n in names if names.count(n) > 1]
    if dup:
        raise ScenarioError(source, None, "name", f"two runs named {dup[0]!r}")
    prepared = []
    with atomic_directory(out / "variants") as tmp:  # this sweep's variants, no stale ones
        for name, settings in zip(names, runs, strict=True):
            run_backend = settings.get("solver", backend)
            if run_backend not in BACKENDS:
                raise ScenarioError(source, None, "solver", f"unknown solver {run_backend!r} "
                                    f"(choose one of {', '.join(BACKENDS)})")
            data = variant_data(base, settings, name, source)
            (tmp / f"{name}.yaml").write_text(
                yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
            try:
                resolve_config(tmp / f"{name}.yaml")
            except ScenarioError as exc:
                key = _setting_of(exc.field, settings)
                raise ScenarioError(source, None, key, f"{exc.message} (run {name})") from None
            prepared.append((name, dict(settings), out / "variants" / f"{name}.yaml",
                             run_backend))
    return prepared


def _setting_of(field: str | None, settings: Mapping) -> str | None:
    """The setting that wrote the scenario key ``field`` (an alias is named as given)."""
    if field is None:
        return None
    for key in settings:
        full = ALIASES.get(key, key)
        if field == full or field.startswith(full + ".") or field.startswith(full + "["):
            return key
    return field


# --------------------------------------------------------------------------- one run
def run_one(task: tuple) -> tuple[dict, pd.DataFrame | None]:
    """Solve one run in a worker (and write its folder): its sweep.csv row and counts."""
    (name, settings, variant, out_dir, backend, time_limit, explain, decompose, write,
     kwargs) = task
    from dingdian.check.verify import check_plan
    from dingdian.result import INFEASIBLE
    from dingdian.run import backends
    from dingdian.scenario.loader import load_scenario
    from dingdian.write import outputs
    from dingdian.write import tables as T

    t0 = time.perf_counter()
    sc = load_scenario(variant)
    if decompose:
        from dingdian.run.decompose import solve_decomposed

        result = solve_decomposed(sc.problem, backend, time_limit, workers=1, **kwargs)
    else:
        result = backends.solve(sc.problem, backend=backend, time_limit=time_limit, **kwargs)
    years = outputs.plan_years(sc)
    last = years[-1]
    row: dict = {"run": name, "out": "", **{k: v for k, v in settings.items() if k != "name"},
                 "solver": backend, "status": result.status, "objective": result.objective,
                 "bound": result.bound, "gap": result.gap,
                 "build_seconds": round(result.build_seconds, 3),
                 "solve_seconds": round(result.solve_seconds, 3), "verified": None,
                 "violations": None, "explanation": None}
    row.update({c.format(last=last): None for c in COLUMNS if "{last}" in c or
                c.startswith(("admitted_", "exited_"))})
    counts = None
    if result.has_plan:
        plan = outputs.plan_frame(sc.facilities, result.designated, result.choices)
        violations = check_plan(plan, sc)
        row.update(verified=not violations, violations=len(violations))
        if write:
            outputs.write_outputs(Path(out_dir) / name, sc, result, verification=violations,
                                  extra_summary={"sweep": {"run": name, "settings": settings}})
            row["out"] = name
        counts = T.counts_frame(sc.facilities, result.designated,
                                counties=list(dict.fromkeys(sc.targets["county"])),
                                streets=outputs.street_order(sc.quotas))
        city = counts[counts["county"] == T.CITY_TOTAL]
        coverage = outputs.coverage_summary(outputs.cells_frame(sc.cells, sc.reach, plan),
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
def sweep(scenario: str | Path, runs: Sequence[Mapping], out: str | Path, *,
          backend: str = "highs", time_limit: float | None = None, workers: int | None = None,
          scheduler: str | None = None, explain: bool = True, decompose: bool = False,
          write_plans: bool = True, source: str = "--set", **kwargs) -> pd.DataFrame:
    """Solve every run over ``scenario``; write ``out/sweep.csv``, ``out/sweep_counts.csv``
    and (``write_plans``) one plan folder ``out/<run>/`` per run with a plan.

    ``runs`` are mappings of settings (module docstring; :func:`grid` makes a product).
    ``workers``/``scheduler`` choose the engine (:func:`dingdian.run.engine.run_all`), one task per
    run; ``decompose`` splits each run's problem too (solved one part after the other inside
    the run's task). ``kwargs`` go to :func:`dingdian.run.backends.solve`. Returns sweep.csv's frame.
    """
    from dingdian.write.outputs import atomic_file, write_csv

    out = Path(out)
    prepared = prepare(scenario, runs, out, backend=backend, source=source)
    tasks = [(name, settings, variant, out, run_backend, time_limit, explain, decompose,
              write_plans, kwargs) for name, settings, variant, run_backend in prepared]
    done = run_all(run_one, tasks, workers=workers, scheduler=scheduler)
    frame = _frame([row for row, _ in done])
    counts = [c for _, c in done if c is not None]
    counts = pd.concat(counts, ignore_index=True) if counts else \
        pd.DataFrame(columns=COUNT_COLUMNS)
    atomic_file(out / "sweep_counts.csv", lambda p: write_csv(p, counts))
    atomic_file(out / "sweep.csv", lambda p: write_csv(p, frame))
    return frame


def _frame(rows: list[dict]) -> pd.DataFrame:
    """sweep.csv's columns in :data:`COLUMNS` order, the settings after ``out``."""
    frame = pd.DataFrame(rows)
    last = next(c.split("_")[1] for c in frame.columns if c.startswith("designated_"))
    fixed = [c.format(last=last) for c in COLUMNS]
    settings = [c for c in frame.columns if c not in fixed]
    return frame[[*fixed[:2], *settings, *fixed[2:]]]

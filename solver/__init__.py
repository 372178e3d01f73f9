"""dingdian (定点): plan, year by year, which designated clinics and pharmacies stay, which
applicants are admitted (准入) and which exit (退出), and defend the plan with tables, maps and
numbers. This module is the library's one public face; the command line (``dingdian …``) and
the notebooks use nothing else.

Load a scenario, solve it, read the plan, write it::

    import dingdian

    sc = dingdian.load("scenarios/zhangye")           # a folder, scenario.yaml or a variant
    plan = dingdian.solve(sc, solver="highs")          # or "cbc", "cpsat"; time_limit=…
    plan.status, plan.objective, plan.gap              # "optimal", -4333778.0, 0.0
    plan.facilities                                    # plan.csv as a DataFrame
    plan.counts                                        # counts.csv: county × kind × year
    plan.tables["表7"]                                  # the plan's own table layout
    plan.check()                                       # [] : every rule holds
    plan.write("out/zhangye")                          # every output file, atomically

An impossible plan is a result, not an error::

    plan = dingdian.solve("scenarios/zhangye/variants/tight_exits.yaml")
    plan.status                                        # "infeasible"
    plan.explain()                                     # ["甘州区 定点零售药店 …: … 7 short"]

The functions:

* :func:`load` (path, allow_outside=) → :class:`Scenario`: read, validate and compile a
  scenario (its files inside its folder unless ``allow_outside``; ``check_inputs``,
  ``solve``, ``replan``, ``sweep``, ``audit`` and ``report`` take the keyword too);
* :func:`list_scenarios` (directory) and :func:`show_scenario` (name or path): the scenarios
  and variants under a folder, and one resolved with what it changes in its base;
* :func:`check_inputs` (scenario) → :class:`~dingdian.pipeline.solving.Inputs`: also read the
  beds and nursing files and compute the rules that need no solve (``dingdian validate``);
* :func:`solve` (scenario, solver=, time_limit=, unique=, certify=, fallback=, decompose=,
  workers=, scheduler=, options=, planners=, progress=) → :class:`Plan`, frozen: ``status``,
  ``objective``, ``bound``, ``gap``, ``facilities``, ``counts``, ``cells``, ``decisions``,
  ``tables``, ``summary``, ``extras`` (beds, nursing…), ``explain()``, ``check()``,
  ``warnings``, ``write(out_dir)``;
* :func:`replan` (scenario, actual, from_year, previous=) → a re-plan: the years from
  ``from_year`` solved again after what actually happened (``.plan``, ``.changes``,
  ``.write(out_dir)``);
* :func:`compare` (folders, labels=) → :class:`~dingdian.write.compare.Comparison`: written
  plans side by side (``.write(out_dir)``);
* :func:`sweep` (scenario, runs, out, …) → DataFrame: many variants solved in parallel, one
  row each (sweep.csv);
* :func:`audit` (source, scenario=) → :class:`~dingdian.check.audit.Audit`: check a published
  or hand-made yearly plan against its own targets, without solving;
* :func:`report` (out_dir, scenario=) → the written paths: report.xlsx, report.html and maps;
* :func:`init` (folder, city=, counties=) → the written paths: a new scenario's commented
  scenario.yaml, 规划数据.xlsx and CSV templates for a city's own data (``dingdian init``);
* :func:`output_lock` (out_dir): ``with output_lock(out): …`` holds an output folder for one
  run (:class:`OutputBusy` when another run holds it); ``plan.write``, ``sweep`` and ``report``
  take it themselves, the command line around the whole solve.

Errors, each one line naming what to fix: :class:`ScenarioError` (bad input: file, row and
field), :class:`SolverFailed`, :class:`PlannerFailed`, :class:`OptionError`,
:class:`EngineError`; :class:`NotAPlan` and :class:`ReportError` for a folder that is not a
written plan (or whose files differ from summary.json's manifest), :class:`OutputBusy` for an
output folder another run is writing. A plan folder written before the manifest existed is read
with an :class:`UncheckedPlan` warning.

The names load lazily, so ``import dingdian`` is quick and the command line starts fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    __version__ = version("dingdian")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

#: public name → the module that defines it
_API = {
    "load": "dingdian.pipeline.solving",
    "solve": "dingdian.pipeline.solving",
    "check_inputs": "dingdian.pipeline.solving",
    "replan": "dingdian.pipeline.replan",
    "Plan": "dingdian.pipeline.plan",
    "Scenario": "dingdian.scenario.loader",
    "list_scenarios": "dingdian.scenario.catalogue",
    "show_scenario": "dingdian.scenario.catalogue",
    "sweep": "dingdian.pipeline.sweep",
    "compare": "dingdian.pipeline.tools",
    "audit": "dingdian.pipeline.tools",
    "report": "dingdian.pipeline.tools",
    "init": "dingdian.scenario.templates",
    "ScenarioError": "dingdian.errors",
    "SolverFailed": "dingdian.errors",
    "PlannerFailed": "dingdian.errors",
    "NotAPlan": "dingdian.write.compare_runs",
    "ReportError": "dingdian.write.report",
    "OptionError": "dingdian.run.backends",
    "EngineError": "dingdian.run.engine",
    "output_lock": "dingdian.write.lock",
    "OutputBusy": "dingdian.write.lock",
    "UncheckedPlan": "dingdian.write.manifest",
}

__all__ = [  # the names of _API (tests/test_api.py checks that the two agree)
    "load", "solve", "check_inputs", "replan", "Plan", "Scenario", "list_scenarios",
    "show_scenario", "sweep", "compare", "audit", "report", "init",
    "ScenarioError", "SolverFailed", "PlannerFailed", "OptionError", "EngineError", "NotAPlan",
    "ReportError", "output_lock", "OutputBusy", "UncheckedPlan",
    "__version__",
]

if TYPE_CHECKING:  # what the lazy names are, for editors and type checkers
    from dingdian.errors import PlannerFailed, ScenarioError, SolverFailed
    from dingdian.pipeline.plan import Plan
    from dingdian.pipeline.replan import replan
    from dingdian.pipeline.solving import check_inputs, load, solve
    from dingdian.pipeline.sweep import sweep
    from dingdian.pipeline.tools import audit, compare, report
    from dingdian.run.backends import OptionError
    from dingdian.run.engine import EngineError
    from dingdian.scenario.catalogue import list_scenarios, show_scenario
    from dingdian.scenario.loader import Scenario
    from dingdian.scenario.templates import init
    from dingdian.write.compare_runs import NotAPlan
    from dingdian.write.lock import OutputBusy, output_lock
    from dingdian.write.manifest import UncheckedPlan
    from dingdian.write.report import ReportError


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'dingdian' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

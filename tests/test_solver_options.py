"""``--solver-option``: a solver's own parameters, and the deterministic ``feasible`` path.

A time limit stops a solver after so many wall seconds, so a test built on it cannot know
whether the solver will have a plan, a proof or nothing (the time-limit test in
``test_interrupt.py`` accepts each). A limit counted in the solver's own units is
deterministic on one thread: HiGHS stops at its first improving plan
(``mip_max_improving_sols=1``), CBC at its first plan (``maxSolutions=1``), CP-SAT after 3 units
of deterministic time with a weaker relaxation (``linearization_level=1``; measured: about 20 s
of wall time, with a plan and an 18 % gap). Each stop happens before the proof, so the solve
takes the ``feasible`` path: the best plan found is written, marked not proven optimal, with
its bound and gap, and no tie-break stage runs.

What must then hold, whatever plan the limit leaves, recomputed here from the outputs:

* the plan passes every rule (the CLI's residual check, exit 0);
* bound ≤ z* ≤ objective, with z* the proven optimum (a HiGHS solve without options), and the
  objective at least 1 above the bound (an objective of integer coefficients is proven optimal
  once the gap is below 1, so a gap of 1 or more is what "not proven" means);
* the gap is (objective − bound) / |objective|; only stage L1 ran.

Refused options name the option and exit 2, before anything is written; ``--fallback`` solves
without the options (they belong to the solver they were written for).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dingdian.cli.main import main
from dingdian.result import FEASIBLE, OPTIMAL
from dingdian.run.backends import solve
from dingdian.run.solvers import CBC_PATH_ENV
from dingdian.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"

FIRST_PLAN = {
    "highs": ["mip_max_improving_sols=1"],
    "cbc": ["maxSolutions=1"],
    "cpsat": ["linearization_level=1", "max_deterministic_time=3"],
}


@pytest.fixture(scope="module")
def optimum() -> float:
    r = solve(load_scenario(ZHANGYE / "scenario.yaml").problem, "highs", unique=False)
    assert r.status == OPTIMAL
    return r.objective


def _run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def _options(backend: str) -> list[str]:
    return [arg for option in FIRST_PLAN[backend] for arg in ("--solver-option", option)]


@pytest.mark.parametrize("backend", [
    "highs", "cbc", pytest.param("cpsat", marks=pytest.mark.slow)])
def test_a_solver_limit_writes_the_best_plan_not_proven_optimal(backend, optimum, tmp_path):
    out = tmp_path / "out"
    r = _run("solve", ZHANGYE, "--out", out, "--solver", backend, *_options(backend))
    assert r.exit_code == 0, r.output  # 0: a plan was written and every rule holds in it
    assert "verified" in r.output and "not proven optimal" in r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == FEASIBLE and summary["verification"]["passed"]
    assert summary["solver_options"] == {
        k: (int(v) if v.isdigit() else v) for k, v in (o.split("=") for o in FIRST_PLAN[backend])}
    objective, bound = summary["objective"], summary["bound"]
    assert bound <= optimum <= objective  # a bound below z*, a plan no better than z*
    assert objective - bound >= 1  # not proven: the gap is at least one unit
    assert summary["gap"] == pytest.approx((objective - bound) / abs(objective))
    assert [st["stage"] for st in summary["stages"]] == ["L1"]  # no tie-break without a proof
    plan = (out / "plan.csv").read_text(encoding="utf-8")
    assert plan.count("\n") > 1000  # the whole plan, one row per facility


@pytest.mark.parametrize("backend, option, named", [
    ("highs", "no_such_option=1", "HiGHS does not take the option no_such_option=1"),
    ("highs", "mip_max_nodes=many", "HiGHS does not take the option mip_max_nodes='many'"),
    ("cpsat", "no_such_parameter=1", "CP-SAT does not take the parameter no_such_parameter=1"),
    ("cbc", "noSuchOption=1", "CBC does not take the option noSuchOption"),
])
def test_an_option_the_solver_does_not_take_is_one_line_and_exit_2(backend, option, named,
                                                                  tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.csv").write_text("earlier plan\n", encoding="utf-8")
    r = _run("solve", ZHANGYE, "--out", out, "--solver", backend, "--solver-option", option)
    assert r.exit_code == 2, r.output
    errors = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and named in errors[0], r.output
    assert (out / "plan.csv").read_text(encoding="utf-8") == "earlier plan\n"


def test_an_option_without_a_value_is_a_usage_error(tmp_path):
    r = _run("solve", ZHANGYE, "--out", tmp_path / "out", "--solver-option", "mip_max_nodes")
    assert r.exit_code == 2
    assert "'mip_max_nodes' is not KEY=VALUE" in r.output


def test_the_fallback_solves_without_the_options(tmp_path):
    """The options were written for CBC; HiGHS, falling back, proves the optimum without them."""
    exe = tmp_path / "cbc"
    exe.write_text("#!/bin/sh\nexit 139\n", encoding="utf-8")
    exe.chmod(0o755)
    out = tmp_path / "out"
    r = _run("solve", ZHANGYE, "--out", out, "--solver", "cbc", "--solver-option",
             "maxSolutions=1", "--fallback", "highs", "--any-optimum",
             env={CBC_PATH_ENV: str(exe)})
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["solver"] == "highs" and summary["status"] == OPTIMAL
    assert summary["solver_options"] == {}


def test_cbc_is_found_without_the_venv_on_path(tmp_path):
    """``dingdian`` run by its full path has no venv ``bin`` on PATH: CBC is the binary that
    ``pulp[cbc]`` ships, found from the package (issue 15, 3)."""
    import os
    import subprocess
    import sys

    import pulp

    from dingdian.run.solvers import cbc_path

    exe = cbc_path()
    assert exe is not None and Path(exe).is_file() and os.access(exe, os.X_OK)
    assert pulp.COIN_CMD(path=exe).available()
    out = tmp_path / "out"
    env = {"HOME": str(tmp_path), "PATH": str(tmp_path)}  # no cbc, no venv bin
    r = subprocess.run([sys.executable, "-m", "dingdian", "solve",
                        str(ROOT / "scenarios" / "example" / "scenario.yaml"),
                        "--solver", "cbc", "--out", str(out)],
                       env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, (r.stdout + r.stderr)[-800:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["solver"] == "cbc" and summary["status"] == OPTIMAL

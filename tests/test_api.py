"""The public face, ``import dingdian``, on 示例市: a tiny fictional city (tests/tiny_city.py).

The plan by hand (see tiny_city's docstring): P3, the lowest-scored of three pharmacies in one
cell, exits in 2025; nothing else moves. The objective, term by term (models/site.py (8)):

* (8b) crowding, 2 per facility beyond the first in a cell and year: the two clinics share the
  cell in 2025–2030 (1 × 6 years × 2 = 12), and so do the two pharmacies left (12): 24;
* (8c) P3's exit: its score 60 × 1 + the churn cost 5 = 65;
* (8e) spread, 3 per change in the busiest year of a county and kind: one pharmacy exit, 3;
* (8a) no blind spot to fill, (8d) no admission: 0.

24 + 65 + 3 = 92, on every backend. The twin with no exit allowed is infeasible by 1 exit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from tiny_city import write_tiny_city

import dingdian
from dingdian.cli.main import main

YEARS = [str(y) for y in range(2024, 2031)]
SOLVERS = ("highs", "cbc", "cpsat")


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    return write_tiny_city(tmp_path_factory.mktemp("tiny") / "city")


@pytest.fixture(scope="module")
def plan(city):
    return dingdian.solve(dingdian.load(city.parent), solver="highs")


def test_the_face_lists_what_it_exports():
    assert set(dingdian.__all__) - {"__version__"} == set(dingdian._API)
    for name in dingdian.__all__:
        assert getattr(dingdian, name) is not None
    with pytest.raises(AttributeError):
        dingdian.no_such_name  # noqa: B018


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_hand_worked_plan(city, solver):
    plan = dingdian.solve(city, solver=solver)
    assert plan.status == "optimal" and plan.solver == solver
    assert plan.objective == 92
    assert plan.result.objective_terms == {"8a_coverage": 0, "8b_crowding": 24, "8c_exits": 65,
                                           "8d_admissions": 0, "8e_spread": 3}
    f = plan.facilities.set_index("facility_id")
    assert f.loc["P3", YEARS].tolist() == [1, 0, 0, 0, 0, 0, 0]
    for fid in ("P1", "P2", "C1", "C2"):
        assert f.loc[fid, YEARS].tolist() == [1] * 7
    assert f.loc["A1", YEARS].tolist() == [0] * 7
    assert plan.check() == []


def test_plan_tables_and_counts_agree_with_the_facilities(plan):
    """Recomputed from plan.facilities in plain pandas: counts, 表7, targets, limits."""
    f = plan.facilities
    d = f[YEARS].to_numpy()
    pharm = (f["kind"] == "pharmacy").to_numpy()
    exits = ((d[:, :-1] == 1) & (d[:, 1:] == 0) & pharm[:, None]).sum(axis=0)
    counts = plan.counts
    rows = counts[(counts["county"] == "甲县") & (counts["kind"] == "pharmacy")
                  & (counts["street"] == "") & (counts["year"] > 2024)].sort_values("year")
    assert rows["exited"].tolist() == exits.tolist() == [1, 0, 0, 0, 0, 0]
    assert rows.set_index("year")["designated"][[2028, 2030]].tolist() == [2, 2]
    t7 = plan.tables["表7"].set_index("区域")
    assert t7.loc["甲县", "2025年退出"] == 1 and t7.loc["全市", "2025年退出"] == 1
    assert int(t7.filter(like="准入").sum().sum()) == 0
    assert "表6" in plan.tables and "表8" not in plan.tables  # no street quotas here
    assert plan.summary["status"] == "optimal" and plan.summary["verification"]["passed"]


def test_plan_is_frozen(plan):
    with pytest.raises(AttributeError):
        plan.status = "infeasible"
    with pytest.raises(Exception):  # noqa: B017 - dataclasses.FrozenInstanceError
        plan.solver = "cbc"


def test_write_is_what_the_command_line_writes(plan, city, tmp_path):
    """``plan.write`` and ``dingdian solve`` write the same files, byte for byte (summary.json
    but for its timings and time stamp)."""
    api = plan.write(tmp_path / "api")
    r = CliRunner().invoke(main, ["solve", str(city), "--out", str(tmp_path / "cli")])
    assert r.exit_code == 0, r.output
    cli = tmp_path / "cli"
    names = sorted(p.relative_to(api).as_posix() for p in api.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(cli).as_posix() for p in cli.rglob("*") if p.is_file())
    for name in names:
        if name.endswith((".csv",)):
            assert (api / name).read_bytes() == (cli / name).read_bytes(), name
    a, c = (json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in (api, cli))
    for s in (a, c):
        for key in ("build_seconds", "solve_seconds", "created_utc", "stages"):
            s.pop(key)
        # plan.xlsx and plan.gpkg hold the timings and time stamps too: their hashes differ
        s["manifest"]["files"] = {k: v for k, v in s["manifest"]["files"].items()
                                  if k.endswith(".csv")}
    assert a == c
    assert pd.read_csv(api / "plan.csv")["2025"].tolist() == [1, 1, 0, 0, 1, 1]


def test_infeasible_twin_is_a_result_with_reasons(tmp_path):
    twin = dingdian.solve(write_tiny_city(tmp_path / "twin", exit_limit=0))
    assert twin.status == "infeasible" and not twin.has_plan
    reasons = twin.explain()
    assert reasons[0] == ("甲县 定点零售药店 (pharmacies): the 2028 target 2 needs 1 exits by 2028 "
                          "(3 designated in 2024), the yearly exit limits (the county quotas) allow at most 0 "
                          "— 1 short")
    assert twin.check() == [] and twin.warnings == ()
    with pytest.raises(ValueError, match="no plan"):
        twin.write(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_input_is_one_scenario_error(tmp_path):
    path = write_tiny_city(tmp_path / "bad")
    text = (path.parent / "targets.csv").read_text(encoding="utf-8")
    (path.parent / "targets.csv").write_text(text.replace("甲县,pharmacy,3,2,2",
                                                          "甲县,pharmacy,3,-2,2"), encoding="utf-8")
    with pytest.raises(dingdian.ScenarioError) as err:
        dingdian.solve(path)
    assert str(err.value).startswith("targets.csv row 3, field 'target_2028'")
    with pytest.raises(dingdian.ScenarioError, match="file not found"):
        dingdian.load(tmp_path / "missing")


def test_an_option_the_solver_does_not_take(city):
    with pytest.raises(dingdian.OptionError):
        dingdian.solve(city, options={"no_such_option": 1})


def test_check_inputs_is_validate(city):
    inputs = dingdian.check_inputs(city)
    assert inputs.scenario.config.name == "tiny-city"
    assert inputs.planner_files == {} and inputs.warnings == []

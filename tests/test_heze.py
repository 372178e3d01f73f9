"""The Heze scenario end to end: it loads, solves on every backend to the same proven optimum,
passes every residual check, and its plan obeys the Heze plan's rules — checked here again from
the plan frame alone, independently of :mod:`dingdian.check.verify`:

* the fund-risk gate (二(三)1) is closed in 2027 and 2029 as fund.csv is designed, and no
  admission subject to the plan happens in those years;
* every exempt applicant (二(三)2, 二(三)3, 2025-03-01) is admitted in its application year, and
  its admission is left out of the yearly admission plan;
* no applicant subject to the plan is admitted in a year ending with a designated facility of
  its kind within 800 m (distances from lon/lat in UTM 50N);
* a moved address (二(二)) is admitted in the year the old one exits;
* every county stays within its caps (targets.csv, at most).

Each backend solves the full scenario in about 10 s (measured, see the module's report);
``dingdian solve`` runs once, on HiGHS.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from dingdian.check.verify import check_plan
from dingdian.cli.main import main
from dingdian.geometry import lonlat_to_xy
from dingdian.result import OPTIMAL
from dingdian.run.backends import BACKENDS, solve
from dingdian.scenario.loader import load_scenario
from dingdian.write.frames import plan_frame

ROOT = Path(__file__).resolve().parents[1]
HEZE = ROOT / "scenarios" / "heze"
YEARS = [str(y) for y in range(2025, 2031)]
CLOSED = {2027, 2029}
COUNTIES = ["牡丹区", "定陶区", "曹县", "单县", "成武县", "巨野县", "郓城县", "鄄城县", "东明县",
            "鲁西新区"]


@cache
def scenario():
    return load_scenario(HEZE / "scenario.yaml")


@cache
def solved(backend: str):
    # CP-SAT's tie-break stage takes minutes here: its default solve stops at the optimum (L1)
    return solve(scenario().problem, backend, unique=backend != "cpsat")


@cache
def plan(backend: str) -> pd.DataFrame:
    return plan_frame(scenario().facilities, solved(backend).designated)


def admitted(p: pd.DataFrame) -> pd.DataFrame:
    return p[p["admitted_year"].notna()]


# ------------------------------------------------------------------------------ the scenario


def test_loads_with_real_areas_and_synthetic_facilities():
    sc = scenario()
    assert sc.warnings == ()
    assert sorted(sc.counties) == sorted(COUNTIES)
    assert int(sc.census["population"].sum()) == 8_795_939
    assert sc.cells.groupby("county")["population"].sum().sum() == 8_795_939
    assert (sc.cells.loc[sc.cells["zone"] == "urban", "radius_m"] == 800).all()
    assert (sc.cells.loc[sc.cells["zone"] == "rural", "radius_m"] == 1600).all()
    f = sc.facilities
    assert 3000 < (f["status"] == "existing").sum() < 3500
    assert 600 < (f["status"] == "applicant").sum() < 800
    assert {"exempt_rule", "priority_class", "moves_from"} <= set(f.columns)
    rules = set(f.loc[f["exempt_rule"] != "", "exempt_rule"].str.split().str[0])
    assert rules == {"二(三)2", "二(三)3", "规划说明"}
    assert (f.loc[f["exempt_rule"] != "", "protected"]).all()
    assert (f.loc[f["priority_class"] != "", "kind"] == "clinic").all()
    movers = f[f["moves_from"] != ""]
    assert len(movers) == 8 and movers["moves_from"].isin(f["facility_id"]).all()
    p = sc.problem
    assert p.base_year == 2025 and p.years == (2026, 2027, 2028, 2029, 2030)
    assert p.options.target_mode == "at_most" and p.near
    assert all(n.radius_m == 800 for n in p.near)


def test_gate_years_as_designed():
    gate = scenario().gate
    assert list(gate.columns[:3]) == ["year", "open", "reasons"]
    assert gate["year"].tolist() == [2026, 2027, 2028, 2029, 2030]
    assert set(gate.loc[gate["open"] == 0, "year"]) == CLOSED
    reasons = dict(zip(gate["year"], gate["reasons"], strict=True))
    assert "上一年度当期赤字" in reasons[2027] and "-18500" in reasons[2027]
    assert "months payable 5.4 < required 6" in reasons[2027]
    assert "预警函" in reasons[2029]
    assert reasons[2026] == reasons[2028] == reasons[2030] == ""
    assert scenario().problem.closed_years == tuple(sorted(CLOSED))


# ------------------------------------------------------------------------ solves and checks


@pytest.mark.parametrize("backend", BACKENDS)
def test_proven_optimal_and_verified(backend):
    r = solved(backend)
    assert r.status == OPTIMAL and r.gap is not None and r.gap < 1e-9
    assert check_plan(plan(backend), scenario()) == []


def test_every_backend_reaches_the_same_optimum():
    objectives = {b: solved(b).objective for b in BACKENDS}
    assert len(set(objectives.values())) == 1, objectives


def test_highs_and_cbc_return_the_same_plan():
    """Issue 5: the tie-break stage (L2) makes the plan itself backend-independent."""
    a, b = solved("highs").designated, solved("cbc").designated
    assert a.equals(b), list(a.index[(a != b).any(axis=1)])[:10]


@pytest.mark.parametrize("backend", BACKENDS)
def test_gate_closes_admissions(backend):
    p = admitted(plan(backend))
    plain = p[p["exempt_rule"] == ""]
    assert not plain["admitted_year"].isin(CLOSED).any()
    assert plain["admitted_year"].isin({2026, 2028, 2030}).all() and len(plain) > 50
    # exempt admissions go on in the closed years
    assert p.loc[p["exempt_rule"] != "", "admitted_year"].isin(CLOSED).any()


@pytest.mark.parametrize("backend", BACKENDS)
def test_exempt_admitted_in_their_application_year(backend):
    p = plan(backend)
    f = scenario().facilities.set_index("facility_id")
    ex = p[(p["exempt_rule"] != "") & (p["status"] == "applicant")]
    assert len(ex) == 33
    applied = f.loc[ex["facility_id"], "available_from"].to_numpy()
    assert (ex["admitted_year"].to_numpy() == applied).all()
    assert ex["exited_year"].isna().all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_admission_within_800_m_of_a_designated_same_kind_facility(backend):
    p = plan(backend)
    x, y = lonlat_to_xy(p["lon"].to_numpy(float), p["lat"].to_numpy(float), "EPSG:32650")
    d = p[YEARS].to_numpy()
    checked = 0
    for i in np.flatnonzero(p["admitted_year"].notna().to_numpy()):
        if p["exempt_rule"].iloc[i]:
            continue
        j = YEARS.index(str(int(p["admitted_year"].iloc[i])))
        others = (p["kind"] == p["kind"].iloc[i]).to_numpy() & (d[:, j] == 1)
        others[i] = False
        gap = np.hypot(x[others] - x[i], y[others] - y[i]).min()
        assert gap > 800 - 0.01, (p["facility_id"].iloc[i], gap)
        checked += 1
    assert checked > 50
    # and the rule binds: some better-reviewed applicants stay out because of it
    blocked = {n.facility for n in scenario().problem.near}
    assert (p["facility_id"].isin(blocked) & p["admitted_year"].isna()).sum() > 100


@pytest.mark.parametrize("backend", BACKENDS)
def test_moves_linked_and_quotas_without_exempt(backend):
    p = plan(backend).set_index("facility_id")
    for new, row in p[p["moves_from"] != ""].iterrows():
        old = p.loc[row["moves_from"]]
        if pd.notna(row["admitted_year"]):
            assert old["exited_year"] == row["admitted_year"], new
        elif pd.notna(old["exited_year"]):  # left before its move application only
            assert old["exited_year"] < scenario().facilities.set_index("facility_id").loc[
                new, "available_from"], new
    d = p[YEARS].to_numpy()
    q = scenario().quotas
    step = np.diff(d, axis=1)
    flows = pd.DataFrame({"county": np.repeat(p["county"].to_numpy(), 5),
                          "kind": np.repeat(p["kind"].to_numpy(), 5),
                          "exempt": np.repeat((p["exempt_rule"] != "").to_numpy(), 5),
                          "year": np.tile(range(2026, 2031), len(p)),
                          "admitted": (step > 0).ravel(), "exited": (step < 0).ravel()})
    plain = flows[~flows["exempt"]].groupby(["county", "kind", "year"])["admitted"].sum()
    exits = flows.groupby(["county", "kind", "year"])["exited"].sum()
    for r in q.itertuples():
        assert plain.get((r.county, r.kind, r.year), 0) <= r.admit
        assert exits.get((r.county, r.kind, r.year), 0) <= r.exit
    got = plan(backend).groupby(["county", "kind"])[["2028", "2030"]].sum()
    for t in scenario().targets.itertuples():
        assert got.loc[(t.county, t.kind), "2028"] <= t.target_2028
        assert got.loc[(t.county, t.kind), "2030"] <= t.target_2030


def test_priority_classes_come_in():
    p = plan("highs")
    pr = p[p["priority_class"] != ""]
    assert (pr["admitted_year"].notna()).sum() >= len(pr) // 2
    assert solved("highs").objective_terms["8f_priority"] < 0


@pytest.mark.slow
def test_switching_the_rules_off_changes_the_plan():
    sc = scenario()
    off = dataclasses.replace(sc.problem, near=(), gate=())
    r = solve(off, "highs")
    assert r.status == OPTIMAL and r.objective < solved("highs").objective
    made = plan_frame(sc.facilities, r.designated)
    assert made.loc[made["exempt_rule"] == "", "admitted_year"].isin(CLOSED).any()


# ------------------------------------------------------------------------------------ CLI


def test_cli_solve_writes_the_rule_columns_and_the_gate(tmp_path):
    # A copy without the beds planner (wired separately): the site plan alone.
    scen = tmp_path / "heze"
    shutil.copytree(HEZE, scen, ignore=shutil.ignore_patterns("*.py", "__pycache__", "beds"))
    yaml = scen / "scenario.yaml"
    yaml.write_text("\n".join(line for line in yaml.read_text(encoding="utf-8").splitlines()
                              if not line.startswith("beds:")) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(yaml), "--out", str(out), "--solver", "highs"])
    assert r.exit_code == 0, r.output
    assert "校验通过 verified" in r.output
    written = pd.read_csv(out / "plan.csv", dtype=str, keep_default_na=False)
    assert {"exempt_rule", "priority_class", "moves_from"} <= set(written.columns)
    assert (written["exempt_rule"] != "").sum() == 33
    gate = pd.read_csv(out / "gate.csv", keep_default_na=False)
    assert set(gate.loc[gate["open"] == 0, "year"]) == CLOSED
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["verification"]["passed"] is True
    assert summary["objective"] == solved("highs").objective

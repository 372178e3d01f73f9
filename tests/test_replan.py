"""The yearly re-plan on 示例市 (scenarios/example, fictional): 2025 goes off plan.

The plan for 2025–2030 exits DC-P-02 (score 58) in 2025 and DC-P-04 (66) in 2026, so that
东城区's pharmacies go 4 → 3 by 2028 (admitting DC-A-01 in 2025 for a blind spot). In reality
DC-P-02 did not exit in 2025, the clinic applicant DC-A-02 withdrew, and a new pharmacy applies,
DC-A-03 (score 88). Re-planned from 2026, by hand: 东城区 holds 5 pharmacies at the end of 2025
(DC-P-01 90, DC-P-02 58, DC-P-03 80, DC-P-04 66, DC-A-01 92) against the 2028 target 3, with at
most one exit a year: two exits in 2026–2028, the two cheapest (an exit costs the score + 5):
DC-P-02 and DC-P-04; admitting DC-A-03 would need a third exit, so it waits.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import dingdian
from dingdian.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example"
YEARS = [str(y) for y in range(2025, 2031)]


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prev") / "plan2025"
    plan = dingdian.solve(EXAMPLE, planners=False)
    plan.write(out)
    f = plan.facilities.set_index("facility_id")
    assert f.loc["DC-P-02", "exited_year"] == 2025 and f.loc["DC-P-04", "exited_year"] == 2026
    return out


def _actual(previous: Path, tmp_path: Path, missed=("DC-P-02",)) -> Path:
    """The previous plan.csv edited where reality differed, plus a new applicant."""
    p = pd.read_csv(previous / "plan.csv", dtype=str, keep_default_na=False)
    p.loc[p["facility_id"].isin(missed), "exited_year"] = ""
    p["withdrawn"] = ""
    p.loc[p["facility_id"] == "DC-A-02", "withdrawn"] = "是"
    new = dict.fromkeys(p.columns, "")
    new.update(facility_id="DC-A-03", name="东城区新开药店", kind="药店", category="单体药店",
               county="东城区", street="东街街道", lon="112.4181", lat="32.0402", score="88")
    path = tmp_path / "actual.csv"
    pd.concat([p, pd.DataFrame([new])], ignore_index=True).to_csv(path, index=False)
    return path


def test_replan_after_an_off_plan_year(previous, tmp_path):
    r = dingdian.replan(EXAMPLE, _actual(previous, tmp_path), 2026, previous=previous)
    plan = r.plan
    assert plan.status == "optimal" and plan.check() == []
    f = plan.facilities.set_index("facility_id")
    assert list(plan.facilities.columns[10:16]) == [str(y) for y in range(2025, 2031)]
    # what happened is the re-plan's base year (2025)
    assert f.loc["DC-P-02", "2025"] == 1 and f.loc["DC-A-01", "2025"] == 1
    assert "DC-A-02" not in f.index and "DC-C-02" not in f.index  # withdrawn, exited in 2025
    # recomputed in plain pandas: 东城区 pharmacies meet 2028 and 2030, one exit a year at most
    ph = plan.facilities[(plan.facilities["county"] == "东城区")
                         & (plan.facilities["kind"] == "pharmacy")]
    assert ph["2028"].astype(int).sum() == 3 and ph["2030"].astype(int).sum() == 3
    exits = {fid: int(y) for fid, y in zip(ph["facility_id"], ph["exited_year"], strict=True)
             if pd.notna(y)}
    assert set(exits) == {"DC-P-02", "DC-P-04"} and len(set(exits.values())) == 2
    assert all(2026 <= y <= 2028 for y in exits.values())
    assert pd.isna(f.loc["DC-A-03", "admitted_year"])
    why = dict(zip(r.changes["facility_id"], r.changes["why"], strict=True))
    assert why["DC-P-02"] == "the exit planned for 2025 did not happen"
    assert why["DC-A-02"] == "撤回 withdrew its application"
    assert why["DC-A-03"] == "新申请 a new applicant"
    assert list(r.history["event"]) == ["准入 admitted", "退出 exited", "准入 admitted",
                                        "新申请 new applicant"]
    out = r.write(tmp_path / "plan2026")
    changes = pd.read_csv(out / "replan" / "changes.csv")
    assert set(changes["facility_id"]) == set(why)
    assert (out / "replan" / "inputs" / "facilities.csv").is_file()


def test_an_impossible_remainder_is_explained(previous, tmp_path):
    """Nothing exited in 2025–2027 (both planned exits missed): re-planned from 2028, 东城区
    holds 5 pharmacies at the end of 2027 and its 2028 target 3 needs 2 exits in one year, at
    most 1 allowed — 1 short, counted from 2027."""
    actual = _actual(previous, tmp_path, missed=("DC-P-02", "DC-P-04"))
    r = dingdian.replan(EXAMPLE, actual, 2028, previous=previous)
    assert r.plan.status == "infeasible"
    assert r.plan.explain() == [
        "东城区 定点零售药店 (pharmacies): the 2028 target 3 needs 2 exits by 2028 (5 designated "
        "in 2027), the yearly exit limits (the county quotas) allow at most 1 — 1 short"]
    res = CliRunner().invoke(main, ["replan", str(EXAMPLE), "--actual", str(actual), "--from",
                                    "2028", "--previous", str(previous), "--out",
                                    str(tmp_path / "out")])
    assert res.exit_code == 3 and "1 short" in res.stderr
    assert not (tmp_path / "out").exists()


def test_bad_actual_lines(previous, tmp_path):
    path = tmp_path / "actual.csv"
    pd.DataFrame({"facility_id": ["DC-P-01", "XX-9", "DC-A-02"],
                  "admitted_year": ["2025", "", ""], "exited_year": ["", "", "2025"]}
                 ).to_csv(path, index=False)
    res = CliRunner().invoke(main, ["replan", str(EXAMPLE), "--actual", str(path), "--from",
                                    "2026", "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [
        "error: actual.csv row 2, field 'admitted_year': DC-P-01 was designated in 2024: it "
        "cannot be admitted",
        "error: actual.csv row 3, field 'facility_id': 'XX-9' is not in the scenario: a new "
        "applicant needs name, kind, category, county, street (may be empty), lon, lat",
        "error: actual.csv row 4, field 'exited_year': DC-A-02 was not designated before 2025: "
        "it cannot exit then"]


def test_cli_replan_writes_the_plan_and_the_changes(previous, tmp_path):
    shutil.copytree(previous, tmp_path / "prev")
    res = CliRunner().invoke(main, ["replan", str(EXAMPLE), "--actual",
                                    str(_actual(previous, tmp_path)), "--from", "2026",
                                    "--previous", str(tmp_path / "prev"), "--out",
                                    str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "调整 change DC-P-02 东城区利民药店 (东城区)" in res.output
    assert "校验通过 verified" in res.output
    assert (tmp_path / "out" / "tables").is_dir()


@pytest.mark.slow
def test_heze_replan_keeps_moves_and_the_beds_pause(tmp_path):
    # Heze with the needed-beds pause on outpatient clinics (rules.bed_pause_outpatient, (17)):
    # every year 2026–2030 pauses (测算值 below 目标值 and 实际值), so a re-plan from 2028 on
    # the plan as it happened still admits no clinic but the exempt ones — the derived scenario
    # keeps the beds file. A move already done (the new site admitted) or void (the old site
    # gone) is history in the derived facility list, not a move to make again.
    variant = tmp_path / "pause.yaml"
    heze = Path(__file__).resolve().parents[1] / "scenarios" / "heze" / "scenario.yaml"
    variant.write_text(f"base: {heze}\nname: heze-pause\nrules:\n  bed_pause_outpatient: true\n",
                       encoding="utf-8")
    previous = dingdian.solve(variant, planners=False).write(tmp_path / "plan")
    r = dingdian.replan(variant, previous / "plan.csv", 2028, previous=previous)
    assert r.plan.status == "optimal"
    f = r.plan.facilities
    clinics = f[(f["kind"] == "clinic") & f["admitted_year"].notna()]
    assert len(clinics) and (clinics["exempt_rule"] != "").all()
    moved = f[f["moves_from"] != ""]
    existing = set(f.loc[f["status"] == "existing", "facility_id"])
    assert (moved["status"] == "applicant").all() and moved["moves_from"].isin(existing).all()

"""Bad input in the Heze plan's new columns and sections: one-line ScenarioError naming the
file, the 1-based data row and the field; and the ``rules:`` switches."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dingdian.errors import ScenarioError
from dingdian.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HEZE = ROOT / "scenarios" / "heze"


@pytest.fixture
def scen(tmp_path) -> Path:
    """A copy of the Heze scenario (without generators and the separate beds planner)."""
    out = tmp_path / "heze"
    shutil.copytree(HEZE, out, ignore=shutil.ignore_patterns("*.py", "__pycache__", "beds"))
    return out


def _row(frame: pd.DataFrame, **match) -> int:
    """0-based index of the first row matching ``match``."""
    mask = pd.Series(True, index=frame.index)
    for col, value in match.items():
        mask &= frame[col] == value
    return int(mask.to_numpy().nonzero()[0][0])


def _edit_facilities(scen: Path, edit) -> int:
    path = scen / "facilities.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    i = edit(frame)
    frame.to_csv(path, index=False)
    return i + 2  # the row as Excel shows it: the heading is row 1


def _set(col, value, **match):
    """Set ``col`` to ``value`` in the first row matching ``match``."""
    def edit(frame):
        i = _row(frame, **match)
        frame.loc[i, col] = value
        return i
    return edit


FAC_CASES = {
    "unknown exemption": (_set("exempt", "vip", exempt="key_project"), "exempt",
                          "unknown exemption code 'vip'"),
    "pharmacy key project": (_set("exempt", "key_project", kind="pharmacy", status="applicant"),
                             "exempt", "medical institutions only"),
    "unknown priority": (_set("priority", "hospital", priority="community_health"), "priority",
                         "unknown priority class 'hospital'"),
    "priority pharmacy": (_set("priority", "community_health", kind="pharmacy"), "priority",
                          "for clinics"),
    "priority category": (_set("priority", "university_clinic", category="clinic",
                               status="applicant"), "priority", "does not match the category"),
    "move unknown": (_set("moves_from", "HZ-P-9999", moves_from="HZ-P-0089"), "moves_from",
                     "unknown facility 'HZ-P-9999'"),
    "move on existing": (_set("moves_from", "HZ-P-0001", facility_id="HZ-P-0002"),
                         "moves_from", "only an applicant row"),
    "move from applicant": (_set("moves_from", "HZ-AP-001", moves_from="HZ-P-0089"),
                            "moves_from", "is not an existing designated facility"),
    "move across kinds": (_set("moves_from", "HZ-C-0001", moves_from="HZ-P-0089"),
                          "moves_from", "is a clinic, this row a pharmacy"),
    "move from protected": (None, "moves_from", "is protected"),  # a village clinic, below
    "exempt move": (_set("exempt", "licensed_before_2025", moves_from="HZ-P-0089"),
                    "moves_from", "cannot be exempt"),
}


@pytest.mark.parametrize("case", list(FAC_CASES))
def test_bad_facility_rule_column(case, scen):
    edit, field, fragment = FAC_CASES[case]
    if case == "move from protected":
        frame = pd.read_csv(scen / "facilities.csv", dtype=str, keep_default_na=False)
        village = frame.loc[_row(frame, category="village_clinic", status="existing"),
                            "facility_id"]
        edit = _set("moves_from", village, moves_from="HZ-C-0038")
    row = _edit_facilities(scen, edit)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(scen / "scenario.yaml")
    err = exc.value
    assert "\n" not in str(err) and err.file == "facilities.csv"
    assert err.field == field and err.row == row, str(err)
    assert fragment in str(err)


def test_duplicate_move(scen):
    frame = pd.read_csv(scen / "facilities.csv", dtype=str, keep_default_na=False)
    movers = frame.index[frame["moves_from"] != ""]
    frame.loc[movers[1], "moves_from"] = frame.loc[movers[0], "moves_from"]
    frame.to_csv(scen / "facilities.csv", index=False)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(scen / "scenario.yaml")
    assert exc.value.row == movers[1] + 2 and exc.value.field == "moves_from"
    assert "a second move from" in str(exc.value)


FUND_CASES = {
    # column, the row as Excel shows it (the heading is row 1), value, what the error says
    "bad number": ("balance_last_year", 2, "abc", "'abc' is not a number"),
    "bad letter": ("warning_letter", 4, "maybe", "is not a boolean"),
    "negative months": ("months_payable", 3, "-1", "below 0"),
    "year outside": ("year", 6, "2031", "2031 is not a planning year"),
}


@pytest.mark.parametrize("case", list(FUND_CASES))
def test_bad_fund_file(case, scen):
    col, row, value, fragment = FUND_CASES[case]
    frame = pd.read_csv(scen / "fund.csv", dtype=str, keep_default_na=False)
    frame.loc[row - 2, col] = value
    frame.to_csv(scen / "fund.csv", index=False)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(scen / "scenario.yaml")
    said = [str(p) for p in exc.value.problems]  # a year outside is also a year missing
    assert any(s.startswith(f"fund.csv row {row}, field '{col}'") and fragment in s
               for s in said), said


def test_fund_file_needs_every_year(scen):
    frame = pd.read_csv(scen / "fund.csv", dtype=str, keep_default_na=False)
    frame.iloc[:-1].to_csv(scen / "fund.csv", index=False)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(scen / "scenario.yaml")
    assert str(exc.value) == "fund.csv, field 'year': no row for the planning year 2030"


def test_fund_file_missing_column(scen):
    frame = pd.read_csv(scen / "fund.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["months_required"]).to_csv(scen / "fund.csv", index=False)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(scen / "scenario.yaml")
    assert exc.value.field == "months_required" and exc.value.row is None


@pytest.mark.parametrize(("old", "new", "field"), [
    ("  moves: true", "  moves: true\n  colour: red", "rules.colour"),
    ("near_radius_m: 800", "near_radius_m: -5", "rules.near_radius_m"),
    ("  exempt: true", "  exempt: perhaps", "rules.exempt"),
    ("  fund: fund.csv", "  fund: nowhere.csv", "files.fund"),
])
def test_bad_rules_section(old, new, field, scen):
    yaml = scen / "scenario.yaml"
    text = yaml.read_text(encoding="utf-8")
    assert old in text
    yaml.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(yaml)
    assert exc.value.file == "scenario.yaml" and exc.value.field == field
    assert "\n" not in str(exc.value)


def test_rules_switched_off(scen):
    yaml = scen / "scenario.yaml"
    text = yaml.read_text(encoding="utf-8")
    for key in ("priority", "exempt", "fund_gate", "moves"):
        text = re.sub(rf"^  {key}: true", f"  {key}: false", text, flags=re.M)
    text = text.replace("near_radius_m: 800", "near_radius_m: null")
    yaml.write_text(text, encoding="utf-8")
    sc = load_scenario(yaml)
    p = sc.problem
    assert p.near == () and p.gate == ()
    assert not any(f.exempt or f.priority or f.moves_from for f in p.facilities)
    assert (sc.facilities[["exempt_rule", "priority_class", "moves_from"]] == "").all().all()
    assert sc.gate is not None and (sc.gate["open"] == 0).sum() == 2  # read, not used
    # exempt rows are ordinary applicants again: protected only by category
    f = sc.facilities
    assert not f.loc[(f["category"] == "clinic") & (f["status"] == "applicant"),
                     "protected"].any()


def test_without_rule_data_nothing_changes(scen):
    """A scenario without the new columns and fund file compiles as before (Zhangye-like)."""
    frame = pd.read_csv(scen / "facilities.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["exempt", "priority", "moves_from"]).to_csv(scen / "facilities.csv",
                                                                    index=False)
    yaml = scen / "scenario.yaml"
    text = yaml.read_text(encoding="utf-8").replace("  fund: fund.csv", "")
    text = text.replace("near_radius_m: 800", "near_radius_m: null")
    yaml.write_text(text, encoding="utf-8")
    sc = load_scenario(yaml)
    assert sc.gate is None and sc.problem.gate == () and sc.problem.near == ()
    assert "exempt_rule" not in sc.facilities.columns


def test_generators_are_deterministic(tmp_path):
    import subprocess
    import sys

    subprocess.run([sys.executable, str(HEZE / "make_areas.py"), "--out-dir", str(tmp_path)],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, str(HEZE / "make_facilities.py"), "--out-dir",
                    str(tmp_path)], check=True, capture_output=True)
    for name in ("counties.geojson", "urban_areas.geojson", "census.csv", "facilities.csv",
                 "targets.csv", "quotas_county.csv"):
        assert (tmp_path / name).read_bytes() == (HEZE / name).read_bytes(), name

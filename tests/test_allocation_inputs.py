"""The ``allocation:`` section's inputs (dingdian.scenario.allocation): special zones computed
from geometry, each county's role bounds from its urban population, the over-configured
counties' exit plan, the priority tags, and bad input as one-line errors."""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from dingdian.errors import ScenarioError
from dingdian.scenario.allocation import ZonesConfig, zones
from dingdian.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"


def test_zones_from_geometry():
    # Projected metres. Existing: pharmacy P0 at (0, 0) in urban cell U1, pharmacy P1 in rural
    # cell R2, clinic C0 at (0, 3000) in rural cell R1 with no pharmacy within 500 m, clinic C1
    # at (10000, 0) with four pharmacies P2–P5 within 500 m.
    #   A1 (900, 0):     P0 900 m away (≤ 1000): not blind; urban: not weak; C0 3.1 km: ''
    #   A2 (0, 2700):    P0 2.7 km: blind; R1 holds no pharmacy: weak; C0 300 m away with 0
    #                    pharmacies near it (≤ 3): demand
    #   A3 (1000, 0):    P0 exactly 1000 m: not blind; R2 holds P1: not weak: ''
    #   A4 clinic (0, 3600): C0 600 m: not blind; R1 holds C0: not weak; demand is for
    #                    pharmacies only: ''
    #   A5 (10000, 400): P5 200 m: not blind; urban; C1 has 4 pharmacies > 3: ''
    rows = [("P0", "pharmacy", "existing", 0, 0, "U1"), ("P1", "pharmacy", "existing", 5e3, 5e3, "R2"),
            ("C0", "clinic", "existing", 0, 3000, "R1"), ("C1", "clinic", "existing", 1e4, 0, "U2"),
            ("P2", "pharmacy", "existing", 10100, 0, "U2"), ("P3", "pharmacy", "existing", 10200, 0, "U2"),
            ("P4", "pharmacy", "existing", 1e4, 100, "U2"), ("P5", "pharmacy", "existing", 1e4, 200, "U2"),
            ("A1", "pharmacy", "applicant", 900, 0, "U1"), ("A2", "pharmacy", "applicant", 0, 2700, "R1"),
            ("A3", "pharmacy", "applicant", 1000, 0, "R2"), ("A4", "clinic", "applicant", 0, 3600, "R1"),
            ("A5", "pharmacy", "applicant", 1e4, 400, "U2")]
    fac = pd.DataFrame(rows, columns=["facility_id", "kind", "status", "x", "y", "cell_id"])
    cells = pd.DataFrame({"cell_id": ["U1", "U2", "R1", "R2"],
                          "zone": ["urban", "urban", "rural", "rural"]})
    got = dict(zip(fac["facility_id"], zones(fac, cells, ZonesConfig()), strict=True))
    assert {k: v for k, v in got.items() if k.startswith("A")} == {
        "A1": "", "A2": "blind;weak;demand", "A3": "", "A4": "", "A5": ""}
    assert all(v == "" for k, v in got.items() if not k.startswith("A"))
    # C1's four pharmacies make A5 a high-demand applicant once the limit is 4
    wide = dict(zip(fac["facility_id"], zones(fac, cells, ZonesConfig(demand_max=4)),
                    strict=True))
    assert wide["A5"] == "demand"


@cache
def zhangye():
    return load_scenario(ZHANGYE / "scenario.yaml")


def test_zhangye_role_bounds():
    # Urban residents (census × urban_share, all in urban cells): 甘州区 311,458 → one
    # 门诊慢特病统筹药店 per 30,000–50,000: ⌈311458/50000⌉ = 7 … ⌊311458/30000⌋ = 10; 临泽县
    # 46,360 → 1 … max(1, 1) = 1; 肃南县 11,128 → 1 … max(1, 0) = 1, plus 1 for a sparse county:
    # 2 … 2. 双通道: at least 1 per county, no cap. All in the target year 2030.
    p = zhangye().problem
    bounds = {(n.role, n.county): (n.low, n.high, n.year) for n in p.roles}
    assert bounds["chronic", "甘州区"] == (7, 10, 2030)
    assert bounds["chronic", "临泽县"] == (1, 1, 2030)
    assert bounds["chronic", "肃南县"] == (2, 2, 2030)
    assert {bounds["dual", c] for c in ("甘州区", "肃南县")} == {(1, None, 2030)}
    # eligible: compliant pharmacies scoring at least 70
    fac = zhangye().facilities.set_index("facility_id")
    for f in p.facilities:
        ok = (f.kind == "pharmacy" and f.score >= 70 and bool(fac.loc[f.id, "compliant"]))
        assert bool(f.roles) == ok, f.id


def test_zhangye_exit_plan_and_tags():
    # exits first (五(一)4, 七(三)) holds every county whose 2024 count is above its 2030 target:
    # clinics everywhere (441 > 381 … 31 > 28), pharmacies in 甘州区 (318 > 189), 高台县 (78 > 67)
    # and 肃南县 (6 > 3); planned exits = 表6/表7's exits
    sc = zhangye()
    p = sc.problem
    assert p.green_channel
    over = {(e.county, e.kind) for e in p.exit_plan}
    t = sc.targets.set_index(["county", "kind"])
    assert over == {k for k in t.index if t.loc[k, "existing_2024"] > t.loc[k, "target_2030"]}
    assert over == {(c, "clinic") for c in ("甘州区", "临泽县", "高台县", "山丹县", "民乐县", "肃南县")} \
        | {("甘州区", "pharmacy"), ("高台县", "pharmacy"), ("肃南县", "pharmacy")}
    q = sc.quotas[sc.quotas["level"] == "county"].set_index(["area", "kind", "year"])["exit"]
    assert all(e.exits == q[e.county, e.kind, e.year] for e in p.exit_plan)
    # the variant keeps 甘州区 only, the county 一(二)2 names as over-supplied
    ganzhou = load_scenario(ZHANGYE / "variants" / "exits_first_ganzhou.yaml").problem
    assert {(e.county, e.kind) for e in ganzhou.exit_plan} == {("甘州区", "clinic"),
                                                             ("甘州区", "pharmacy")}
    # tags: specialities, remote (blind or rural cell) applicants, and chain pharmacies only
    # where they are remote (四(二) 鼓励…连锁药店向农村偏远地区发展)
    fac = sc.facilities.set_index("facility_id")
    rural_cells = set(sc.cells.loc[sc.cells["zone"] == "rural", "cell_id"])
    chains = remote_chains = 0
    for f in p.facilities:
        if f.existing:
            assert f.favour == ()
            continue
        remote = "blind" in f.zone.split(";") or f.cell in rural_cells
        chain = fac.loc[f.id, "category"] == "chain_pharmacy"
        chains += chain
        remote_chains += chain and remote
        assert ("chain" in f.favour) == (chain and remote)
        assert ("speciality" in f.favour) == (fac.loc[f.id, "speciality"] != "")
        assert ("remote" in f.favour) == remote
    assert 0 < remote_chains < chains
    # chain: true (earlier_readings.yaml) tags every chain pharmacy applicant
    every = load_scenario(ZHANGYE / "variants" / "earlier_readings.yaml").problem
    assert sum("chain" in f.favour for f in every.facilities) == chains


def test_zhangye_protects_village_clinics_only():
    # 五(二)1(2) 原则上行政村卫生室不做调控: the 739 village clinics, each with the sentence;
    # the 40 community health centres may exit (earlier_readings.yaml protects them again)
    fac = zhangye().facilities
    protected = fac[fac["protected"]]
    assert set(protected["category"]) == {"village_clinic"} and len(protected) == 739
    assert protected["protected_class"].str.startswith(
        "村卫生室：原则上行政村卫生室不做调控（五(二)1(2)）").all()
    assert (fac.loc[~fac["protected"], "protected_class"] == "").all()
    old = load_scenario(ZHANGYE / "variants" / "earlier_readings.yaml").facilities
    chc = old[old["category"] == "community_health_centre"]
    assert chc["protected"].all() and len(chc) == 40
    assert chc["protected_class"].str.contains("情景设定 protected_categories").all()


def _scenario(tmp_path, yaml_edit=None, csv_edit=None) -> Path:
    scen = tmp_path / "zhangye"
    shutil.copytree(ZHANGYE, scen, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for name, edit in (("scenario.yaml", yaml_edit), ("facilities.csv", csv_edit)):
        if edit:
            path = scen / name
            text = path.read_text(encoding="utf-8")
            old, new = edit
            assert old in text, old
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return scen / "scenario.yaml"


FIRST_PH = "ZY-P-0001,"
BAD = {
    "budget county": (("budget_per_year: 0", "budget_per_year: 0\n    budget: "
                       "[{county: 酒泉市, year: 2025, admit: 1}]"), None,
                      "scenario.yaml", None, "allocation.zones.budget[0].county", "酒泉市"),
    "budget year": (("budget_per_year: 0", "budget_per_year: 0\n    budget: "
                     "[{county: 甘州区, year: 2040, admit: 1}]"), None,
                    "scenario.yaml", None, "allocation.zones.budget[0].year", "2040"),
    "residents order": (("residents: [30000, 50000]", "residents: [50000, 30000]"), None,
                        "scenario.yaml", None, "allocation.roles.chronic", "fewest"),
    "unknown key": (("budget_per_year: 0", "budget_per_year: 0\n    radius: 3"), None,
                    "scenario.yaml", None, "allocation.zones.radius", "unknown key"),
    "compliant": (None, (",existing,", ",existing,"), "facilities.csv", None, "compliant",
                  "is not a boolean"),
    "speciality": (None, None, "facilities.csv", None, "speciality", "unknown speciality"),
}


def _csv_edit(case: str, text: str):
    """The facilities.csv edit of a case: change the first pharmacy's last columns."""
    line = next(row for row in text.splitlines() if row.startswith(FIRST_PH))
    head = line.rsplit(",", 2)[0]
    bad = {"compliant": f"{head},maybe,", "speciality": f"{head},1,dental"}[case]
    return line, bad


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_error(case, tmp_path):
    yaml_edit, csv_edit, fname, _row, field, words = BAD[case]
    if case in ("compliant", "speciality"):
        csv_edit = _csv_edit(case, (ZHANGYE / "facilities.csv").read_text(encoding="utf-8"))
    path = _scenario(tmp_path, yaml_edit, csv_edit)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    text = str(exc.value)
    assert "\n" not in text and fname in text and words in text, text
    assert exc.value.field == field, text
    if fname == "facilities.csv":
        row = next(i for i, line in enumerate((ZHANGYE / "facilities.csv").read_text(
            encoding="utf-8").splitlines(), start=1) if line.startswith(FIRST_PH))  # Excel's row
        assert exc.value.row == row and re.search(rf"\brow {row}\b", text)


def test_speciality_is_for_clinics(tmp_path):
    text = (ZHANGYE / "facilities.csv").read_text(encoding="utf-8")
    line, _ = _csv_edit("speciality", text)
    head = line.rsplit(",", 2)[0]
    path = _scenario(tmp_path, csv_edit=(line, f"{head},1,children"))
    with pytest.raises(ScenarioError, match="for medical institutions"):
        load_scenario(path)


def test_sections_switch_off(tmp_path):
    # enabled: false in every section (what a variant's deep merge sets): no allocation data
    variant = tmp_path / "off.yaml"
    variant.write_text(f"base: {ZHANGYE / 'scenario.yaml'}\nname: zhangye-off\nallocation:\n"
                       "  zones: {enabled: false}\n  roles: {enabled: false}\n"
                       "  sequencing: {enabled: false}\n  priorities: {enabled: false}\n",
                       encoding="utf-8")
    sc = load_scenario(variant)
    p = sc.problem
    assert (p.zone_budget, p.roles, p.exit_plan, p.green_channel) == ((), (), (), False)
    assert not any(f.zone or f.roles or f.favour for f in p.facilities)
    assert not {"special_zone", "priority_tags", "role_eligible"} & set(sc.facilities.columns)


def test_every_county_above_its_target_without_names(tmp_path):
    # counties: null — every county whose 2024 count exceeds its 2030 target: all six for
    # clinics, 甘州区, 高台县 and 肃南县 for pharmacies (表2/表3)
    variant = tmp_path / "all.yaml"
    variant.write_text(f"base: {ZHANGYE / 'scenario.yaml'}\nname: zhangye-all-over\n"
                       "allocation:\n  sequencing: {enabled: true, counties: null}\n",
                       encoding="utf-8")
    sc = load_scenario(variant)
    over = {(e.county, e.kind) for e in sc.problem.exit_plan}
    t = sc.targets.set_index(["county", "kind"])
    assert over == {k for k in t.index if t.loc[k, "existing_2024"] > t.loc[k, "target_2030"]}
    assert {k for k in over if k[1] == "pharmacy"} == {
        ("甘州区", "pharmacy"), ("高台县", "pharmacy"), ("肃南县", "pharmacy")}
    assert sc.problem.green_channel

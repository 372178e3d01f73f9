"""Loading, validating and compiling the Zhangye scenario (dingdian.scenario.loader)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dingdian.errors import ScenarioError
from dingdian.scenario.loader import load_scenario
from dingdian.scenario.problem import compile_problem

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"


@pytest.fixture(scope="module")
def zy():
    return load_scenario(ZHANGYE / "scenario.yaml")


def test_population_adds_up_to_census(zy):
    by_county = zy.cells.groupby("county")["population"].sum()
    for row in zy.census.itertuples():
        assert by_county[row.county] == row.population
    assert zy.cells["population"].sum() == 1_131_016
    assert (zy.cells["population"] >= 0).all()
    assert zy.cells["population"].dtype.kind == "i"


def test_real_counts(zy):
    ex = zy.facilities[zy.facilities["status"] == "existing"]
    have = ex.groupby(["county", "kind"]).size()
    for t in zy.targets.itertuples():
        assert have[(t.county, t.kind)] == t.existing_2024
    cats = ex["category"].value_counts()
    assert cats["clinic"] == 288 and cats["village_clinic"] == 739
    assert cats["community_health_centre"] == 40
    assert cats["chain_pharmacy"] == 289 and cats["single_pharmacy"] == 325
    prot = zy.facilities["category"] == "village_clinic"  # 五(二)1(2) 行政村卫生室不做调控
    assert (zy.facilities["protected"] == prot).all()
    assert zy.warnings == ()


def test_cells(zy):
    c = zy.cells
    assert c["cell_id"].is_unique and c["cell_id"].is_monotonic_increasing
    assert c["cell_id"].str.fullmatch(r"Z-[UR]-\d{6}").all()
    urban = c[c["zone"] == "urban"]
    assert (urban["radius_m"] == 1060.82).all()
    assert (c.loc[c["zone"] == "rural", "radius_m"] == 2121.64).all()
    assert set(urban.loc[urban["county"] == "甘州区", "street"]) == {
        "东街街道", "西街街道", "南街街道", "北街街道", "火车站街道", "滨河新区街道"}
    # every populated urban cell keeps an existing clinic and pharmacy within 1060.82 m
    pop = urban[urban["population"] > 0]
    assert len(pop) == len(urban)
    assert (pop["must_cover_clinic"] == 1).all() and (pop["must_cover_pharmacy"] == 1).all()
    # rural: no clinic scope, no pharmacy scope in 肃南县
    rural = c[c["zone"] == "rural"]
    assert (rural[["must_cover_clinic", "gain_clinic", "blind_spot_clinic"]] == 0).all().all()
    sn = rural[rural["county"] == "肃南县"]
    assert (sn[["must_cover_pharmacy", "gain_pharmacy", "blind_spot_pharmacy"]] == 0).all().all()
    for kind in ("clinic", "pharmacy"):
        flags = c[[f"must_cover_{kind}", f"gain_{kind}", f"blind_spot_{kind}"]].sum(axis=1)
        assert (flags <= 1).all()
    assert (c["gain_pharmacy"] == 1).sum() > 0 and (c["blind_spot_pharmacy"] == 1).sum() > 0


def test_problem_matches_tables(zy):
    p = zy.problem
    assert len(p.facilities) == len(zy.facilities)
    assert {(t.year) for t in p.targets} == {2028, 2030} and len(p.targets) == 24
    assert len([q for q in p.quotas if q.level == "county"]) == 72
    assert len([q for q in p.quotas if q.level == "street"]) == 72
    flags = {(r.cell_id, k): (r[f"must_cover_{k}"], r[f"gain_{k}"])
             for _, r in zy.cells.iterrows() for k in ("clinic", "pharmacy")}
    fac = {f.id: f for f in p.facilities}
    for cv in p.cover:
        keep, gain = flags[(cv.cell, cv.kind)]
        assert (cv.mode == "keep") == bool(keep) and (cv.mode == "gain") == bool(gain)
        assert cv.facilities == zy.reach[(cv.cell, cv.kind)]
        assert all(fac[f].kind == cv.kind for f in cv.facilities)
        assert any(fac[f].existing for f in cv.facilities) == (cv.mode == "keep")
    urban = set(zy.cells.loc[zy.cells["zone"] == "urban", "cell_id"])
    for cr in p.crowd:
        assert cr.cell in urban and len(cr.facilities) >= 2
        assert all(fac[f].cell == cr.cell and fac[f].kind == cr.kind for f in cr.facilities)
    cfg = zy.config.model_copy(update={"options": zy.config.options.model_copy(
        update={"street_quotas": False})})
    p2 = compile_problem(cfg, zy.facilities, zy.targets, zy.quotas, zy.cells, zy.reach)
    assert {q.level for q in p2.quotas} == {"county"}


def test_feasibility_sanity(zy):
    """Enough non-protected existing facilities for the 2030 cuts and for exact street exits."""
    f = zy.facilities
    free = f[(f["status"] == "existing") & ~f["protected"]]
    per_county = free.groupby(["county", "kind"]).size()
    for t in zy.targets.itertuples():
        assert per_county.get((t.county, t.kind), 0) >= t.existing_2024 - t.target_2030
    per_street = free.groupby(["street", "kind"]).size()
    streets = zy.quotas[zy.quotas["level"] == "street"]
    for (street, kind), g in streets.groupby(["area", "kind"]):
        assert per_street.get((street, kind), 0) >= g["exit"].sum() - g["admit"].sum()
    # applicants: at least one per year with an admission quota, per county and kind
    apps = f[f["status"] == "applicant"]
    county_q = zy.quotas[zy.quotas["level"] == "county"]
    for r in county_q[county_q["admit"] > 0].itertuples():
        sel = apps[(apps["county"] == r.county) & (apps["kind"] == r.kind)]
        assert (sel["available_from"] == r.year).any(), (r.county, r.kind, r.year)


def test_generator_is_deterministic(tmp_path):
    out = tmp_path / "facilities.csv"
    subprocess.run([sys.executable, str(ZHANGYE / "make_facilities.py"), "--out", str(out)],
                   check=True, capture_output=True)
    assert out.read_bytes() == (ZHANGYE / "facilities.csv").read_bytes()


# ------------------------------------------------------------------ bad inputs
def _sub(old, new):
    def edit(text):
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


FIRST = "ZY-C-0001,甘州区东街诊所001,clinic,clinic,甘州区,东街街道,"
#: case → (file, edit, the row as Excel shows it (the heading is row 1), field)
BAD = {
    "missing column": ("facilities.csv", _sub("kind,category", "kinds,category"),
                       None, "kind"),
    "wrong type": ("facilities.csv", _sub(",existing,79,", ",existing,abc,"), 2, "score"),
    "unknown county": ("facilities.csv", _sub(FIRST, FIRST.replace(",甘州区,", ",酒泉市,")), 2, "county"),
    "unknown street": ("facilities.csv", _sub(FIRST, FIRST.replace("东街街道,", "东门街道,")), 2, "street"),
    "unknown kind": ("facilities.csv", _sub(FIRST, FIRST.replace("clinic,clinic", "hospital,clinic")), 2, "kind"),
    "unknown category": ("facilities.csv", _sub(FIRST, FIRST.replace("clinic,clinic", "clinic,spa")), 2, "category"),
    "unknown status": ("facilities.csv", _sub(",existing,79,", ",closed,79,"), 2, "status"),
    "score above 100": ("facilities.csv", _sub(",existing,79,", ",existing,101,"), 2, "score"),
    "duplicate id": ("facilities.csv", _sub("ZY-C-0003,", "ZY-C-0002,"), 4, "facility_id"),
    "outside county": ("facilities.csv", _sub("100.458370,38.930389", "99.1,38.2"), 2, "lon"),
    "negative target": ("targets.csv", _sub("441,401,381", "441,-401,381"), 2, "target_2028"),
    "negative quota": ("quotas_county.csv", _sub("甘州区,clinic,2025,3,13", "甘州区,clinic,2025,3,-1"), 2, "exit"),
    "bad census share": ("census.csv", _sub("519096,0.60", "519096,1.5"), 2, "urban_share"),
    "missing file": ("census.csv", None, None, "files.census"),
    "unknown YAML key": ("scenario.yaml", _sub("population_decay_m: 2000",
                                               "population_decay_m: 2000\n  colour: red"),
                         None, "grid.colour"),
    "bad YAML type": ("scenario.yaml", _sub("urban_radius_m: 1060.82", "urban_radius_m: far"),
                      None, "grid.urban_radius_m"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_error(case, tmp_path):
    fname, edit, row, field = BAD[case]
    scen = tmp_path / "zhangye"
    shutil.copytree(ZHANGYE, scen, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    target = scen / fname
    if edit is None:
        target.unlink()
    else:
        target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(scen / "scenario.yaml")
    err = exc.value
    text = str(err)
    assert "\n" not in text
    assert fname in text
    assert f"field '{field}'" in text and err.field == field
    assert err.row == row
    if row is not None:
        assert re.search(rf"\brow {row}\b", text)
    if case == "outside county":
        assert text == "facilities.csv row 2, field 'lon': point (99.1, 38.2) lies outside 甘州区"

"""One city, two forms: the shipped format and a bureau's own files give the same plan.

The bureau's form (tests/bureau_form.py) holds the same figures as an ``.xlsx`` workbook with
Chinese headings and values and a title row, a GBK census CSV, GCJ-02 points (高德) and
outlines as a GeoPackage in Gauss-Kruger and a Shapefile in UTM. Loaded, the points come back to
WGS-84 within a centimetre and every table to the same values, so the solve must give the same
optimum and the same plan, facility by facility and year by year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bureau_form import bureau_form
from tiny_city import write_tiny_city

import dingdian

ROOT = Path(__file__).resolve().parents[1]
YEARS = [str(y) for y in range(2024, 2031)]


def _cities(tmp_path: Path) -> dict[str, Path]:
    return {"tiny": write_tiny_city(tmp_path / "tiny").parent,
            "example": ROOT / "scenarios" / "example",
            "zhangye": ROOT / "scenarios" / "zhangye"}


@pytest.mark.parametrize("city", ["tiny", "example", "zhangye"])
def test_bureau_form_gives_the_same_plan(city, tmp_path):
    src = _cities(tmp_path)[city]
    clean_sc = dingdian.load(src)
    bureau_sc = dingdian.load(bureau_form(src, tmp_path / "bureau"))
    a, b = clean_sc.facilities, bureau_sc.facilities
    assert list(a["facility_id"]) == list(b["facility_id"])
    assert np.abs(a[["x", "y"]].to_numpy() - b[["x", "y"]].to_numpy()).max() < 0.01  # metres
    for col in ("kind", "category", "county", "street", "status", "score", "protected"):
        assert a[col].tolist() == b[col].tolist(), col
    assert clean_sc.targets.equals(bureau_sc.targets)
    assert clean_sc.quotas.reset_index(drop=True).equals(bureau_sc.quotas.reset_index(drop=True))
    assert clean_sc.cells["population"].tolist() == bureau_sc.cells["population"].tolist()
    if city == "zhangye":
        # the site model reads nothing but its frozen problem data: the same SiteProblem (reach
        # lists, quotas, targets, rules) is the same model, so the same plan; solving it twice
        # at this size (about 20 s each) would add nothing the small cities below do not check
        assert clean_sc.problem == bureau_sc.problem
        return
    clean = dingdian.solve(clean_sc, planners=False)
    bureau = dingdian.solve(bureau_sc, planners=False)
    assert clean.status == bureau.status == "optimal"
    assert clean.objective == bureau.objective
    assert clean.facilities[YEARS].equals(bureau.facilities[YEARS])
    assert clean.counts.equals(bureau.counts)
    assert bureau.check() == []


def test_a_datum_mix_up_is_named(tmp_path):
    """The bureau's GCJ-02 points read as WGS-84 (``coordinates:`` left at wgs84): 高德's
    offset here is about 500 m east, so facilities standing within 150 m of the county's east
    border seem to lie outside it. Each is a problem of its row, and the first line (the
    table's own) names the likely cause and the fix."""
    src = write_tiny_city(tmp_path / "edge", shift_m=(1850, 0)).parent
    assert len(dingdian.load(src).facilities) == 6  # clean: every point inside
    path = bureau_form(src, tmp_path / "bureau")
    text = path.read_text(encoding="utf-8").replace("coordinates: gcj02", "coordinates: wgs84")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(dingdian.ScenarioError) as err:
        dingdian.load(path)
    lines = err.value.lines()
    outside = [line for line in lines if "lies outside 甲县" in line]
    assert len(outside) == 6 and all(line.startswith("规划数据.xlsx#机构名单 row ") for line in outside)
    assert outside[0].startswith("规划数据.xlsx#机构名单 row 3, field 'lon'")  # a title row above
    assert "GCJ-02" in lines[0] and "coordinates: gcj02" in lines[0], lines[0]

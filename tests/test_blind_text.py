"""Blind spots by the text's definition (张掖 五(二)2 "服务覆盖盲区（半径1000米内无定点零售药店）")
beside the cell-radius definition: ``cells.csv`` columns, ``summary.json`` ``blind_spots_text``
and the report's blind-spot table (:mod:`dingdian.write.blind_text`).

A hand-built instance with every count worked out by hand, the tiny city end to end on every
backend with the figures recomputed from the written plan in plain pandas/numpy, the twin
without the setting (Heze: nothing reported), and the Zhangye 2030 figures (slow).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from pyproj import Transformer
from tiny_city import write_tiny_city

import dingdian
from dingdian.scenario.variants import resolve_config
from dingdian.write.blind_text import text_label, text_radius, text_section
from dingdian.write.report_content import blind_frame

ROOT = Path(__file__).resolve().parents[1]
SOLVERS = ("highs", "cbc", "cpsat")
TEXT = "服务覆盖盲区（半径1000米内无定点零售药店，五(二)2）"


# ----------------------------------------------------------------------------- by hand
def test_hand_built_cells():
    # Three cells (projected metres): c1 at (0, 0), urban, radius 1060.82, 100 people; c2 at
    # (3000, 0), rural, radius 2121.64, 200 people; c3 at (0, 5000), rural, nobody.
    # Pharmacies: P1 900 m east of c1, designated in 2024 only; P2 1,500 m east of c2, always
    # designated; A1 exactly 1,000 m north of c1, admitted in 2026. The clinic K1 at c2's centre
    # does not count (the text speaks of 定点零售药店).
    #   2024: c1 has P1 (900 ≤ 1000): covered both ways; c2 has P2 at 1,500 m: blind by the
    #         text, covered by its 2,121.64 m radius → text 1 cell / 200, cell radius 0 / 0.
    #   2025: P1 gone: c1 blind both ways → text 2 / 300 (urban 100), cell radius 1 / 100.
    #   2026: A1 at exactly 1,000 m counts (≤): c1 covered → text 1 / 200, cell radius 0 / 0.
    #   c3 (nobody lives there) is never a blind spot.
    cells = pd.DataFrame({"cell_id": ["c1", "c2", "c3"], "zone": ["urban", "rural", "rural"],
                          "x": [0.0, 3000.0, 0.0], "y": [0.0, 0.0, 5000.0],
                          "radius_m": [1060.82, 2121.64, 2121.64], "population": [100, 200, 0]})
    facilities = pd.DataFrame({"facility_id": ["P1", "P2", "A1", "K1"],
                               "kind": ["pharmacy", "pharmacy", "pharmacy", "clinic"],
                               "x": [900.0, 4500.0, 0.0, 3000.0], "y": [0.0, 0.0, 1000.0, 0.0]})
    designated = pd.DataFrame({2024: [1, 1, 0, 1], 2025: [0, 1, 0, 1], 2026: [0, 1, 1, 1]},
                              index=["P1", "P2", "A1", "K1"])
    out, summary = text_section(cells[["cell_id", "zone", "population"]], cells, facilities,
                                designated, [2024, 2025, 2026], 1000.0)
    out = out.set_index("cell_id")
    assert out["blind_radius_m"].eq(1000.0).all()
    assert out["pharmacy_near_2024"].tolist() == [1, 0, 0]
    assert out["pharmacy_near_2026"].tolist() == [1, 0, 0]
    assert out["blind_spot_text_2024"].tolist() == [0, 1, 0]
    assert out["blind_spot_text_2025"].tolist() == [1, 1, 0]
    assert out["blind_spot_text_2026"].tolist() == [0, 1, 0]
    by = summary["by_year"]
    assert by["2024"] == {"cells": 1, "population": 200, "population_urban": 0,
                          "population_rural": 200, "cells_cell_radius": 0,
                          "population_cell_radius": 0}
    assert by["2025"] == {"cells": 2, "population": 300, "population_urban": 100,
                          "population_rural": 200, "cells_cell_radius": 1,
                          "population_cell_radius": 100}
    assert by["2026"]["population"] == 200 and by["2026"]["population_cell_radius"] == 0
    assert summary["uncovered_population_2026"] == 200 and summary["definition_zh"] == TEXT


# ----------------------------------------------------------------------------- end to end
def _city(folder: Path, zones: bool) -> Path:
    """示例市 (tests/tiny_city.py) on a finer grid: urban cells of 500 m, rural of 1,000 m, and
    with ``zones`` the text's 1,000 m radius (allocation.zones, no override budget)."""
    path = write_tiny_city(folder)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["grid"] = {"urban_radius_m": 500, "rural_radius_m": 1000}
    if zones:
        cfg["allocation"] = {"zones": {"blind_radius_m": 1000}}
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("solver", SOLVERS)
def test_tiny_city_both_definitions(tmp_path, solver):
    # The plan is tiny_city's by hand (P3, 60, exits in 2025; objective 92): the finer grid
    # adds no keep cell that only P3 reaches. All pharmacies stand within 150 m of the centre,
    # and every urban cell centre lies within 1,000 m of P1 or P2, no rural one: by the text,
    # the blind spots are the rural cells, the rural half of 甲县's 20,000 people — 10,000 — in
    # every year. By the 500 m urban cells' own radius, most urban cells are blind as well.
    plan = dingdian.solve(_city(tmp_path / "a", zones=True), solver=solver)
    assert plan.status == "optimal" and plan.objective == 92 and plan.check() == []
    twin = dingdian.solve(_city(tmp_path / "b", zones=False), solver=solver)
    assert twin.objective == 92  # the report changes nothing in the plan
    assert "blind_spots_text" not in twin.summary
    assert not [c for c in twin.cells.columns if c.startswith(("blind_spot_text", "pharmacy_near"))]

    s = plan.summary["blind_spots_text"]
    assert s["definition_zh"] == TEXT and s["radius_m"] == 1000.0
    assert all(s["by_year"][str(y)]["population"] == 10000 for y in range(2024, 2031))
    assert s["uncovered_population_2030"] == 10000

    # recomputed in numpy from the written plan and cells (lon/lat projected again)
    to_xy = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    cells, fac = plan.cells, plan.facilities
    cx, cy = to_xy.transform(cells["lon"].to_numpy(float), cells["lat"].to_numpy(float))
    ph = fac[fac["kind"] == "pharmacy"]
    fx, fy = to_xy.transform(ph["lon"].to_numpy(float), ph["lat"].to_numpy(float))
    dist = np.hypot(cx[:, None] - fx[None, :], cy[:, None] - fy[None, :])
    pop = cells["population"].to_numpy()
    for year in range(2024, 2031):
        on = ph[str(year)].to_numpy() == 1
        near = ((dist <= 1000.0) & on[None, :]).sum(axis=1)
        assert cells[f"pharmacy_near_{year}"].tolist() == near.tolist()
        blind = (pop > 0) & (near == 0)
        assert cells[f"blind_spot_text_{year}"].astype(bool).tolist() == blind.tolist()
        own = (pop > 0) & ~((dist <= cells["radius_m"].to_numpy()[:, None]) & on[None, :]).any(1)
        got = s["by_year"][str(year)]
        assert (got["cells"], got["population"]) == (int(blind.sum()), int(pop[blind].sum()))
        assert got["population_cell_radius"] == int(pop[own].sum())
    assert s["by_year"]["2030"]["population_cell_radius"] > 10000  # urban cells beyond 500 m

    table = blind_frame(plan.summary)
    assert table["定义"].tolist()[-1] == TEXT and table["末年未覆盖人口"].tolist()[-1] == 10000
    label = plan.summary["blind_spots_definition"]["definition_zh"]
    assert label == "服务盲区（服务圈半径内无定点机构：城区500米，农村1000米）"
    assert table["定义"].tolist()[:2] == [label, label]


def test_heze_sets_no_radius_and_reports_nothing():
    heze, _ = resolve_config(ROOT / "scenarios" / "heze" / "scenario.yaml")
    assert text_radius(SimpleNamespace(config=heze)) is None
    zhangye, _ = resolve_config(ROOT / "scenarios" / "zhangye" / "scenario.yaml")
    assert text_radius(SimpleNamespace(config=zhangye)) == 1000.0
    assert text_label(1000.0) == TEXT
    # a summary without the section (Heze, or a plan written before) gives the old rows
    assert len(blind_frame({"blind_spots": {"pharmacy": {"cells": 1}}})) == 1


@pytest.mark.slow
def test_zhangye_2030_figures():
    # The two figures of the issue: 391,677 people by the text (1,000 m from the cell centre,
    # every populated cell), 202,402 by the cells' own radius over the same cells. The summary's
    # blind_spots (186,994) leaves out 肃南县's rural cells, out of the pharmacy circle's scope
    # ("肃南县除外", 四(二)): 202,402 − 186,994 = 15,408 people there.
    plan = dingdian.solve(ROOT / "scenarios" / "zhangye" / "scenario.yaml", planners=False)
    s = plan.summary
    by = s["blind_spots_text"]["by_year"]["2030"]
    assert by["population"] == 391677 and by["population_cell_radius"] == 202402
    assert s["blind_spots"]["pharmacy"]["uncovered_population_2030"] == 186994
    c, fac = plan.cells, plan.facilities
    to_xy = Transformer.from_crs("EPSG:4326", "EPSG:32647", always_xy=True)
    sunan = c[(c["county"] == "肃南县") & (c["zone"] == "rural") & (c["population"] > 0)]
    cx, cy = to_xy.transform(sunan["lon"].to_numpy(float), sunan["lat"].to_numpy(float))
    ph = fac[(fac["kind"] == "pharmacy") & (fac["2030"] == 1)]
    fx, fy = to_xy.transform(ph["lon"].to_numpy(float), ph["lat"].to_numpy(float))
    reached = (np.hypot(cx[:, None] - fx, cy[:, None] - fy)
               <= sunan["radius_m"].to_numpy()[:, None]).any(axis=1)
    assert int(sunan["population"].to_numpy()[~reached].sum()) == 202402 - 186994 == 15408

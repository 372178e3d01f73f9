"""The static maps (``OUT/maps/*.png`` and ``*.svg``): files, and the numbers drawn on them.

The example city is solved once per module with the real CLI and its maps written with
:func:`dingdian.write.maps.write_pngs`. Each figure's numbers are recounted here from the plan
folder's own files in plain pandas/shapely: designated facilities per service cell by
point-in-hexagon, admissions and exits from the year columns of ``plan.csv``, blind-spot classes
from ``cells.csv``; the zoom's county rule on hand-made frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from dingdian.cli.main import main
from dingdian.geometry import hexagon
from dingdian.write import map_figures as G
from dingdian.write import maps as M
from dingdian.write.map_html import map_html

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.yaml"
KINDS = ("clinic", "pharmacy")


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    out = tmp_path_factory.mktemp("maps") / "out"
    r = CliRunner().invoke(main, ["solve", str(EXAMPLE), "--out", str(out), "--solver", "highs"])
    assert r.exit_code == 0, r.output
    data = M.load_map_data(out, EXAMPLE, "示例市")
    written = M.write_pngs(data, out / "maps")
    return out, data, written


@pytest.fixture()
def figure(monkeypatch):
    """Build one figure without writing it; returns a function giving the Figure."""
    kept = {}

    def capture(fig, folder, stem):
        kept["fig"] = fig
        return Path(f"{stem}.png")

    monkeypatch.setattr(G, "save", capture)

    def build(fn, *args):
        fn(*args, None, "x")
        return kept["fig"]

    return build


def texts(fig) -> list[str]:
    """Every text of a figure: its own, its axes' (titles, labels) and its legends'."""
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [ax.get_title()] + [t.get_text() for t in ax.texts]
    for leg in fig.legends:
        out += [leg.get_title().get_text()] + [t.get_text() for t in leg.get_texts()]
    return out


# --------------------------------------------------------------------------- files
def test_every_map_is_a_300_dpi_png_and_an_svg(solved):
    from PIL import Image

    out, data, written = solved
    first, last = data.first, data.last
    expected = [k for kind in KINDS for k in (
        f"density_{kind}", f"changes_{kind}_{last}", f"blindspots_{kind}_{last}",
        f"coverage_{kind}_{first}", f"coverage_{kind}_{last}")]
    assert list(written) == expected == M.map_keys(data)
    for key, png in written.items():
        assert png == out / "maps" / f"{key}.png" and png.is_file(), key
        with Image.open(png) as im:
            assert im.format == "PNG"
            assert tuple(round(d) for d in im.info["dpi"]) == (300, 300), key
            assert im.size == (round(M.FIGSIZE[0] * 300), round(M.FIGSIZE[1] * 300))
            small = im.convert("RGB").resize((300, 212))
            colours = small.getcolors(maxcolors=300 * 212)
        assert len(colours) > 40, key  # outlines, cells, text: not a blank page
        svg = png.with_suffix(".svg")
        head = svg.read_text(encoding="utf-8")[:2000]
        assert svg.stat().st_size > 20_000 and "<svg" in head, key
    assert not list((out / "maps").glob(".tmp-*"))


def test_every_key_has_a_chinese_caption(solved):
    _, data, written = solved
    for key in written:
        cap = M.map_caption(key)
        assert cap != key and any(M.KIND_ZH[k] in cap for k in KINDS), key
    assert M.map_caption(f"coverage_pharmacy_{data.last}").startswith(f"{data.last}年定点零售药店")
    assert "准入" in M.map_caption("changes_clinic_2030")
    assert "已填补" in M.map_caption("blindspots_pharmacy_2030")


def test_the_interactive_map_still_works(solved, tmp_path):
    _, data, _ = solved
    text = map_html(data, tmp_path / "map.html").read_text(encoding="utf-8")
    assert 'id="dd-year"' in text and "东城区" in text


# --------------------------------------------------------------------------- per cell
def test_cell_index_on_three_hand_made_cells():
    # A urban (0, 0) r 1000 and B urban (1732, 0) r 1000 share the edge x = 866; C rural
    # (0, 2000) r 2000 has its bottom vertex at A's centre and its lower edges along
    # y = ±0.577 x, so it overlaps A's upper half. Pointy-top hexagons (a vertex due north).
    e = float(np.asarray(hexagon(0, 0, 1000).exterior.coords)[0, 0])  # 866.03, A's east edge
    cells = pd.DataFrame({"x": [0.0, 2 * e, 0.0], "y": [0.0, 0.0, 2000.0],
                          "radius_m": [1000.0, 1000.0, 2000.0]})
    pts = [(0, -500),    # A only (below C's bottom vertex)                → A
           (0, 500),     # A and C: the urban (smaller) cell wins           → A
           (1500, 0),    # B only                                           → B
           (0, 2500),    # C only (A's top vertex is at y = 1000)           → C
           (5000, 5000),  # no cell                                         → -1
           (1000, 1200),  # C (above its edge y = 577), right of A, above B → C
           (e, 0)]       # on the A|B edge: the first cell in order         → A
    x, y = np.array(pts, float).T
    idx = M.cell_index(cells, x, y)
    assert idx.tolist() == [0, 0, 1, 2, -1, 2, 0]
    plan = pd.DataFrame({"kind": ["pharmacy"] * 7 + ["clinic"],
                         2024: [1, 1, 1, 1, 1, 0, 0, 1], 2030: [0, 1, 1, 1, 1, 1, 1, 1]})
    index = np.r_[idx, 0]  # the clinic sits in A too
    # 2024 pharmacies: A holds points 1 and 2, B point 3, C point 4 (point 6 not yet
    # designated, point 5 in no cell, the clinic is another kind) → [2, 1, 1]
    assert M.designated_per_cell(plan, "pharmacy", 2024, index, 3).tolist() == [2, 1, 1]
    # 2030: point 1 gone; A gets point 7 on the edge → A {2, 7}, B {3}, C {4, 6} → [2, 1, 2]
    assert M.designated_per_cell(plan, "pharmacy", 2030, index, 3).tolist() == [2, 1, 2]
    assert M.designated_per_cell(plan, "clinic", 2024, index, 3).tolist() == [1, 0, 0]


def _recount(cells: pd.DataFrame, plan: pd.DataFrame, kind: str, year: int) -> list[int]:
    """Point in hexagon (boundary within a micrometre included), one facility and one cell at
    a time: the smallest cell holding the point, then the first in cells.csv order."""
    hexes = [hexagon(c.x, c.y, c.radius_m) for c in cells.itertuples()]
    counts = [0] * len(cells)
    for f in plan[(plan["kind"] == kind) & (plan[year] == 1)].itertuples():
        p = Point(f.x, f.y)
        holding = [(cells["radius_m"].iat[i], i) for i, h in enumerate(hexes)
                   if h.distance(p) <= 1e-6]
        if holding:
            counts[min(holding)[1]] += 1
    return counts


@pytest.mark.parametrize("kind", KINDS)
def test_designated_per_cell_is_a_recount_of_plan_csv(solved, kind, figure):
    out, data, _ = solved
    plan = data.plan
    for year in (data.first, data.last):
        assert data.per_cell(kind, year).tolist() == _recount(data.cells, plan, kind, year)
        held = int(((plan["kind"] == kind) & (plan[year] == 1)).sum())
        raw = pd.read_csv(out / "plan.csv")
        assert held == int(((raw["kind"] == kind) & (raw[str(year)] == 1)).sum())
    fig = figure(G.density_map, data, kind)
    shown = texts(fig)
    for year, word in ((data.first, "规划基年"), (data.last, "规划末年")):
        held = int(((plan["kind"] == kind) & (plan[year] == 1)).sum())
        assert any(t.startswith(f"{year}年（{word}）：{held:,} 家") for t in shown), shown


# --------------------------------------------------------------------------- flows
@pytest.mark.parametrize("kind", KINDS)
def test_admissions_and_exits_on_the_map_are_plan_csvs(solved, kind, figure):
    out, data, _ = solved
    raw = pd.read_csv(out / "plan.csv")
    raw = raw[raw["kind"] == kind]
    years = data.years
    expect = []
    for before, y in zip(years, years[1:], strict=False):
        a, b = raw[str(before)], raw[str(y)]
        expect.append((y, int(((a == 0) & (b == 1)).sum()), int(((a == 1) & (b == 0)).sum())))
    flows = M.flow_counts(data.plan, kind, years)
    assert list(flows.itertuples(index=False, name=None)) == expect
    shown = texts(figure(G.changes_map, data, kind))
    for y, admitted, exited in expect:
        assert f"{y}年准入 {admitted} 家" in shown and f"{y}年退出 {exited} 家" in shown
    total_a, total_e = sum(e[1] for e in expect), sum(e[2] for e in expect)
    assert any(f"准入 {total_a:,} 家，退出 {total_e:,} 家" in t for t in shown)


# --------------------------------------------------------------------------- blind spots
@pytest.mark.parametrize("kind", KINDS)
def test_blind_spot_classes_are_recomputed_from_cells_csv(solved, kind, figure):
    out, data, _ = solved
    c = pd.read_csv(out / "cells.csv")
    first, last = data.first, data.last
    pop = c["population"] > 0
    urban = c["zone"] == "urban"
    scope = pop & urban if kind == "clinic" else pop  # the example exempts no county
    was, now = c[f"{kind}_{first}"] > 0, c[f"{kind}_{last}"] > 0
    unreachable = scope & (c[f"blind_spot_{kind}"] == 1)
    expect = pd.Series("", index=c.index, dtype=object)
    expect[scope & was & now] = "covered"
    expect[scope & was & ~now] = "new"
    expect[scope & ~was & now] = "filled"
    expect[scope & ~was & ~now] = "still"
    expect[unreachable] = "unreachable"
    got = M.blind_classes(data.cells, kind, first, last, data.exempt)
    assert list(got) == list(expect)
    if kind == "pharmacy":
        assert (got == "filled").sum() == 2  # the example's two blind spots are filled
    shown = texts(figure(G.blind_map, data, kind))
    for key, (label, _) in M.BLIND_CLASSES.items():
        n = int((expect == key).sum())
        assert any(t.startswith(f"{label} {n:,} 个") for t in shown), (key, shown)


# --------------------------------------------------------------------------- zoom county
def test_the_zoom_is_on_the_street_county_else_the_largest_district():
    cells = pd.DataFrame({"county": ["甲县", "乙区", "乙区", "丙区"],
                          "street": [None, "东街街道", "", None]})
    plan = pd.DataFrame({"county": ["甲县"] * 3 + ["丙区"] * 2 + ["丁县"],
                         2024: [1, 1, 1, 1, 1, 1]})
    assert M.central_county(cells, plan, 2024) == "乙区"  # street tables win
    cells["street"] = None
    # 甲县 holds 3, 丙区 2: the district wins, as 牡丹区 over 曹县 in Heze
    assert M.central_county(cells, plan, 2024) == "丙区"
    plan["county"] = ["甲县"] * 3 + ["丁县"] * 3
    assert M.central_county(cells, plan, 2024) == "甲县"  # no district: the most designated
    plan[2024] = [1, 0, 0, 1, 1, 0]
    assert M.central_county(cells, plan, 2024) == "丁县"
    plan[2024] = [1, 1, 0, 1, 1, 0]
    assert M.central_county(cells, plan, 2024) == "甲县"  # a tie: first in cells.csv


def test_the_example_zooms_on_its_street_county(solved, figure):
    _, data, _ = solved
    assert data.central() == "东城区"
    shown = texts(figure(G.coverage_map, data, "pharmacy", data.last))
    assert any(t.startswith("东城区城区") for t in shown)
    assert "北" in shown and any(t.endswith("公里") for t in shown)
    assert any(t.startswith("数据来源：") for t in shown)
    assert any("机构位置为合成数据" in t for t in shown)  # the example is synthetic

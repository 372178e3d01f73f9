"""What the static maps show, computed from a plan folder: the data behind every figure.

:func:`load_map_data` reads ``OUT/plan.csv``, ``OUT/cells.csv`` and ``OUT/summary.json`` and the
scenario's county outlines and urban areas (streets), all projected to the scenario CRS
(metres). The service cells are the plan's own hexagons (:func:`hex_vertices`, the vertices of
:func:`dingdian.geometry.hexagon` at each cell's centre and circumradius ``radius_m``).

The figures' numbers come from the functions here, so the tests recount them independently:

* :func:`cell_index` / :func:`designated_per_cell` — the cell holding each facility (an urban
  cell wins over the rural cell it overlaps; on a shared edge the first cell in ``cells.csv``
  order) and the designated facilities of a kind per cell in a year;
* :func:`flow_counts` — admissions and exits of a kind per year (``admitted_year``,
  ``exited_year`` of ``plan.csv``);
* :func:`blind_classes` — each cell's blind-spot class between the base and the last year;
* :func:`central_county` — the county of the zoom: the county of the street tables (its cells
  carry street labels), else the city district (…区) with the most designated facilities in the
  base year, else the county with the most.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from dingdian.geometry import hexagon, lonlat_to_xy, project
from dingdian.scenario.cells import UrbanArea
from dingdian.write.tables import KIND_LABELS, kind_labels

KIND_ZH = dict(KIND_LABELS)
#: coverage classes: facilities within reach 0 | 1 | 2–3 | 4–7 | 8+
COVER_BOUNDS = [0, 1, 2, 4, 8, 10_000]
COVER_COLOURS = ["#d7301f", "#c7e9c0", "#74c476", "#31a354", "#006d2c"]
COVER_LABELS = ["0 盲区", "1", "2–3", "4–7", "≥8"]
OUT_OF_SCOPE = "#d9d9d9"
#: blind-spot classes (:func:`blind_classes`), in legend order
BLIND_CLASSES = {
    "filled": ("已填补", "#2c7fb8"),
    "still": ("仍为盲区", "#fd8d3c"),
    "unreachable": ("无法覆盖（无机构或申请者可达）", "#7a0177"),
    "new": ("新出现盲区", "#e7298a"),
    "covered": ("始终覆盖", "#e5f5e0"),
}


@dataclass
class MapData:
    """What the maps need: projected outlines, plan and cells with x/y in the scenario CRS."""

    crs: str
    outlines: dict[str, BaseGeometry]
    plan: pd.DataFrame
    cells: pd.DataFrame
    years: list[int]
    title: str = ""
    exempt: tuple[str, ...] = field(default=())
    urban: tuple[UrbanArea, ...] = field(default=())
    summary: dict = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    #: each kind's name on the maps (the scenario's table titles: Heze 门诊定点医疗机构)
    kind_zh: dict[str, str] = field(default_factory=lambda: dict(KIND_ZH))
    _verts: np.ndarray | None = field(default=None, repr=False)
    _index: np.ndarray | None = field(default=None, repr=False)

    @property
    def first(self) -> int:
        return self.years[0]

    @property
    def last(self) -> int:
        return self.years[-1]

    @property
    def synthetic(self) -> bool:
        return bool(self.summary.get("synthetic_data"))

    @property
    def verts(self) -> np.ndarray:
        """``(n, 7, 2)`` closed hexagon rings of the cells (computed once)."""
        if self._verts is None:
            self._verts = hex_vertices(self.cells)
        return self._verts

    @property
    def facility_cell(self) -> np.ndarray:
        """Row number in ``cells`` of the cell holding each facility of ``plan`` (-1: none)."""
        if self._index is None:
            self._index = cell_index(self.cells, self.plan["x"], self.plan["y"], self.verts)
        return self._index

    def per_cell(self, kind: str, year: int) -> np.ndarray:
        """Designated facilities of ``kind`` per cell in ``year``."""
        return designated_per_cell(self.plan, kind, year, self.facility_cell, len(self.cells))

    def central(self) -> str | None:
        return central_county(self.cells, self.plan, self.first)


# --------------------------------------------------------------------------- reading
def load_outlines(scenario: str | Path) -> tuple[str, dict[str, BaseGeometry], tuple[str, ...]]:
    """``(crs, county outlines projected to it, rural-pharmacy-exempt counties)`` of a scenario.

    Reads only the scenario's config and its counties file (no cells or model are built).
    """
    crs, outlines, exempt, *_ = _scenario_geography(scenario)
    return crs, outlines, exempt


def _scenario_geography(scenario: str | Path, allow_outside: bool = False):
    from dingdian.scenario.loader import read_counties, scenario_files
    from dingdian.scenario.variants import resolve_config

    cfg, res = resolve_config(Path(scenario))
    files = scenario_files(cfg, res, allow_outside)
    counties = read_counties(files["counties"], cfg.grid.county_property)
    outlines = {name: project(g, cfg.crs) for name, g in counties.items()}
    urban = read_urban(files.get("urban_areas"), cfg.crs)
    names = {k: Path(str(v).split("#")[0]).name for k, v in files.items() if v is not None}
    labels = kind_labels(dict(cfg.table_titles))
    return cfg.crs, outlines, tuple(cfg.grid.rural_pharmacy_exempt), tuple(urban), names, labels


def read_urban(path: Path | None, crs: str) -> list[UrbanArea]:
    """The urban areas (streets and county seats) of ``files.urban_areas``, projected; a map
    draws what it can, so a feature without a county is skipped rather than refused."""
    from dingdian.scenario.aliases import column_code
    from dingdian.scenario.files import split_sheet
    from dingdian.scenario.outlines import read_features

    if path is None:
        return []
    file, layer = split_sheet(path)
    out = []
    for props, geom in read_features(file, [], layer=layer):
        props = {column_code(k) or k: v for k, v in props.items()}
        if props.get("county") is None:
            continue
        street = "" if props.get("street") is None else str(props["street"]).strip()
        out.append(UrbanArea(county=str(props["county"]).strip(), street=street,
                             name=str(props.get("name") or ""), geom=project(geom, crs)))
    return out


def plan_years(df: pd.DataFrame) -> list[int]:
    return sorted(int(c) for c in df.columns if str(c).isdigit())


def load_map_data(out: str | Path, scenario: str | Path, title: str = "",
                  allow_outside: bool = False) -> MapData:
    """Read ``OUT/plan.csv``, ``OUT/cells.csv``, ``OUT/summary.json`` and the scenario's
    county outlines and urban areas (inside its folder unless ``allow_outside``:
    :mod:`dingdian.scenario.paths`)."""
    out = Path(out)
    crs, outlines, exempt, urban, names, labels = _scenario_geography(scenario, allow_outside)
    plan = pd.read_csv(out / "plan.csv", dtype={"facility_id": str, "street": str})
    cells = pd.read_csv(out / "cells.csv", dtype={"cell_id": str, "street": str})
    for df in (plan, cells):
        df["x"], df["y"] = lonlat_to_xy(df["lon"].to_numpy(), df["lat"].to_numpy(), crs)
    plan.columns = [int(c) if str(c).isdigit() else c for c in plan.columns]
    summary_file = out / "summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.is_file() \
        else {}
    return MapData(crs=crs, outlines=outlines, plan=plan, cells=cells, years=plan_years(plan),
                   title=title, exempt=exempt, urban=urban, summary=summary, files=names,
                   kind_zh=labels)


def in_scope(cells: pd.DataFrame, kind: str, exempt=()) -> np.ndarray:
    """Cells that should have a facility of ``kind`` within reach (as dingdian.scenario.problem.in_scope)."""
    populated = cells["population"].fillna(0).to_numpy() > 0
    urban = (cells["zone"] == "urban").to_numpy()
    if kind == "clinic":
        return populated & urban
    return populated & (urban | ~cells["county"].isin(list(exempt)).to_numpy())


# --------------------------------------------------------------------------- geometry
def rings(geom: BaseGeometry):
    """The exterior and interior rings of a (multi)polygon, as coordinate arrays."""
    polys = getattr(geom, "geoms", [geom])
    for p in polys:
        yield np.asarray(p.exterior.coords)
        for r in p.interiors:
            yield np.asarray(r.coords)


def outline_bounds(outlines) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` of all the outlines together."""
    b = np.array([g.bounds for g in outlines.values()])
    return b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()


def hex_vertices(cells: pd.DataFrame) -> np.ndarray:
    """``(n, 7, 2)``: each cell's :func:`~dingdian.geometry.hexagon` ring (centre ``x, y``,
    circumradius ``radius_m``), closed."""
    unit = np.asarray(hexagon(0.0, 0.0, 1.0).exterior.coords)  # (7, 2)
    xy = cells[["x", "y"]].to_numpy(float)[:, None, :]
    r = cells["radius_m"].to_numpy(float)[:, None, None]
    return xy + r * unit[None, :, :]


def cell_index(cells: pd.DataFrame, x, y, verts: np.ndarray | None = None) -> np.ndarray:
    """Row number in ``cells`` of the hexagon holding each point ``(x, y)``, -1 for none.

    A point in several hexagons (an urban cell overlapping a rural one, or on a shared edge,
    within a micrometre) goes to the smallest cell, then to the first in ``cells`` order, as
    the plan assigns facilities (urban cell first, :func:`dingdian.scenario.cells.facility_cells`).
    """
    verts = hex_vertices(cells) if verts is None else verts
    x, y = np.asarray(x, float), np.asarray(y, float)
    out = np.full(len(x), -1, dtype=np.int64)
    if len(x) == 0 or len(cells) == 0:
        return out
    tree = shapely.STRtree(shapely.polygons(verts))
    # within a micrometre: a point on a shared edge is in both cells, whatever the rounding
    pt, cl = tree.query(shapely.points(x, y), predicate="dwithin", distance=1e-6)
    if len(pt) == 0:
        return out
    radius = cells["radius_m"].to_numpy(float)[cl]
    order = np.lexsort((cl, radius, pt))
    pt, cl = pt[order], cl[order]
    first = np.r_[True, pt[1:] != pt[:-1]]
    out[pt[first]] = cl[first]
    return out


def designated_per_cell(plan: pd.DataFrame, kind: str, year: int, index: np.ndarray,
                        n_cells: int) -> np.ndarray:
    """Designated facilities of ``kind`` in ``year`` per cell (``index`` from
    :func:`cell_index`; facilities in no cell are not counted)."""
    sel = (plan["kind"] == kind).to_numpy() & (plan[year].fillna(0).to_numpy() == 1)
    idx = np.asarray(index)[sel]
    return np.bincount(idx[idx >= 0], minlength=n_cells)


def outside_cells(plan: pd.DataFrame, kind: str, year: int, index: np.ndarray) -> int:
    """Designated facilities of ``kind`` in ``year`` lying in no service cell."""
    sel = (plan["kind"] == kind).to_numpy() & (plan[year].fillna(0).to_numpy() == 1)
    return int((np.asarray(index)[sel] < 0).sum())


# --------------------------------------------------------------------------- counts
def flow_counts(plan: pd.DataFrame, kind: str, years: list[int]) -> pd.DataFrame:
    """Per plan year after the base year: ``year, admitted, exited`` of ``kind``."""
    k = plan[plan["kind"] == kind]
    none = pd.Series(np.nan, index=k.index)
    adm = pd.to_numeric(k.get("admitted_year", none), errors="coerce").value_counts()
    ext = pd.to_numeric(k.get("exited_year", none), errors="coerce").value_counts()
    rows = [{"year": y, "admitted": int(adm.get(float(y), 0)), "exited": int(ext.get(float(y), 0))}
            for y in years[1:]]
    return pd.DataFrame(rows, columns=["year", "admitted", "exited"])


def blind_classes(cells: pd.DataFrame, kind: str, first: int, last: int,
                  exempt=()) -> np.ndarray:
    """Each cell's class (a key of :data:`BLIND_CLASSES`, or ``""`` outside the coverage
    rule): among in-scope populated cells, ``unreachable`` (``blind_spot_<kind>``: no facility
    or applicant can reach it), ``filled`` (blind in ``first``, covered in ``last``), ``still``
    (blind in both), ``new`` (covered in ``first``, blind in ``last``), ``covered`` (both)."""
    scope = in_scope(cells, kind, exempt)
    n0 = cells[f"{kind}_{first}"].fillna(0).to_numpy() > 0
    n1 = cells[f"{kind}_{last}"].fillna(0).to_numpy() > 0
    col = f"blind_spot_{kind}"
    unreach = cells[col].fillna(0).to_numpy() == 1 if col in cells else np.zeros(len(cells), bool)
    out = np.select([~scope, unreach, ~n0 & n1, ~n0 & ~n1, n0 & ~n1],
                    ["", "unreachable", "filled", "still", "new"], default="covered")
    return out.astype(object)


def central_county(cells: pd.DataFrame, plan: pd.DataFrame, base_year: int) -> str | None:
    """The county of the street tables (the one whose cells carry most street labels), else
    the city district (市辖区: a name ending in 区) with the most designated facilities (all
    kinds) in ``base_year``, else the county with the most; ties go to the county first in
    ``cells.csv``. (Heze: 曹县 holds more facilities than 牡丹区, the central district.)"""
    street = cells["street"].fillna("").astype(str).str.strip()
    labelled = cells.loc[street != "", "county"]
    if len(labelled):
        return str(labelled.value_counts(sort=True).index[0])
    held = plan[plan[base_year].fillna(0) == 1]
    if held.empty:
        return None
    n = held.groupby("county").size()
    order = list(dict.fromkeys(cells["county"]))
    n = n.reindex(order + [c for c in n.index if c not in order]).fillna(0)
    districts = n[[str(c).endswith("区") for c in n.index]]
    return str((districts if len(districts) and districts.max() > 0 else n).idxmax())

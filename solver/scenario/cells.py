"""Planning cells: two hexagon lattices and a documented population rule.

Cell rules
----------
* **Urban cells** — the fine lattice, circumradius ``grid.urban_radius_m`` (Zhangye 1,060.82 m,
  the plan's 15-minute circle, 五(一)3), keeping the cells whose centre lies in an urban area
  polygon of ``urban_areas.geojson``. A cell takes that area's ``county`` and ``street``
  (``''`` outside 甘州区's streets).
* **Rural cells** — the coarse lattice, circumradius ``grid.rural_radius_m`` (Zhangye
  2,121.64 m: a 30-minute walk, i.e. the plan's 1,060.82 m per 15 minutes doubled), keeping the
  cells whose centre lies inside a county outline and outside every urban area. A centre inside
  two overlapping outlines goes to the first county in ``counties.geojson`` order.
* Both lattices share one origin: the lower-left corner of the projected bounds of all county
  outlines, rounded down to whole kilometres (:func:`dingdian.geometry.lattice_origin`).
* **Population** — each county's census population ``P`` (census.csv) is split into an urban
  part ``round(P × urban_share)`` and a rural remainder. The urban part goes to the county's
  urban cells in proportion to ``exp(-d / grid.population_decay_m)``, ``d`` being the distance
  from the cell centre to the centroid of the cell's urban area. The rural part goes to the
  county's rural cells in proportion to the number of existing village clinics
  (``category == village_clinic``) inside the cell — a village clinic stands for an
  administrative village — or uniformly when no rural cell of the county holds one. Integer
  populations come from the largest-remainder method, so every county adds up exactly to its
  census figure. (A county without urban cells puts everything into rural cells and vice versa.)
* **Identifiers** — ``<P>-U-000001`` (urban) and ``<P>-R-000001`` (rural), ``<P>`` the first
  letter of the scenario name upper-cased, numbered by county (``counties.geojson`` order), then
  ``y`` then ``x`` (south to north, west to east); the frame is sorted by ``cell_id``.
* A facility's cell is the urban cell whose hexagon holds it, else the rural cell whose hexagon
  holds it, else ``''`` (:func:`facility_cells`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from dingdian.geometry import (
    hex_centres,
    largest_remainder,
    lattice_index,
    lattice_origin,
    xy_to_lonlat,
)


@dataclass(frozen=True)
class UrbanArea:
    """One urban area polygon (a 甘州区 street or a county seat), projected."""

    county: str
    street: str
    name: str
    geom: BaseGeometry  # projected CRS


def grid_origin(counties_xy: dict[str, BaseGeometry]) -> tuple[float, float]:
    """Common origin of both lattices: the counties' lower-left bound, whole kilometres."""
    return lattice_origin(shapely.union_all(list(counties_xy.values())).bounds, 1000.0)


def build_cells(
    counties_xy: dict[str, BaseGeometry],
    urban: list[UrbanArea],
    urban_radius_m: float,
    rural_radius_m: float,
    crs: str,
    prefix: str = "Z",
    origin: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Cells without population, sorted by ``cell_id``.

    Columns ``cell_id, county, street, zone, x, y, lon, lat, radius_m, col, row, area_index``
    (``col``/``row`` the lattice index, ``area_index`` the position in ``urban``, -1 for rural
    cells); ``frame.attrs["origin"]`` is the lattice origin.
    """
    if origin is None:
        origin = grid_origin(counties_xy)
    order = {c: i for i, c in enumerate(counties_xy)}
    parts = []

    def part(xy, county, street, zone, radius, k):
        idx = lattice_index(xy, radius, origin)
        parts.append(pd.DataFrame({"county": county, "street": street, "zone": zone,
                                   "x": xy[:, 0], "y": xy[:, 1], "radius_m": float(radius),
                                   "col": idx[:, 0], "row": idx[:, 1], "area_index": k}))

    for k, area in enumerate(urban):
        part(hex_centres(area.geom, urban_radius_m, origin), area.county, area.street,
             "urban", urban_radius_m, k)
    urban_union = shapely.union_all([a.geom for a in urban]) if urban else None
    for county, geom in counties_xy.items():
        xy = hex_centres(geom, rural_radius_m, origin)
        if urban_union is not None and len(xy):
            xy = xy[~shapely.contains_xy(urban_union, xy[:, 0], xy[:, 1])]
        part(xy, county, "", "rural", rural_radius_m, -1)
    cells = pd.concat(parts, ignore_index=True)
    # a centre inside two overlapping polygons belongs to the first one
    cells = cells.drop_duplicates(["zone", "col", "row"], keep="first")
    cells["_c"] = cells["county"].map(order).fillna(len(order)).astype(int)
    cells = cells.sort_values(["zone", "_c", "y", "x"], ascending=[False, True, True, True])
    tag = np.where(cells["zone"] == "urban", "U", "R")
    seq = cells.groupby("zone").cumcount().to_numpy() + 1
    cells["cell_id"] = [f"{prefix}-{t}-{n:06d}" for t, n in zip(tag, seq, strict=True)]
    lon, lat = xy_to_lonlat(cells["x"].to_numpy(), cells["y"].to_numpy(), crs)
    cells["lon"], cells["lat"] = lon, lat
    cols = ["cell_id", "county", "street", "zone", "x", "y", "lon", "lat", "radius_m",
            "col", "row", "area_index"]
    cells = cells[cols].sort_values("cell_id").reset_index(drop=True)
    cells.attrs["origin"] = tuple(origin)
    return cells


def facility_cells(
    cells: pd.DataFrame, xy: np.ndarray, urban_radius_m: float, rural_radius_m: float, origin
) -> np.ndarray:
    """Cell id of each point: its urban cell, else its rural cell, else ''."""
    out = np.full(len(xy), "", dtype=object)
    if len(xy) == 0:
        return out
    for zone, radius in (("rural", rural_radius_m), ("urban", urban_radius_m)):  # urban wins
        sub = cells[cells["zone"] == zone]
        lookup = {(int(c), int(r)): cid for c, r, cid in
                  zip(sub["col"], sub["row"], sub["cell_id"], strict=True)}
        idx = lattice_index(xy, radius, origin)
        hit = np.array([lookup.get((int(c), int(r)), "") for c, r in idx], dtype=object)
        out = np.where(hit != "", hit, out)
    return out


def assign_population(
    cells: pd.DataFrame,
    census: pd.DataFrame,
    urban: list[UrbanArea],
    village_cell_ids,
    decay_m: float,
) -> tuple[np.ndarray, list[str]]:
    """Integer population per cell (see the module docstring) and warnings."""
    pop = np.zeros(len(cells), dtype=np.int64)
    warnings: list[str] = []
    villages = pd.Series(list(village_cell_ids), dtype=object).value_counts()
    centroids = np.array([[a.geom.centroid.x, a.geom.centroid.y] for a in urban]).reshape(-1, 2)
    for row in census.itertuples(index=False):
        county, total = row.county, int(row.population)
        urban_total = int(np.floor(total * float(row.urban_share) + 0.5))
        u = np.flatnonzero(((cells["county"] == county) & (cells["zone"] == "urban")).to_numpy())
        r = np.flatnonzero(((cells["county"] == county) & (cells["zone"] == "rural")).to_numpy())
        if len(u) == 0 and len(r) == 0:
            warnings.append(f"{county}: no planning cell, population {total} not placed")
            continue
        if len(u) == 0:
            warnings.append(f"{county}: no urban cell, urban population placed in rural cells")
            urban_total = 0
        elif len(r) == 0:
            warnings.append(f"{county}: no rural cell, rural population placed in urban cells")
            urban_total = total
        if len(u):
            k = cells["area_index"].to_numpy()[u]
            d = np.hypot(cells["x"].to_numpy()[u] - centroids[k, 0],
                         cells["y"].to_numpy()[u] - centroids[k, 1])
            pop[u] = largest_remainder(urban_total, np.exp(-d / decay_m))
        if len(r):
            w = villages.reindex(cells["cell_id"].to_numpy()[r]).fillna(0).to_numpy(float)
            if w.sum() == 0:
                warnings.append(f"{county}: no village clinic in a rural cell, rural population uniform")
            pop[r] = largest_remainder(total - urban_total, w)
    return pop, warnings

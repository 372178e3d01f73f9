"""Blind spots by the plan text's definition, beside the cell-radius definition.

Two definitions of a blind spot, reported side by side, each labelled in Chinese:

* **服务盲区（服务圈）** — the model's: a populated cell in scope for a kind with no designated
  facility of that kind within the cell's own radius (urban 1,060.82 m, the 15-minute circle of
  张掖 五(一)3; rural 2,121.64 m for pharmacies; 肃南县's rural cells out of scope). This is
  ``summary.json`` ``blind_spots`` and the ``<kind>_<year>`` columns of ``cells.csv``.
* **服务覆盖盲区（半径1000米内无定点零售药店，五(二)2）** — the text's, seed 张掖 五(二)2
  "服务覆盖盲区（半径1000米内无定点零售药店）": a populated cell (urban or rural, every county)
  whose centre has no designated pharmacy within ``allocation.zones.blind_radius_m`` (1,000 m by
  default), measured from the cell centre — the point the cells' coverage is measured from — in
  the scenario's projected CRS (:func:`dingdian.geometry.within_radius`).

The text's definition is reported when the scenario sets the radius, i.e. has an
``allocation.zones`` section (Zhangye; ``enabled: false`` turns off the overrides, not the
report). Heze's plan has no such definition and its scenario no such section: nothing is added.

``cells.csv`` gains ``blind_radius_m``, ``pharmacy_near_<year>`` (designated pharmacies within
that radius of the cell centre at the end of the year) and ``blind_spot_text_<year>`` (1: a
populated cell with none); ``summary.json`` gains ``blind_spots_text`` and
``blind_spots_definition`` (the cell-radius definition's label).

The two counts differ in their cells as well as their radius: ``blind_spots`` counts the cells
in scope (肃南县's rural cells are out: "肃南县除外", 四(二)), the text's definition every
populated cell. So ``blind_spots_text`` also gives, per year, the cell-radius count over the same
cells (``cells_cell_radius``, ``population_cell_radius``: no designated pharmacy within the
cell's own radius, recomputed from the points). When the text's radius is below both cell
radii (Zhangye: 1,000 m against 1,060.82 m and 2,121.64 m) every such cell is also a text
blind spot, and the text adds the cells whose nearest designated pharmacy lies between 1,000 m
and the cell radius: in the shipped Zhangye plan, 2030, 202,402 people by the cell radius and
391,677 by the text (95 rural cells with 186,136 people, one urban cell of 肃南县 with 3,139).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dingdian.geometry import within_radius

KIND = "pharmacy"


def text_radius(scenario) -> float | None:
    """The radius of 五(二)2's 服务覆盖盲区 (``allocation.zones.blind_radius_m``), None when the
    scenario does not set it."""
    allocation = getattr(getattr(scenario, "config", None), "allocation", None)
    zones = getattr(allocation, "zones", None)
    return None if zones is None else float(zones.blind_radius_m)


def text_label(radius: float) -> str:
    return f"服务覆盖盲区（半径{radius:g}米内无定点零售药店，五(二)2）"


def cell_label(config) -> str:
    grid = getattr(config, "grid", None)
    if grid is None:
        return "服务盲区（服务圈半径内无定点机构）"
    return (f"服务盲区（服务圈半径内无定点机构：城区{grid.urban_radius_m:g}米，"
            f"农村{grid.rural_radius_m:g}米）")


def text_section(cells_out: pd.DataFrame, cells: pd.DataFrame, facilities: pd.DataFrame,
                 designated: pd.DataFrame, years: list[int], radius: float
                 ) -> tuple[pd.DataFrame, dict]:
    """cells.csv with the text definition's columns, and ``blind_spots_text``."""
    out = add_text_columns(cells_out, cells, facilities, designated, radius)
    other = _cell_radius_blind(out, cells, facilities, designated)
    return out, text_summary(out, years, radius, other)


def _near_sums(near: list[np.ndarray], designated: np.ndarray) -> np.ndarray:
    """Per cell (``near``: the facility rows within reach of each) and year (a column of
    ``designated``, facility rows × years): the designated facilities within reach."""
    lengths = np.fromiter((len(idx) for idx in near), dtype=np.int64, count=len(near))
    rows = np.repeat(np.arange(len(near)), lengths)
    cols = np.concatenate(near).astype(np.int64) if len(near) else np.zeros(0, np.int64)
    picked = designated[cols]
    return np.column_stack([np.bincount(rows, weights=picked[:, j], minlength=len(near))
                            for j in range(designated.shape[1])]).round().astype(np.int64) \
        if designated.shape[1] else np.zeros((len(near), 0), np.int64)


def add_text_columns(cells_out: pd.DataFrame, cells: pd.DataFrame, facilities: pd.DataFrame,
                     designated: pd.DataFrame, radius: float) -> pd.DataFrame:
    """``cells_out`` (cells.csv) with the text definition's columns (module docstring).

    ``cells`` and ``facilities`` are the scenario's (projected ``x``, ``y``), ``designated``
    the plan's facility × year 0/1 table, in ``cells_out``'s row order by ``cell_id``.
    """
    out = cells_out.copy()
    xy = cells.set_index(cells["cell_id"].astype(str))[["x", "y"]]
    xy = xy.reindex(out["cell_id"].astype(str)).to_numpy(float)
    ph = facilities[facilities["kind"] == KIND]
    ids = ph["facility_id"].astype(str).to_numpy()
    near = within_radius(xy, ph[["x", "y"]].to_numpy(float), radius)
    d = designated.reindex(ids).fillna(0).astype(int)
    populated = out["population"].fillna(0).astype(int).to_numpy() > 0
    out["blind_radius_m"] = radius
    sums = _near_sums(near, d.to_numpy())
    counts = {y: sums[:, j] for j, y in enumerate(d.columns)}
    for y, count in counts.items():
        out[f"{KIND}_near_{y}"] = count
    for y, count in counts.items():
        out[f"blind_spot_text_{y}"] = (populated & (count == 0)).astype(np.int64)
    return out


def _cell_radius_blind(cells_out: pd.DataFrame, cells: pd.DataFrame, facilities: pd.DataFrame,
                       designated: pd.DataFrame) -> dict[int, pd.Series]:
    """Per year: populated cells (all, in scope or not) with no designated pharmacy within
    their own radius, from the points."""
    cells = cells.set_index(cells["cell_id"].astype(str)).reindex(
        cells_out["cell_id"].astype(str))
    ph = facilities[facilities["kind"] == KIND]
    d = designated.reindex(ph["facility_id"].astype(str)).fillna(0).astype(int)
    near = [np.zeros(0, np.int64)] * len(cells)
    radii = cells["radius_m"].to_numpy(float)
    xy = cells[["x", "y"]].to_numpy(float)
    for r in sorted(set(radii)):
        rows = np.flatnonzero(radii == r)
        hits = within_radius(xy[rows], ph[["x", "y"]].to_numpy(float), r)
        for i, idx in zip(rows, hits, strict=True):
            near[i] = idx
    populated = cells_out["population"].fillna(0).astype(int).to_numpy() > 0
    sums = _near_sums(near, d.to_numpy())
    return {y: pd.Series(populated & (sums[:, j] == 0), index=cells_out.index)
            for j, y in enumerate(d.columns)}


def text_summary(cells_out: pd.DataFrame, years: list[int], radius: float,
                 cell_radius: dict[int, pd.Series] | None = None) -> dict:
    """``summary.json`` ``blind_spots_text``: per year the populated cells with no designated
    pharmacy within ``radius`` of their centre, and their population (urban and rural), with
    the cell-radius count over the same cells (``cell_radius``, :func:`_cell_radius_blind`)."""
    pop = cells_out["population"].fillna(0).astype(int)
    urban = (cells_out["zone"] == "urban") if "zone" in cells_out \
        else pd.Series(False, index=cells_out.index)
    per_year = {}
    for y in years:
        blind = cells_out[f"blind_spot_text_{y}"].astype(bool)
        per_year[str(y)] = {"cells": int(blind.sum()), "population": int(pop[blind].sum()),
                            "population_urban": int(pop[blind & urban].sum()),
                            "population_rural": int(pop[blind & ~urban].sum())}
        if cell_radius is not None and y in cell_radius:
            other = cell_radius[y]
            per_year[str(y)].update(cells_cell_radius=int(other.sum()),
                                    population_cell_radius=int(pop[other].sum()))
    last = str(years[-1])
    return {
        "definition_zh": text_label(radius),
        "definition_en": f"populated cells whose centre has no designated pharmacy within "
                         f"{radius:g} m (Zhangye 五(二)2)",
        "kind": KIND, "radius_m": radius, "measured_from": "cell centre",
        f"uncovered_cells_{last}": per_year[last]["cells"],
        f"uncovered_population_{last}": per_year[last]["population"],
        "by_year": per_year,
    }


def definition(config) -> dict:
    """``summary.json`` ``blind_spots_definition``: the cell-radius definition's label."""
    return {"definition_zh": cell_label(config),
            "definition_en": "populated cells in scope with no designated facility of the kind "
                             "within the cell's radius (the service circle)"}

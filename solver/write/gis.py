"""OUT/plan.gpkg: the plan as a GeoPackage that QGIS and ArcGIS open directly.

:func:`plan_layers` computes the layers (:class:`GeoPackage`, kept in
:attr:`dingdian.write.frames.PlanFiles.gpkg`); :meth:`GeoPackage.write` writes them with
``pyogrio.raw.write`` from WKB (``shapely.to_wkb``), so no geopandas is needed.

CRS: every layer is in the scenario's projected CRS (``crs:`` of scenario.yaml: EPSG:32647 for
Zhangye, EPSG:32650 for Heze, EPSG:32649 for the example city), the CRS every distance of the
plan is measured in: the hexagons stay regular there and QGIS/ArcGIS reproject on the fly.

Layers (fields keep the names of the CSV files, which are the contract, so a GIS user joins on
``facility_id`` / ``cell_id`` / ``county``; names starting with a digit such as ``2024`` are
valid GeoPackage field names and GDAL keeps them as they are, quoted in SQL: ``"2024"``)::

    facilities  Point         one feature per plan.csv row, every plan.csv column (the 0/1
                              designation per year as fields 2024 … 2030, status,
                              admitted_year, exited_year (null when none), protected_class …)
    cells       Polygon       one regular hexagon per cells.csv row (centre lon/lat, circumradius
                              radius_m; :func:`dingdian.geometry.hexagon`'s pointy-top vertices),
                              every cells.csv column (coverage per kind and year, blind spots)
    counties    MultiPolygon  the scenario's county outlines: ``county``, ``population`` (census,
                              when the scenario has one), per kind ``<kind>_designated_<year>``
                              for every year, ``<kind>_target_<year>`` (targets.csv),
                              ``<kind>_admitted`` / ``<kind>_exited`` (totals over the planning
                              years, counts.csv)
    streets     MultiPolygon  (scenarios whose urban areas name streets) one feature per street,
                              its urban areas merged: ``county, street, name`` (the areas'
                              names), then the counts fields of ``counties`` without targets

Text is UTF-8 (the GeoPackage standard), so Chinese names round-trip. Booleans are GeoPackage
booleans; an empty nullable integer (``admitted_year`` of a facility never admitted) is null.
SQLite's fsync is off while writing (GDAL's ``OGR_SQLITE_SYNCHRONOUS``, restored after): the
file is written inside the temporary directory of :func:`dingdian.write.outputs.atomic_directory`
and swapped in whole, so an interrupted write never replaces an earlier ``OUT``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyogrio import get_gdal_config_option, set_gdal_config_options
from pyogrio.raw import write
from pyproj import CRS

from dingdian.geometry import hexagon, lonlat_to_xy, project
from dingdian.models.data import KINDS

#: the layers' descriptions (GeoPackage ``gpkg_contents.description``, shown by QGIS)
DESCRIPTIONS = {
    "facilities": "定点医药机构 facilities: plan.csv, 0/1 designated per year",
    "cells": "服务单元 cells: cells.csv, designated facilities in reach per kind and year",
    "counties": "县区 counties: designated per kind and year, targets, admitted, exited",
    "streets": "街道 streets: designated per kind and year, admitted, exited",
}


@dataclass(frozen=True)
class Layer:
    """One layer: its name, OGR geometry type, WKB geometries and attribute fields (a frame
    whose columns become the fields, in order; one row per geometry)."""

    name: str
    geometry_type: str
    geometry: np.ndarray
    fields: pd.DataFrame

    def __len__(self) -> int:
        return len(self.fields)


@dataclass(frozen=True)
class GeoPackage:
    """The layers of plan.gpkg in one CRS (``crs`` as scenario.yaml gives it); empty (nothing
    written) when the scenario has no CRS, e.g. a hand-built scenario in a test."""

    crs: str | None = None
    layers: tuple[Layer, ...] = field(default=())

    def __getitem__(self, name: str) -> Layer:
        return next(layer for layer in self.layers if layer.name == name)

    def write(self, path) -> Path | None:
        """Write every layer to ``path`` (a new file); return it, or None without layers."""
        if not self.layers:
            return None
        path = Path(path)
        wkt = CRS.from_user_input(self.crs).to_wkt()
        with _sqlite_unsynced():
            for layer in self.layers:
                columns = [_field(layer.fields[c]) for c in layer.fields.columns]
                write(str(path), layer.geometry, [v for v, _ in columns],
                      [str(c) for c in layer.fields.columns],
                      field_mask=[m for _, m in columns], layer=layer.name, driver="GPKG",
                      geometry_type=layer.geometry_type, crs=wkt, encoding="UTF-8",
                      promote_to_multi=layer.geometry_type.startswith("Multi"),
                      layer_options={"DESCRIPTION": DESCRIPTIONS.get(layer.name, layer.name)})
        return path


@contextmanager
def _sqlite_unsynced() -> Iterator[None]:
    """GDAL's SQLite without fsync while writing (Zhangye: 0.5 s → 0.1 s; each added layer
    otherwise waits for the disk), the option restored after."""
    key = "OGR_SQLITE_SYNCHRONOUS"
    before = get_gdal_config_option(key)
    set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        set_gdal_config_options({key: before})


def _field(col: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """A column as pyogrio takes it: values and a null mask (None: no nulls possible)."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
        return col.to_numpy(bool), None
    mask = col.isna().to_numpy(bool)
    if pd.api.types.is_bool_dtype(dtype):
        return col.to_numpy(bool, na_value=False), mask
    if pd.api.types.is_integer_dtype(dtype):
        return col.to_numpy(np.int64, na_value=0), mask if mask.any() else None
    if pd.api.types.is_float_dtype(dtype):
        return col.to_numpy(np.float64, na_value=np.nan), None  # NaN is written as null
    values = np.array(["" if m else str(v) for v, m in zip(col.tolist(), mask, strict=True)],
                      dtype=object)
    return values, mask if mask.any() else None


# --------------------------------------------------------------------------- the layers
def plan_layers(scenario, plan: pd.DataFrame, cells: pd.DataFrame,
                counts: pd.DataFrame) -> GeoPackage:
    """The layers of plan.gpkg from the frames of plan.csv, cells.csv and counts.csv and the
    scenario's outlines (see the module docstring)."""
    crs = getattr(getattr(scenario, "config", None), "crs", None)
    counties = getattr(scenario, "counties", None)
    if crs is None or not isinstance(counties, dict):
        return GeoPackage()
    years = sorted({int(y) for y in counts["year"]}) if len(counts) else []
    layers = [facility_layer(plan, crs), cell_layer(cells, crs),
              county_layer(counties, crs, counts, years, scenario.targets,
                           getattr(scenario, "census", None))]
    streets = street_layer(getattr(scenario, "urban_areas", ()), counts, years)
    if streets is not None:
        layers.append(streets)
    return GeoPackage(crs=str(crs), layers=tuple(layers))


def facility_layer(plan: pd.DataFrame, crs: str) -> Layer:
    """``facilities``: plan.csv's rows as points (its WGS-84 lon/lat projected to ``crs``)."""
    x, y = lonlat_to_xy(plan["lon"].to_numpy(float), plan["lat"].to_numpy(float), crs)
    points = shapely.points(np.column_stack([x, y]))
    return Layer("facilities", "Point", shapely.to_wkb(points),
                 plan.reset_index(drop=True))


def hexagons(x, y, radius_m) -> np.ndarray:
    """Regular hexagons centred at ``x, y`` with circumradius ``radius_m`` (arrays): the
    vertices of :func:`dingdian.geometry.hexagon`, built for all cells at once."""
    unit = np.asarray(hexagon(0.0, 0.0, 1.0).exterior.coords)  # 7 × 2, closed
    x, y, r = (np.asarray(v, float).reshape(-1) for v in (x, y, radius_m))
    coords = np.stack([x, y], axis=1)[:, None, :] + r[:, None, None] * unit[None, :, :]
    return shapely.polygons(coords)


def cell_layer(cells: pd.DataFrame, crs: str) -> Layer:
    """``cells``: one hexagon per cells.csv row (centre lon/lat projected to ``crs``)."""
    x, y = lonlat_to_xy(cells["lon"].to_numpy(float), cells["lat"].to_numpy(float), crs)
    polygons = hexagons(x, y, cells["radius_m"].to_numpy(float))
    return Layer("cells", "Polygon", shapely.to_wkb(polygons), cells.reset_index(drop=True))


def area_counts(counts: pd.DataFrame, keys: list[tuple[str, str]], years: list[int],
                ) -> pd.DataFrame:
    """Per ``(county, street)`` key (street '' for a county), per kind: designated at the end
    of every year, admitted and exited over the planning years (counts.csv)."""
    out = pd.DataFrame(index=range(len(keys)))
    rows = {(str(r.county), "" if pd.isna(r.street) else str(r.street), str(r.kind),
             int(r.year)): r for r in counts.itertuples(index=False)}
    for kind in KINDS:
        for y in years:
            got = [rows.get((county, street, kind, y)) for county, street in keys]
            out[f"{kind}_designated_{y}"] = pd.array(
                [None if r is None else int(r.designated) for r in got], dtype="Int64")
        for what in ("admitted", "exited"):
            vals = []
            for county, street in keys:
                got = [rows.get((county, street, kind, y)) for y in years[1:]]
                got = [int(getattr(r, what)) for r in got if r is not None]
                vals.append(sum(got) if got else None)
            out[f"{kind}_{what}"] = pd.array(vals, dtype="Int64")
    return out


def county_layer(counties: dict, crs: str, counts: pd.DataFrame, years: list[int],
                 targets: pd.DataFrame | None, census: pd.DataFrame | None) -> Layer:
    """``counties``: the scenario's county outlines with counts, targets and population."""
    names = [str(n) for n in counties]
    geoms = [project(g, crs) for g in counties.values()]
    fields = pd.DataFrame({"county": names})
    if census is not None and "population" in census:
        pop = census.set_index(census["county"].astype(str))["population"]
        fields["population"] = pd.array([pop.get(n) for n in names], dtype="Int64")
    fields = pd.concat([fields, area_counts(counts, [(n, "") for n in names], years)], axis=1)
    if targets is not None and len(targets):
        t = targets.set_index([targets["county"].astype(str), targets["kind"].astype(str)])
        cols = sorted(c for c in targets.columns if re.fullmatch(r"target_\d{4}", str(c)))
        for kind in KINDS:
            for col in cols:
                fields[f"{kind}_{col}"] = pd.array(
                    [_int(t[col].get((n, kind))) for n in names], dtype="Int64")
    order = ["county", "population"] + [  # per kind: designated, targets, admitted, exited
        c for kind in KINDS for part in ("designated_", "target_", "admitted", "exited")
        for c in fields.columns if c.startswith(f"{kind}_{part}")]
    fields = fields[[c for c in order if c in fields.columns]]
    return Layer("counties", "MultiPolygon", shapely.to_wkb(np.array(geoms, dtype=object)),
                 fields)


def _int(v) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def street_layer(urban_areas, counts: pd.DataFrame, years: list[int]) -> Layer | None:
    """``streets``: the urban areas that name a street, merged per ``(county, street)``; None
    when no area names one."""
    groups: dict[tuple[str, str], list] = {}
    for area in urban_areas or ():
        if area.street:
            groups.setdefault((area.county, area.street), []).append(area)
    if not groups:
        return None
    keys = list(groups)
    geoms = [shapely.union_all([a.geom for a in groups[k]]) for k in keys]
    fields = pd.DataFrame({"county": [k[0] for k in keys], "street": [k[1] for k in keys],
                           "name": ["、".join(a.name for a in groups[k]) for k in keys]})
    fields = pd.concat([fields, area_counts(counts, keys, years)], axis=1)
    return Layer("streets", "MultiPolygon", shapely.to_wkb(np.array(geoms, dtype=object)),
                 fields)

"""OUT/plan.gpkg (:mod:`dingdian.write.gis`) on 示例市 (scenarios/example, fictional), solved once."""

from __future__ import annotations

import dataclasses
import math
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyogrio.raw import read
from pyproj import CRS, Geod

import dingdian
from dingdian.geometry import xy_to_lonlat
from dingdian.write import gis
from dingdian.write.outputs import write_plan_files

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example" / "scenario.yaml"
LAYERS = [("facilities", "Point"), ("cells", "Polygon"), ("counties", "MultiPolygon"),
          ("streets", "MultiPolygon")]


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    plan = dingdian.solve(EXAMPLE, solver="highs", planners=False)
    out = tmp_path_factory.mktemp("gis") / "example"
    plan.write(out)
    return plan, out


def _layer(path: Path, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The layer's fields (a frame, in file order) and its shapely geometries."""
    meta, _, geometry, data = read(path, layer=name)
    return pd.DataFrame(dict(zip(meta["fields"], data, strict=True))), shapely.from_wkb(geometry)


def _csv(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, dtype={"facility_id": str, "cell_id": str},
                       keep_default_na=False)


def test_the_layers_and_their_crs(solved):
    plan, out = solved
    path = out / "plan.gpkg"
    assert [tuple(x) for x in pyogrio.list_layers(path)] == LAYERS
    want = CRS.from_user_input(plan.scenario.config.crs)  # EPSG:32649, projected metres
    for name, _ in LAYERS:
        got = pyogrio.read_info(path, layer=name)["crs"]
        assert CRS.from_user_input(got) == want, name
    # a GeoPackage as QGIS/ArcGIS read it: the 'GPKG' application id, every layer registered
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        rows = db.execute("SELECT table_name, srs_id, description FROM gpkg_contents").fetchall()
    assert sorted(r[0] for r in rows) == sorted(n for n, _ in LAYERS)
    assert {r[1] for r in rows} == {want.to_epsg()}
    assert all(r[2] == gis.DESCRIPTIONS[r[0]] for r in rows)  # Chinese text in the metadata


def test_ogrinfo_opens_it(solved):
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("GDAL's ogrinfo is not installed")
    run = subprocess.run([ogrinfo, "-ro", "-so", "-al", str(solved[1] / "plan.gpkg")],
                         capture_output=True, text=True, check=True)
    assert all(f"Layer name: {n}" in run.stdout for n, _ in LAYERS)


def test_facilities_are_plan_csv(solved):
    _, out = solved
    fields, geoms = _layer(out / "plan.gpkg", "facilities")
    plan = _csv(out, "plan.csv")
    assert list(fields.columns) == list(plan.columns)  # CSV names kept: 2024 … 2030 too
    assert list(fields["facility_id"]) == list(plan["facility_id"])
    years = [c for c in plan.columns if c.isdigit()]
    assert years == [str(y) for y in range(2024, 2031)]
    assert (fields[years].to_numpy() == plan[years].to_numpy()).all()
    assert list(fields["status"]) == list(plan["status"])
    for col in ("admitted_year", "exited_year"):  # empty in the CSV, null in the GeoPackage
        got = ["" if pd.isna(v) else str(int(v)) for v in fields[col]]
        assert got == list(plan[col]), col
    assert list(fields["name"]) == list(plan["name"])  # Chinese round-trips
    assert "东城区仁和诊所" in set(fields["name"]) and "东城区" in set(fields["county"])
    assert list(fields["protected_class"]) == list(plan["protected_class"])
    crs = str(dingdian.load(EXAMPLE).config.crs)
    lon, lat = xy_to_lonlat(shapely.get_x(geoms), shapely.get_y(geoms), crs)
    assert np.allclose(lon, plan["lon"], atol=1e-9) and np.allclose(lat, plan["lat"], atol=1e-9)


def test_cells_are_regular_hexagons(solved):
    plan, out = solved
    fields, geoms = _layer(out / "plan.gpkg", "cells")
    cells = _csv(out, "cells.csv")
    assert list(fields.columns) == list(cells.columns)
    assert list(fields["cell_id"]) == list(cells["cell_id"]) and len(geoms) == len(cells)
    cover = [c for c in cells.columns if c.startswith(("clinic_", "pharmacy_", "blind_spot"))]
    assert (fields[cover].to_numpy() == cells[cover].to_numpy()).all()
    r = cells["radius_m"].to_numpy(float)
    assert set(shapely.get_type_id(geoms)) == {3}  # Polygon
    ring = [np.asarray(g.exterior.coords) for g in geoms]
    assert all(len(c) == 7 and len(np.unique(c[:-1].round(6), axis=0)) == 6 for c in ring)
    area = shapely.area(geoms)
    assert np.all(np.abs(area / (3 * math.sqrt(3) / 2 * r**2) - 1) < 0.005)
    centroid = shapely.centroid(geoms)
    lon, lat = xy_to_lonlat(shapely.get_x(centroid), shapely.get_y(centroid),
                            plan.scenario.config.crs)
    _, _, dist = Geod(ellps="WGS84").inv(lon, lat, cells["lon"].to_numpy(float),
                                         cells["lat"].to_numpy(float))
    assert np.all(dist < 1.0)
    # each vertex lies on the circumcircle: regular, not merely six-sided
    for c, g, radius in zip(ring, centroid, r, strict=True):
        d = np.hypot(c[:-1, 0] - g.x, c[:-1, 1] - g.y)
        assert np.allclose(d, radius, rtol=1e-9)


def test_counties_and_streets(solved):
    plan, out = solved
    sc = plan.scenario
    counties, geoms = _layer(out / "plan.gpkg", "counties")
    assert list(counties["county"]) == list(sc.counties)  # 东城区, 西山县
    assert all(g.is_valid and g.area > 0 for g in geoms)
    counts = _csv(out, "counts.csv")
    rows = counts[counts["street"] == ""].set_index(["county", "kind", "year"]).sort_index()
    targets = sc.targets.set_index(["county", "kind"])
    for rec in counties.to_dict("records"):
        for kind in ("clinic", "pharmacy"):
            for year in range(2024, 2031):
                assert rec[f"{kind}_designated_{year}"] == \
                    rows.loc[(rec["county"], kind, year), "designated"]
            for year in (2028, 2030):
                assert rec[f"{kind}_target_{year}"] == \
                    targets.loc[(rec["county"], kind), f"target_{year}"]
            assert rec[f"{kind}_exited"] == \
                rows.loc[(rec["county"], kind), "exited"].loc[2025:].sum()
    streets, geoms = _layer(out / "plan.gpkg", "streets")
    want = list(dict.fromkeys((a.county, a.street) for a in sc.urban_areas if a.street))
    assert list(zip(streets["county"], streets["street"], strict=True)) == want
    assert set(streets["street"]) == {"东街街道", "西街街道"}
    assert all(g.is_valid and g.area > 0 for g in geoms)


def test_no_streets_layer_without_streets(solved):
    plan, _ = solved
    files = plan.files
    sc = dataclasses.replace(plan.scenario, urban_areas=tuple(
        a for a in plan.scenario.urban_areas if not a.street))
    layers = gis.plan_layers(sc, files.plan, files.cells, files.counts)
    assert [x.name for x in layers.layers] == ["facilities", "cells", "counties"]


def test_a_failed_gpkg_leaves_the_earlier_out_untouched(solved, tmp_path, monkeypatch):
    plan, _ = solved
    out = tmp_path / "out"
    write_plan_files(out, plan.files)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "plan.gpkg" in before

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(gis, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        write_plan_files(out, plan.files)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") is None  # restored


def test_nothing_is_written_without_a_crs(tmp_path):
    assert gis.GeoPackage().write(tmp_path / "plan.gpkg") is None
    assert not (tmp_path / "plan.gpkg").exists()

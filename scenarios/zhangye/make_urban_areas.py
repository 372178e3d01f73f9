"""Write the SYNTHETIC urban-area outlines ``urban_areas.geojson`` (deterministic, no randomness).

No street or town outlines are available offline (see SOURCES.md), so urban areas are drawn
from point estimates of the street centres and county seats (reference/geo/SOURCES.md):

* 甘州区: the six urban streets are the Voronoi cells of the six street centres, clipped to the
  union of 3.0 km disks around the centres and to the 甘州区 outline;
* every other county: one disk around the county seat whose area holds the county's urban
  population (census.csv ``population × urban_share``) at 8,000 persons/km², radius at least
  1.6 km, clipped to the county outline.

Geometry is built in UTM 47N (EPSG:32647) and written in WGS84 lon/lat with 6 decimals.

    python scenarios/zhangye/make_urban_areas.py [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd
import shapely
from shapely.geometry import MultiPoint, Point, mapping, shape

from dingdian.geometry import lonlat_to_xy, project, unproject

HERE = Path(__file__).resolve().parent

CRS = "EPSG:32647"
STREET_RADIUS_M = 3000.0
DENSITY_PER_KM2 = 8000.0
MIN_SEAT_RADIUS_M = 1600.0
NOTE = "SYNTHETIC urban area drawn from point estimates; see SOURCES.md"

# (lat, lon) from reference/geo/SOURCES.md
STREETS = {
    "东街街道": (38.932, 100.462),
    "西街街道": (38.932, 100.440),
    "南街街道": (38.920, 100.452),
    "北街街道": (38.945, 100.452),
    "火车站街道": (38.985, 100.450),
    "滨河新区街道": (38.940, 100.410),
}
SEATS = {
    "临泽县": ("沙河镇", (39.152, 100.164)),
    "高台县": ("城关镇", (39.378, 99.819)),
    "山丹县": ("清泉镇", (38.784, 101.088)),
    "民乐县": ("洪水镇", (38.434, 100.816)),
    "肃南县": ("红湾寺镇", (38.836, 99.616)),
}


def _xy(latlon):
    x, y = lonlat_to_xy(latlon[1], latlon[0], CRS)
    return float(x), float(y)


def _round(geom):
    return shapely.set_precision(geom, 1e-6) if geom is not None else geom


def build() -> dict:
    counties = json.loads((HERE / "counties.geojson").read_text(encoding="utf-8"))
    outline = {f["properties"]["short_name"]: project(shape(f["geometry"]), CRS)
               for f in counties["features"]}
    census = pd.read_csv(HERE / "census.csv").set_index("county")
    features = []

    def add(county, street, name, kind, geom_xy, extra):
        geom = _round(unproject(geom_xy, CRS))
        props = {"county": county, "street": street, "name": name, "kind": kind,
                 "synthetic": True, "note": NOTE, **extra}
        features.append({"type": "Feature", "properties": props, "geometry": mapping(geom)})

    pts = {s: Point(_xy(ll)) for s, ll in STREETS.items()}
    disks = shapely.union_all([p.buffer(STREET_RADIUS_M, quad_segs=32) for p in pts.values()])
    envelope = disks.envelope.buffer(10 * STREET_RADIUS_M)
    cells = shapely.voronoi_polygons(MultiPoint(list(pts.values())), extend_to=envelope)
    for street, p in pts.items():
        cell = next(c for c in cells.geoms if c.contains(p))
        geom = cell.intersection(disks).intersection(outline["甘州区"])
        add("甘州区", street, f"甘州区{street}（合成城区）", "street", geom,
            {"area_km2": round(geom.area / 1e6, 3)})
    for county, (town, ll) in SEATS.items():
        row = census.loc[county]
        urban_pop = float(row["population"]) * float(row["urban_share"])
        r = max(MIN_SEAT_RADIUS_M, math.sqrt(urban_pop / DENSITY_PER_KM2 / math.pi) * 1000.0)
        geom = Point(_xy(ll)).buffer(r, quad_segs=32).intersection(outline[county])
        add(county, "", f"{county}城区（{town}，合成）", "county_seat", geom,
            {"radius_m": round(r, 1), "area_km2": round(geom.area / 1e6, 3)})
    return {"type": "FeatureCollection", "name": "zhangye_urban_areas_synthetic",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
            "features": features}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "urban_areas.geojson")
    args = ap.parse_args(argv)
    text = json.dumps(build(), ensure_ascii=False, indent=1)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

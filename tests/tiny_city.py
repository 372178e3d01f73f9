"""A tiny fictional city written as a complete scenario folder, for end-to-end tests.

示例市 (fictional) has one county, 甲县: a 4 km square around (115.0° E, 35.0° N), projected
in UTM 50N (EPSG:32650), with one urban area of 2 km × 2 km at its centre and 20,000 people.
All its facilities stand within 150 m of the centre, so they share one urban service cell:

* pharmacies: P1 (score 90), P2 (80), P3 (60) designated in 2024; applicant A1 (95);
* clinics: C1 (85), C2 (70) designated in 2024.

Targets: 2 pharmacies in 2028 and 2030 (from 3), 2 clinics throughout. Yearly limits: at most
one pharmacy exit and no admission a year; clinics may neither enter nor leave.

The plan by hand: the pharmacies must lose one by 2028 and may admit none, so one of P1–P3
exits, and A1 never enters. Every exit costs the exited facility's score plus the churn cost
(8c), so the cheapest is P3 (60, 末位淘汰). The year: the three share one urban cell, where
each facility beyond the first costs the crowding weight every year (8b, 服务圈内原则上配置1家);
exiting in 2025 saves that cost in 2025–2027 against any later year, and the exit costs the
same in every year, so P3 exits in 2025. The two clinics stay (targets equal to the stock, no
limit to move). Every cell covered in 2024 stays covered: P1 and P2 stay where P3 was.

The infeasible twin (``exit_limit=0``): the 2028 target of 2 needs 1 exit, the limits allow 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pyproj import Transformer

CENTRE = (115.0, 35.0)
CRS = "EPSG:32650"
FACILITIES = [  # id, name, kind, category, east/north offset from the centre (m), status, score
    ("P1", "甲县大药房", "pharmacy", "single_pharmacy", (0, 0), "existing", 90),
    ("P2", "甲县康宁药店", "pharmacy", "chain_pharmacy", (100, 0), "existing", 80),
    ("P3", "甲县利民药店", "pharmacy", "single_pharmacy", (0, 100), "existing", 60),
    ("A1", "甲县新开药店", "pharmacy", "chain_pharmacy", (-100, 0), "applicant", 95),
    ("C1", "甲县仁和诊所", "clinic", "clinic", (50, 50), "existing", 85),
    ("C2", "甲县同心诊所", "clinic", "clinic", (-50, -50), "existing", 70),
]
YEARS = [2025, 2026, 2027, 2028, 2029, 2030]


def _square(half_m: float) -> list[list[float]]:
    """A square ring of half-side ``half_m`` around the centre, as lon/lat."""
    to_xy = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    x, y = to_xy.transform(*CENTRE)
    ring = [(x - half_m, y - half_m), (x + half_m, y - half_m), (x + half_m, y + half_m),
            (x - half_m, y + half_m), (x - half_m, y - half_m)]
    return [list(map(lambda v: round(v, 7), to_ll.transform(px, py))) for px, py in ring]


def _point(dx: float, dy: float) -> tuple[float, float]:
    to_xy = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    x, y = to_xy.transform(*CENTRE)
    lon, lat = to_ll.transform(x + dx, y + dy)
    return round(lon, 6), round(lat, 6)


def _geojson(features: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def write_tiny_city(folder: Path, exit_limit: int = 1, shift_m: tuple[float, float] = (0, 0)
                    ) -> Path:
    """Write 示例市 to ``folder``; return its scenario.yaml. ``exit_limit`` is the yearly
    pharmacy exit limit (0 makes the plan infeasible); ``shift_m`` moves every facility east and
    north by that many metres (1,850 m east puts them just inside the county's east border)."""
    folder.mkdir(parents=True, exist_ok=True)
    county = {"type": "Feature", "properties": {"short_name": "甲县"},
              "geometry": {"type": "Polygon", "coordinates": [_square(2000)]}}
    urban = {"type": "Feature", "properties": {"county": "甲县", "street": "", "name": "甲县城区"},
             "geometry": {"type": "Polygon", "coordinates": [_square(1000)]}}
    (folder / "counties.geojson").write_text(_geojson([county]), encoding="utf-8")
    (folder / "urban_areas.geojson").write_text(_geojson([urban]), encoding="utf-8")
    (folder / "census.csv").write_text("county,population,urban_share\n甲县,20000,0.5\n",
                                       encoding="utf-8")
    rows = ["facility_id,name,kind,category,county,street,lon,lat,status,score"]
    for fid, name, kind, category, (dx, dy), status, score in FACILITIES:
        lon, lat = _point(dx + shift_m[0], dy + shift_m[1])
        rows.append(f"{fid},{name},{kind},{category},甲县,,{lon},{lat},{status},{score}")
    (folder / "facilities.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "targets.csv").write_text(
        "county,kind,existing_2024,target_2028,target_2030\n"
        "甲县,clinic,2,2,2\n甲县,pharmacy,3,2,2\n", encoding="utf-8")
    quotas = ["county,kind,year,admit,exit"]
    quotas += [f"甲县,clinic,{y},0,0" for y in YEARS]
    quotas += [f"甲县,pharmacy,{y},0,{exit_limit}" for y in YEARS]
    (folder / "quotas_county.csv").write_text("\n".join(quotas) + "\n", encoding="utf-8")
    config = {
        "name": "tiny-city", "title": "示例市（虚构）定点医药机构配置规划",
        "synthetic": "A fictional city for the tests: every figure is made up.",
        "city": "示例市", "crs": CRS, "base_year": 2024, "years": YEARS,
        "files": {"counties": "counties.geojson", "census": "census.csv",
                  "urban_areas": "urban_areas.geojson", "facilities": "facilities.csv",
                  "targets": "targets.csv", "county_quotas": "quotas_county.csv"},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def run(*args):
    """``dingdian *args`` through click's runner (stdout and stderr kept apart)."""
    from click.testing import CliRunner

    from dingdian.cli.main import main
    return CliRunner().invoke(main, [str(a) for a in args])


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a text file by ``new`` (``old`` must be there)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")

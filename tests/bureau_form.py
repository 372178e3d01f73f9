"""A scenario rewritten as a bureau has its data: the same city, other forms.

:func:`bureau_form` copies a scenario written as clean UTF-8 CSV, WGS-84 points and GeoJSON
outlines (the shipped format) into the forms a bureau's own files take:

* the tables in one workbook, ``规划数据.xlsx``, one sheet per table (the names of
  :data:`dingdian.scenario.aliases.SHEETS`), with Chinese headings and Chinese values (诊所,
  连锁药店, 现有, 是/否, ``2028年目标``), a title row above the facilities' headings and an
  empty row below the data, as planners' sheets have;
* the census as a CSV saved by Excel on Chinese Windows: GBK, Chinese headings;
* the facility points as 高德 gives them, GCJ-02 (``coordinates: gcj02``);
* the county outlines as a GeoPackage in CGCS2000 / 3-degree Gauss-Kruger (EPSG:4547 … the
  zone of the city), the urban areas as a Shapefile in UTM.

Every figure stays the same; only the form changes, so the plan must not.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
import yaml
from openpyxl import Workbook
from shapely.geometry import shape

from dingdian.coords import wgs84_to_gcj02
from dingdian.scenario.aliases import COLUMNS, SHEETS, VALUES

WORKBOOK = "规划数据.xlsx"
#: code → the first Chinese value that stands for it, per coded column
CHINESE = {col: {code: zh for zh, code in reversed(list(table.items()))}
           for col, table in VALUES.items()}
YES_NO = {"1": "是", "0": "否", "": "", "true": "是", "false": "否"}


def _heading(code: str) -> str:
    if code.startswith("existing_"):
        return f"{code[-4:]}年现有"
    if code.startswith("target_"):
        return f"{code[-4:]}年目标"
    names = COLUMNS.get(code)
    return names[0] if names else code


def _chinese(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if col in CHINESE:
            out[col] = out[col].map(lambda v, col=col: CHINESE[col].get(v, v))
        if col in ("protected", "compliant", "warning_letter"):
            out[col] = out[col].map(lambda v: YES_NO.get(str(v).lower(), v))
    return out.rename(columns=_heading)


def _gk_crs(lon: float) -> str:
    """CGCS2000 / 3-degree Gauss-Kruger CM of ``lon`` (EPSG:4534 = CM 75E … 4554 = CM 135E)."""
    return f"EPSG:{4534 + round((lon - 75) / 3)}"


def _write_outlines(src: Path, dst: Path, crs: str, **kwargs) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    geoms = np.array([shape(f["geometry"]) for f in data["features"]], dtype=object)
    keys = list(dict.fromkeys(k for f in data["features"] for k in f["properties"]))
    fields = [np.array(["" if f["properties"].get(k) is None else str(f["properties"][k])
                        for f in data["features"]], dtype=object) for k in keys]
    tr = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    geoms = shapely.transform(geoms, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    pyogrio.raw.write(dst, shapely.to_wkb(geoms), fields, keys, crs=crs,
                      geometry_type="MultiPolygon", promote_to_multi=True, **kwargs)


def bureau_form(src: Path, dst: Path) -> Path:
    """Rewrite the scenario folder ``src`` (scenario.yaml, CSV, GeoJSON) into ``dst`` in the
    bureau's forms (module docstring); return the new scenario.yaml."""
    cfg = yaml.safe_load((src / "scenario.yaml").read_text(encoding="utf-8"))
    dst.mkdir(parents=True)
    files = cfg["files"]
    tables = {key: pd.read_csv(src / files[key], dtype=str, keep_default_na=False)
              for key in ("census", "facilities", "targets", "county_quotas", "street_quotas",
                          "fund") if files.get(key)}
    fac = tables["facilities"]
    lon, lat = wgs84_to_gcj02(fac["lon"].astype(float).to_numpy(),
                              fac["lat"].astype(float).to_numpy())
    # 7 decimals (1 cm): a bureau's export has 6, but a 10 cm shift could move a facility
    # across a service circle's edge and so change the plan, which is not what is tested here
    fac["lon"], fac["lat"] = [f"{v:.7f}" for v in lon], [f"{v:.7f}" for v in lat]

    wb = Workbook()
    wb.remove(wb.active)
    for key, frame in tables.items():
        if key == "census":
            continue
        ws = wb.create_sheet(SHEETS[key])
        zh = _chinese(frame)
        if key == "facilities":
            ws.append([f"{cfg.get('city') or ''}定点医药机构名单（坐标：高德）"])
        ws.append(list(zh.columns))
        for row in zh.itertuples(index=False):
            ws.append([int(v) if v.lstrip("-").isdigit() and len(v) < 10 else v for v in row])
        ws.append([])
        files[key] = f"{WORKBOOK}#{SHEETS[key]}" if key != "facilities" else WORKBOOK
    wb.save(dst / WORKBOOK)
    census = _chinese(tables["census"])
    (dst / "县区人口.csv").write_bytes(census.to_csv(index=False).encode("gbk"))
    if cfg.get("beds"):  # the beds plan reads the scenario's census file itself
        shutil.copy(src / "census.csv", dst / "census.csv")
    files["census"] = "县区人口.csv"

    counties = json.loads((src / files["counties"]).read_text(encoding="utf-8"))
    centre = shapely.centroid(shapely.union_all([shape(f["geometry"])
                                                 for f in counties["features"]]))
    _write_outlines(src / files["counties"], dst / "县区边界.gpkg", _gk_crs(centre.x),
                    layer="县区")
    files["counties"] = "县区边界.gpkg"
    zone = 32600 + math.floor((centre.x + 180) / 6) + 1
    _write_outlines(src / files["urban_areas"], dst / "城区范围.shp", f"EPSG:{zone}",
                    encoding="UTF-8")
    files["urban_areas"] = "城区范围.shp"
    cfg["coordinates"] = "gcj02"
    for key in ("beds", "nursing"):
        if cfg.get(key):
            shutil.copytree(src / Path(cfg[key]).parent, dst / Path(cfg[key]).parent)
    path = dst / "scenario.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path

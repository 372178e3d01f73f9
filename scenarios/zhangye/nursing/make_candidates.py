"""Write the SYNTHETIC candidate home-care sites ``candidates.csv`` (张掖 四(三)1).

Deterministic: ``numpy.random.default_rng(2025)``, fixed draw order, coordinates rounded to six
decimals; ``python scenarios/zhangye/nursing/make_candidates.py`` rewrites the file byte for
byte. Reads the site scenario (``../scenario.yaml``: cells, populations, facilities.csv) and
``elderly.csv`` next to this script, so candidates lie at real-geography addresses of the
(synthetic) facility list:

* every community health centre (社区卫生服务中心) is a candidate (``community_health_centre``:
  a community elderly-care station next to it);
* each populated cell needs ``n = ceil(elderly / 2,000)`` candidates inside it (so that serving
  every resident aged 60+ is possible, ``min_sites`` mode); the centres in the cell count, the
  rest are drawn without replacement from the cell's existing village clinics (rural cells:
  ``village_care``, a village mutual-aid elderly home, 村级互助幸福院) or its existing clinics
  and pharmacies (urban cells: ``elderly_care``, an elderly-care institution, 养老服务机构);
  when the cell holds too few addresses, uniform points within 0.8 × the radius of the cell
  centre, inside the county outline;
* a candidate's county is the county of the address it sits on (a cell may straddle a border);
* ids ``NC-0001…`` in county order (counties.geojson), then cell id, then draw order.

    python scenarios/zhangye/nursing/make_candidates.py [--out PATH]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from dingdian.geometry import xy_to_lonlat
from dingdian.planners.nursing import elderly_cells
from dingdian.scenario.loader import load_scenario
from dingdian.scenario.nursing import read_elderly

HERE = Path(__file__).resolve().parent

SEED = 2025
PER_SITE = 2000  # 四(三)1
LABEL = {"community_health_centre": "社区养老服务站", "village_care": "村级互助幸福院",
         "elderly_care": "养老服务机构"}


def candidates() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    sc = load_scenario(HERE.parent / "scenario.yaml")
    cells = elderly_cells(sc.cells, read_elderly(HERE / "elderly.csv", sc.census, 0.04))
    fac = sc.facilities[sc.facilities["status"] == "existing"]
    rows = []
    for f in fac[fac["category"] == "community_health_centre"].itertuples(index=False):
        rows.append((f.county, f.cell_id, "community_health_centre", f.lon, f.lat))
    chc = pd.Series([r[1] for r in rows]).value_counts()
    order = {c: k for k, c in enumerate(sc.counties)}
    for c in cells[cells["elderly"] > 0].itertuples(index=False):
        need = math.ceil(c.elderly / PER_SITE) - int(chc.get(c.cell_id, 0))
        if need <= 0:
            continue
        here = fac[fac["cell_id"] == c.cell_id]
        cat = "village_care" if c.zone == "rural" else "elderly_care"
        pool = here[here["category"] == "village_clinic"] if c.zone == "rural" else here[
            here["category"].isin(["clinic", "chain_pharmacy", "single_pharmacy"])]
        take = rng.permutation(len(pool))[:need]
        for k in take:
            f = pool.iloc[int(k)]
            rows.append((f["county"], c.cell_id, cat, f["lon"], f["lat"]))
        outline = sc.counties[c.county]
        while len(take) < need:
            ang, rad = rng.uniform(0, 2 * math.pi), 0.8 * c.radius_m * math.sqrt(rng.uniform())
            lon, lat = xy_to_lonlat(c.x + rad * math.cos(ang), c.y + rad * math.sin(ang),
                                    sc.config.crs)
            if shapely.intersects_xy(outline, float(lon), float(lat)):
                rows.append((c.county, c.cell_id, cat, float(lon), float(lat)))
                take = np.append(take, -1)
    frame = pd.DataFrame(rows, columns=["county", "cell_id", "category", "lon", "lat"])
    frame["_c"] = frame["county"].map(order)
    frame = frame.sort_values(["_c", "cell_id"], kind="stable").reset_index(drop=True)
    frame["site_id"] = [f"NC-{k:04d}" for k in range(1, len(frame) + 1)]
    seq = frame.groupby(["county", "category"]).cumcount() + 1
    frame["name"] = [f"{c}{LABEL[k]}{n:03d}" for c, k, n in
                     zip(frame["county"], frame["category"], seq, strict=True)]
    frame["lon"], frame["lat"] = frame["lon"].round(6), frame["lat"].round(6)
    frame["source"] = "SYNTHETIC (make_candidates.py, seed 2025)"
    return frame[["site_id", "name", "category", "county", "lon", "lat", "source"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "candidates.csv")
    args = ap.parse_args()
    frame = candidates()
    frame.to_csv(args.out, index=False, encoding="utf-8", float_format="%.6f", lineterminator="\n")
    print(f"{len(frame)} candidates → {args.out}")
    print(frame.groupby(["county", "category"]).size().to_string())


if __name__ == "__main__":
    main()

"""Write the SYNTHETIC facility list ``facilities.csv`` for the Zhangye scenario.

Deterministic: ``numpy.random.default_rng(2024)``, fixed draw order, coordinates rounded to six
decimals; ``python scenarios/zhangye/make_facilities.py`` rewrites the file byte for byte.
Reads counties.geojson, urban_areas.geojson, targets.csv and the quota files next to it.

What is real: the 2024 counts (section 一(一) and 表2/表3: 288 clinics, 739 village clinics,
40 community health centres; 289 chain and 325 single pharmacies) and the per-county totals.
Everything else — locations, scores, applicants, names — is invented as follows:

* clinic-kind split per county (village clinic, CHC, clinic) as in ``SPLIT`` (sums to 表2's
  existing counts); pharmacies per county from 表3, chain/single by largest remainder;
* 8–20 township centres per county (≈ villages/10), drawn around the seat (normal, σ = 0.35·√area,
  ≥ 4 km apart, inside the outline and outside urban areas); village clinics cluster around
  them (σ = 2.5 km);
* 甘州区 urban streets get the clinic/pharmacy counts of ``GZ_CLINICS``/``GZ_PHARMACIES`` and one
  CHC each; other counties put round(70 %) of clinics and pharmacies and one CHC in the seat's
  urban area; the rest go near villages (σ = 600 m) and extra CHCs to township centres;
* urban points: normal around the area's centre (σ = 0.6 × equivalent radius), rejection-sampled
  inside the area; then every urban cell gets an existing clinic and pharmacy within the urban
  radius — if not, one facility is moved from the most crowded cell (reported);
* applicants: per county and kind ≈ 2.5 × the 2025–2030 admission quotas, available_from spread
  over the years (each year with a quota gets one); 甘州区 in streets ∝ street admit quotas,
  elsewhere half in the seat area and half in populated rural cells no existing pharmacy reaches
  within the rural radius (fillable blind spots, 优先受理服务盲区);
* scores: existing 考核得分 ~ N(82, 8) clipped 50–100; applicants 公开评议 ~ N(85, 6) clipped 60–100.

    python scenarios/zhangye/make_facilities.py [--out PATH] [--seed N]

``--seed`` (default 2024, the shipped file) draws another Zhangye-like city with the same
counts, targets and quotas; ``benchmarks/generate.py`` uses seeds 2024, 2025, … to build
province-sized benchmark instances.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from dingdian.geometry import (
    largest_remainder,
    lattice_index,
    lonlat_to_xy,
    project,
    within_radius,
    xy_to_lonlat,
)
from dingdian.scenario.cells import UrbanArea, build_cells
from dingdian.scenario.outlines import read_features
from dingdian.scenario.variants import read_config

HERE = Path(__file__).resolve().parent

SEED = 2024
COUNTIES = ("甘州区", "临泽县", "高台县", "山丹县", "民乐县", "肃南县")
SPLIT = {  # (village_clinic, community_health_centre, clinic)
    "甘州区": (230, 16, 195), "临泽县": (70, 5, 21), "高台县": (115, 5, 19),
    "山丹县": (115, 5, 20), "民乐县": (187, 6, 27), "肃南县": (22, 3, 6),
}
CHAIN_TOTAL, SINGLE_TOTAL = 289, 325
GZ_CLINICS = {"东街街道": 25, "西街街道": 22, "南街街道": 40, "北街街道": 38, "滨河新区街道": 15,
              "火车站街道": 10}
GZ_PHARMACIES = {"东街街道": 35, "西街街道": 55, "南街街道": 45, "北街街道": 60,
                 "滨河新区街道": 40, "火车站街道": 15}
CENTRES = {  # (lat, lon), reference/geo/SOURCES.md
    "东街街道": (38.932, 100.462), "西街街道": (38.932, 100.440), "南街街道": (38.920, 100.452),
    "北街街道": (38.945, 100.452), "火车站街道": (38.985, 100.450), "滨河新区街道": (38.940, 100.410),
    "甘州区": (38.932, 100.455), "临泽县": (39.152, 100.164), "高台县": (39.378, 99.819),
    "山丹县": (38.784, 101.088), "民乐县": (38.434, 100.816), "肃南县": (38.836, 99.616),
}
URBAN_SHARE = 0.7
APPLICANT_FACTOR = 2.5
COLUMNS = ["facility_id", "name", "kind", "category", "county", "street", "lon", "lat", "status",
           "score", "available_from", "protected", "compliant", "speciality"]
#: the allocation columns (compliant, speciality) draw from a generator of their own, after every
#: other value, so that adding them left every earlier column byte for byte as it was
ATTRIBUTE_SEED = 2031
SPECIALITIES = ("psychiatric", "children", "nursing")
WORD = {"clinic": "诊所", "community_health_centre": "社区卫生服务中心",
        "village_clinic": "村卫生室", "chain_pharmacy": "连锁药店", "single_pharmacy": "单体药店"}


class World:
    """Outlines, urban areas and cells, in lon/lat (file precision) and projected."""

    def __init__(self, yaml_path: Path):
        self.cfg = read_config(yaml_path)
        self.crs = self.cfg.crs
        f = self.cfg.files
        self.county_ll = {p["short_name"]: g for p, g in
                          read_features(HERE / f.counties, ["short_name"])}
        self.county_xy = {k: project(g, self.crs) for k, g in self.county_ll.items()}
        feats = read_features(HERE / f.urban_areas, ["county", "street", "name"])
        self.urban = [UrbanArea(p["county"], p["street"], p["name"], project(g, self.crs))
                      for p, g in feats]
        self.area_ll = {(p["county"], p["street"]): g for p, g in feats}
        self.urban_ll = shapely.union_all([g for _, g in feats])
        for g in [*self.county_ll.values(), *self.area_ll.values(), self.urban_ll]:
            shapely.prepare(g)
        grid = self.cfg.grid
        self.r_urban, self.r_rural = grid.urban_radius_m, grid.rural_radius_m
        self.cells = build_cells(self.county_xy, self.urban, self.r_urban, self.r_rural, self.crs)

    def centre_xy(self, key: str) -> np.ndarray:
        lat, lon = CENTRES[key]
        return np.array([float(v) for v in lonlat_to_xy(lon, lat, self.crs)])


def to_ll(world: World, xy: np.ndarray) -> np.ndarray:
    lon, lat = xy_to_lonlat(xy[:, 0], xy[:, 1], world.crs)
    return np.round(np.column_stack([lon, lat]), 6)


def sample(world, rng, n, centre, sigma, county, area=None, rural=False, max_r=None):
    """``n`` rounded lon/lat points ~ N(centre, σ²) inside ``county`` (and the urban ``area``
    key, or outside every urban area when ``rural``), optionally within ``max_r`` of centre."""
    out = np.zeros((0, 2))
    while len(out) < n:
        xy = centre + rng.normal(0.0, sigma, size=(max(8, 4 * (n - len(out))), 2))
        ll = to_ll(world, xy)
        ok = shapely.contains_xy(world.county_ll[county], ll[:, 0], ll[:, 1])
        if area is not None:
            ok &= shapely.contains_xy(world.area_ll[area], ll[:, 0], ll[:, 1])
        if rural:
            ok &= ~shapely.intersects_xy(world.urban_ll, ll[:, 0], ll[:, 1])
        if max_r is not None:
            ok &= np.hypot(*(xy - centre).T) <= max_r
        out = np.vstack([out, ll[ok]])
    return out[:n]


def xy_of(world, ll) -> np.ndarray:
    return np.column_stack(lonlat_to_xy(ll[:, 0], ll[:, 1], world.crs))


def townships(world, rng, county, n_village) -> np.ndarray:
    n = int(min(20, max(8, round(n_village / 10))))
    seat = world.centre_xy(county)
    sigma = 0.35 * math.sqrt(world.county_xy[county].area)
    chosen: list[np.ndarray] = []
    while len(chosen) < n:
        p = xy_of(world, sample(world, rng, 1, seat, sigma, county, rural=True))[0]
        if all(np.hypot(*(p - q)) >= 4000.0 for q in chosen):
            chosen.append(p)
    return np.array(chosen)


def area_sampler(world, county, street):
    """(centre, σ) for points in an urban area: its named centre, σ = 0.6 × √(area/π)."""
    area = next(a for a in world.urban if a.county == county and a.street == street)
    centre = world.centre_xy(street or county)
    return centre, 0.6 * math.sqrt(area.geom.area / math.pi)


def fix_urban_cover(world, rng, rows, county, street) -> int:
    """Move facilities so that every urban cell of the area has an existing clinic and
    pharmacy within the urban radius; returns the number of moves."""
    cells = world.cells[(world.cells["zone"] == "urban") & (world.cells["county"] == county)
                        & (world.cells["street"] == street)]
    cxy = cells[["x", "y"]].to_numpy()
    moves = 0
    for kind in ("clinic", "pharmacy"):
        mine = [r for r in rows if r["kind"] == kind and r["county"] == county
                and r["street"] == street and r["status"] == "existing" and r["urban"]]
        while True:
            fxy = np.array([r["xy"] for r in mine]).reshape(-1, 2)
            near = within_radius(cxy, fxy, world.r_urban)
            bad = [i for i, nb in enumerate(near) if len(nb) == 0]
            if not bad:
                break
            count = np.zeros(len(mine), dtype=int)
            for nb in near:
                count[nb] += 1
            cover = np.array([min((len(near[c]) for c in range(len(cxy)) if j in near[c]),
                                  default=99) for j in range(len(mine))])
            movable = [j for j in range(len(mine)) if cover[j] >= 2 and not mine[j]["protected"]]
            if not movable:
                raise SystemExit(f"cannot cover {county}{street} {kind}: too few facilities")
            j = max(movable, key=lambda j: (cover[j], count[j], -j))
            centre = cxy[bad[0]]
            ll = sample(world, rng, 1, centre, 0.3 * world.r_urban, county,
                        area=(county, street), max_r=0.8 * world.r_urban)
            mine[j]["ll"], mine[j]["xy"] = ll[0], xy_of(world, ll)[0]
            moves += 1
    return moves


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Write the synthetic Zhangye facilities.csv")
    ap.add_argument("--out", type=Path, default=HERE / "facilities.csv")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    text, n_existing, n_applicants, moves = generate(args.seed)
    args.out.write_bytes(text.encode("utf-8"))
    print(f"wrote {args.out}: {n_existing} existing, {n_applicants} applicants, "
          f"{moves} facilities moved to cover urban cells")


def generate(seed: int = SEED, world: World | None = None) -> tuple[str, int, int, int]:
    """facilities.csv's text for ``seed``, the existing and applicant counts and the number of
    facilities moved to cover urban cells. ``world`` may be passed in to reuse it."""
    world = world or World(HERE / "scenario.yaml")
    rng = np.random.default_rng(seed)
    targets = pd.read_csv(HERE / "targets.csv").set_index(["county", "kind"])
    qc = pd.read_csv(HERE / "quotas_county.csv")
    qs = pd.read_csv(HERE / "quotas_street.csv")
    ph_total = [int(targets.loc[(c, "pharmacy"), "existing_2024"]) for c in COUNTIES]
    chain = dict(zip(COUNTIES, largest_remainder(CHAIN_TOTAL, ph_total), strict=True))
    rows: list[dict] = []

    def add(ll, kind, category, county, street="", urban=False, status="existing", year=None):
        for p in np.asarray(ll).reshape(-1, 2):
            rows.append({"kind": kind, "category": category, "county": county, "street": street,
                         "ll": p, "xy": xy_of(world, p[None, :])[0], "urban": urban,
                         "status": status, "year": year,
                         "protected": category in ("village_clinic", "community_health_centre")})

    moves = 0
    for county in COUNTIES:
        n_vil, n_chc, n_cli = SPLIT[county]
        n_ph = int(targets.loc[(county, "pharmacy"), "existing_2024"])
        assert n_vil + n_chc + n_cli == int(targets.loc[(county, "clinic"), "existing_2024"])
        towns = townships(world, rng, county, n_vil)
        pick = rng.integers(0, len(towns), size=n_vil)
        vil = np.vstack([sample(world, rng, 1, towns[t], 2500.0, county, rural=True) for t in pick])
        add(vil, "clinic", "village_clinic", county)
        streets = list(GZ_CLINICS) if county == "甘州区" else [""]
        n_urban_cli = GZ_CLINICS if county == "甘州区" else {"": round(URBAN_SHARE * n_cli)}
        n_urban_ph = GZ_PHARMACIES if county == "甘州区" else {"": round(URBAN_SHARE * n_ph)}
        ph_cats = np.array(["chain_pharmacy"] * chain[county]
                           + ["single_pharmacy"] * (n_ph - chain[county]))[rng.permutation(n_ph)]
        ph_cats = list(ph_cats)
        for street in streets:
            centre, sigma = area_sampler(world, county, street)
            area = (county, street)
            add(sample(world, rng, 1, centre, sigma / 2, county, area), "clinic",
                "community_health_centre", county, street, urban=True)
            add(sample(world, rng, n_urban_cli[street], centre, sigma, county, area), "clinic",
                "clinic", county, street, urban=True)
            for p in sample(world, rng, n_urban_ph[street], centre, sigma, county, area):
                add(p, "pharmacy", ph_cats.pop(), county, street, urban=True)
        n_rural_chc = n_chc - len(streets)
        for t in rng.choice(len(towns), size=n_rural_chc, replace=n_rural_chc > len(towns)):
            add(sample(world, rng, 1, towns[t], 300.0, county, rural=True), "clinic",
                "community_health_centre", county)
        for kind, n in (("clinic", n_cli - sum(n_urban_cli.values())),
                        ("pharmacy", n_ph - sum(n_urban_ph.values()))):
            for v in rng.integers(0, len(vil), size=n):
                p = sample(world, rng, 1, xy_of(world, vil[v][None, :])[0], 600.0, county,
                           rural=True)
                add(p, kind, "clinic" if kind == "clinic" else ph_cats.pop(), county)
        assert not ph_cats
        for street in streets:
            moves += fix_urban_cover(world, rng, rows, county, street)

    n_existing = len(rows)
    for county in COUNTIES:
        for kind in ("clinic", "pharmacy"):
            place_applicants(world, rng, rows, county, kind, qc, qs)

    scores = np.clip(np.round(rng.normal(82, 8, n_existing)), 50, 100)
    scores = np.concatenate([scores, np.clip(np.round(rng.normal(85, 6, len(rows) - n_existing)),
                                             60, 100)])
    for r, s in zip(rows, scores, strict=True):
        r["score"] = int(s)
    return render(rows), n_existing, len(rows) - n_existing, moves


def spread_years(rng, n, admits: pd.Series) -> list[int]:
    """``n`` years: one for each year with a quota (while n lasts), the rest ∝ the quotas."""
    years = [int(y) for y, a in admits.items() if a > 0]
    first = years[:n]
    w = admits.to_numpy(float)
    rest = rng.choice(admits.index.to_numpy(), size=n - len(first), p=w / w.sum()) if w.sum() else []
    out = first + [int(y) for y in rest]
    return [out[i] for i in rng.permutation(len(out))]


def place_applicants(world, rng, rows, county, kind, qc, qs) -> None:
    q = qc[(qc["county"] == county) & (qc["kind"] == kind)].set_index("year")["admit"]
    n = int(math.floor(APPLICANT_FACTOR * q.sum() + 0.5))
    cat = "clinic" if kind == "clinic" else None

    def category():
        if cat:
            return cat
        return "chain_pharmacy" if rng.random() < 0.5 else "single_pharmacy"

    if county == "甘州区":
        s = qs[(qs["county"] == county) & (qs["kind"] == kind)]
        totals = s.groupby("street", sort=False)["admit"].sum()
        for street, k in zip(totals.index, largest_remainder(n, totals.to_numpy()), strict=True):
            centre, sigma = area_sampler(world, county, street)
            years = spread_years(rng, int(k), s[s["street"] == street].set_index("year")["admit"])
            pts = sample(world, rng, int(k), centre, sigma, county, (county, street))
            for p, y in zip(pts, years, strict=True):
                rows.append(_app(world, p, kind, category(), county, street, y, True))
        return
    years = spread_years(rng, n, q)
    n_urban = n // 2
    centre, sigma = area_sampler(world, county, "")
    for p, y in zip(sample(world, rng, n_urban, centre, sigma, county, (county, "")),
                    years[:n_urban], strict=True):
        rows.append(_app(world, p, kind, category(), county, "", y, True))
    # rural: populated rural cells (a village clinic inside) that no existing pharmacy reaches
    cells = world.cells[(world.cells["zone"] == "rural") & (world.cells["county"] == county)]
    cxy = cells[["x", "y"]].to_numpy()
    vil = np.array([r["xy"] for r in rows if r["county"] == county
                    and r["category"] == "village_clinic"]).reshape(-1, 2)
    vil_cells = {tuple(ix) for ix in lattice_index(vil, world.r_rural, world.cells.attrs["origin"])}
    populated = np.array([(c, r) in vil_cells for c, r in zip(cells["col"], cells["row"],
                                                                strict=True)], dtype=bool)
    ph = np.array([r["xy"] for r in rows if r["kind"] == "pharmacy"
                   and r["status"] == "existing"]).reshape(-1, 2)
    reached = np.array([len(v) > 0 for v in within_radius(cxy, ph, world.r_rural)])
    cand = np.flatnonzero(populated & ~reached)
    m = n - n_urban
    picks = rng.choice(cand, size=m, replace=m > len(cand)) if len(cand) else []
    for c, y in zip(picks, years[n_urban:], strict=True):
        p = sample(world, rng, 1, cxy[c], 0.25 * world.r_rural, county, rural=True,
                   max_r=0.6 * world.r_rural)[0]
        rows.append(_app(world, p, kind, category(), county, "", y, False))


def _app(world, p, kind, category, county, street, year, urban) -> dict:
    return {"kind": kind, "category": category, "county": county, "street": street, "ll": p,
            "xy": xy_of(world, p[None, :])[0], "urban": urban, "status": "applicant",
            "year": year, "protected": False}


def render(rows: list[dict]) -> str:
    """IDs, names and CSV text (existing clinics, pharmacies, then applicants).

    The allocation columns (dingdian.scenario.allocation), drawn in output order from
    ``default_rng(ATTRIBUTE_SEED)``: ``compliant`` for pharmacies, 0 with probability 5 %
    (资质合规, the roles' eligibility; blank for clinics), and ``speciality`` for clinic
    applicants, one of ``SPECIALITIES`` with probability 12 % (精神、儿童、护理类急需资源,
    五(一)4), blank otherwise.
    """
    corder = {c: i for i, c in enumerate(COUNTIES)}
    sorder = {s: i for i, s in enumerate([*GZ_CLINICS, ""])}
    catorder = {c: i for i, c in enumerate(WORD)}
    for i, r in enumerate(rows):
        r["_i"] = i
    out = []
    for status, kind, prefix, width in (("existing", "clinic", "ZY-C-", 4),
                                        ("existing", "pharmacy", "ZY-P-", 4),
                                        ("applicant", "clinic", "ZY-AC-", 3),
                                        ("applicant", "pharmacy", "ZY-AP-", 3)):
        sel = [r for r in rows if r["status"] == status and r["kind"] == kind]
        sel.sort(key=lambda r: (corder[r["county"]], sorder[r["street"]],
                                r["year"] or 0, catorder[r["category"]], r["_i"]))
        seq: dict[tuple, int] = {}
        for n, r in enumerate(sel, start=1):
            r["facility_id"] = f"{prefix}{n:0{width}d}"
            place = (r["street"].removesuffix("街道") if r["street"]
                     else ("城区" if r["urban"] else "乡镇"))
            if r["category"] == "village_clinic":
                place = ""
            word = ("申请" if status == "applicant" else "") + WORD[r["category"]]
            key = (r["county"], place, word)
            seq[key] = seq.get(key, 0) + 1
            r["name"] = f"{r['county']}{place}{word}{seq[key]:03d}"
            out.append(r)
    attr = np.random.default_rng(ATTRIBUTE_SEED)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in out:
        compliant = int(attr.random() >= 0.05) if r["kind"] == "pharmacy" else ""
        speciality = ""
        if r["kind"] == "clinic" and r["status"] == "applicant" and attr.random() < 0.12:
            speciality = SPECIALITIES[int(attr.integers(0, len(SPECIALITIES)))]
        w.writerow([r["facility_id"], r["name"], r["kind"], r["category"], r["county"],
                    r["street"], f"{r['ll'][0]:.6f}", f"{r['ll'][1]:.6f}", r["status"],
                    r["score"], "" if r["year"] is None else r["year"],
                    int(r["category"] == "village_clinic"),  # 五(二)1(2): village clinics only
                    compliant, speciality])
    return buf.getvalue()


if __name__ == "__main__":
    main()

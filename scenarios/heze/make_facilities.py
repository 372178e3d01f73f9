"""Write the SYNTHETIC Heze facilities, caps and yearly admission plan.

Writes ``facilities.csv``, ``targets.csv`` (county caps, used with ``target_mode: at_most``) and
``quotas_county.csv`` (the yearly admission plan 年度受理计划 and exit limits). Deterministic:
``numpy.random.default_rng(2026)``, fixed draw order, coordinates rounded to six decimals;
``python scenarios/heze/make_facilities.py`` rewrites the three files byte for byte
(``--out-dir DIR`` writes elsewhere). Reads scenario.yaml, counties.geojson,
urban_areas.geojson and census.csv next to it (written by make_areas.py).

Heze publishes no facility list, no county counts and no yearly counts: EVERYTHING here is
invented, scaled to keep a full solve fast (≈ 3,300 existing facilities and ≈ 700 applicants
for 8.8 million people — a real city of that size has several times more; see SOURCES.md).
Per county, with ``P`` its population (census.csv) and ``U`` its urban share:

* existing: pharmacies round(P / 6,000), clinics (诊所/门诊部) round(P / 15,000), 2 community
  health centres (1 in 鲁西新区), round(P / 100,000) community health stations, 1 in-house clinic
  (2 in 牡丹区: a university), village clinics round(P·(1−U) / 4,000); 70 % of clinics and
  pharmacies, the centres and the stations in the county-seat urban area (normal around the
  seat, σ = 0.6 × equivalent radius), the rest near villages (σ = 600 m); villages cluster
  around 6–20 township centres (σ = 3 km, centres ≥ 3 km apart, outside urban areas);
* yearly admission plan (年度受理计划, for applicants subject to the plan): pharmacies
  max(1, round(P / 300,000)), clinics max(1, round(P / 500,000)) a year; exit limits
  max(2, round(3 % of the county's existing non-protected facilities of the kind)) a year;
* ordinary applicants: per county and kind round(2.5 × the five years' admission plan), half in
  the urban area (most of them within 800 m of a designated facility, so the 800 m rule bars
  them), half rural (pharmacies in populated rural cells no existing pharmacy reaches within
  1,600 m — fillable blind spots; clinics near villages); ``available_from`` spread over the years;
* special applicants (the plan's rules):
  - exempt 二(三)2 key projects: 3 clinics (牡丹区 2026, 鲁西新区 2027, 曹县 2029 — two of them in
    a year the fund gate closes);
  - exempt 二(三)3 grassroots public health: one community health station per county;
  - exempt 2025-03-01 (licensed and operating before the moratorium): one clinic and one
    pharmacy per county, all applying in 2026, placed anywhere in the urban area;
  - priority 二(二): 3 integrated village clinics per county, one community health station per
    county, university clinics in 牡丹区 and 鲁西新区, elderly-care clinics in 曹县, 单县, 郓城县,
    巨野县; placed more than 800 m from every existing facility of their kind;
  - moves 二(二): 6 pharmacies and 2 clinics of 牡丹区's urban area ask to move their address to
    鲁西新区 (4 pharmacies, 2 clinics) and 定陶区 (2 pharmacies), to sites more than 800 m from
    every existing facility of their kind; the new row keeps the old one's score;
* caps (targets.csv, at most): 2028 and 2030 counts per county and kind. Pharmacies: existing
  − 1 % (2028) and − 3 % (2030) in 牡丹区, 定陶区 and 鲁西新区 (优化存量), + 1 % and + 2 %
  elsewhere; clinic kind: + 2 % and + 4 % of the non-village facilities; every cap adds the
  exempt applicants of the county and kind that apply by then (they count, but are admitted
  whatever the plan says) and room for the moves into the county;
* scores: existing 考核得分 ~ N(80, 8) clipped 50–100, applicants 公开评议 ~ N(85, 6) clipped
  60–100.

    python scenarios/heze/make_facilities.py [--out-dir DIR]
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

from dingdian.geometry import lonlat_to_xy, project, within_radius, xy_to_lonlat
from dingdian.scenario.cells import UrbanArea, build_cells
from dingdian.scenario.outlines import read_features
from dingdian.scenario.variants import read_config

HERE = Path(__file__).resolve().parent

SEED = 2026
COUNTIES = ("牡丹区", "定陶区", "曹县", "单县", "成武县", "巨野县", "郓城县", "鄄城县", "东明县",
            "鲁西新区")
DENSE = ("牡丹区", "定陶区", "鲁西新区")
YEARS = (2026, 2027, 2028, 2029, 2030)
URBAN_SHARE_FAC = 0.7
APPLICANT_FACTOR = 2.5
NEAR_M = 800.0
KEY_PROJECTS = (("牡丹区", 2026), ("鲁西新区", 2027), ("曹县", 2029))
UNIVERSITY = ("牡丹区", "鲁西新区")
ELDERLY = ("曹县", "单县", "郓城县", "巨野县")
MOVES = (("鲁西新区", "pharmacy", 4), ("定陶区", "pharmacy", 2), ("鲁西新区", "clinic", 2))
COLUMNS = ["facility_id", "name", "kind", "category", "county", "street", "lon", "lat", "status",
           "score", "available_from", "protected", "exempt", "priority", "moves_from"]
WORD = {"clinic": "诊所", "community_health_centre": "社区卫生服务中心",
        "community_health_station": "社区卫生服务站", "institution_clinic": "内设医疗机构",
        "village_clinic": "村卫生室", "chain_pharmacy": "连锁药店", "single_pharmacy": "单体药店"}
PROTECTED = ("village_clinic", "community_health_centre", "community_health_station")


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
        self.area_ll = {p["county"]: g for p, g in feats}
        self.urban_ll = shapely.union_all([g for _, g in feats])
        for g in [*self.county_ll.values(), *self.area_ll.values(), self.urban_ll]:
            shapely.prepare(g)
        grid = self.cfg.grid
        self.r_urban, self.r_rural = grid.urban_radius_m, grid.rural_radius_m
        self.cells = build_cells(self.county_xy, self.urban, self.r_urban, self.r_rural, self.crs)
        census = pd.read_csv(HERE / f.census).set_index("county")
        self.pop = census["population"].astype(int).to_dict()
        self.share = census["urban_share"].astype(float).to_dict()

    def seat(self, county: str) -> tuple[np.ndarray, float]:
        """Centre (projected) and σ of the county's urban area."""
        area = next(a for a in self.urban if a.county == county)
        c = area.geom.centroid
        return np.array([c.x, c.y]), 0.6 * math.sqrt(area.geom.area / math.pi)


def to_ll(world: World, xy: np.ndarray) -> np.ndarray:
    lon, lat = xy_to_lonlat(xy[:, 0], xy[:, 1], world.crs)
    return np.round(np.column_stack([lon, lat]), 6)


def xy_of(world: World, ll: np.ndarray) -> np.ndarray:
    ll = np.asarray(ll, float).reshape(-1, 2)
    return np.column_stack(lonlat_to_xy(ll[:, 0], ll[:, 1], world.crs))


def sample(world, rng, n, centre, sigma, county, urban=None, avoid=None):
    """``n`` rounded lon/lat points ~ N(centre, σ²) inside ``county``; ``urban`` True: inside its
    urban area, False: outside every urban area; ``avoid``: projected points to stay more than
    800 m from (checked point by point, so the new points avoid each other too)."""
    out: list[np.ndarray] = []
    tries = 0
    spaced = avoid is not None
    avoid = np.zeros((0, 2)) if avoid is None else np.asarray(avoid, float).reshape(-1, 2)
    while len(out) < n:
        tries += 1
        if tries > 5000 * (n + 1):
            raise SystemExit(f"cannot place {n} points in {county}")
        xy = centre + rng.normal(0.0, sigma, size=(1, 2))
        ll = to_ll(world, xy)
        if not shapely.contains_xy(world.county_ll[county], ll[:, 0], ll[:, 1])[0]:
            continue
        if urban is True and not shapely.contains_xy(world.area_ll[county], ll[:, 0],
                                                     ll[:, 1])[0]:
            continue
        if urban is False and shapely.intersects_xy(world.urban_ll, ll[:, 0], ll[:, 1])[0]:
            continue
        if spaced:
            p = xy_of(world, ll)[0]
            pts = np.vstack([avoid, xy_of(world, np.array(out))]) if out else avoid
            if len(pts) and np.hypot(*(pts - p).T).min() <= NEAR_M + 50.0:
                continue
        out.append(ll[0])
    return np.array(out).reshape(-1, 2)


def townships(world, rng, county, n_village) -> np.ndarray:
    n = int(min(20, max(6, round(n_village / 12))))
    centre, _ = world.seat(county)
    sigma = 0.35 * math.sqrt(world.county_xy[county].area)
    chosen: list[np.ndarray] = []
    while len(chosen) < n:
        p = xy_of(world, sample(world, rng, 1, centre, sigma, county, urban=False))[0]
        if all(np.hypot(*(p - q)) >= 3000.0 for q in chosen):
            chosen.append(p)
    return np.array(chosen)


class Rows:
    """The facility rows being generated."""

    def __init__(self, world):
        self.world = world
        self.rows: list[dict] = []

    def add(self, ll, kind, category, county, *, urban, status="existing", year=None,
            exempt="", priority="", moves_from=None):
        for p in np.asarray(ll).reshape(-1, 2):
            inside = urban if urban is not None else bool(
                shapely.intersects_xy(self.world.urban_ll, p[0], p[1]))
            self.rows.append({"kind": kind, "category": category, "county": county, "ll": p,
                              "xy": xy_of(self.world, p)[0], "urban": inside, "status": status,
                              "year": year, "exempt": exempt, "priority": priority,
                              "moves_from": moves_from})

    def xy(self, kind=None, status=None, county=None) -> np.ndarray:
        pts = [r["xy"] for r in self.rows if (kind is None or r["kind"] == kind)
               and (status is None or r["status"] == status)
               and (county is None or r["county"] == county)]
        return np.array(pts).reshape(-1, 2)


def spread_years(rng, n: int) -> list[int]:
    """``n`` years: each planning year once while n lasts, the rest uniform, shuffled."""
    out = list(YEARS[:n]) + [int(y) for y in rng.choice(YEARS, size=max(0, n - len(YEARS)))]
    return [out[i] for i in rng.permutation(len(out))]


def counts(world, county) -> dict:
    p, u = world.pop[county], world.share[county]
    return {"pharmacy": round(p / 6000), "clinic": round(p / 15000),
            "community_health_centre": 1 if county == "鲁西新区" else 2,
            "community_health_station": round(p / 100000),
            "institution_clinic": 2 if county == "牡丹区" else 1,
            "village_clinic": round(p * (1 - u) / 4000),
            "admit_pharmacy": max(1, round(p / 300000)), "admit_clinic": max(1, round(p / 500000))}


def existing(world, rng, rows: Rows) -> dict:
    villages = {}
    for county in COUNTIES:
        n = counts(world, county)
        towns = townships(world, rng, county, n["village_clinic"])
        pick = rng.integers(0, len(towns), size=n["village_clinic"])
        vil = np.vstack([sample(world, rng, 1, towns[t], 3000.0, county, urban=False)
                         for t in pick]) if len(pick) else np.zeros((0, 2))
        villages[county] = vil
        rows.add(vil, "clinic", "village_clinic", county, urban=False)
        centre, sigma = world.seat(county)
        for cat in ("community_health_centre", "community_health_station", "institution_clinic"):
            rows.add(sample(world, rng, n[cat], centre, sigma, county, urban=True), "clinic", cat,
                     county, urban=True)
        for kind in ("clinic", "pharmacy"):
            k_urban = round(URBAN_SHARE_FAC * n[kind])
            cats = (["clinic"] * n[kind] if kind == "clinic" else
                    list(rng.choice(["chain_pharmacy", "single_pharmacy"], size=n[kind],
                                    p=[0.55, 0.45])))
            pts = sample(world, rng, k_urban, centre, sigma, county, urban=True)
            for p, cat in zip(pts, cats[:k_urban], strict=True):
                rows.add(p, kind, str(cat), county, urban=True)
            for v, cat in zip(rng.integers(0, len(vil), size=n[kind] - k_urban),
                              cats[k_urban:], strict=True):
                p = sample(world, rng, 1, xy_of(world, vil[v])[0], 600.0, county, urban=False)
                rows.add(p, kind, str(cat), county, urban=False)
    return villages


def ordinary_applicants(world, rng, rows: Rows, villages) -> None:
    cells = world.cells
    ph = rows.xy("pharmacy", "existing")
    for county in COUNTIES:
        n = counts(world, county)
        centre, sigma = world.seat(county)
        rural = cells[(cells["zone"] == "rural") & (cells["county"] == county)]
        cxy = rural[["x", "y"]].to_numpy()
        vil_xy = xy_of(world, villages[county])
        has_village = np.array([len(v) > 0 for v in within_radius(cxy, vil_xy, world.r_rural)])
        reached = np.array([len(v) > 0 for v in within_radius(cxy, ph, world.r_rural)])
        blind = np.flatnonzero(has_village & ~reached)
        for kind in ("clinic", "pharmacy"):
            total = round(APPLICANT_FACTOR * len(YEARS) * n[f"admit_{kind}"])
            years = spread_years(rng, total)
            k_urban = total // 2
            for p, y in zip(sample(world, rng, k_urban, centre, sigma, county, urban=True),
                            years[:k_urban], strict=True):
                rows.add(p, kind, _cat(rng, kind), county, urban=True, status="applicant", year=y)
            for y in years[k_urban:]:
                if kind == "pharmacy" and len(blind):
                    c = cxy[blind[rng.integers(0, len(blind))]]
                    p = sample(world, rng, 1, c, 0.3 * world.r_rural, county, urban=False)
                else:
                    v = vil_xy[rng.integers(0, len(vil_xy))]
                    p = sample(world, rng, 1, v, 1500.0, county, urban=False)
                rows.add(p, kind, _cat(rng, kind), county, urban=False, status="applicant", year=y)


def _cat(rng, kind):
    if kind == "clinic":
        return "clinic"
    return "chain_pharmacy" if rng.random() < 0.55 else "single_pharmacy"


def special_applicants(world, rng, rows: Rows, villages) -> None:
    for county, year in KEY_PROJECTS:  # 二(三)2
        centre, sigma = world.seat(county)
        rows.add(sample(world, rng, 1, centre, sigma, county, urban=True), "clinic", "clinic",
                 county, urban=True, status="applicant", year=year, exempt="key_project")
    for i, county in enumerate(COUNTIES):
        centre, sigma = world.seat(county)
        # 二(三)3: a grassroots public-health station applying, exempt
        rows.add(sample(world, rng, 1, centre, sigma, county, urban=True), "clinic",
                 "community_health_station", county, urban=True, status="applicant",
                 year=YEARS[i % len(YEARS)], exempt="public_health")
        # closing paragraph: licensed and operating before 2025-03-01, applying in 2026
        for kind in ("clinic", "pharmacy"):
            rows.add(sample(world, rng, 1, centre, sigma, county, urban=True), kind,
                     _cat(rng, kind), county, urban=True, status="applicant", year=YEARS[0],
                     exempt="licensed_before_2025")
    for county in COUNTIES:  # 二(二) priority classes, away from designated clinics
        centre, sigma = world.seat(county)
        clinics = rows.xy("clinic", "existing")
        vil = villages[county]
        for j in range(3):
            v = xy_of(world, vil[rng.integers(0, len(vil))])[0]
            p = sample(world, rng, 1, v, 2500.0, county, urban=False, avoid=clinics)
            rows.add(p, "clinic", "village_clinic", county, urban=False, status="applicant",
                     year=YEARS[j], priority="integrated_village_clinic")
            clinics = np.vstack([clinics, xy_of(world, p)])
        p = sample(world, rng, 1, centre, 1.6 * sigma, county, urban=None, avoid=clinics)
        rows.add(p, "clinic", "community_health_station", county, urban=None,
                 status="applicant", year=YEARS[1], priority="community_health")
        for cls, where in (("university_clinic", UNIVERSITY), ("elderly_care_clinic", ELDERLY)):
            if county in where:
                clinics = np.vstack([clinics, xy_of(world, p)])
                q = sample(world, rng, 1, centre, 1.6 * sigma, county, urban=None, avoid=clinics)
                rows.add(q, "clinic", "institution_clinic", county, urban=None,
                         status="applicant", year=YEARS[2], priority=cls)


def moves(world, rng, rows: Rows) -> None:
    """二(二): existing facilities of 牡丹区's urban area asking to move their address."""
    for dest, kind, n in MOVES:
        olds = [i for i, r in enumerate(rows.rows)
                if r["county"] == "牡丹区" and r["kind"] == kind and r["status"] == "existing"
                and r["urban"] and r["category"] not in PROTECTED and r["moves_from"] is None
                and not r.get("moved")]
        centre, sigma = world.seat(dest)
        for j in rng.choice(olds, size=n, replace=False):
            avoid = rows.xy(kind)
            p = sample(world, rng, 1, centre, 2.0 * sigma, dest, urban=None, avoid=avoid)
            old = rows.rows[int(j)]
            old["moved"] = True
            rows.add(p, kind, old["category"], dest, urban=None, status="applicant",
                     year=YEARS[len(rows.rows) % 3], moves_from=int(j))


def render(rows: list[dict]) -> str:
    corder = {c: i for i, c in enumerate(COUNTIES)}
    catorder = {c: i for i, c in enumerate(WORD)}
    for i, r in enumerate(rows):
        r["_i"] = i
    out = []
    for status, kind, prefix, width in (("existing", "clinic", "HZ-C-", 4),
                                        ("existing", "pharmacy", "HZ-P-", 4),
                                        ("applicant", "clinic", "HZ-AC-", 3),
                                        ("applicant", "pharmacy", "HZ-AP-", 3)):
        sel = [r for r in rows if r["status"] == status and r["kind"] == kind]
        sel.sort(key=lambda r: (corder[r["county"]], r["year"] or 0, catorder[r["category"]],
                                r["_i"]))
        seq: dict[tuple, int] = {}
        for n, r in enumerate(sel, start=1):
            r["facility_id"] = f"{prefix}{n:0{width}d}"
            place = "城区" if r["urban"] else "乡镇"
            if r["category"] == "village_clinic":
                place = ""
            word = ("申请" if status == "applicant" else "") + WORD[r["category"]]
            key = (r["county"], place, word)
            seq[key] = seq.get(key, 0) + 1
            r["name"] = f"{r['county']}{place}{word}{seq[key]:03d}"
            out.append(r)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in out:
        old = rows[r["moves_from"]]["facility_id"] if r["moves_from"] is not None else ""
        w.writerow([r["facility_id"], r["name"], r["kind"], r["category"], r["county"], "",
                    f"{r['ll'][0]:.6f}", f"{r['ll'][1]:.6f}", r["status"], r["score"],
                    "" if r["year"] is None else r["year"], int(r["category"] in PROTECTED),
                    r["exempt"], r["priority"], old])
    return buf.getvalue()


def plan_tables(world, rows: list[dict]) -> tuple[str, str]:
    """targets.csv (caps) and quotas_county.csv (yearly admission plan, exit limits)."""
    t = io.StringIO()
    tw = csv.writer(t, lineterminator="\n")
    tw.writerow(["county", "kind", "existing_2025", "target_2028", "target_2030"])
    q = io.StringIO()
    qw = csv.writer(q, lineterminator="\n")
    qw.writerow(["county", "kind", "year", "admit", "exit"])
    for county in COUNTIES:
        n = counts(world, county)
        for kind in ("clinic", "pharmacy"):
            mine = [r for r in rows if r["county"] == county and r["kind"] == kind]
            have = sum(r["status"] == "existing" for r in mine)
            free = sum(r["status"] == "existing" and r["category"] not in PROTECTED for r in mine)
            base = sum(r["status"] == "existing" and r["category"] != "village_clinic"
                       for r in mine)

            def exempt_by(year, mine=mine):
                return sum(bool(r["exempt"]) and r["status"] == "applicant" and r["year"] <= year
                           for r in mine)

            moving_in = sum(r["moves_from"] is not None for r in mine)
            if kind == "pharmacy":
                d28, d30 = ((-0.01, -0.03) if county in DENSE else (0.01, 0.02))
                cap28 = have + round(d28 * have) + exempt_by(2028) + moving_in
                cap30 = have + round(d30 * have) + exempt_by(2030) + moving_in
            else:
                cap28 = have + round(0.02 * base) + exempt_by(2028) + moving_in
                cap30 = have + round(0.04 * base) + exempt_by(2030) + moving_in
            tw.writerow([county, kind, have, cap28, cap30])
            for year in YEARS:
                qw.writerow([county, kind, year, n[f"admit_{kind}"], max(2, round(0.03 * free))])
    return t.getvalue(), q.getvalue()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Write the synthetic Heze facilities and plan")
    ap.add_argument("--out-dir", type=Path, default=HERE)
    args = ap.parse_args(argv)
    world = World(HERE / "scenario.yaml")
    rng = np.random.default_rng(SEED)
    rows = Rows(world)
    villages = existing(world, rng, rows)
    n_existing = len(rows.rows)
    ordinary_applicants(world, rng, rows, villages)
    special_applicants(world, rng, rows, villages)
    moves(world, rng, rows)
    scores = np.clip(np.round(rng.normal(80, 8, n_existing)), 50, 100)
    scores = np.concatenate([scores, np.clip(np.round(rng.normal(85, 6, len(rows.rows)
                                                                 - n_existing)), 60, 100)])
    for r, s in zip(rows.rows, scores, strict=True):
        r["score"] = int(s)
    for r in rows.rows:
        if r["moves_from"] is not None:
            r["score"] = rows.rows[r["moves_from"]]["score"]
    text = render(rows.rows)
    targets, quotas = plan_tables(world, rows.rows)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "facilities.csv").write_bytes(text.encode("utf-8"))
    (args.out_dir / "targets.csv").write_bytes(targets.encode("utf-8"))
    (args.out_dir / "quotas_county.csv").write_bytes(quotas.encode("utf-8"))
    print(f"wrote facilities.csv ({n_existing} existing, {len(rows.rows) - n_existing} "
          f"applicants), targets.csv, quotas_county.csv in {args.out_dir}")


if __name__ == "__main__":
    main()

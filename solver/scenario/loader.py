"""Load and validate a scenario directory (``scenario.yaml`` + CSV + GeoJSON).

:func:`load_scenario` reads everything, checks it and returns a frozen :class:`Scenario` with
the tables the CLI and the outputs need and the compiled :class:`dingdian.models.data.SiteProblem`.
Every problem raises :class:`dingdian.errors.ScenarioError` whose one-line message names the file,
the 1-based data row (header excluded) and the field, e.g.::

    facilities.csv row 12, field 'lon': point (99.1, 38.2) lies outside 甘州区

Files (paths in ``scenario.yaml`` → ``files``, relative to the YAML):

* ``counties`` — GeoJSON county outlines (WGS84), name in property ``grid.county_property``;
* ``census`` — ``county,population,urban_share[,source]``;
* ``urban_areas`` — GeoJSON polygons with properties ``county, street, name``;
* ``facilities`` — ``facility_id,name,kind,category,county,street,lon,lat,status,score
  [,available_from,protected]``; ``kind`` clinic|pharmacy, ``category`` clinic|village_clinic|
  community_health_centre (clinics) or chain_pharmacy|single_pharmacy, ``status``
  existing|applicant, ``score`` 0–100, ``available_from`` the first year an applicant may be
  admitted (blank: the first planning year; existing: the base year), ``protected`` 1/0, also
  set for every category in ``protected_categories``;
* ``targets`` — ``county,kind,existing_YYYY,target_YYYY…`` (表2/表3);
* ``county_quotas`` — ``county,kind,year,admit,exit`` (表6/表7);
* ``street_quotas`` (optional) — ``county,street,kind,year,admit,exit`` (表8/表9);
* ``fund`` (optional, the Heze plan's fund-risk gate 二(三)1) — ``year,balance_last_year,
  balance_projected,months_payable,months_required,warning_letter[,source]``, one row per planning
  year: last year's current balance (上一年度当期结余, 万元), this year's projected current balance
  (预计本年度当期结余, 万元), months of spending the fund can pay (基金可支撑月数), the months the
  national and provincial rules require, and whether a fund-risk warning letter (风险预警函) was
  received (1/0). A year is closed when any condition holds (a deficit, a projected deficit,
  too few months, a letter); :attr:`Scenario.gate` lists every year, open or not, with the
  failing conditions in words.

Optional facilities.csv columns for the Heze plan's rules (codes in
:mod:`dingdian.scenario.schema`): ``exempt`` (key_project | public_health | licensed_before_2025:
exempt from the plan, 二(三)2, 二(三)3 and the closing paragraph; the facility is protected too),
``priority`` (community_health | integrated_village_clinic | university_clinic |
elderly_care_clinic: clinics only, 二(二)) and ``moves_from`` (on an applicant row: the id of the
existing facility of the same kind whose address it takes over, 二(二)). When facilities.csv has
any of them, :attr:`Scenario.facilities` carries ``exempt_rule``, ``priority_class`` (the rule's
words, '' when none or when the rule is switched off under ``rules:``) and ``moves_from``.

A scenario file may be a variant of another (``base:`` plus the keys it changes, and row-level
``overrides:`` of targets, quotas and facilities): see :mod:`dingdian.scenario.variants`. The tables are
read from the base-most scenario's directory (:attr:`Scenario.root`) and the overrides applied
to them before the problem is compiled.

Cells and population: :mod:`dingdian.scenario.cells`; coverage and the problem:
:mod:`dingdian.scenario.problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from dingdian.errors import ScenarioError
from dingdian.geometry import check_crs, lonlat_to_xy, project
from dingdian.models.data import KINDS, SiteProblem
from dingdian.scenario.allocation import facility_columns, prepare
from dingdian.scenario.cells import UrbanArea, assign_population, build_cells, facility_cells
from dingdian.scenario.files import Table, read_features
from dingdian.scenario.problem import compile_problem, coverage
from dingdian.scenario.schema import (
    CATEGORIES,
    EXEMPT_RULES,
    PRIORITY_CLASSES,
    ScenarioConfig,
)
from dingdian.scenario.streets import derive_street_quotas
from dingdian.scenario.variants import Resolved, apply_overrides, resolve_config

FACILITY_COLUMNS = ["facility_id", "name", "kind", "category", "county", "street", "lon", "lat",
                    "status", "score", "available_from", "protected"]
RULE_COLUMNS = ["exempt", "priority", "moves_from"]
STATUSES = ("existing", "applicant")
FUND_COLUMNS = ["year", "balance_last_year", "balance_projected", "months_payable",
                "months_required", "warning_letter"]
#: categories each priority class may have (二(二))
PRIORITY_CATEGORIES = {
    "community_health": ("community_health_centre", "community_health_station"),
    "integrated_village_clinic": ("village_clinic",),
    "university_clinic": ("institution_clinic",),
    "elderly_care_clinic": ("institution_clinic",),
}
#: the exemptions of 二(三)2 and 二(三)3 are for medical institutions (clinic kind) only
EXEMPT_CLINIC_ONLY = ("key_project", "public_health")


@dataclass(frozen=True, eq=False)
class Scenario:
    """A loaded, validated scenario (see the module docstring for the tables' columns).

    ``path`` is the scenario file every relative path resolves against: the file loaded, or for
    a variant the base-most scenario of its chain (``Path(path).parent`` is :attr:`root`, where
    ``files``, ``beds`` and ``nursing`` live); ``variant`` is the variant file, None otherwise.
    """

    path: Path
    config: ScenarioConfig
    facilities: pd.DataFrame
    cells: pd.DataFrame
    reach: dict[tuple[str, str], tuple[str, ...]]
    counties: dict[str, BaseGeometry]
    quotas: pd.DataFrame
    targets: pd.DataFrame
    problem: SiteProblem
    urban_areas: tuple[UrbanArea, ...] = ()
    census: pd.DataFrame | None = None
    warnings: tuple[str, ...] = field(default=())
    #: the fund-risk gate per planning year (``year, open, reasons``), None without a fund file
    gate: pd.DataFrame | None = None
    #: the variant file this scenario was loaded from (None: a plain scenario)
    variant: Path | None = None
    #: the 人口90%+地理10% street split (:mod:`dingdian.planners.street_split`), None without streets
    street_split: pd.DataFrame | None = None

    @property
    def root(self) -> Path:
        """The directory the scenario's relative paths (files, beds, nursing) resolve against."""
        return Path(self.path).parent

    @property
    def source(self) -> Path:
        """The file that was loaded: the variant, or the scenario itself."""
        return self.variant if self.variant is not None else Path(self.path)


def scenario_files(cfg: ScenarioConfig, res: Resolved) -> dict[str, Path | None]:
    """The paths of ``files:`` by key (None when optional and absent); a missing file raises."""
    base = res.root
    out: dict[str, Path | None] = {}
    for key, value in cfg.files.model_dump().items():
        if value is None:
            out[key] = None
            continue
        p = base / value
        if not p.is_file():
            name = res.file_of(("files", key)).name
            raise ScenarioError(name, None, f"files.{key}", f"file not found: {p}")
        out[key] = p
    return out


def read_counties(path: Path, prop: str) -> dict[str, BaseGeometry]:
    """The county outlines of a GeoJSON file by the name in property ``prop`` (WGS84)."""
    out: dict[str, BaseGeometry] = {}
    for i, (props, geom) in enumerate(read_features(path, [prop]), start=1):
        name = str(props[prop]).strip()
        if not name or name in out:
            raise ScenarioError(path.name, i, prop, f"empty or duplicate county name {name!r}")
        out[name] = geom
    return out


def _census(path: Path, counties) -> pd.DataFrame:
    t = Table(path, ["county", "population", "urban_share"], optional=["source"])
    t.choice("county", counties, "county")
    t.unique(["county"], "county")
    df = pd.DataFrame({"county": t.df["county"], "population": t.integer("population", 0),
                       "urban_share": t.number("urban_share", 0.0, 1.0),
                       "source": t.df["source"]})
    missing = [c for c in counties if c not in set(df["county"])]
    if missing:
        raise ScenarioError(path.name, None, "county", f"no census row for {missing[0]}")
    return df


def _urban_areas(path: Path, counties, crs: str) -> list[UrbanArea]:
    out = []
    for i, (props, geom) in enumerate(read_features(path, ["county", "street", "name"]), start=1):
        county = str(props["county"]).strip()
        if county not in counties:
            raise ScenarioError(path.name, i, "county", f"unknown county {county!r}")
        out.append(UrbanArea(county=county, street=str(props["street"]).strip(),
                             name=str(props["name"]), geom=project(geom, crs)))
    return out


def _targets(path: Path, counties, cfg: ScenarioConfig) -> pd.DataFrame:
    t = Table(path, ["county", "kind"])
    t.choice("county", counties, "county")
    t.choice("kind", KINDS, "kind")
    t.unique(["county", "kind"], "county and kind")
    df = t.df[["county", "kind"]].copy()
    year_cols = [c for c in t.df.columns if re.fullmatch(r"(existing|target)_\d{4}", c)]
    if not any(c.startswith("target_") for c in year_cols):
        raise ScenarioError(path.name, None, "target_YYYY", "no target_<year> column")
    for col in year_cols:
        year = int(col[-4:])
        if col.startswith("target_") and year not in cfg.years:
            raise ScenarioError(path.name, None, col, f"{year} is not a planning year")
        df[col] = t.integer(col, 0)
    return df.reset_index(drop=True)


def _quotas(path: Path, counties, cfg, streets: dict[str, set[str]] | None) -> pd.DataFrame:
    level = "county" if streets is None else "street"
    cols = ["county", "kind", "year", "admit", "exit"]
    if streets is not None:
        cols.insert(1, "street")
    t = Table(path, cols)
    t.choice("county", counties, "county")
    if streets is not None:
        ok = [s in streets.get(c, set()) for c, s in zip(t.df["county"], t.df["street"], strict=True)]
        t.fail_first(~np.array(ok, dtype=bool), "street", lambda v: f"unknown street {v!r}")
    t.choice("kind", KINDS, "kind")
    year = t.integer("year")
    t.fail_first(~year.isin(cfg.years), "year", lambda v: f"{v} is not a planning year")
    t.unique(cols[: len(cols) - 2], "quota row")
    area = t.df["street"] if streets is not None else t.df["county"]
    return pd.DataFrame({"level": level, "county": t.df["county"], "area": area,
                         "kind": t.df["kind"], "year": year, "admit": t.integer("admit", 0),
                         "exit": t.integer("exit", 0)})


def _facilities(path: Path, cfg, counties, streets) -> pd.DataFrame:
    t = Table(path, FACILITY_COLUMNS[:10], optional=["available_from", "protected"])
    has_rules = [c for c in RULE_COLUMNS if c in t.df.columns]
    for col in RULE_COLUMNS:
        if col not in t.df.columns:
            t.df[col] = ""
    ids = t.text("facility_id")
    t.unique(["facility_id"], "facility_id")
    kind = t.choice("kind", KINDS, "kind")
    all_cats = [c for cats in CATEGORIES.values() for c in cats]
    cat = t.choice("category", all_cats, "category")
    ok = [c in CATEGORIES[k] for k, c in zip(kind, cat, strict=True)]
    t.fail_first(~np.array(ok, dtype=bool), "category", lambda v: f"category {v!r} does not match the kind")
    county = t.choice("county", counties, "county")
    ok = [s == "" or s in streets.get(c, set()) for c, s in zip(county, t.df["street"], strict=True)]
    t.fail_first(~np.array(ok, dtype=bool), "street", lambda v: f"unknown street {v!r}")
    lon = t.number("lon", -180, 180)
    lat = t.number("lat", -90, 90)
    status = t.choice("status", STATUSES, "status")
    score = t.integer("score", 0, 100)
    existing = (status == "existing").to_numpy()
    avail = t.integer("available_from", blank=0)
    avail = pd.Series(np.where(avail == 0, np.where(existing, cfg.base_year, cfg.years[0]), avail))
    t.fail_first(existing & (avail > cfg.base_year), "available_from",
             lambda v: f"existing facility available from {v}, after the base year {cfg.base_year}")
    t.fail_first(~existing & ((avail <= cfg.base_year) | (avail > cfg.years[-1])), "available_from",
             lambda v: f"applicant available from {v}, outside the planning years")
    protected = t.boolean("protected") | cat.isin(cfg.protected_categories)
    exempt, priority, moves = _rule_columns(t, cfg, ids, kind, cat, status)
    allocation = facility_columns(t, kind)  # compliant, speciality (optional)
    protected = protected | (exempt != "")
    for name, geom in counties.items():  # point in its county outline
        m = (county == name).to_numpy()
        inside = shapely.intersects_xy(geom, lon.to_numpy()[m], lat.to_numpy()[m])
        if not inside.all():
            i = int(np.flatnonzero(m)[np.flatnonzero(~inside)[0]])
            raise t.error(i, "lon", f"point ({lon.iloc[i]}, {lat.iloc[i]}) lies outside {name}")
    x, y = lonlat_to_xy(lon.to_numpy(), lat.to_numpy(), cfg.crs)
    frame = pd.DataFrame({
        "facility_id": ids, "name": t.df["name"], "kind": kind, "category": cat,
        "county": county, "street": t.df["street"], "lon": lon, "lat": lat, "status": status,
        "score": score, "available_from": avail.astype(np.int64).to_numpy(),
        "protected": protected.astype(bool), "x": x, "y": y,
        **{k: v.to_numpy() for k, v in allocation.items()},
    }).reset_index(drop=True)
    if has_rules:  # Heze: which rule exempted each facility, its priority class, its move
        rules = cfg.rules
        frame["exempt_rule"] = exempt.map(EXEMPT_RULES).fillna("").to_numpy() \
            if rules.exempt else ""
        frame["priority_class"] = priority.map(PRIORITY_CLASSES).fillna("").to_numpy() \
            if rules.priority else ""
        frame["moves_from"] = moves.to_numpy() if rules.moves else ""
        if not rules.exempt:  # switched off: exempt rows are ordinary applicants again
            frame["protected"] = (t.boolean("protected")
                                  | cat.isin(cfg.protected_categories)).to_numpy()
    return frame


def _rule_columns(t: Table, cfg, ids, kind, cat, status):
    """The optional ``exempt``, ``priority`` and ``moves_from`` columns, checked (codes)."""
    exempt = t.choice("exempt", EXEMPT_RULES, "exemption code", blank=True)
    t.fail_first(exempt.isin(EXEMPT_CLINIC_ONLY) & (kind != "clinic"), "exempt",
                 lambda v: f"{v!r} exempts medical institutions only (kind clinic), "
                           "not pharmacies")
    priority = t.choice("priority", PRIORITY_CLASSES, "priority class", blank=True)
    t.fail_first((priority != "") & (kind != "clinic"), "priority",
                 lambda v: f"priority class {v!r} is for clinics (门诊定点医疗机构) only")
    ok = [p == "" or c in PRIORITY_CATEGORIES[p] for p, c in zip(priority, cat, strict=True)]
    t.fail_first(~np.array(ok, dtype=bool), "priority",
                 lambda v: f"priority class {v!r} does not match the category "
                           f"(allowed: {', '.join(PRIORITY_CATEGORIES[v])})")
    moves = t.df["moves_from"]
    row_of = {fid: i for i, fid in enumerate(ids)}
    for i, old in enumerate(moves):
        if not old:
            continue
        j = row_of.get(old)
        why = None
        if status.iloc[i] != "applicant":
            why = "only an applicant row (the new address) can move from a facility"
        elif j is None:
            why = f"unknown facility {old!r}"
        elif j == i:
            why = "a facility cannot move from itself"
        elif status.iloc[j] != "existing":
            why = f"{old!r} is not an existing designated facility"
        elif kind.iloc[j] != kind.iloc[i]:
            why = f"{old!r} is a {kind.iloc[j]}, this row a {kind.iloc[i]}"
        elif exempt.iloc[i]:
            why = "a move is subject to the plan: the new address cannot be exempt"
        elif exempt.iloc[j] or cat.iloc[j] in cfg.protected_categories \
                or t.boolean("protected").iloc[j]:
            why = f"{old!r} is protected (never exits), so it cannot move"
        if why:
            raise t.error(i, "moves_from", why)
    dup = moves.ne("") & moves.duplicated(keep="first")
    t.fail_first(dup, "moves_from", lambda v: f"a second move from {v!r}")
    return exempt, priority, moves


def _fund(path: Path, cfg) -> pd.DataFrame:
    """The fund-risk gate (二(三)1) per planning year: ``year, open, reasons`` (+ the figures)."""
    t = Table(path, FUND_COLUMNS, optional=["source"])
    year = t.integer("year")
    t.fail_first(~year.isin(cfg.years), "year", lambda v: f"{v} is not a planning year")
    t.unique(["year"], "year")
    missing = [y for y in cfg.years if y not in set(year)]
    if missing:
        raise ScenarioError(path.name, None, "year", f"no row for the planning year {missing[0]}")
    last = t.number("balance_last_year")
    projected = t.number("balance_projected")
    months = t.number("months_payable", 0.0)
    required = t.number("months_required", 0.0)
    letter = t.boolean("warning_letter")
    reasons = []
    for i in range(len(t)):
        why = []
        if last.iloc[i] < 0:
            why.append(f"上一年度当期赤字 last year's current deficit {last.iloc[i]:g} 万元")
        if projected.iloc[i] < 0:
            why.append(f"预计本年度当期收不抵支 projected current deficit {projected.iloc[i]:g} 万元")
        if months.iloc[i] < required.iloc[i]:
            why.append(f"基金可支撑月数低于要求 months payable {months.iloc[i]:g} < required "
                       f"{required.iloc[i]:g}")
        if letter.iloc[i]:
            why.append("收到基金运行风险预警函 fund-risk warning letter received")
        reasons.append("; ".join(why))
    frame = pd.DataFrame({"year": year.to_numpy(), "open": [int(not r) for r in reasons],
                          "reasons": reasons, "balance_last_year": last.to_numpy(),
                          "balance_projected": projected.to_numpy(),
                          "months_payable": months.to_numpy(),
                          "months_required": required.to_numpy(),
                          "warning_letter": letter.astype(int).to_numpy()})
    return frame.sort_values("year").reset_index(drop=True)


def _warnings(facilities: pd.DataFrame, targets: pd.DataFrame, base_year: int) -> list[str]:
    col = f"existing_{base_year}"
    if col not in targets:
        return []
    have = facilities[facilities["status"] == "existing"].groupby(["county", "kind"]).size()
    out = []
    for r in targets.itertuples(index=False):
        n = int(have.get((r.county, r.kind), 0))
        if n != int(getattr(r, col)):
            out.append(f"{r.county} {r.kind}: {n} existing facilities, targets say {getattr(r, col)}")
    return out


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and compile the scenario whose ``scenario.yaml`` is ``path``.

    ``path`` may be a variant (``base:``, :mod:`dingdian.scenario.variants`): it is resolved over its bases,
    validated by the same schema, and its ``overrides`` are applied to the loaded tables.
    """
    path = Path(path)
    cfg, res = resolve_config(path)
    try:
        check_crs(cfg.crs)
    except Exception as exc:  # noqa: BLE001 - pyproj raises several types
        raise ScenarioError(res.file_of(("crs",)).name, None, "crs", str(exc)) from None
    files = scenario_files(cfg, res)
    counties = read_counties(files["counties"], cfg.grid.county_property)
    for i, c in enumerate(cfg.grid.rural_pharmacy_exempt):
        if c not in counties:
            raise ScenarioError(res.file_of(("grid", "rural_pharmacy_exempt")).name, None,
                                f"grid.rural_pharmacy_exempt.{i}", f"unknown county {c!r}")
    for i, c in enumerate(cfg.rules.ethnic_counties):
        if c not in counties:
            raise res.error(("rules", "ethnic_counties"), f"rules.ethnic_counties[{i}]",
                            f"unknown county {c!r}")
    census = _census(files["census"], counties)
    urban = _urban_areas(files["urban_areas"], counties, cfg.crs)
    streets: dict[str, set[str]] = {}
    for a in urban:
        if a.street:
            streets.setdefault(a.county, set()).add(a.street)
    targets = _targets(files["targets"], counties, cfg)
    quotas = _quotas(files["county_quotas"], counties, cfg, None)
    if files["street_quotas"] is not None:
        quotas = pd.concat([quotas, _quotas(files["street_quotas"], counties, cfg, streets)],
                           ignore_index=True)
    if cfg.overrides:  # before the facilities: a bad key fails fast
        targets, quotas, _ = apply_overrides(cfg.overrides, res, targets=targets, quotas=quotas,
                                             files=files)
    facilities = _facilities(files["facilities"], cfg, counties, streets)
    if cfg.overrides.facilities:
        _, _, facilities = apply_overrides(cfg.overrides, res, facilities=facilities, files=files)

    counties_xy = {name: project(g, cfg.crs) for name, g in counties.items()}
    grid = cfg.grid
    cells = build_cells(counties_xy, urban, grid.urban_radius_m, grid.rural_radius_m, cfg.crs,
                        prefix=cfg.name[:1].upper())
    origin = cells.attrs["origin"]
    facilities["cell_id"] = facility_cells(cells, facilities[["x", "y"]].to_numpy(),
                                           grid.urban_radius_m, grid.rural_radius_m, origin)
    rural = set(cells.loc[cells["zone"] == "rural", "cell_id"])
    village = facilities[(facilities["category"] == "village_clinic")
                         & (facilities["status"] == "existing")
                         & facilities["cell_id"].isin(rural)]["cell_id"]
    pop, warnings = assign_population(cells, census, urban, village, grid.population_decay_m)
    cells["population"] = pop
    cells, reach = coverage(cells, facilities, grid.rural_pharmacy_exempt)
    cells.attrs["origin"] = origin
    gate = _fund(files["fund"], cfg) if files.get("fund") is not None else None
    quotas, split = derive_street_quotas(cfg.rules, quotas, cells, urban, res.error,
                                         len(cfg.overrides.street_quotas))
    allocation = prepare(cfg, res.file_of(("allocation",)).name, facilities, cells, targets,
                         quotas)
    problem = compile_problem(cfg, facilities, targets, quotas, cells, reach,
                              gate=gate if cfg.rules.fund_gate else None, allocation=allocation)
    warnings += _warnings(facilities, targets, cfg.base_year)
    return Scenario(path=res.anchor, config=cfg, facilities=facilities, cells=cells,
                    reach=reach, counties=counties, quotas=quotas, targets=targets,
                    problem=problem, urban_areas=tuple(urban), census=census,
                    warnings=tuple(warnings), gate=gate,
                    variant=path if res.is_variant else None, street_split=split)

"""Load and validate a scenario: ``scenario.yaml`` and the files it names.

:func:`load_scenario` reads everything, checks it and returns a frozen :class:`Scenario` with
the tables the outputs need and the compiled :class:`dingdian.models.data.SiteProblem`. Every
problem of every file is gathered and raised together as
:class:`dingdian.errors.ScenarioErrors`, one line each naming the file (``file#sheet`` for a
workbook), the row as Excel shows it and the field, e.g.::

    facilities.csv row 13, field 'lon': point (99.1, 38.2) lies outside 甘州区

Files (paths in ``scenario.yaml`` → ``files``, relative to the YAML, inside the scenario folder
unless ``allow_outside``: :mod:`dingdian.scenario.paths`). Tables are CSV (UTF-8 or
GBK) or sheets of an ``.xlsx`` workbook, with English or Chinese headings
(:mod:`dingdian.scenario.files`, :mod:`dingdian.scenario.aliases`); outlines are GeoJSON,
Shapefile or GeoPackage in any CRS (:mod:`dingdian.scenario.outlines`):

* ``counties`` — county outlines, the name in property ``grid.county_property``;
* ``census`` — ``county,population,urban_share[,source]``;
* ``urban_areas`` — polygons with properties ``county, name`` and ``street`` (may be empty);
* ``facilities`` — the facility list (:mod:`dingdian.scenario.facilities`);
* ``targets`` — ``county,kind,existing_YYYY,target_YYYY…`` (表2/表3);
* ``county_quotas`` — ``county,kind,year,admit,exit`` (表6/表7), a row for every county, kind and
  planning year;
* ``street_quotas`` (optional) — ``county,street,kind,year,admit,exit`` (表8/表9);
* ``fund`` (optional, the Heze plan's fund-risk gate 二(三)1) — ``year,balance_last_year,
  balance_projected,months_payable,months_required,warning_letter[,source]``, one row per planning
  year: last year's current balance (上一年度当期结余, 万元), this year's projected current balance
  (预计本年度当期结余, 万元), months of spending the fund can pay (基金可支撑月数), the months the
  national and provincial rules require, and whether a fund-risk warning letter (风险预警函) was
  received (1/0). A year is closed when any condition holds (a deficit, a projected deficit,
  too few months, a letter); :attr:`Scenario.gate` lists every year, open or not, with the
  failing conditions in words.

The files are then checked against each other (:mod:`dingdian.scenario.consistency`).

A scenario file may be a variant of another (``base:`` plus the keys it changes, and row-level
``overrides:`` of targets, quotas and facilities): see :mod:`dingdian.scenario.variants`. The tables are
read from the base-most scenario's directory (:attr:`Scenario.root`) and the overrides applied
to them before the problem is compiled (after the checks across files: a variant's override is
a deliberate what-if).

Cells and population: :mod:`dingdian.scenario.cells`; coverage and the problem:
:mod:`dingdian.scenario.problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from dingdian.errors import ScenarioError, ScenarioErrors, clip
from dingdian.geometry import check_crs, crs_mismatch, project
from dingdian.models.data import KINDS, SiteProblem
from dingdian.scenario.aliases import COLUMNS, column_code
from dingdian.scenario.allocation import prepare
from dingdian.scenario.beds import bed_pause_years
from dingdian.scenario.cells import UrbanArea, assign_population, build_cells, facility_cells
from dingdian.scenario.consistency import (
    SourceRows,
    existing_counts,
    overlapping_counties,
    quotas_complete,
    street_labels,
    street_quotas_complete,
    streets_within_county,
)
from dingdian.scenario.facilities import read_facilities
from dingdian.scenario.files import MAX_COUNT, MAX_POPULATION, Collector, Table, split_sheet
from dingdian.scenario.outlines import read_features
from dingdian.scenario.problem import compile_problem, coverage
from dingdian.scenario.quality import pass_mark_notes, read_scores
from dingdian.scenario.scenario_paths import planner_paths, scenario_files
from dingdian.scenario.schema import (
    ScenarioConfig,
)
from dingdian.scenario.streets import derive_street_quotas
from dingdian.scenario.variants import apply_overrides, resolve_config

FUND_COLUMNS = ["year", "balance_last_year", "balance_projected", "months_payable",
                "months_required", "warning_letter"]
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
    #: scores by year (``facility_id, year, score``, :mod:`dingdian.scenario.quality`), None
    #: without ``files.scores``
    scores: pd.DataFrame | None = None

    @property
    def root(self) -> Path:
        """The directory the scenario's relative paths (files, beds, nursing) resolve against."""
        return Path(self.path).parent

    @property
    def source(self) -> Path:
        """The file that was loaded: the variant, or the scenario itself."""
        return self.variant if self.variant is not None else Path(self.path)


def read_counties(path: Path, prop: str, notes: list[str] | None = None
                  ) -> dict[str, BaseGeometry]:
    """The county outlines (WGS84) by the name in property ``prop``; a repaired outline is
    noted in ``notes`` (:func:`dingdian.scenario.outlines.read_features`)."""
    out: dict[str, BaseGeometry] = {}
    bad = []
    file, layer = split_sheet(path)
    for i, (props, geom) in enumerate(read_features(file, [prop], layer=layer, notes=notes),
                                      start=1):
        name = str(props[prop]).strip()
        if not name or name in out:
            bad.append(ScenarioError(path.name, i, prop,
                                     f"empty or duplicate county name {clip(name)!r}"))
        out[name] = geom
    if bad:
        raise ScenarioErrors(bad)
    return out


def _census(path: Path, counties, city: str | None = None) -> pd.DataFrame:
    with Table(path, ["county", "population", "urban_share"], optional=["source"],
               key="census", totals="county", city=city) as t:
        t.choice("county", counties, "county")
        t.unique(["county"], "county")
        t.require_rows("each county's population")
        population = t.integer("population", 0, plausible=(MAX_POPULATION, "county population"))
        df = pd.DataFrame({"county": t.df["county"], "population": population,
                           "urban_share": t.number("urban_share", 0.0, 1.0, percent=True),
                           "source": t.df["source"]})
        for c in counties:
            if c not in set(df["county"]):
                t.add(None, "county", f"no census row for {c}")
    return df


def _urban_areas(path: Path, counties, crs: str, notes: list[str] | None = None
                 ) -> list[UrbanArea]:
    out = []
    bad = []
    file, layer = split_sheet(path)
    features = read_features(file, [], layer=layer, notes=notes)
    for i, (props, geom) in enumerate(features, start=1):
        props = {column_code(k) or k: v for k, v in props.items()}  # 县区, 街道, 名称 too
        gone = [k for k in ("county", "name") if props.get(k) is None]  # street may be empty
        if gone:
            bad += [ScenarioError(path.name, i, k, f"missing property (name it {k} or "
                                  f"{COLUMNS[k][0]})") for k in gone]
            continue
        county = str(props["county"]).strip()
        if county not in counties:
            bad.append(ScenarioError(path.name, i, "county", f"unknown county {clip(county)!r}"))
            continue
        street = "" if props.get("street") is None else str(props["street"]).strip()
        out.append(UrbanArea(county=county, street=street, name=str(props["name"]),
                             geom=project(geom, crs)))
    if bad:
        raise ScenarioErrors(bad)
    return out


def _targets(path: Path, counties, cfg: ScenarioConfig) -> pd.DataFrame:
    with Table(path, ["county", "kind"], key="targets", totals="county", city=cfg.city) as t:
        t.choice("county", counties, "county")
        t.choice("kind", KINDS, "kind")
        t.unique(["county", "kind"], "county and kind")
        t.require_rows("each county's targets per kind")
        df = t.df[["county", "kind"]].copy()
        year_cols = [c for c in t.df.columns if re.fullmatch(r"(existing|target)_\d{4}", c)]
        if not any(c.startswith("target_") for c in year_cols):
            t.add(None, "target_YYYY", "no target_<year> column (e.g. target_2030 or 2030年目标)")
        for col in year_cols:
            year = int(col[-4:])
            if col.startswith("target_") and year not in cfg.years:
                t.add(None, col, f"{year} is not a planning year")
            df[col] = t.integer(col, 0, plausible=(MAX_COUNT, "count"))
        df.attrs["rows"] = SourceRows(int(r) for r in t.rows)
        df.attrs["file"] = t.name
    return df.reset_index(drop=True)


def _quotas(path: Path, counties, cfg, streets: dict[str, set[str]] | None) -> pd.DataFrame:
    level = "county" if streets is None else "street"
    cols = ["county", "kind", "year", "admit", "exit"]
    if streets is not None:
        cols.insert(1, "street")
    key = "county_quotas" if streets is None else "street_quotas"
    with Table(path, cols, key=key, totals="county" if streets is None else "street",
               city=cfg.city) as t:
        t.choice("county", counties, "county")
        if streets is not None:
            for i, (c, s) in enumerate(zip(t.df["county"], t.df["street"], strict=True)):
                if c in counties and s not in streets.get(c, set()):
                    known = ", ".join(sorted(streets.get(c, ()))) or "none"
                    t.add(i, "street", f"unknown street {clip(s)!r} (known in {c}: {known})")
        t.choice("kind", KINDS, "kind")
        year = t.integer("year")
        t.flag(~t.bad("year") & ~year.isin(cfg.years), "year",
               lambda v: f"{v} is not a planning year")
        t.unique(cols[: len(cols) - 2], "quota row")
        t.require_rows("the yearly admissions and exits")
        count = (MAX_COUNT, "count")
        area = t.df["street"] if streets is not None else t.df["county"]
        frame = pd.DataFrame({"level": level, "county": t.df["county"], "area": area,
                              "kind": t.df["kind"], "year": year,
                              "admit": t.integer("admit", 0, plausible=count),
                              "exit": t.integer("exit", 0, plausible=count)})
    frame.attrs["rows"] = SourceRows(int(r) for r in t.rows)
    frame.attrs["file"] = t.name
    return frame


def _fund(path: Path, cfg) -> pd.DataFrame:
    """The fund-risk gate (二(三)1) per planning year: ``year, open, reasons`` (+ the figures)."""
    with Table(path, FUND_COLUMNS, optional=["source"], key="fund") as t:
        year = t.integer("year")
        t.flag(~t.bad("year") & ~year.isin(cfg.years), "year",
               lambda v: f"{v} is not a planning year")
        t.unique(["year"], "year")
        for y in cfg.years:
            if y not in set(year):
                t.add(None, "year", f"no row for the planning year {y}")
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


def _across_files(cfg, files, counties_xy, urban, targets, county_q, street_q, facilities):
    """The checks across files (:mod:`dingdian.scenario.consistency`) whose files were read."""
    out = overlapping_counties(counties_xy, split_sheet(files["counties"])[0].name)
    if targets is not None and county_q is not None:
        out += quotas_complete(targets, county_q, cfg.years, county_q.attrs["file"])
    if targets is not None and facilities is not None:
        out += existing_counts(targets, facilities, cfg.base_year, targets.attrs["file"],
                               facilities.attrs["file"])
    if county_q is not None and street_q is not None:
        out += street_quotas_complete(street_q, cfg.years, street_q.attrs["file"])
        out += streets_within_county(county_q, street_q, street_q.attrs["file"])
    if facilities is not None and urban is not None:
        out += street_labels(facilities, urban, facilities.attrs["file"])
    return out


def load_scenario(path: str | Path, *, allow_outside: bool = False) -> Scenario:
    """Read, validate and compile the scenario whose ``scenario.yaml`` is ``path``.

    ``path`` may be a variant (``base:``, :mod:`dingdian.scenario.variants`): it is resolved over its bases,
    validated by the same schema, and its ``overrides`` are applied to the loaded tables.
    Every file it names must lie inside the scenario folder unless ``allow_outside``
    (:mod:`dingdian.scenario.paths`).
    """
    path = Path(path)
    cfg, res = resolve_config(path)
    try:
        check_crs(cfg.crs)
    except Exception as exc:  # noqa: BLE001 - pyproj raises several types
        raise ScenarioError(res.file_of(("crs",)).name, None, "crs", str(exc)) from None
    found = Collector()  # every problem of every file, raised together
    files = scenario_files(cfg, res, allow_outside)
    planners_ok = found.run(planner_paths, cfg, res, allow_outside)
    outline_notes: list[str] = []  # outlines repaired
    counties = read_counties(files["counties"], cfg.grid.county_property, outline_notes)
    wrong_zone = crs_mismatch(cfg.crs, shapely.union_all(list(counties.values())).centroid.x)
    if wrong_zone:
        found.add(ScenarioError(res.file_of(("crs",)).name, None, "crs", wrong_zone))
    for i, c in enumerate(cfg.grid.rural_pharmacy_exempt):
        if c not in counties:
            found.add(ScenarioError(res.file_of(("grid", "rural_pharmacy_exempt")).name, None,
                                    f"grid.rural_pharmacy_exempt.{i}", f"unknown county {c!r}"))
    for i, c in enumerate(cfg.rules.ethnic_counties):
        if c not in counties:
            found.add(res.error(("rules", "ethnic_counties"), f"rules.ethnic_counties[{i}]",
                                f"unknown county {c!r}"))
    census = found.run(_census, files["census"], counties, cfg.city)
    urban = found.run(_urban_areas, files["urban_areas"], counties, cfg.crs, outline_notes)
    streets: dict[str, set[str]] | None = None  # not known: street labels are not checked
    if urban is not None:
        streets = {}
        for a in urban:
            if a.street:
                streets.setdefault(a.county, set()).add(a.street)
    targets = found.run(_targets, files["targets"], counties, cfg)
    county_q = found.run(_quotas, files["county_quotas"], counties, cfg, None)
    street_q = None
    if files["street_quotas"] is not None and streets is not None:
        street_q = found.run(_quotas, files["street_quotas"], counties, cfg, streets)
    facilities = found.run(read_facilities, files["facilities"], cfg, counties, streets)
    gate = found.run(_fund, files["fund"], cfg) if files.get("fund") is not None else None
    # 二(一)1's pause on outpatient clinics (17): the years the beds file (kind heze) pauses
    paused = found.run(bed_pause_years, res.root, cfg.beds, cfg.years) \
        if cfg.rules.bed_pause_outpatient and planners_ok else ((), ())
    scores = found.run(read_scores, files["scores"], cfg, facilities) \
        if files.get("scores") is not None and facilities is not None else None
    counties_xy = {name: project(g, cfg.crs) for name, g in counties.items()}
    for problem in _across_files(cfg, files, counties_xy, urban, targets, county_q, street_q,
                                 facilities):
        found.add(problem)
    found.raise_if_any()
    quotas = pd.concat([county_q, street_q], ignore_index=True) if street_q is not None \
        else county_q
    if cfg.overrides:  # before the facilities' overrides: a bad key fails fast
        targets, quotas, _ = apply_overrides(cfg.overrides, res, targets=targets, quotas=quotas,
                                             files=files)
    if cfg.overrides.facilities:
        _, _, facilities = apply_overrides(cfg.overrides, res, facilities=facilities, files=files)

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
    warnings = [*outline_notes, *facilities.attrs.get("notes", ()), *warnings, *paused[1],
                *(scores.attrs.get("notes", ()) if scores is not None else ()),
                *pass_mark_notes(cfg, facilities, scores)]
    cells["population"] = pop
    cells, reach = coverage(cells, facilities, grid.rural_pharmacy_exempt)
    cells.attrs["origin"] = origin
    quotas, split = derive_street_quotas(cfg.rules, quotas, cells, urban, res.error,
                                         len(cfg.overrides.street_quotas))
    allocation = prepare(cfg, res.file_of(("allocation",)).name, facilities, cells, targets,
                         quotas)
    problem = compile_problem(cfg, facilities, targets, quotas, cells, reach,
                              gate=gate if cfg.rules.fund_gate else None, allocation=allocation,
                              scores=scores, bed_pause=paused[0])
    return Scenario(path=res.anchor, config=cfg, facilities=facilities, cells=cells,
                    reach=reach, counties=counties, quotas=quotas, targets=targets,
                    problem=problem, urban_areas=tuple(urban), census=census,
                    warnings=tuple(warnings), gate=gate,
                    variant=path if res.is_variant else None, street_split=split,
                    scores=scores)

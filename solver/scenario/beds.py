"""Reading a beds YAML (``kind: zhangye`` or ``kind: heze``) and its CSV files.

The YAML is validated by pydantic (unknown keys rejected, frozen); CSV files are read with
:class:`dingdian.scenario.files.Table`. Every problem is one :class:`ScenarioError` naming the file,
the 1-based data row and the field. Data file paths are relative to the YAML's directory.

CSV layouts
-----------
* ``tables.csv`` (Zhangye): ``group`` (county | level), ``key``, ``existing_2024``,
  ``planned_2030``, optional ``source`` — 表4 (county) and 表5/表1 (level) as published.
* ``hospitals.csv`` (Zhangye): ``hospital_id, name, county, level, beds, occupancy,
  nursing_allowed``, optional ``floor`` (blank: ⌈min_share × beds⌉, at least ``min_beds``).
  ``occupancy`` is a fraction (0.873). ``level`` ∈ the level keys of ``tables.csv``.
* ``census`` (Zhangye): ``county, population`` (the scenario's ``census.csv``).
* ``age_bands.csv`` (Heze): ``age_band, insured, admission_rate``.
* ``counties.csv`` (Heze): ``county, population, actual_beds, occupancy``.

Heze's rule is evaluated in every year of ``years`` (二(一)1 当年度), each from its own figures:
the top-level figures are those of ``year``, and ``by_year`` gives a year's own (any of the
files, the average stay, the occupancy, the discharges, the fund months, the population); a
figure a year does not give is the top-level one, and :func:`heze_years` says which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from dingdian.errors import ScenarioError
from dingdian.models.beds import PAUSE, heze_figures
from dingdian.models.beds_model import Hospital
from dingdian.models.data import BedPause
from dingdian.scenario.files import Collector, Table, read_text, safe_load, yaml_problem
from dingdian.scenario.schema import STRICT, _yaml_line

Count = Annotated[int, Field(ge=0, strict=True)]


class ZhangyeFiles(BaseModel):
    model_config = STRICT
    hospitals: str
    tables: str
    census: str


class BedWeightsConfig(BaseModel):
    model_config = STRICT
    nursing: Count = 1
    spread: Count = 1


class ZhangyeBeds(BaseModel):
    """``kind: zhangye`` — 表1/表4/表5 and the yearly reduction model."""

    model_config = STRICT
    kind: Literal["zhangye"]
    title: str = ""
    synthetic: str | None = None
    base_year: int
    years: tuple[int, ...] = Field(min_length=1)
    files: ZhangyeFiles
    affordable_per_thousand: float = Field(gt=0)  # 8.96 (四(一)1)
    planned_total: int = Field(gt=0)  # 9,856 (四(一)1)
    existing_per_thousand: float | None = Field(None, gt=0)  # 10.69 (四(一)1)
    text_beds: dict[str, Count] = {}  # 编制床位 11,553 / 实际开放床位 11,328 (一(二)1)
    level_ratio: dict[str, float]  # 3:5:2
    min_share: float = Field(0.5, ge=0, le=1)
    min_beds: Count = 0
    spread_slack: Count = 0
    nursing_capacity: dict[str, Count] = {}
    weights: BedWeightsConfig = BedWeightsConfig()


class HezeFiles(BaseModel):
    model_config = STRICT
    age_bands: str
    counties: str


class Discharges(BaseModel):
    model_config = STRICT
    local_local: int = Field(gt=0)  # 本地参保人在本地出院人次
    local_elsewhere: Count  # 本地参保人在异地出院人次
    elsewhere_local: Count  # 异地参保人在本地出院人次


class FundMonths(BaseModel):
    model_config = STRICT
    payable: float = Field(ge=0)  # 基金可支付月数
    required: float = Field(gt=0)  # 基金安全要求可支付月数


class HezeYear(BaseModel):
    """One year's own figures (``by_year``); a figure not given is the top-level one."""

    model_config = STRICT
    age_bands: str | None = None
    counties: str | None = None
    avg_stay_days: float | None = Field(None, gt=0)
    occupancy: float | None = Field(None, gt=0, le=2)
    discharges: Discharges | None = None
    fund_months: FundMonths | None = None
    population_total: int | None = Field(None, gt=0)


class HezeBeds(BaseModel):
    """``kind: heze`` — the need formula, the 二(一) decision rule and the county allocation."""

    model_config = STRICT
    kind: Literal["heze"]
    title: str = ""
    synthetic: str | None = None
    year: int
    files: HezeFiles
    target_per_thousand: float = Field(7.5, gt=0)
    population_total: int = Field(gt=0)
    avg_stay_days: float = Field(gt=0)
    occupancy: float = Field(gt=0, le=2)
    discharges: Discharges
    fund_months: FundMonths
    outside_allocation: tuple[str, ...] = ()
    management_areas: tuple[str, ...] = ()
    min_occupancy: float = Field(0.0, ge=0, le=2)
    #: the years the rule is evaluated in (二(一)1 当年度); empty: ``year`` alone
    years: tuple[int, ...] = ()
    #: a year's own figures over the top-level ones (which are ``year``'s)
    by_year: dict[int, HezeYear] = {}

    @model_validator(mode="after")
    def _by_year(self) -> HezeBeds:
        bad = [y for y in self.by_year if y not in self.evaluation_years]
        if bad:
            raise ValueError(f"by_year: {bad[0]} is not one of the years "
                             f"{list(self.evaluation_years)}")
        return self

    @property
    def evaluation_years(self) -> tuple[int, ...]:
        return self.years or (self.year,)


BedsConfig = Annotated[ZhangyeBeds | HezeBeds, Field(discriminator="kind")]
_ADAPTER = TypeAdapter(BedsConfig)


def read_beds_config(path: Path) -> ZhangyeBeds | HezeBeds:
    """Parse and validate a beds YAML; every problem becomes one :class:`ScenarioError`."""
    name = path.name
    try:
        text = read_text(path)
        data = safe_load(text)
    except FileNotFoundError:
        raise ScenarioError(name, None, None, f"file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(name, None, None, yaml_problem(exc)) from None
    except OSError as exc:
        raise ScenarioError(name, None, None, f"cannot read: {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(name, None, None, "expected a mapping of keys at the top level")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        if loc and loc[0] == data.get("kind"):
            loc = loc[1:]  # the discriminator's tag
        msg = {"extra_forbidden": "unknown key", "missing": "required key is missing"}.get(
            err.get("type"), err.get("msg", "invalid value"))
        line = _yaml_line(text, loc)
        if line is not None:
            msg += f" (line {line})"
        raise ScenarioError(name, None, ".".join(map(str, loc)) or None, msg) from None


@dataclass(frozen=True)
class PublishedTables:
    """表4 (county) and 表5 (level) as published: name → (existing, planned), in file order."""

    county: dict[str, tuple[int, int]]
    level: dict[str, tuple[int, int]]


def read_tables(path: Path) -> PublishedTables:
    with Table(path, ["group", "key", "existing_2024", "planned_2030"],
               optional=["source"]) as t:
        group = t.choice("group", ["county", "level"], "group")
        key = t.text("key")
        t.unique(["group", "key"], "table row")
        existing = t.integer("existing_2024", minimum=0)
        planned = t.integer("planned_2030", minimum=0)
        out: dict[str, dict[str, tuple[int, int]]] = {"county": {}, "level": {}}
        for g, k, e, p in zip(group, key, existing, planned, strict=True):
            if g in out:
                out[g][k] = (int(e), int(p))
        for g in out:
            if not out[g]:
                t.add(None, "group", f"no {g!r} rows")
    return PublishedTables(county=out["county"], level=out["level"])


def read_census(path: Path, counties: list[str]) -> dict[str, int]:
    with Table(path, ["county", "population"]) as t:
        t.choice("county", counties, "county")
        t.unique(["county"], "county")
        pop = t.integer("population", minimum=0)
        found = dict(zip(t.df["county"], (int(x) for x in pop), strict=True))
        for c in counties:
            if c not in found:
                t.add(None, "county", f"no population for {c}")
    return {c: found[c] for c in counties}


def read_hospitals(path: Path, tables: PublishedTables, cfg: ZhangyeBeds) -> tuple[Hospital, ...]:
    cols = ["hospital_id", "name", "county", "level", "beds", "occupancy", "nursing_allowed"]
    with Table(path, cols, optional=["floor"]) as t:
        hid = t.text("hospital_id")
        t.unique(["hospital_id"], "hospital_id")
        county = t.choice("county", list(tables.county), "county")
        level = t.choice("level", list(tables.level), "level")
        beds = t.integer("beds", minimum=1)
        occ = t.number("occupancy", minimum=0, maximum=2)
        nursing = t.boolean("nursing_allowed")
        default_floor = [max(cfg.min_beds, math.ceil(cfg.min_share * b - 1e-9)) for b in beds]
        floor = t.integer("floor", blank=-1)
        t.flag((t.df["floor"] != "") & (floor < 0), "floor", lambda v: f"{v} is below 0")
        floor = [d if f < 0 else int(f) for f, d in zip(floor, default_floor, strict=True)]
        t.flag([f > b for f, b in zip(floor, beds, strict=True)], "floor",
               lambda v: f"floor {v or 'default'} is above the hospital's beds")
    hospitals = tuple(
        Hospital(id=i, county=c, level=lv, beds=int(b), occupancy=int(round(1000 * o)),
                 floor=int(f), nursing_allowed=bool(n), name=nm)
        for i, nm, c, lv, b, o, f, n in zip(hid, t.df["name"], county, level, beds, occ, floor,
                                            nursing, strict=True))
    _check_margins(t.name, hospitals, tables)
    return hospitals


def _check_margins(name: str, hospitals, tables: PublishedTables) -> None:
    """The hospitals' beds must add up to the published existing figures (表4 and 表5)."""
    for attr, table, label in (("county", tables.county, "表4"), ("level", tables.level, "表5")):
        sums: dict[str, int] = dict.fromkeys(table, 0)
        for h in hospitals:
            sums[getattr(h, attr)] += h.beds
        for key, (existing, _planned) in table.items():
            if sums[key] != existing:
                raise ScenarioError(name, None, "beds", f"{attr} {key} beds add up to "
                                    f"{sums[key]}, {label} existing says {existing}")


def read_age_bands(path: Path) -> pd.DataFrame:
    with Table(path, ["age_band", "insured", "admission_rate"], optional=["source"]) as t:
        band = t.text("age_band")
        t.unique(["age_band"], "age band")
        insured = t.integer("insured", minimum=0)
        rate = t.number("admission_rate", minimum=0, maximum=5)
        if int(insured.sum()) <= 0:
            t.add(None, "insured", "the insured add up to 0")
    return pd.DataFrame({"age_band": band, "insured": insured, "admission_rate": rate})


def read_heze_counties(path: Path, cfg: HezeBeds, yaml_name: str) -> pd.DataFrame:
    with Table(path, ["county", "population", "actual_beds", "occupancy"],
               optional=["source"]) as t:
        county = t.text("county")
        t.unique(["county"], "county")
        pop = t.integer("population", minimum=0)
        beds = t.integer("actual_beds", minimum=0)
        occ = t.number("occupancy", minimum=0, maximum=2)
    known = set(county) | set(cfg.management_areas)
    for area in cfg.outside_allocation:
        if area not in known:
            raise ScenarioError(yaml_name, None, "outside_allocation",
                                f"unknown county {area!r} (not in {t.name} nor management_areas)")
    return pd.DataFrame({"county": county, "population": pop, "actual_beds": beds,
                         "occupancy": occ})


@dataclass(frozen=True, eq=False)
class HezeYearInputs:
    """The figures 二(一) is evaluated on in ``year``; ``own`` names those the year gives itself
    (``by_year``, or all of them for the top-level ``year``), the rest are ``year``'s."""

    year: int
    ages: pd.DataFrame
    counties: pd.DataFrame
    avg_stay_days: float
    occupancy: float
    discharges: Discharges
    fund_months: FundMonths
    population_total: int
    own: tuple[str, ...]

    def figures(self, target: float) -> dict:
        """:func:`dingdian.models.beds.heze_figures` of this year."""
        d, fm = self.discharges, self.fund_months
        return heze_figures(self.ages["admission_rate"], self.ages["insured"],
                            self.avg_stay_days, self.occupancy,
                            (d.local_local, d.local_elsewhere, d.elsewhere_local),
                            (fm.payable, fm.required), float(self.counties["actual_beds"].sum()),
                            self.population_total, target)


SCALARS = ("avg_stay_days", "occupancy", "discharges", "fund_months", "population_total")


def heze_years(path: Path, cfg: HezeBeds) -> list[HezeYearInputs]:
    """Every evaluation year's inputs, its files read and checked (all problems together)."""
    found = Collector()
    ages_files = {cfg.files.age_bands, *(y.age_bands for y in cfg.by_year.values() if y.age_bands)}
    county_files = {cfg.files.counties, *(y.counties for y in cfg.by_year.values() if y.counties)}
    ages = {n: found.run(read_age_bands, path.parent / n) for n in sorted(ages_files)}
    counties = {n: found.run(read_heze_counties, path.parent / n, cfg, path.name)
                for n in sorted(county_files)}
    found.raise_if_any()
    out = []
    for year in cfg.evaluation_years:
        own = cfg.by_year.get(year, HezeYear())
        given = {k for k, v in own.model_dump().items() if v is not None}
        if year == cfg.year:
            given = {"age_bands", "counties", *SCALARS}
        scalars = {k: getattr(own, k) if getattr(own, k) is not None else getattr(cfg, k)
                   for k in SCALARS}
        out.append(HezeYearInputs(
            year=year, ages=ages[own.age_bands or cfg.files.age_bands],
            counties=counties[own.counties or cfg.files.counties],
            own=tuple(k for k in ("age_bands", "counties", *SCALARS) if k in given), **scalars))
    return out


def bed_pause_years(root: Path, beds_file: str | None,
                    years) -> tuple[tuple[BedPause, ...], tuple[str, ...]]:
    """The years of ``years`` whose needed beds pause new designations (二(一)1), for the
    outpatient pause (17) of ``rules.bed_pause_outpatient``, and notes on what is missing."""
    what = "rules.bed_pause_outpatient"
    if not beds_file:
        return (), (f"{what}: the scenario names no beds file, so no year is paused",)
    cfg = read_beds_config(Path(root) / beds_file)
    if not isinstance(cfg, HezeBeds):
        return (), (f"{what}: {beds_file} is not a Heze beds file (kind: heze), so no year is "
                    "paused",)
    evaluated = {y.year: y.figures(cfg.target_per_thousand)
                 for y in heze_years(Path(root) / beds_file, cfg)}
    out, notes = [], []
    for t in years:
        f = evaluated.get(t)
        if f is None:
            notes.append(f"{what}: {beds_file} gives no figures for {t}, which is not paused")
        elif f["branch"] == PAUSE:
            out.append(BedPause(t, f"二(一)1 测算值 {f['computed']:.2f} < 目标值 {f['target']:g} "
                                   f"and < 实际值 {f['actual']:.2f}"))
    return tuple(out), tuple(notes)

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from dingdian.errors import ScenarioError
from dingdian.models.beds_model import Hospital
from dingdian.scenario.files import Table, read_text
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


BedsConfig = Annotated[ZhangyeBeds | HezeBeds, Field(discriminator="kind")]
_ADAPTER = TypeAdapter(BedsConfig)


def read_beds_config(path: Path) -> ZhangyeBeds | HezeBeds:
    """Parse and validate a beds YAML; every problem becomes one :class:`ScenarioError`."""
    name = path.name
    try:
        text = read_text(path)
        data = yaml.safe_load(text)
    except FileNotFoundError:
        raise ScenarioError(name, None, None, f"file not found: {path}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(name, None, None, f"cannot read YAML: {exc}") from None
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

"""Reading a nursing YAML (``scenario.yaml`` → ``nursing:``) and its CSV files.

The YAML is validated by pydantic (unknown keys rejected, frozen); CSV files are read with
:class:`dingdian.scenario.files.Table`. Every problem in the files is one :class:`ScenarioError`
naming file, row and field. The planner is :mod:`dingdian.planners.nursing`.

Files (paths in the nursing YAML → ``files``, relative to that YAML):

* ``candidates`` — ``site_id,name,category,county,lon,lat[,source]``: candidate home-care sites,
  ``category`` one of :data:`CATEGORIES`; each point must lie in its county's outline;
* ``elderly`` — ``county,population_60plus,share_60plus[,severe_disability_rate,source]``: the
  county's residents aged 60+ (or, when blank, ``round(census population × share_60plus)``) and
  an optional severe-disability rate (blank: ``home_care.severe_disability_rate``);
* ``institution_beds`` — ``county,existing_beds,occupancy[,hospital_surplus_beds,source]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import shapely
import yaml
from pydantic import BaseModel, Field, ValidationError

from dingdian.coords import to_wgs84
from dingdian.errors import ScenarioError
from dingdian.geometry import lonlat_to_xy
from dingdian.scenario.files import Table, read_text, safe_load, yaml_problem
from dingdian.scenario.schema import STRICT, _yaml_line

CATEGORIES = ("community_health_centre", "village_care", "elderly_care")


class NursingFiles(BaseModel):
    model_config = STRICT
    candidates: str
    elderly: str
    institution_beds: str


class HomeCareConfig(BaseModel):
    """居家照护型 (四(三)1); see :mod:`dingdian.models.nursing` for the two modes."""

    model_config = STRICT
    mode: Literal["max_cover", "min_sites"] = "max_cover"
    elderly_per_site: int = Field(2000, gt=0)
    disabled_per_site: int = Field(80, gt=0)
    severe_disability_rate: float = Field(0.04, ge=0, le=1)
    yearly_cap: int | dict[int, int] | None = None  # openings per year; None = no cap
    budget: int | None = Field(None, ge=0)  # openings in all years


class InstitutionConfig(BaseModel):
    """机构照护型 (四(三)2); see :func:`dingdian.models.nursing.plan_institution_beds`."""

    model_config = STRICT
    cap_share: float = Field(0.20, gt=0, le=1)
    min_occupancy: float = Field(0.60, ge=0, le=1)
    beds_per_institution: int = Field(50, gt=0)
    ltc_beneficiaries: float | None = Field(None, gt=0)  # city-wide; None = Σ elderly × rate


class NursingConfig(BaseModel):
    model_config = STRICT
    name: str = "nursing"
    title: str = ""
    description: str = ""
    synthetic: str | None = None
    files: NursingFiles
    home_care: HomeCareConfig = HomeCareConfig()
    institution_care: InstitutionConfig = InstitutionConfig()


def read_nursing_config(path: Path) -> NursingConfig:
    """Parse and validate the nursing YAML; every problem is one :class:`ScenarioError`."""
    try:
        data = safe_load(text := read_text(path))
    except yaml.YAMLError as exc:
        raise ScenarioError(path.name, None, None, yaml_problem(exc)) from None
    except OSError as exc:
        raise ScenarioError(path.name, None, None, f"cannot read {path}: {exc.strerror or exc}") \
            from None
    if not isinstance(data, dict):
        raise ScenarioError(path.name, None, None, "expected a mapping of keys at the top level")
    try:
        return NursingConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        msg = {"extra_forbidden": "unknown key", "missing": "required key is missing"}.get(
            err.get("type"), err.get("msg", "invalid value"))
        line = _yaml_line(text, loc)
        raise ScenarioError(path.name, None, ".".join(map(str, loc)) or None,
                            msg + (f" (line {line})" if line else "")) from None


# --------------------------------------------------------------------------- CSV readers
def _one_row_per_county(t: Table, counties) -> None:
    t.choice("county", list(counties), "county")
    t.unique(["county"], "county")
    for c in counties:
        if c not in set(t.df["county"]):
            t.add(None, "county", f"no row for {c}")


def read_candidates(path: Path, outlines, crs: str, datum: str = "wgs84") -> pd.DataFrame:
    with Table(path, ["site_id", "name", "category", "county", "lon", "lat"],
               optional=["source"]) as t:
        t.text("site_id")
        t.unique(["site_id"], "site_id")
        t.choice("category", CATEGORIES, "category")
        county = t.choice("county", outlines, "county")
        lon, lat = t.number("lon", -180, 180), t.number("lat", -90, 90)
        if datum != "wgs84":
            x, y = to_wgs84(lon.to_numpy(), lat.to_numpy(), datum)
            lon, lat = pd.Series(x, index=lon.index), pd.Series(y, index=lat.index)
        checked = ~t.bad("county", "lon", "lat")
        for name, geom in outlines.items():  # each point in its county's outline
            idx = np.flatnonzero((county == name).to_numpy() & checked)
            inside = shapely.intersects_xy(geom, lon.to_numpy()[idx], lat.to_numpy()[idx])
            for i in idx[~inside]:
                t.add(int(i), "lon", f"point ({lon.iloc[i]}, {lat.iloc[i]}) lies outside {name}")
    x, y = lonlat_to_xy(lon.to_numpy(), lat.to_numpy(), crs)
    return pd.DataFrame({"site_id": t.df["site_id"], "name": t.df["name"],
                         "category": t.df["category"], "county": county, "lon": lon,
                         "lat": lat, "x": x, "y": y}).sort_values("site_id", ignore_index=True)


def _optional_share(t: Table, col: str, blank_ok) -> pd.Series:
    """A 0–1 share column where blanks are allowed on the rows ``blank_ok`` (NaN there)."""
    txt = t.df[col]
    t.flag((txt == "") & ~blank_ok, col, "empty value")
    num = pd.to_numeric(txt.where(txt != "", "nan"), errors="coerce")
    t.flag((txt != "") & ~num.between(0.0, 1.0), col,
                 lambda v: f"{v!r} is not a share between 0 and 1")
    return num


def read_elderly(path: Path, census: pd.DataFrame, default_rate: float) -> pd.DataFrame:
    """``county, elderly, rate`` per county (see the module docstring)."""
    with Table(path, ["county", "population_60plus", "share_60plus"],
               optional=["severe_disability_rate", "source"]) as t:
        _one_row_per_county(t, list(census["county"]))
        pop = t.integer("population_60plus", blank=-1)
        t.flag((pop < 0) & (t.df["population_60plus"] != ""), "population_60plus",
               lambda v: f"{v} is below 0")
        share = _optional_share(t, "share_60plus", (pop >= 0).to_numpy())
        rate = _optional_share(t, "severe_disability_rate", np.ones(len(t), dtype=bool))
        total = t.df["county"].map(dict(zip(census["county"], census["population"],
                                            strict=True))).fillna(0)
        elderly = np.where(pop >= 0, pop,
                           np.floor(total * share.fillna(0) + 0.5)).astype(np.int64)
        t.flag(elderly > total, "population_60plus",
               lambda v: f"{v} exceeds the census population")
    return pd.DataFrame({"county": t.df["county"], "elderly": elderly,
                         "rate": rate.fillna(default_rate).to_numpy()})


def read_beds(path: Path, counties) -> pd.DataFrame:
    with Table(path, ["county", "existing_beds", "occupancy"],
               optional=["hospital_surplus_beds", "source"]) as t:
        _one_row_per_county(t, counties)
        frame = pd.DataFrame({"county": t.df["county"],
                              "existing_beds": t.integer("existing_beds", 0),
                              "occupancy": t.number("occupancy", 0.0, 1.0),
                              "surplus": t.integer("hospital_surplus_beds", 0, blank=0)})
    return frame

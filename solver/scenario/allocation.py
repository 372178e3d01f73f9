"""The ``allocation:`` section of ``scenario.yaml``: the plans' remaining allocation rules.

Every rule is off unless its section is present, and each section has ``enabled: false`` to
switch it off again (a variant can do that by deep merge). The loader turns the section into
the data of :mod:`dingdian.models.allocation`:

* ``zones`` — special zones (张掖 五(二)2). Computed once, from the base-year designations, in the
  projected CRS (:func:`dingdian.geometry.within_radius`) for every applicant:
  ``blind`` 服务覆盖盲区, no designated facility of its kind within ``blind_radius_m`` (1,000 m);
  ``weak`` 服务薄弱区域, it lies in a rural cell holding no designated facility of its kind (a
  rural hexagon stands for a township's villages); ``demand`` 购药高需求区域 (pharmacies only),
  within ``demand_radius_m`` (500 m) of a designated medical institution (an existing facility
  of kind clinic; hospitals are not in the facility list) that has at most ``demand_max`` (3)
  designated pharmacies within the same radius. The override budget (经专家论证并批准可适当突破
  规划限制) is ``budget_per_year`` for every county and year, for the ``kinds`` listed
  (pharmacies: 五(二)2 is the pharmacy section), with ``budget`` rows replacing single
  county-years.
* ``roles`` — pharmacy roles (张掖 四(二), 菏泽 二(二)): ``chronic`` 门诊慢特病统筹药店, ``dual``
  双通道药店, ``pooling`` 职工门诊统筹药店. Eligible: a pharmacy whose ``compliant`` column (1/0,
  blank 1) is 1 and whose score is at least ``min_score`` (资质合规、管理规范、信誉良好; 布局合理 is
  left to the planner). Holders per county: with ``residents: [lo, hi]`` (30,000–50,000 urban
  residents per holder) at least ⌈U/hi⌉ and at most max(that, ⌊U/lo⌋), U the county's urban
  population (its urban cells); never below ``min``, never above ``max``; ``extra`` adds holders
  to both bounds in sparse counties (人口稀少或偏远地区适当增加).
* ``sequencing`` — exits before admissions (张掖 五(一)4, 七(三)): every county and kind whose
  base-year count exceeds its last target is over-configured (only among ``counties`` when the
  scenario names the over-supplied ones, as 张掖 一(二)2 names 甘州区); its planned exits each
  year are 表6/表7's exit figure unless a ``planned`` row gives another. ``green_channel``
  (七(三) 对服务覆盖盲区开辟准入"绿色通道") leaves blind-spot applicants out of the rule.
* ``priorities`` — objective bonuses (张掖 五(一)4, 菏泽 二(二)): ``remote`` applicants in a blind
  spot or a rural cell (优先受理服务盲区及农村偏远乡镇), ``speciality`` applicants whose
  ``speciality`` column names an urgently needed speciality (psychiatric 精神, children 儿童,
  nursing 护理; clinics), ``chain`` chain pharmacies (鼓励连锁化; ``chain: remote`` only those a
  remote applicant would be, 张掖 四(二) 鼓励连锁药店向农村偏远地区发展).

Optional facilities.csv columns: ``compliant`` and ``speciality`` (read when present).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dingdian.errors import ScenarioError
from dingdian.geometry import within_radius
from dingdian.models.data import ExitPlan, RoleNeed, ZoneBudget

STRICT = ConfigDict(extra="forbid", frozen=True)
KindName = Literal["clinic", "pharmacy"]
Count = Annotated[int, Field(ge=0, strict=True)]

ZONE_LABELS = {"blind": "服务覆盖盲区 blind spot", "weak": "服务薄弱区域 weak area",
               "demand": "购药高需求区域 high demand"}
ROLE_LABELS = {"chronic": "门诊慢特病统筹药店 chronic-disease pooling",
               "dual": "双通道药店 dual channel",
               "pooling": "职工门诊统筹药店 employee outpatient pooling"}
FAVOUR_LABELS = {"remote": "优先受理服务盲区及农村偏远乡镇 remote or blind spot",
                 "speciality": "急需专科优先纳入 urgently needed speciality",
                 "chain": "鼓励连锁化 chain pharmacy"}
SPECIALITIES = {"psychiatric": "精神", "children": "儿童", "nursing": "护理"}
APPROVAL = "需专家论证 expert approval (五(二)2 特殊区域突破规划限制)"


class BudgetRow(BaseModel):
    """Overrides of one county and year (replaces ``budget_per_year`` there)."""

    model_config = STRICT
    county: str = Field(min_length=1)
    year: Annotated[int, Field(strict=True)]
    admit: Count
    kind: KindName = "pharmacy"


class ZonesConfig(BaseModel):
    model_config = STRICT
    enabled: bool = True
    blind_radius_m: float = Field(1000.0, gt=0)
    demand_radius_m: float = Field(500.0, gt=0)
    demand_max: Count = 3
    kinds: tuple[KindName, ...] = ("pharmacy",)
    budget_per_year: Count = 0
    budget: tuple[BudgetRow, ...] = ()


class RoleConfig(BaseModel):
    """How many holders of one role each county needs (see the module docstring)."""

    model_config = STRICT
    residents: tuple[Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]] | None = None
    min: Count = 0
    max: Count | None = None
    extra: dict[str, Count] = {}

    @model_validator(mode="after")
    def _check(self) -> RoleConfig:
        if self.residents and self.residents[0] > self.residents[1]:
            raise ValueError("residents: give [fewest, most] residents per holder")
        return self


class RolesConfig(BaseModel):
    model_config = STRICT
    enabled: bool = True
    min_score: Annotated[int, Field(ge=0, le=100, strict=True)] = 0
    chronic: RoleConfig | None = None
    dual: RoleConfig | None = None
    pooling: RoleConfig | None = None


class PlannedRow(BaseModel):
    """Planned exits of one county, kind and year (replaces 表6/表7's exit figure there)."""

    model_config = STRICT
    county: str = Field(min_length=1)
    kind: KindName
    year: Annotated[int, Field(strict=True)]
    exits: Count


class SequencingConfig(BaseModel):
    model_config = STRICT
    enabled: bool = True
    #: the over-configured counties the plan names (None: every county above its last target)
    counties: tuple[str, ...] | None = None
    green_channel: bool = True
    planned: tuple[PlannedRow, ...] = ()


class PrioritiesConfig(BaseModel):
    model_config = STRICT
    enabled: bool = True
    remote: bool = True
    speciality: bool = True
    #: True: every chain pharmacy applicant; "remote": only one in a blind spot or a rural cell
    #: (张掖 四(二) 鼓励连锁药店向农村偏远地区发展); False: none
    chain: bool | Literal["remote"] = True


class AllocationConfig(BaseModel):
    """``allocation:`` — special zones, pharmacy roles, sequencing, priorities; all off."""

    model_config = STRICT
    zones: ZonesConfig | None = None
    roles: RolesConfig | None = None
    sequencing: SequencingConfig | None = None
    priorities: PrioritiesConfig | None = None


def _on(section) -> bool:
    return section is not None and section.enabled


@dataclass(frozen=True)
class Allocation:
    """What the loader computed: per-facility attributes and the problem's rule data."""

    zone: dict[str, str] = field(default_factory=dict)
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    favour: dict[str, tuple[str, ...]] = field(default_factory=dict)
    zone_budget: tuple[ZoneBudget, ...] = ()
    needs: tuple[RoleNeed, ...] = ()
    exit_plan: tuple[ExitPlan, ...] = ()
    green_channel: bool = False


def facility_columns(t, kind: pd.Series) -> dict[str, pd.Series]:
    """The optional ``compliant`` and ``speciality`` columns of facilities.csv, checked."""
    out = {}
    if "compliant" in t.df.columns:
        blank = t.df["compliant"] == ""
        out["compliant"] = t.boolean("compliant") | blank
    if "speciality" in t.df.columns:
        spec = t.choice("speciality", SPECIALITIES, "speciality", blank=True)
        t.flag((spec != "") & (kind != "clinic"), "speciality",
                     lambda v: f"speciality {v!r} is for medical institutions (kind clinic)")
        out["speciality"] = spec
    return out


def zones(facilities: pd.DataFrame, cells: pd.DataFrame, cfg: ZonesConfig) -> pd.Series:
    """Special-zone codes (``blind;weak;demand``) per applicant, '' otherwise (see above)."""
    codes = pd.Series("", index=facilities.index, dtype=object)
    existing = facilities["status"] == "existing"
    rural = set(cells.loc[cells["zone"] == "rural", "cell_id"])
    for kind in ("clinic", "pharmacy"):
        ex = facilities[existing & (facilities["kind"] == kind)]
        apps = facilities[~existing & (facilities["kind"] == kind)]
        if apps.empty:
            continue
        xy = apps[["x", "y"]].to_numpy(float)
        near = within_radius(xy, ex[["x", "y"]].to_numpy(float), cfg.blind_radius_m)
        blind = np.array([len(n) == 0 for n in near], dtype=bool)
        held = set(ex["cell_id"])
        weak = apps["cell_id"].isin(rural).to_numpy() & ~apps["cell_id"].isin(held).to_numpy()
        demand = np.zeros(len(apps), dtype=bool)
        if kind == "pharmacy":
            inst = facilities[existing & (facilities["kind"] == "clinic")]
            ixy = inst[["x", "y"]].to_numpy(float)
            few = np.array([len(n) <= cfg.demand_max for n in within_radius(
                ixy, ex[["x", "y"]].to_numpy(float), cfg.demand_radius_m)], dtype=bool)
            demand = np.array([len(n) > 0 for n in within_radius(
                xy, ixy[few] if len(ixy) else ixy, cfg.demand_radius_m)], dtype=bool)
        codes.loc[apps.index] = [";".join(c for c, on in zip(("blind", "weak", "demand"), flags,
                                                          strict=True) if on)
                             for flags in zip(blind, weak, demand, strict=True)]
    return codes


def labels(codes: str, table: dict[str, str]) -> str:
    """'服务覆盖盲区 blind spot; …' for ``blind;…`` (codes joined by ';')."""
    return "; ".join(table[c] for c in codes.split(";") if c) if codes else ""


def prepare(cfg, yaml_name: str, facilities: pd.DataFrame, cells: pd.DataFrame,
            targets: pd.DataFrame, quotas: pd.DataFrame) -> Allocation | None:
    """The rule data of ``cfg.allocation`` (None when every section is off).

    Adds ``special_zone`` and ``priority_tags`` (labels) to ``facilities`` in place when the
    zones or priorities are on. ``yaml_name`` names the file in errors.
    """
    al = cfg.allocation
    sections = (al.zones, al.roles, al.sequencing, al.priorities)
    if not any(_on(s) for s in sections):
        return None
    ids = facilities["facility_id"].astype(str)
    counties = list(dict.fromkeys(targets["county"]))
    need_zone = _on(al.zones) or _on(al.priorities) or _on(al.sequencing)
    codes = zones(facilities, cells, al.zones or ZonesConfig()) if need_zone \
        else pd.Series("", index=facilities.index)
    out: dict = {"zone": {f: c for f, c in zip(ids, codes, strict=True) if c}}
    if _on(al.zones):
        facilities["special_zone"] = [labels(c, ZONE_LABELS) for c in codes]
        out["zone_budget"] = _budget(al.zones, cfg, yaml_name, counties)
    if _on(al.roles):
        out["roles"], out["needs"] = _roles(al.roles, yaml_name, facilities, cells, counties,
                                            _last_target(targets))
        facilities["role_eligible"] = [";".join(out["roles"].get(f, ())) for f in ids]
    if _on(al.sequencing):
        out["exit_plan"] = _exit_plan(al.sequencing, cfg, yaml_name, facilities, targets,
                                      quotas)
        out["green_channel"] = al.sequencing.green_channel
    if _on(al.priorities):
        out["favour"] = _favour(al.priorities, facilities, cells, codes)
        facilities["priority_tags"] = [labels(";".join(out["favour"].get(f, ())), FAVOUR_LABELS)
                                       for f in ids]
    return Allocation(**out)


def _error(yaml_name: str, where: str, message: str) -> ScenarioError:
    return ScenarioError(yaml_name, None, f"allocation.{where}", message)


def _budget(zc: ZonesConfig, cfg, yaml_name, counties) -> tuple[ZoneBudget, ...]:
    rows = {(c, k, int(y)): zc.budget_per_year for c in counties for k in zc.kinds
            for y in cfg.years}
    for i, b in enumerate(zc.budget):
        where = f"zones.budget[{i}]"
        if b.county not in counties:
            raise _error(yaml_name, f"{where}.county", f"unknown county {b.county!r}")
        if b.year not in cfg.years:
            raise _error(yaml_name, f"{where}.year", f"{b.year} is not a planning year")
        if b.kind not in zc.kinds:
            raise _error(yaml_name, f"{where}.kind",
                         f"{b.kind!r} is not among zones.kinds {list(zc.kinds)}")
        rows[b.county, b.kind, b.year] = b.admit
    return tuple(ZoneBudget(c, k, y, n) for (c, k, y), n in rows.items() if n > 0)


def _last_target(targets: pd.DataFrame) -> int:
    return max(int(c.split("_")[1]) for c in targets.columns if c.startswith("target_"))


def _roles(rc: RolesConfig, yaml_name, facilities, cells, counties, year: int):
    ph = facilities["kind"] == "pharmacy"
    ok = ph & (facilities["score"] >= rc.min_score)
    if "compliant" in facilities:
        ok &= facilities["compliant"].astype(bool)
    urban = cells[cells["zone"] == "urban"].groupby("county")["population"].sum()
    needs, present = [], []
    for role in ("chronic", "dual", "pooling"):
        spec: RoleConfig | None = getattr(rc, role)
        if spec is None:
            continue
        present.append(role)
        for county in spec.extra:
            if county not in counties:
                raise _error(yaml_name, f"roles.{role}.extra", f"unknown county {county!r}")
        for county in counties:
            u = int(urban.get(county, 0))
            low, high = spec.min, spec.max
            if spec.residents:
                few, many = spec.residents
                base = math.ceil(u / many)
                low = max(low, base)
                cap = max(base, u // few)
                high = cap if high is None else min(high, cap)
            extra = spec.extra.get(county, 0)
            low += extra
            high = None if high is None else high + extra
            if high is not None and low > high:
                raise _error(yaml_name, f"roles.{role}",
                             f"{county} needs at least {low} but at most {high} holders")
            if low or high is not None:
                needs.append(RoleNeed(role, county, year, low, high))
    eligible = {str(f): tuple(present) for f, good in zip(facilities["facility_id"], ok,
                                                          strict=True) if good}
    return eligible, tuple(needs)


def _exit_plan(sc: SequencingConfig, cfg, yaml_name, facilities, targets, quotas):
    last = _last_target(targets)
    have = facilities[facilities["status"] == "existing"].groupby(["county", "kind"]).size()
    known = set(targets["county"])
    for i, county in enumerate(sc.counties or ()):
        if county not in known:
            raise _error(yaml_name, f"sequencing.counties[{i}]", f"unknown county {county!r}")
    over = {(r.county, r.kind) for r in targets.itertuples(index=False)
            if int(have.get((r.county, r.kind), 0)) > int(getattr(r, f"target_{last}"))
            and (sc.counties is None or r.county in sc.counties)}
    county_rows = quotas[quotas["level"] == "county"]
    planned = {(r.area, r.kind, int(r.year)): int(r.exit)
               for r in county_rows.itertuples(index=False)}
    for i, row in enumerate(sc.planned):
        if row.county not in known:
            raise _error(yaml_name, f"sequencing.planned[{i}].county",
                         f"unknown county {row.county!r}")
        if row.year not in cfg.years:
            raise _error(yaml_name, f"sequencing.planned[{i}].year",
                         f"{row.year} is not a planning year")
        planned[row.county, row.kind, row.year] = row.exits
    return tuple(ExitPlan(c, k, y, n) for (c, k, y), n in sorted(planned.items())
                 if (c, k) in over and n > 0)


def _favour(pc: PrioritiesConfig, facilities, cells, codes) -> dict[str, tuple[str, ...]]:
    rural = set(cells.loc[cells["zone"] == "rural", "cell_id"])
    out = {}
    codes = codes.tolist()
    for i, r in enumerate(facilities.itertuples(index=False)):
        if r.status != "applicant":
            continue
        tags = []
        remote = "blind" in codes[i].split(";") or r.cell_id in rural
        if pc.remote and remote:
            tags.append("remote")
        if pc.speciality and getattr(r, "speciality", ""):
            tags.append("speciality")
        if pc.chain and r.category == "chain_pharmacy" and (pc.chain is True or remote):
            tags.append("chain")
        if tags:
            out[str(r.facility_id)] = tuple(tags)
    return out

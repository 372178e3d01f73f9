"""The ``scenario.yaml`` schema (pydantic v2, unknown keys rejected, frozen).

``Options`` and ``Weights`` sections mirror :class:`dingdian.models.data.Options` and
:class:`dingdian.models.data.Weights` field by field, with the same defaults; the pydantic models are
built from the dataclasses so the two can never drift apart.

A scenario file may also be a *variant*: ``base:`` names another scenario file (relative to the
variant) and the variant's keys are deep-merged over it, and ``overrides:`` changes single rows
of the loaded tables (:class:`OverridesConfig`). Resolution lives in :mod:`dingdian.scenario.variants`;
:func:`dingdian.scenario.variants.read_config` returns the resolved, validated configuration either way.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from dingdian.errors import ScenarioError, ScenarioErrors, clip
from dingdian.models.data import Options, Weights
from dingdian.scenario.allocation import AllocationConfig
from dingdian.scenario.files import read_text, safe_load, yaml_problem

STRICT = ConfigDict(extra="forbid", frozen=True)

#: facility categories, by kind (community_health_station 社区卫生服务站 and institution_clinic
#: 高等院校、养老机构等内设医疗机构 come with the Heze plan's priority classes, 二(二))
CATEGORIES: dict[str, tuple[str, ...]] = {
    "clinic": ("clinic", "village_clinic", "community_health_centre", "community_health_station",
               "institution_clinic"),
    "pharmacy": ("chain_pharmacy", "single_pharmacy"),
}

#: codes of facilities.csv's optional ``exempt`` column → the rule written to ``exempt_rule``
EXEMPT_RULES: dict[str, str] = {
    "key_project": "二(三)2 重点建设项目 key provincial/municipal project",
    "public_health": "二(三)3 基层公共卫生机构 grassroots public-health institution",
    "licensed_before_2025": "规划说明 2025-03-01前已获许可并运营 licensed and operating before "
                            "2025-03-01",
}
#: codes of facilities.csv's optional ``priority`` column → the class written to
#: ``priority_class`` (二(二) 可优先纳入门诊统筹、门诊慢特病定点); clinics only
PRIORITY_CLASSES: dict[str, str] = {
    "community_health": "二(二) 社区卫生服务中心（站） community health centre/station",
    "integrated_village_clinic": "二(二) 一体化村卫生室 integrated village clinic",
    "university_clinic": "二(二) 高等院校内设医疗机构 university in-house clinic",
    "elderly_care_clinic": "二(二) 养老机构内设医疗机构 elderly-care in-house clinic",
}
ALL_CATEGORIES = tuple(c for cats in CATEGORIES.values() for c in cats)
#: the categories' Chinese names, as the plans write them (plan.csv ``protected_class``)
CATEGORY_ZH: dict[str, str] = {
    "clinic": "诊所", "village_clinic": "村卫生室", "community_health_centre": "社区卫生服务中心",
    "community_health_station": "社区卫生服务站", "institution_clinic": "内设医疗机构",
    "chain_pharmacy": "连锁药店", "single_pharmacy": "单体药店",
}


def _from_dataclass(cls: type, name: str) -> type[BaseModel]:
    """A strict pydantic model with the fields, types and defaults of dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if tp is int:  # weights are non-negative integers
            tp = Annotated[int, Field(ge=0, strict=True)]
        fields[f.name] = (tp, f.default)
    return create_model(name, __config__=STRICT, **fields)


OptionsConfig = _from_dataclass(Options, "OptionsConfig")
WeightsConfig = _from_dataclass(Weights, "WeightsConfig")


class FilesConfig(BaseModel):
    """Data files, relative to the directory of ``scenario.yaml``."""

    model_config = STRICT
    counties: str
    census: str
    urban_areas: str
    facilities: str
    targets: str
    county_quotas: str
    street_quotas: str | None = None
    #: fund figures per planning year for the fund-risk gate (二(三)1), see dingdian.scenario.loader
    fund: str | None = None
    #: scores by year (考核得分 by year: facility_id, year, score), see dingdian.scenario.quality;
    #: a year not given keeps facilities.csv's score
    scores: str | None = None


class RulesConfig(BaseModel):
    """Switches for the rules of the Heze plan (dingdian.models.site (9)–(12), (8f)) and for the Zhangye
    allocation rules computed beside the model (street split, basic set, indices).

    Each rule needs its data as well: without ``near_radius_m`` no 800 m rows, without a
    ``files.fund`` no gate, without the ``exempt``/``priority``/``moves_from`` columns in
    facilities.csv no exempt, priority or move rows. Switched off, the data is read and checked
    but not used (the facilities are ordinary applicants, every year is open).
    """

    model_config = STRICT
    #: Zhangye 五(一)3, 五(二)3 人口因素90%+地理因素10% street quotas (dingdian.planners.street_split): auto =
    #: derive for a county with streets but no street rows, derive = always, off = never
    street_split: Literal["auto", "derive", "off"] = "auto"
    #: the geographic factor of the street split: street area (km²) or planning cells
    street_split_geography: Literal["area", "cells"] = "area"
    #: Zhangye 四(一) 各县区原则上设置综合医院、中医类、妇幼保健机构各1家 (dingdian.planners.basic_set)
    basic_set: bool = True
    #: 民族地区优先设立民族医保定点医疗机构: counties where an ethnic-medicine hospital comes first
    ethnic_counties: tuple[str, ...] = ()
    #: Zhangye 一(二)2, 附件1 集聚度 and density indices per county (dingdian.planners.indices)
    indices: bool = True
    #: 二(二) 周边800米有效活动半径范围内有同类型定点医药机构的，原则上不再新增定点; null = off
    near_radius_m: float | None = Field(None, gt=0)
    #: 二(二) when a neighbour counts as "有…定点医药机构": start = designated when the year begins
    #: (still there when the year's applications are assessed, even if it exits that year) or
    #: admitted in it; end = designated at the year's end (an exit frees the site that year)
    near_timing: Literal["start", "end"] = "start"
    #: 二(二) 同类型: kind = 定点医疗机构 vs 定点零售药店, the two types the section's heading names
    #: (门诊定点医疗机构和定点零售药店); category = the facility category (诊所, 村卫生室,
    #: 社区卫生服务中心/站, 内设医疗机构; 连锁/单体药店)
    near_type: Literal["kind", "category"] = "kind"
    #: 二(一)1 暂停全市当年度医疗机构新增医保定点的受理和评估: a year the beds file (kind heze)
    #: pauses also stops outpatient clinic admissions (17); off: the sentence stands under
    #: 住院定点医疗机构
    bed_pause_outpatient: bool = False
    #: 二(二) priority classes: the (8f) bonus for the ``priority`` column
    priority: bool = True
    #: 二(三)2, 二(三)3 and the closing paragraph: the ``exempt`` column
    exempt: bool = True
    #: 二(三)1 the fund-risk gate from ``files.fund``
    fund_gate: bool = True
    #: 二(二) moves across management areas: the ``moves_from`` column
    moves: bool = True
    #: 张掖 五(一)2 "对考核不达标和考核排名末位的终止医保服务协议" (七: 对年度考核不合格的解除协议):
    #: a facility scoring below this in a year exits that year (dingdian.models.site (16));
    #: null = off, since neither plan gives the figure
    pass_mark: Annotated[int, Field(ge=0, le=100)] | None = None
    #: whether those exits are left out of the yearly exit limits (outside, the default: a
    #: termination no yearly figure holds back; 表7/表9 leave 甘州区 no exit outside its six
    #: streets) or count within them (表6/表7 年度退出计划 read as every exit)
    pass_mark_exits: Literal["within", "outside"] = "outside"


class GridConfig(BaseModel):
    """The hexagon grid (see :mod:`dingdian.scenario.cells`)."""

    model_config = STRICT
    urban_radius_m: float = Field(1060.82, gt=0)
    rural_radius_m: float = Field(2121.64, gt=0)
    rural_pharmacy_exempt: tuple[str, ...] = ()
    population_decay_m: float = Field(2000.0, gt=0)
    county_property: str = "short_name"


Count = Annotated[int, Field(ge=0, strict=True)]
KindName = Literal["clinic", "pharmacy"]
TARGET_COLUMN = re.compile(r"(existing|target)_\d{4}")


class TargetOverride(BaseModel):
    """One row of the targets table (表2/表3), matched by ``county`` and ``kind``.

    Every other key is a year column of targets.csv (``target_2030: 200``, ``existing_2024``)
    and sets that cell.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    county: str = Field(min_length=1)
    kind: KindName

    @model_validator(mode="after")
    def _columns(self) -> TargetOverride:
        extra = self.model_extra or {}
        if not extra:
            raise ValueError("give at least one target_YYYY (or existing_YYYY) value")
        for key, value in extra.items():
            if not TARGET_COLUMN.fullmatch(key):
                raise ValueError(f"unknown key {clip(key)!r} (expected target_YYYY or existing_YYYY)")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{key}: expected a non-negative integer, got {clip(value)!r}")
        return self

    def values(self) -> dict[str, int]:
        return dict(self.model_extra or {})


def _quota_values(self) -> dict[str, int]:
    return {k: v for k, v in (("admit", self.admit), ("exit", self.exit)) if v is not None}


def _some_quota(self):
    if self.admit is None and self.exit is None:
        raise ValueError("give admit, exit or both")
    return self


class CountyQuotaOverride(BaseModel):
    """One row of the county quotas (表6/表7), matched by ``county, kind, year``."""

    model_config = STRICT
    county: str = Field(min_length=1)
    kind: KindName
    year: Annotated[int, Field(strict=True)]
    admit: Count | None = None
    exit: Count | None = None
    _check = model_validator(mode="after")(_some_quota)
    values = _quota_values


class StreetQuotaOverride(CountyQuotaOverride):
    """One row of the street quotas (表8/表9), matched by ``county, street, kind, year``."""

    street: str = Field(min_length=1)


class FacilityOverride(BaseModel):
    """One facility, matched by ``facility_id``: its ``score`` (0–100) or ``protected`` flag."""

    model_config = STRICT
    facility_id: str = Field(min_length=1)
    score: Annotated[int, Field(ge=0, le=100, strict=True)] | None = None
    protected: bool | None = None

    @model_validator(mode="after")
    def _some(self) -> FacilityOverride:
        if self.score is None and self.protected is None:
            raise ValueError("give score, protected or both")
        return self

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in (("score", self.score), ("protected", self.protected))
                if v is not None}


class OverridesConfig(BaseModel):
    """Row-level changes to the loaded tables, without copying a CSV (:mod:`dingdian.scenario.variants`).

    Each entry names the key columns of one existing row and the values to set::

        overrides:
          targets:        [{county: 甘州区, kind: pharmacy, target_2030: 200}]
          county_quotas:  [{county: 甘州区, kind: pharmacy, year: 2028, exit: 30}]
          street_quotas:  [{county: 甘州区, street: 东街街道, kind: clinic, year: 2025, admit: 1}]
          facilities:     [{facility_id: ZY-P-0001, protected: true}]

    A key that matches no row is an error naming the entry (``overrides.targets[0]``).
    """

    model_config = STRICT
    targets: tuple[TargetOverride, ...] = ()
    county_quotas: tuple[CountyQuotaOverride, ...] = ()
    street_quotas: tuple[StreetQuotaOverride, ...] = ()
    facilities: tuple[FacilityOverride, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.targets or self.county_quotas or self.street_quotas or self.facilities)


class ScenarioConfig(BaseModel):
    """Top level of ``scenario.yaml``."""

    model_config = STRICT
    #: a variant's base scenario file, relative to the variant (see :mod:`dingdian.scenario.variants`)
    base: str | None = None
    name: str = Field(min_length=1)
    title: str = ""
    #: the city's name for table titles (表6/表7: "<city>无住院服务定点医疗机构…"); None: 张掖市
    city: str | None = None
    description: str = ""
    synthetic: str | None = None
    crs: str
    #: the datum of the facilities' lon/lat (and the nursing candidates'): wgs84 (GPS, 天地图),
    #: gcj02 (高德, 腾讯) or bd09 (百度); converted to WGS-84 on load (dingdian.coords)
    coordinates: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    base_year: int
    years: tuple[int, ...] = Field(min_length=1)
    files: FilesConfig
    grid: GridConfig = GridConfig()
    #: categories that never exit: only what the plan names (张掖 五(二)1(2) 原则上行政村卫生室不做
    #: 调控; 菏泽 二(三)3 基层医疗卫生机构原则上不受本规划限制)
    protected_categories: tuple[str, ...] = ()
    #: the plan's sentence for each protected category, written beside each protected facility
    #: (plan.csv ``protected_class``); a category without one says it is the scenario's choice
    protected_basis: dict[str, str] = {}
    options: OptionsConfig = OptionsConfig()  # type: ignore[valid-type]
    weights: WeightsConfig = WeightsConfig()  # type: ignore[valid-type]
    rules: RulesConfig = RulesConfig()
    #: the plans' remaining allocation rules (special zones, pharmacy roles, sequencing,
    #: priorities), all off unless given: see dingdian.scenario.allocation
    allocation: AllocationConfig = AllocationConfig()
    #: the plan's own names of the yearly-limit tables, for the explanations (Zhangye:
    #: {county_clinic: 表6, county_pharmacy: 表7, street_clinic: 表8, street_pharmacy: 表9});
    #: a table not named is described ("the county quotas")
    table_names: dict[Literal["county_clinic", "county_pharmacy", "street_clinic",
                              "street_pharmacy"], str] = {}
    #: the title of each yearly table without its number and place (Zhangye's default:
    #: 无住院服务定点医疗机构每年配置增减数量 …); the city (county tables) or the street county
    #: (street tables) is put in front: dingdian.write.tables.table_specs
    table_titles: dict[Literal["county_clinic", "county_pharmacy", "street_clinic",
                               "street_pharmacy"], str] = {}
    #: optional planners beside the site model, each a YAML file of its own (relative path):
    #: hospital beds (:mod:`dingdian.planners.beds`) and long-term-care institutions
    #: (:mod:`dingdian.planners.nursing`)
    beds: str | None = None
    nursing: str | None = None
    #: row-level changes to the loaded tables (targets, quotas, facilities)
    overrides: OverridesConfig = OverridesConfig()

    @model_validator(mode="after")
    def _check(self) -> ScenarioConfig:
        expect = tuple(range(self.base_year + 1, self.base_year + 1 + len(self.years)))
        if self.years != expect:
            raise ValueError(f"years must be consecutive from base_year + 1, e.g. {list(expect)}")
        bad = [c for c in self.protected_categories if c not in ALL_CATEGORIES]
        if bad:
            raise ValueError(
                f"protected_categories: unknown category {clip(bad[0])!r} (known: {', '.join(ALL_CATEGORIES)})"
            )
        stray = [c for c in self.protected_basis if c not in self.protected_categories]
        if stray:
            raise ValueError(f"protected_basis: {clip(stray[0])!r} is not in protected_categories")
        return self

    def to_options(self) -> Options:
        return Options(**self.options.model_dump())

    def to_weights(self) -> Weights:
        return Weights(**self.weights.model_dump())


def _yaml_line(text: str, loc: tuple) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its deepest existing parent)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            hit = [(k, v) for k, v in node.value if k.value == str(key)]
            if not hit:
                break
            line = hit[0][0].start_mark.line + 1
            node = hit[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def field_name(loc: tuple) -> str | None:
    """A pydantic location as a field path: ``grid.urban_radius_m``, ``overrides.targets[0]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


def read_yaml(path: Path) -> tuple[dict, str]:
    """The top-level mapping of a scenario YAML file and its text; problems → ScenarioError."""
    name = path.name
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise ScenarioError(name, None, None, f"file not found: {path}") from None
    except OSError as exc:
        raise ScenarioError(name, None, None, f"cannot read {path}: {exc}") from None
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(name, None, None, yaml_problem(exc)) from None
    if not isinstance(data, dict):
        raise ScenarioError(name, None, None, "expected a mapping of keys at the top level")
    return data, text


def validate_config(data: dict, locate: Callable[[tuple], tuple[str, str]]) -> ScenarioConfig:
    """Validate a (resolved) scenario mapping; every problem is listed (ScenarioErrors).

    ``locate(loc)`` gives the name and text of the file that wrote the key at ``loc``, so a
    variant's error names the variant or its base, with the line of the key in that file.
    """
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            msg = err.get("msg", "invalid value")
            if err.get("type") == "extra_forbidden":
                msg = "unknown key"
            elif err.get("type") == "missing":
                msg = "required key is missing"
            name, text = locate(loc)
            line = _yaml_line(text, loc)
            if line is not None:
                msg += f" (line {line})"
            problems.append(ScenarioError(name, None, field_name(loc), msg))
        raise ScenarioErrors(problems) from None

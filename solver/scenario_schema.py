"""The ``scenario.yaml`` schema (pydantic v2, unknown keys rejected, frozen).

``Options`` and ``Weights`` sections mirror :class:`models.data.Options` and
:class:`models.data.Weights` field by field, with the same defaults; the pydantic models are
built from the dataclasses so the two can never drift apart.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from models.data import Options, Weights
from solver.errors import ScenarioError

STRICT = ConfigDict(extra="forbid", frozen=True)

#: facility categories, by kind
CATEGORIES: dict[str, tuple[str, ...]] = {
    "clinic": ("clinic", "village_clinic", "community_health_centre"),
    "pharmacy": ("chain_pharmacy", "single_pharmacy"),
}
ALL_CATEGORIES = tuple(c for cats in CATEGORIES.values() for c in cats)


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


class GridConfig(BaseModel):
    """The hexagon grid (see :mod:`solver.cells`)."""

    model_config = STRICT
    urban_radius_m: float = Field(1060.82, gt=0)
    rural_radius_m: float = Field(2121.64, gt=0)
    rural_pharmacy_exempt: tuple[str, ...] = ()
    population_decay_m: float = Field(2000.0, gt=0)
    county_property: str = "short_name"


class ScenarioConfig(BaseModel):
    """Top level of ``scenario.yaml``."""

    model_config = STRICT
    name: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    synthetic: str | None = None
    crs: str
    base_year: int
    years: tuple[int, ...] = Field(min_length=1)
    files: FilesConfig
    grid: GridConfig = GridConfig()
    protected_categories: tuple[str, ...] = ()
    options: OptionsConfig = OptionsConfig()  # type: ignore[valid-type]
    weights: WeightsConfig = WeightsConfig()  # type: ignore[valid-type]
    #: optional planners beside the site model, each a YAML file of its own (relative path):
    #: hospital beds (:mod:`solver.beds_plan`) and long-term-care institutions
    #: (:mod:`solver.nursing_plan`)
    beds: str | None = None
    nursing: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ScenarioConfig:
        expect = tuple(range(self.base_year + 1, self.base_year + 1 + len(self.years)))
        if self.years != expect:
            raise ValueError(f"years must be consecutive from base_year + 1, e.g. {list(expect)}")
        bad = [c for c in self.protected_categories if c not in ALL_CATEGORIES]
        if bad:
            raise ValueError(
                f"protected_categories: unknown category {bad[0]!r} (known: {', '.join(ALL_CATEGORIES)})"
            )
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


def read_config(path: Path) -> ScenarioConfig:
    """Parse and validate ``scenario.yaml``; every problem becomes one :class:`ScenarioError`."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(name, None, None, f"file not found: {path}") from None
    except OSError as exc:
        raise ScenarioError(name, None, None, f"cannot read {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ScenarioError(name, None, None, f"invalid YAML{where}: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(name, None, None, "expected a mapping of keys at the top level")
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        field = ".".join(str(p) for p in loc) or None
        msg = err.get("msg", "invalid value")
        if err.get("type") == "extra_forbidden":
            msg = "unknown key"
        elif err.get("type") == "missing":
            msg = "required key is missing"
        line = _yaml_line(text, loc)
        if line is not None:
            msg += f" (line {line})"
        more = len(exc.errors()) - 1
        if more:
            msg += f"; {more} more error(s)"
        raise ScenarioError(name, None, field, msg) from None

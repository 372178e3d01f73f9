"""Scenario variants: a YAML file that names a base scenario and changes part of it.

Like Calliope's overrides, a variant is written as the difference to its base::

    # scenarios/zhangye/variants/published.yaml
    base: ../scenario.yaml            # relative to this file
    name: zhangye-published
    description: The yearly quotas as equalities, which reproduces 表6–表9.
    options: {exit_mode: exact, admit_mode: exact}

**Resolution** (:func:`resolve`). The base is resolved first (it may be a variant itself; a
cycle is an error), then the variant's keys are deep-merged over it: mappings merge key by key,
lists and scalars replace (``protected_categories: [village_clinic]`` is the whole new list, and
so is ``overrides.targets``). The result is validated by the same strict schema
(:class:`dingdian.scenario.schema.ScenarioConfig`) and loaded by the same loader
(:func:`dingdian.scenario.loader.load_scenario`) as a plain scenario.

**Paths.** Every file a scenario names (``files.*``, ``beds``, ``nursing``) is relative to the
file that names it. A variant's own paths are rewritten to be relative to the *root*: the
directory of the base-most scenario, which is where everything the base names already lives.
:attr:`dingdian.scenario.loader.Scenario.path` is that base-most file (so ``Path(sc.path).parent`` is the
root) and :attr:`~dingdian.scenario.loader.Scenario.variant` the variant file.

**Overrides** (:class:`dingdian.scenario.schema.OverridesConfig`) change single rows of the loaded
tables without copying a CSV::

    overrides:
      targets:       [{county: 甘州区, kind: pharmacy, target_2030: 200}]        # targets.csv
      county_quotas: [{county: 甘州区, kind: pharmacy, year: 2028, exit: 30}]    # 表6/表7
      street_quotas: [{county: 甘州区, street: 东街街道, kind: pharmacy, year: 2028, exit: 5}]
      facilities:    [{facility_id: ZY-P-0001, score: 90, protected: true}]

Each entry is matched by its key columns (targets: county, kind; county quotas: county, kind,
year; street quotas: county, street, kind, year; facilities: facility_id) and sets the other
values it gives. A key that matches no row is a one-line error naming the file that wrote the
entry and its path, e.g. ``tight_exits.yaml, field 'overrides.county_quotas[0]': no row for
甘州区 pharmacy 2031 in quotas_county.csv``.

**Errors.** Every problem is one :class:`~dingdian.errors.ScenarioError` naming the file that wrote
the offending key (the variant or one of its bases) and the field, with its line.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dingdian.errors import ScenarioError
from dingdian.scenario.schema import (
    OverridesConfig,
    ScenarioConfig,
    _yaml_line,
    read_yaml,
    validate_config,
)

#: keys whose values are file paths, relative to the file that writes them
PATH_KEYS = ("beds", "nursing")
#: keys that describe a scenario rather than change it (left out of :func:`dingdian.scenario.catalogue.diff`)
DESCRIPTIVE = ("base", "name", "title", "description", "synthetic")


# --------------------------------------------------------------------------- merging
def deep_merge(base: Mapping, over: Mapping) -> dict:
    """``over`` merged into ``base``: mappings merge key by key, lists and scalars replace.

    Neither argument is modified; the result shares no mutable value with ``over``.
    """
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _record(origin: dict[tuple, Path], data: Mapping, file: Path, prefix: tuple = ()) -> None:
    """Note that ``file`` wrote every key of ``data`` (replacing what its bases wrote)."""
    for key, value in data.items():
        loc = (*prefix, key)
        if not isinstance(value, Mapping):  # a replaced list or scalar: drop deeper origins
            for k in [k for k in origin if k[: len(loc)] == loc and len(k) > len(loc)]:
                del origin[k]
        origin[loc] = file
        if isinstance(value, Mapping):
            _record(origin, value, file, loc)


def _rebase(data: dict, src: Path, root: Path) -> dict:
    """``data`` with its relative file paths (``files.*``, beds, nursing) made relative to
    ``root`` instead of ``src``."""
    if src.resolve() == root.resolve():
        return data

    def move(value: Any) -> Any:
        if not isinstance(value, str) or not value or Path(value).is_absolute():
            return value
        return Path(os.path.relpath((src / value).resolve(), root.resolve())).as_posix()

    out = dict(data)
    for key in PATH_KEYS:
        if key in out:
            out[key] = move(out[key])
    if isinstance(out.get("files"), Mapping):
        out["files"] = {k: move(v) for k, v in out["files"].items()}
    return out


# --------------------------------------------------------------------------- resolution
@dataclass(frozen=True, eq=False)
class Resolved:
    """A scenario file resolved over its bases (before validation)."""

    #: the file asked for
    path: Path
    #: the base-most file of the chain; every relative path in ``data`` is relative to its dir
    anchor: Path
    #: the merged mapping
    data: dict
    #: the file, its base, the base's base … down to ``anchor``
    chain: tuple[Path, ...]
    #: which file wrote each key path of ``data``
    origin: dict[tuple, Path] = field(default_factory=dict)
    texts: dict[Path, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.anchor.parent

    @property
    def is_variant(self) -> bool:
        return len(self.chain) > 1

    def file_of(self, loc: tuple) -> Path:
        """The file that wrote the key at ``loc`` (or its nearest parent); else the variant."""
        loc = tuple(loc)
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.origin:
                return self.origin[loc[:n]]
        return self.path

    def locate(self, loc: tuple) -> tuple[str, str]:
        file = self.file_of(loc)
        return file.name, self.texts.get(file, "")

    def error(self, loc: tuple, field_name: str, message: str) -> ScenarioError:
        """A one-line error at ``loc`` naming the file that wrote it and the key's line."""
        name, text = self.locate(loc)
        line = _yaml_line(text, loc)
        return ScenarioError(name, None, field_name,
                             message + (f" (line {line})" if line is not None else ""))


def resolve(path: str | Path, _seen: tuple[Path, ...] = ()) -> Resolved:
    """Read ``path`` and, when it names a ``base:``, resolve the base and merge over it."""
    path = Path(path)
    data, text = read_yaml(path)
    base = data.get("base")
    if base is None:
        origin: dict[tuple, Path] = {}
        _record(origin, data, path)
        return Resolved(path=path, anchor=path, data=data, chain=(path,), origin=origin,
                        texts={path: text})
    line = _yaml_line(text, ("base",))
    at = f" (line {line})" if line is not None else ""
    if not isinstance(base, str) or not base.strip():
        raise ScenarioError(path.name, None, "base",
                            f"expected the base scenario's file, relative to this file{at}")
    base_path = Path(os.path.normpath(path.parent / base))  # lexically: ../ folded
    if base_path.is_dir():
        base_path = base_path / "scenario.yaml"
    me = path.resolve()
    seen = (*_seen, me)
    if base_path.resolve() in seen:
        names = [p.name for p in seen[seen.index(base_path.resolve()):]]
        cycle = " → ".join([*names, base_path.name])
        raise ScenarioError(path.name, None, "base", f"base cycle: {cycle}{at}")
    if not base_path.is_file():
        raise ScenarioError(path.name, None, "base", f"file not found: {base_path}{at}")
    parent = resolve(base_path, seen)
    own = _rebase(data, path.parent, parent.root)
    origin = dict(parent.origin)
    _record(origin, own, path)
    return Resolved(path=path, anchor=parent.anchor, data=deep_merge(parent.data, own),
                    chain=(path, *parent.chain), origin=origin,
                    texts={**parent.texts, path: text})


def resolve_config(path: str | Path) -> tuple[ScenarioConfig, Resolved]:
    """Resolve ``path`` over its bases and validate the result with the scenario schema."""
    res = resolve(path)
    return validate_config(res.data, res.locate), res


# --------------------------------------------------------------------------- overrides
def read_config(path: str | Path) -> ScenarioConfig:
    """Parse and validate ``scenario.yaml`` (or a variant, resolved over its base); every
    problem becomes one :class:`~dingdian.errors.ScenarioError`."""
    return resolve_config(Path(path))[0]


def describe(values: Mapping) -> str:
    return " ".join(str(v) for v in values.values())


def apply_overrides(
    overrides: OverridesConfig,
    res: Resolved | None,
    *,
    targets: pd.DataFrame | None = None,
    quotas: pd.DataFrame | None = None,
    facilities: pd.DataFrame | None = None,
    files: Mapping[str, Path | None] | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """The loaded tables with ``overrides`` applied (copies; the inputs are not modified).

    ``targets`` is :attr:`Scenario.targets`, ``quotas`` :attr:`Scenario.quotas` (county and
    street rows), ``facilities`` :attr:`Scenario.facilities`; a table passed as None is skipped.
    ``files`` (key → path, as in ``files:``) only names the CSVs in messages. Errors name the
    file that wrote the entry (from ``res``) and the entry, ``overrides.targets[0]``.
    """
    files = files or {}

    def csv(key: str, default: str) -> str:
        p = files.get(key)
        return Path(p).name if p is not None else default

    def fail(section: str, i: int, message: str) -> ScenarioError:
        loc, name = ("overrides", section, i), f"overrides.{section}[{i}]"
        if res is None:
            return ScenarioError("scenario.yaml", None, name, message)
        return res.error(loc, name, message)

    if targets is not None and overrides.targets:
        targets = targets.copy()
        for i, o in enumerate(overrides.targets):
            hit = (targets["county"] == o.county) & (targets["kind"] == o.kind)
            if not hit.any():
                raise fail("targets", i, f"no row for {o.county} {o.kind} in "
                                         f"{csv('targets', 'targets.csv')}")
            for col, value in o.values().items():
                if col not in targets.columns:
                    have = ", ".join(c for c in targets.columns if c not in ("county", "kind"))
                    raise fail("targets", i, f"{csv('targets', 'targets.csv')} has no column "
                                             f"{col} (columns: {have})")
                targets.loc[hit, col] = int(value)
    if quotas is not None and (overrides.county_quotas or overrides.street_quotas):
        quotas = quotas.copy()
        for section, level, default in (("county_quotas", "county", "quotas_county.csv"),
                                         ("street_quotas", "street", "quotas_street.csv")):
            for i, o in enumerate(getattr(overrides, section)):
                area = o.county if level == "county" else o.street
                rows = quotas["level"] == level
                if level == "street" and not rows.any():
                    raise fail(section, i, "the scenario has no street quotas "
                                           "(files.street_quotas)")
                hit = rows & (quotas["county"] == o.county) & (quotas["area"] == area) \
                    & (quotas["kind"] == o.kind) & (quotas["year"] == o.year)
                if not hit.any():
                    key = o.county if level == "county" else f"{o.county} {o.street}"
                    raise fail(section, i, f"no row for {key} {o.kind} {o.year} in "
                                           f"{csv(section, default)}")
                for col, value in o.values().items():
                    quotas.loc[hit, col] = int(value)
    if facilities is not None and overrides.facilities:
        facilities = facilities.copy()
        for i, o in enumerate(overrides.facilities):
            hit = facilities["facility_id"] == o.facility_id
            if not hit.any():
                raise fail("facilities", i, f"no facility {o.facility_id!r} in "
                                            f"{csv('facilities', 'facilities.csv')}")
            for col, value in o.values().items():
                facilities.loc[hit, col] = value
    return targets, quotas, facilities

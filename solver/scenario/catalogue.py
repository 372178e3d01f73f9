"""The scenarios under a folder: list them, find one by name, show what a variant changes.

Behind ``dingdian scenarios list`` and ``dingdian scenarios show NAME``: :func:`list_scenarios`
finds every scenario and variant file (a YAML file whose top level has ``crs`` or ``base``),
:func:`find_scenario` resolves a name or a path, and :func:`diff` lists, key by key and row by
row, what a variant changes in its base (:mod:`dingdian.scenario.variants`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dingdian.errors import ScenarioError
from dingdian.scenario.schema import ScenarioConfig
from dingdian.scenario.variants import DESCRIPTIVE, Resolved, describe, resolve_config


@dataclass(frozen=True)
class Entry:
    """One scenario file under a scenarios directory (see :func:`list_scenarios`)."""

    path: Path
    name: str
    title: str = ""
    description: str = ""
    #: the base file (None for a plain scenario) and its scenario name
    base: Path | None = None
    base_name: str | None = None
    #: the one-line error when the file does not resolve or validate
    error: str | None = None

    @property
    def is_variant(self) -> bool:
        return self.base is not None

    @property
    def one_line(self) -> str:
        """The description's first sentence on one line (at most ~100 characters)."""
        text = " ".join(self.description.split())
        for stop in (". ", "。"):
            if stop in text:
                text = text.split(stop)[0] + stop.strip()
                break
        return text if len(text) <= 100 else text[:99].rstrip() + "…"


def _is_scenario_file(path: Path) -> bool:
    """A YAML file whose top level has ``base`` (a variant) or ``crs`` (a scenario)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return path.name == "scenario.yaml"
    return isinstance(data, dict) and ("base" in data or "crs" in data)


def default_directory() -> Path:
    """``./scenarios`` when it exists, else the ``scenarios/`` folder of the source tree that
    dingdian is installed from (the shipped Zhangye and Heze scenarios)."""
    here = Path("scenarios")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "scenarios"


def list_scenarios(directory: str | Path | None = None) -> list[Entry]:
    """Every scenario and variant file under ``directory`` (default:
    :func:`default_directory`), sorted by path.

    A file that does not resolve or validate is listed with its one-line ``error``. A folder
    that does not exist or holds no scenario file raises :class:`ScenarioError`.
    """
    directory = Path(directory) if directory is not None else default_directory()
    if not directory.is_dir():
        raise ScenarioError(str(directory), None, None, "no such directory")
    entries = _entries(directory)
    if not entries:
        raise ScenarioError(str(directory), None, None,
                            "no scenario files (YAML with crs: or base:)")
    return entries


def _entries(directory: Path) -> list[Entry]:
    """Every scenario and variant file under ``directory``, sorted by path (none: [])."""
    files = sorted(p for ext in ("*.yaml", "*.yml") for p in directory.rglob(ext)
                   if p.is_file() and _is_scenario_file(p))
    names: dict[Path, str] = {}
    out = []
    for path in files:
        try:
            cfg, res = resolve_config(path)
        except ScenarioError as exc:
            out.append(Entry(path=path, name=path.stem, error=str(exc)))
            continue
        names[path.resolve()] = cfg.name
        base = res.chain[1] if res.is_variant else None
        out.append(Entry(path=path, name=cfg.name, title=cfg.title, description=cfg.description,
                         base=base))
    final = []
    for e in out:
        if e.base is not None:
            name = names.get(e.base.resolve())
            if name is None:
                try:
                    name = resolve_config(e.base)[0].name
                except ScenarioError:
                    name = e.base.stem
            e = Entry(**{**e.__dict__, "base_name": name})
        final.append(e)
    return final


def find_scenario(name_or_path: str | Path, directory: str | Path | None = None) -> Path:
    """The scenario file for a path, a directory holding scenario.yaml, or a name.

    A name matches a scenario's ``name:``, its file's stem (``published``) or its path under
    ``directory`` without the suffix (``zhangye/variants/published``); a plain scenario also
    matches its directory's name (``zhangye``).
    """
    p = Path(name_or_path)
    if p.is_file():
        return p
    if p.is_dir() and (p / "scenario.yaml").is_file():
        return p / "scenario.yaml"
    key = str(name_or_path).removesuffix(".yaml").removesuffix(".yml")
    directory = Path(directory) if directory is not None else default_directory()
    entries = _entries(directory)
    hits = []
    for e in entries:
        rel = e.path.relative_to(directory).with_suffix("").as_posix()
        aliases = {e.name, e.path.stem, rel}
        if e.path.name == "scenario.yaml":
            aliases.add(e.path.parent.name)
        if key in aliases:
            hits.append(e)
    if len(hits) > 1:
        exact = [e for e in hits if e.name == key]
        hits = exact if len(exact) == 1 else hits
    if not hits:
        known = ", ".join(e.name for e in entries) or "none"
        raise ScenarioError(str(name_or_path), None, None,
                            f"no scenario file or name {str(name_or_path)!r} under "
                            f"{directory} (known: {known})")
    if len(hits) > 1:
        raise ScenarioError(str(name_or_path), None, None,
                            "ambiguous name, give the path: "
                            + ", ".join(str(e.path) for e in hits))
    return hits[0].path


# --------------------------------------------------------------------------- diff
def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _table_value(cfg: ScenarioConfig, root: Path, section: str, key: dict, col: str):
    """The value of ``col`` in the row ``key`` of a table as ``cfg`` loads it (file and
    overrides), or None when it cannot be read."""
    for o in getattr(cfg.overrides, section):
        d = o.model_dump()
        if all(d.get(k) == v for k, v in key.items()) and col in o.values():
            return o.values()[col]
    file = getattr(cfg.files, {"targets": "targets", "county_quotas": "county_quotas",
                               "street_quotas": "street_quotas",
                               "facilities": "facilities"}[section])
    if file is None:
        return None
    try:
        frame = pd.read_csv(root / file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError):
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    hit = pd.Series(True, index=frame.index)
    for k, v in key.items():
        if k not in frame.columns:
            return None
        hit &= frame[k].str.strip() == str(v)
    if col not in frame.columns or not hit.any():
        return None
    return frame.loc[hit, col].iloc[0].strip()


KEYS = {"targets": ("county", "kind"), "county_quotas": ("county", "kind", "year"),
        "street_quotas": ("county", "street", "kind", "year"), "facilities": ("facility_id",)}


def diff(base: ScenarioConfig, variant: ScenarioConfig, root: Path | None = None) -> list[str]:
    """What ``variant`` changes relative to ``base``, one short line per change.

    Settings: ``options.exit_mode: at_most → exact``. Overrides: ``overrides.targets[0]:
    甘州区 pharmacy target_2030: 189 → 200`` (the old value read from the base's table under
    ``root``, when given). Descriptive keys (name, title, description…) are left out.
    """
    skip = (*DESCRIPTIVE, "overrides")
    old = {k: v for k, v in _flat(base.model_dump(mode="json")).items()
           if k.split(".")[0] not in skip}
    new = {k: v for k, v in _flat(variant.model_dump(mode="json")).items()
           if k.split(".")[0] not in skip}
    out = []
    for k in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(k), new.get(k)
        if a != b:
            out.append(f"{k}: {_show(a)} → {_show(b)}")
    for section, keys in KEYS.items():
        before = {o.model_dump_json() for o in getattr(base.overrides, section)}
        for i, o in enumerate(getattr(variant.overrides, section)):
            if o.model_dump_json() in before:
                continue
            d = o.model_dump()
            key = {k: d[k] for k in keys}
            changes = []
            for col, value in o.values().items():
                was = _table_value(base, root, section, key, col) if root is not None else None
                changes.append(f"{col} {_show(was) if was is not None else '?'} → {_show(value)}")
            out.append(f"overrides.{section}[{i}]: {describe(key)}: {', '.join(changes)}")
    return out


@dataclass(frozen=True)
class ScenarioView:
    """A scenario file resolved (``dingdian scenarios show``): its path, validated
    configuration and resolution chain; for a variant, its base's configuration and the
    changes relative to it, one line each (:func:`diff`)."""

    path: Path
    config: ScenarioConfig
    resolved: Resolved
    base_config: ScenarioConfig | None = None
    changes: tuple[str, ...] = ()


def show_scenario(name_or_path: str | Path, directory: str | Path | None = None) -> ScenarioView:
    """Find a scenario by file, folder or name (:func:`find_scenario`) and resolve it."""
    path = find_scenario(name_or_path, directory)
    cfg, res = resolve_config(path)
    if not res.is_variant:
        return ScenarioView(path=path, config=cfg, resolved=res)
    base = resolve_config(res.chain[1])[0]
    return ScenarioView(path=path, config=cfg, resolved=res, base_config=base,
                        changes=tuple(diff(base, cfg, res.root)))

"""The paths a scenario names, checked before any file is opened: ``files:``, ``beds:``,
``nursing:`` and the files the beds and nursing YAML name.

:func:`scenario_files` gives the ``files:`` by key, :func:`planner_paths` checks the planner
files; both keep every path inside the scenario folder unless ``allow_outside`` and refuse a
folder, FIFO, device or /proc file (the rule: :mod:`dingdian.scenario.paths`). Every problem is
one :class:`~dingdian.errors.ScenarioError` naming the file that wrote the key and the key.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from dingdian.errors import ScenarioError, ScenarioErrors, clip
from dingdian.scenario.files import read_text, safe_load, split_sheet
from dingdian.scenario.paths import confine
from dingdian.scenario.schema import ScenarioConfig
from dingdian.scenario.variants import Resolved


def scenario_files(cfg: ScenarioConfig, res: Resolved,
                   allow_outside: bool = False) -> dict[str, Path | None]:
    """The paths of ``files:`` by key (None when optional and absent; a workbook's sheet stays
    in the path, ``规划数据.xlsx#机构名单``); every missing file, file outside the scenario folder
    (unless ``allow_outside``) or folder, FIFO, device is reported together."""
    base = res.root
    out: dict[str, Path | None] = {}
    missing = []
    for key, value in cfg.files.model_dump().items():
        if value is None:
            out[key] = None
            continue
        p = base / value
        writer = res.file_of(("files", key))
        try:
            confine(split_sheet(p)[0], (base, writer.parent), file=writer.name,
                    field=f"files.{key}", shown=value, allow_outside=allow_outside)
        except ScenarioError as exc:
            missing.append(exc)
        else:
            if not split_sheet(p)[0].is_file():
                missing.append(ScenarioError(writer.name, None, f"files.{key}",
                                             f"file not found: {clip(p, 120)}"))
        out[key] = p
    if missing:
        raise ScenarioErrors(missing)
    return out


def _planner_keys(data) -> list[tuple[str, str]]:
    """The paths a beds or nursing YAML names: ``files.*`` and ``by_year.<year>.age_bands``,
    ``.counties`` (field, path as written)."""
    data = data if isinstance(data, dict) else {}
    files, years = data.get("files"), data.get("by_year")
    out = [(f"files.{k}", v) for k, v in files.items() if isinstance(v, str)] \
        if isinstance(files, dict) else []
    for year, own in years.items() if isinstance(years, dict) else ():
        if isinstance(own, dict):
            out += [(f"by_year.{year}.{k}", own[k]) for k in ("age_bands", "counties")
                    if isinstance(own.get(k), str)]
    return out


def planner_paths(cfg: ScenarioConfig, res: Resolved, allow_outside: bool = False) -> bool:
    """Check ``beds:``, ``nursing:`` and the files their YAML names against the scenario folder
    (:mod:`dingdian.scenario.paths`), every problem raised together. The YAML files are read
    for their paths only: their other problems are the planners' to say."""
    found = []
    for key in ("beds", "nursing"):
        value = getattr(cfg, key)
        if not value:
            continue
        writer = res.file_of((key,))
        folders, path = (res.root, writer.parent), res.root / value
        try:
            confine(path, folders, file=writer.name, field=key, shown=value,
                    allow_outside=allow_outside)
            data = safe_load(read_text(path))
        except ScenarioError as exc:
            found.append(exc)
            continue
        except (OSError, yaml.YAMLError):
            continue
        for field_name, rel in _planner_keys(data):
            try:
                confine(path.parent / rel, folders, file=path.name, field=field_name, shown=rel,
                        allow_outside=allow_outside)
            except ScenarioError as exc:
                found.append(exc)
    if found:
        raise ScenarioErrors(found)
    return True

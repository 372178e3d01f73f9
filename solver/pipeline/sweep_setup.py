"""The runs of a sweep: settings, sweep files and the variant file each run is solved from.

The settings a run may carry, the sweep file's schema and the variant each run becomes are
described in :mod:`dingdian.pipeline.sweep`. :func:`sweep_runs` turns what the user gave (a
scenario or a sweep file, runs, ``--set`` axes) into the list of runs; :func:`prepare` writes
and validates every run's variant before anything is solved.

**Run names and folders.** A run's name (``name:``, else its number and settings,
``003_radius=800``) is kept as given in sweep.csv's ``run`` column; its folder ``DIR/<folder>/``
and variant ``DIR/variants/<folder>.yaml`` use the name made safe, deterministically
(:func:`run_folder`): every character but letters (Chinese ones too), digits and ``_ . = + -``
becomes ``-`` (``/ \\ : * ? " < > |``, spaces, ``$`` …), leading ``. - =`` and trailing ``.`` go,
and it is cut to 150 bytes. A name that leaves nothing (``.``, ``..``, ``///``), one that is
the sweep's own entry (``variants``, ``sweep.csv``, ``sweep_counts.csv``) or a device name on
Windows (``CON``, ``NUL``, ``COM1`` …), and two runs whose folders would be the same (compared
ignoring case, as Windows and macOS do) are refused in one line naming the sweep file (or
``--set``) and the run.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dingdian.errors import ScenarioError, clip
from dingdian.models.data import KINDS
from dingdian.scenario.variants import deep_merge, resolve_config

ALIASES = {"radius": "grid.urban_radius_m", "rural_radius": "grid.rural_radius_m"}
SCALES = ("exit_scale", "admit_scale")
#: a run's folder may not be one of the sweep's own entries in DIR
RESERVED = ("variants", "sweep.csv", "sweep_counts.csv")
#: names Windows keeps for devices, whatever the case and extension
WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                             *(f"lpt{i}" for i in range(1, 10))})
FOLDER_BYTES = 150  # a run folder's name at most (UTF-8; file systems allow 255)

class SweepRun(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = Field(None, min_length=1)
    set: dict[str, Any] = {}


class SweepConfig(BaseModel):
    """A sweep file (module docstring); unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: str = Field(min_length=1)
    solver: str | None = None
    time_limit: float | None = Field(None, gt=0)
    grid: dict[str, list[Any]] = {}
    runs: list[SweepRun] = []


def grid(axes: Mapping[str, Sequence]) -> list[dict]:
    """The cartesian product of ``{setting: [values]}``, the first key varying slowest."""
    keys = list(axes)
    return [dict(zip(keys, values, strict=True))
            for values in itertools.product(*(list(axes[k]) for k in keys))]


def cross(runs: Sequence[Mapping], axes: Mapping[str, Sequence]) -> list[dict]:
    """Every run (or the base alone) times the product of ``axes``; a named run's name gets
    the axis settings appended (``gz_x0.8_radius=800``)."""
    if not axes:
        return [dict(r) for r in runs]
    out = []
    for run in runs or [{}]:
        for a in grid(axes):
            row = {**run, **a}
            if run.get("name"):
                row["name"] = "_".join([str(run["name"]), *(f"{k}={v}" for k, v in a.items())])
            out.append(row)
    return out


def read_sweep(path: str | Path) -> tuple[Path, list[dict], dict]:
    """A sweep file: ``(scenario path, runs, {solver, time_limit})``; errors → ScenarioError."""
    path = Path(path)
    from dingdian.scenario.schema import field_name, read_yaml

    data, _ = read_yaml(path)
    try:
        cfg = SweepConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ScenarioError(path.name, None, field_name(tuple(err["loc"])), msg) from None
    for key, values in cfg.grid.items():
        if not values:
            raise ScenarioError(path.name, None, f"grid.{key}", "give at least one value")
    runs = grid(cfg.grid) if cfg.grid else []
    runs += [{**({"name": r.name} if r.name else {}), **r.set} for r in cfg.runs]
    options = {k: v for k, v in (("solver", cfg.solver), ("time_limit", cfg.time_limit))
               if v is not None}
    return path.parent / cfg.scenario, runs, options


def parse_set(text: str) -> tuple[str, list]:
    """``--set KEY=V1,V2`` → ``(KEY, [V1, V2])``, each value read as YAML (800 → int)."""
    key, eq, values = text.partition("=")
    key = key.strip()
    if not eq or not key or not values.strip():
        raise ScenarioError("--set", None, key or text, "expected KEY=VALUE[,VALUE…]")
    out = []
    for v in values.split(","):
        try:
            out.append(yaml.safe_load(v) if v.strip() else None)
        except yaml.YAMLError:
            out.append(v.strip())
        if out[-1] is None:
            raise ScenarioError("--set", None, key, f"empty value in {values!r}")
    return key, out


# --------------------------------------------------------------------------- building runs
def run_name(i: int, settings: Mapping) -> str:
    """The run's name: the given ``name``, else ``003_radius=800_weights.churn=1``."""
    if settings.get("name") is not None:
        return str(settings["name"])
    return "_".join([f"{i + 1:03d}", *(f"{k}={v}" for k, v in settings.items())])


def run_folder(name: str, source: str = "--set") -> str:
    """``name`` made a safe folder name (module docstring); a name that cannot be one is a
    :class:`~dingdian.errors.ScenarioError` naming ``source`` and the run."""
    folder = re.sub(r"[^\w.=+-]", "-", unicodedata.normalize("NFC", name))
    folder = folder.lstrip(".-=")
    while len(folder.encode("utf-8")) > FOLDER_BYTES:
        folder = folder[:-1]
    folder = folder.rstrip(".")
    why = None
    if not folder:
        why = "leaves no folder name once made safe"
    elif folder.lower() in RESERVED:
        why = f"would replace the sweep's own {folder.lower()}" + "/" * (folder.lower() == RESERVED[0])
    elif folder.split(".")[0].lower() in WINDOWS_DEVICES:
        why = "is a device name on Windows"
    if why:
        raise ScenarioError(source, None, "name", f"run {clip(repr(name))} cannot name a "
                            f"folder: it {why}; rename the run")
    return folder


def _nested(key: str, value) -> dict:
    out: Any = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def _scale_scope(key: str, scenario, source: str) -> tuple[str | None, str | None]:
    """``exit_scale.甘州区.pharmacy`` → ``("甘州区", "pharmacy")``; unknown names → error."""
    county = kind = None
    counties = set(scenario.quotas["county"])
    for part in key.split(".")[1:]:
        if part in KINDS and kind is None:
            kind = part
        elif part in counties and county is None:
            county = part
        else:
            raise ScenarioError(source, None, key, f"{part!r} is neither a kind ({', '.join(KINDS)}) "
                                f"nor a county with quotas ({', '.join(sorted(counties))})")
    return county, kind


def _scaled_quotas(scenario, key: str, factor, source: str) -> dict[str, list[dict]]:
    """Override entries for ``exit_scale…`` / ``admit_scale…`` (see the module docstring)."""
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 0:
        raise ScenarioError(source, None, key, f"expected a non-negative factor, got {factor!r}")
    col = key.split(".")[0].removesuffix("_scale")
    county, kind = _scale_scope(key, scenario, source)
    q = scenario.quotas
    hit = pd.Series(True, index=q.index)
    if county is not None:
        hit &= q["county"] == county
    if kind is not None:
        hit &= q["kind"] == kind
    out: dict[str, list[dict]] = {"county_quotas": [], "street_quotas": []}
    for r in q[hit].itertuples(index=False):
        entry = {"county": r.county, "kind": r.kind, "year": int(r.year),
                 col: int(getattr(r, col) * factor + 0.5)}
        if r.level == "street":
            entry["street"] = r.area
        out[f"{r.level}_quotas"].append(entry)
    return out


def variant_data(scenario, settings: Mapping, name: str, source: str = "--set") -> dict:
    """The variant mapping of one run over the loaded base ``scenario``."""
    data: dict = {"base": str(Path(scenario.source).resolve()),
                  "name": f"{scenario.config.name}-{name}",
                  "description": "sweep run: " + ", ".join(f"{k}={v}" for k, v in
                                                           settings.items() if k != "name")}
    scaled: dict[str, list[dict]] = {"county_quotas": [], "street_quotas": []}
    for key, value in settings.items():
        if key in ("name", "solver"):
            continue
        head = key.split(".")[0]
        if head in SCALES:
            for section, rows in _scaled_quotas(scenario, key, value, source).items():
                scaled[section] += rows
            continue
        data = deep_merge(data, _nested(ALIASES.get(key, key), value))
    for section, rows in scaled.items():
        if rows:
            overrides = data.setdefault("overrides", {})
            own = overrides.get(section)
            if own is None:  # keep the base's entries: a list would replace them
                own = [o.model_dump(exclude_none=True)
                       for o in getattr(scenario.config.overrides, section)]
            overrides[section] = [*rows, *own]  # the run's own entries win (applied last)
    return data


def prepare(scenario_path: str | Path, runs: Sequence[Mapping], out: str | Path, *,
            backend: str = "highs", source: str = "--set", allow_outside: bool = False
            ) -> list[tuple[str, str, dict, Path, str]]:
    """Write and validate every run's variant file: ``[(name, folder, settings, variant,
    backend)]`` (the name as given, its folder made safe: module docstring).

    Every setting is checked before any solve: a bad key or value, a run name that cannot
    name a folder or two runs with one folder is one ScenarioError naming ``source``
    (``--set`` or the sweep file) and the setting or run. ``allow_outside`` as
    :func:`dingdian.load`.
    """
    from dingdian.run.backends import BACKENDS
    from dingdian.scenario.loader import load_scenario
    from dingdian.write.outputs import atomic_directory

    base = load_scenario(scenario_path, allow_outside=allow_outside)
    out = Path(out)
    runs = list(runs) or [{}]
    names = [run_name(i, s) for i, s in enumerate(runs)]
    folders = [run_folder(n, source) for n in names]
    seen: dict[str, str] = {}
    for name, folder in zip(names, folders, strict=True):
        other = seen.setdefault(folder.casefold(), name)
        if other != name or names.count(name) > 1:
            what = f"two runs named {clip(repr(name))}" if other == name else \
                f"runs {clip(repr(other))} and {clip(repr(name))} would share the folder {folder!r}"
            raise ScenarioError(source, None, "name", f"{what}; give each run its own name")
    prepared = []
    with atomic_directory(out / "variants") as tmp:  # this sweep's variants, no stale ones
        for name, folder, settings in zip(names, folders, runs, strict=True):
            run_backend = settings.get("solver", backend)
            if run_backend not in BACKENDS:
                raise ScenarioError(source, None, "solver", f"unknown solver {run_backend!r} "
                                    f"(choose one of {', '.join(BACKENDS)})")
            data = variant_data(base, settings, name, source)
            (tmp / f"{folder}.yaml").write_text(
                yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
            try:
                resolve_config(tmp / f"{folder}.yaml")
            except ScenarioError as exc:
                key = _setting_of(exc.field, settings)
                raise ScenarioError(source, None, key,
                                    f"{exc.message} (run {clip(name)})") from None
            prepared.append((name, folder, dict(settings), out / "variants" / f"{folder}.yaml",
                             run_backend))
    return prepared


def _setting_of(field: str | None, settings: Mapping) -> str | None:
    """The setting that wrote the scenario key ``field`` (an alias is named as given)."""
    if field is None:
        return None
    for key in settings:
        full = ALIASES.get(key, key)
        if field == full or field.startswith(full + ".") or field.startswith(full + "["):
            return key
    return field


def is_sweep_file(path: Path) -> bool:
    """A YAML file whose top level has ``scenario:`` (a scenario has ``crs`` or ``base``)."""
    if not path.is_file() or path.suffix not in (".yaml", ".yml"):
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "scenario" in data


def sweep_runs(scenario: str | Path, runs: Sequence[Mapping] = (),
               sets: Sequence[str] | Mapping[str, Sequence] = ()
               ) -> tuple[Path, list[dict], dict, str]:
    """What to solve: ``(scenario file, runs, {solver, time_limit} of a sweep file, source)``.

    ``scenario`` is a scenario folder or file, or a sweep file (its runs come first, then
    ``runs``); ``sets`` are axes, ``--set`` texts (``"radius=800,1060.82"``) or a mapping of
    value lists, crossed with the runs. ``source`` names where a bad setting came from (the
    sweep file or ``--set``). Bad input raises :class:`~dingdian.errors.ScenarioError`.
    """
    scenario = Path(scenario)
    if scenario.is_dir() and (scenario / "scenario.yaml").is_file():
        scenario = scenario / "scenario.yaml"
    listed: list[dict] = []
    options: dict = {}
    source = "--set"
    if is_sweep_file(scenario):
        source = scenario.name
        scenario, listed, options = read_sweep(scenario)
    axes = dict(sets) if isinstance(sets, Mapping) else dict(parse_set(s) for s in sets)
    return scenario, cross([*listed, *(dict(r) for r in runs)], axes), options, source

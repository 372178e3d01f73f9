"""Audit loading: existing counts and targets, text figures, and whole audits put together.

Owns reading the existing counts and targets (表2/表3 in the plan's layout, a scenario's
``targets.csv`` or its ``scenario.yaml``) and the ``text_figures`` list, and building one
:class:`~dingdian.check.audit_read.AuditInput` from an ``audit.yaml`` (:func:`load_audit_file`)
or from a folder or workbook whose tables are recognised by their number (:func:`load_tables`,
Zhangye's numbering). Single tables are parsed by :mod:`dingdian.check.audit_read`.

The files an audit.yaml names stay inside its folder, and the targets and street quotas a
``--scenario`` names inside the scenario's, unless ``allow_outside``
(:mod:`dingdian.scenario.paths`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from dingdian.check.audit_read import (
    KIND_LABEL,
    TOTAL_LABELS,
    AuditInput,
    Targets,
    TextFigure,
    cell_int,
    cell_text,
    figure_grid,
    parse_beds,
    read_grid,
    read_yearly,
)
from dingdian.errors import ScenarioError, clip
from dingdian.scenario.files import Table, read_text, safe_load, split_sheet, yaml_problem
from dingdian.scenario.paths import confine
from dingdian.write.tables import table_specs

DEFAULT_BASE_YEAR = 2024  # 表2/表3 现有数: end of 2024 (Zhangye numbering, folder mode)
DEFAULT_TARGET_YEARS = {"中期目标": 2028, "中期": 2028, "规划数": 2030, "规划目标": 2030}
# Zhangye's numbering (used when a folder or workbook is audited without an audit.yaml)
_YEARLY = {s.number: (s.kind, s.level) for s in table_specs()}
_TARGETS = {"表2": "clinic", "表3": "pharmacy"}
_BEDS = {"表1": "level", "表4": "county", "表5": "level"}
TABLE_NAME = re.compile(r"^(表\s*\d+)(?!\d)")


# ----------------------------------------------------------------------------- reading


def parse_target_table(grid: list[list], source: str, kind: str,
                       target_years: dict) -> tuple[pd.DataFrame, dict]:
    """表2/表3: ``县区, 现有数, 中期目标, 规划数`` → rows ``county, kind, existing, target_<y>``."""
    heads, body = figure_grid(grid, source)
    cols: dict[str, int] = {}
    for i, h in enumerate(heads):
        if i == 0 or not h:
            continue
        if "现有" in h:
            cols["existing"] = i
            continue
        m = re.search(r"(20\d\d)", h)
        year = int(m.group(1)) if m else next(
            (y for key, y in sorted(target_years.items(), key=lambda kv: -len(kv[0]))
             if key in h), None)
        if year is None:
            raise ScenarioError(source, None, h, "cannot tell which year this target is for: "
                                "name it in target_years (e.g. {中期目标: 2028, 规划数: 2030})")
        cols[f"target_{int(year)}"] = i
    if "existing" not in cols:
        raise ScenarioError(source, None, None, "no 现有数 column")
    rows, totals = [], {}
    for k, label, cells in body:
        vals = {c: cell_int(cells[i] if i < len(cells) else None, source, k, heads[i], label)
                for c, i in cols.items()}
        if label in TOTAL_LABELS:
            totals = {"label": label, **vals}
        else:
            rows.append({"county": label, "kind": kind, **vals})
    if not rows:
        raise ScenarioError(source, None, None, "no county rows")
    return pd.DataFrame(rows), totals


def read_targets_csv(path: Path) -> Targets:
    """A scenario's ``targets.csv``: ``county, kind, existing_<year>, target_<year>…``."""
    grid, source = read_grid(path)
    return targets_from_grid(grid, source)


def targets_from_grid(grid: list[list], source: str) -> Targets:
    """Targets from a table's cells, the heading row first (codes, as a scenario's)."""
    if not grid:
        raise ScenarioError(source, None, None, "empty file")
    heads = [cell_text(h) for h in grid[0]]
    need = {"county", "kind"}
    if not need <= set(heads):
        raise ScenarioError(source, None, "county", "targets need columns county, kind, "
                            "existing_<year>, target_<year>")
    existing = [h for h in heads if re.fullmatch(r"existing_\d{4}", h)]
    target_cols = [h for h in heads if re.fullmatch(r"target_\d{4}", h)]
    if len(existing) != 1 or not target_cols:
        raise ScenarioError(source, None, "existing_<year>",
                            "need one existing_<year> column and target_<year> columns")
    rows = []
    for k, cells in enumerate(grid[1:], start=1):
        if not any(cell_text(v) for v in cells):
            continue
        rec = dict(zip(heads, cells, strict=False))
        county, kind = cell_text(rec.get("county")), cell_text(rec.get("kind"))
        if kind not in KIND_LABEL:
            raise ScenarioError(source, k, "kind", f"{kind!r} is not clinic or pharmacy")
        row = {"county": county, "kind": kind,
               "existing": cell_int(rec.get(existing[0]), source, k, existing[0], county)}
        for c in target_cols:
            if cell_text(rec.get(c)):
                row[c] = cell_int(rec.get(c), source, k, c, county)
        rows.append(row)
    frame = pd.DataFrame(rows)
    years = tuple(sorted(int(c.split("_")[1]) for c in target_cols))
    return Targets(frame, years, int(existing[0].split("_")[1]),
                   {k: source for k in frame["kind"].unique()})


def _combine_targets(parts: list[tuple[pd.DataFrame, dict, str, str]], base_year: int) -> Targets:
    frames = [p[0] for p in parts]
    frame = pd.concat(frames, ignore_index=True)
    years = tuple(sorted({int(c.split("_")[1]) for c in frame.columns
                          if c.startswith("target_")}))
    return Targets(frame, years, base_year, {kind: src for _, _, src, kind in parts},
                   {kind: tot for _, tot, _, kind in parts if tot})



# ----------------------------------------------------------------------------- loading


def _ref(spec, where: str, file: str) -> tuple[str, str | None, dict]:
    """``表7.csv`` or ``{file: 表7.csv, sheet: 表7, kind: …}`` → (file, sheet, extra keys)."""
    if isinstance(spec, str):
        return spec, None, {}
    if isinstance(spec, dict) and isinstance(spec.get("file"), str):
        extra = {k: v for k, v in spec.items() if k not in ("file", "sheet")}
        return spec["file"], (str(spec["sheet"]) if spec.get("sheet") is not None else None), extra
    raise ScenarioError(file, None, where, "expected a file name or {file: …, sheet: …}")


def _choice(value, allowed, file: str, where: str) -> str:
    if value not in allowed:
        raise ScenarioError(file, None, where,
                            f"{clip(value)!r} is not one of {', '.join(allowed)}")
    return value


def read_text_figures(items, file: str) -> list[TextFigure]:
    """``text_figures`` items (see ``scenarios/zhangye/published/text_figures.yaml``)."""
    if isinstance(items, dict) and "text_figures" in items:
        items = items["text_figures"]
    if not isinstance(items, list):
        raise ScenarioError(file, None, "text_figures", "expected a list of figures")
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ScenarioError(file, None, f"text_figures[{n}]", "expected figure, value, compare")
        for key in ("figure", "value", "compare"):
            if key not in item:
                raise ScenarioError(file, None, f"text_figures[{n}].{key}", "missing")
        value = item["value"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ScenarioError(file, None, f"text_figures[{n}].value",
                                f"{value!r} is not a whole number")
        compare = str(item["compare"])
        if not re.fullmatch(r"(beds|表\d+)\.(existing|planned|adjustment|surplus)"
                            r"|(clinic|pharmacy)\.(existing|surplus|target_\d{4})", compare):
            raise ScenarioError(file, None, f"text_figures[{n}].compare",
                                f"{compare!r}: use beds.existing|planned|adjustment|surplus, "
                                "表N.existing…, clinic|pharmacy.existing|surplus|target_<year>")
        out.append(TextFigure(str(item["figure"]), value, compare, str(item.get("where", "")),
                              str(item.get("quote", ""))))
    return out


def _yaml(path: Path):
    if not path.exists():
        raise ScenarioError(path.name, None, None, f"file not found ({path})")
    try:
        return safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise ScenarioError(path.name, None, None, yaml_problem(exc)) from None
    except UnicodeDecodeError:
        raise ScenarioError(path.name, None, None, "not UTF-8 text") from None


def load_audit_file(path: Path, allow_outside: bool = False) -> AuditInput:
    """An ``audit.yaml`` (see ``scenarios/zhangye/published/audit.yaml``); paths are relative
    to it and stay inside its folder unless ``allow_outside``."""
    path = Path(path)
    doc = _yaml(path)
    file = path.name

    def at(name: str, where: str) -> Path:
        """``name`` (under ``where``) in the audit folder, confined."""
        confine(path.parent / name, (path.parent,), file=file, field=where, shown=name,
                allow_outside=allow_outside, what="the audit folder")
        return path.parent / name

    if not isinstance(doc, dict):
        raise ScenarioError(file, None, None, "expected a mapping (yearly:, targets:, beds:, …)")
    known = {"title", "base_year", "street_county", "yearly", "targets", "target_years", "beds",
             "level_ratio", "text_figures", "target_mode"}
    for key in doc:
        if key not in known:
            raise ScenarioError(file, None, clip(key),
                                f"unknown key (known: {', '.join(sorted(known))})")
    inp = AuditInput(label=str(doc.get("title") or path))
    if "street_county" in doc:
        inp.street_county = doc["street_county"] or None
    inp.target_mode = _choice(doc.get("target_mode", "equal"), ("equal", "at_most"), file,
                              "target_mode")
    base_year = doc.get("base_year", DEFAULT_BASE_YEAR)
    if not isinstance(base_year, int):
        raise ScenarioError(file, None, "base_year", f"{base_year!r} is not a year")
    for number, spec in (doc.get("yearly") or {}).items():
        number = str(number)
        name, sheet, extra = _ref(spec, f"yearly.{number}", file)
        kind, level = _YEARLY.get(number, (None, None))
        kind = _choice(extra.get("kind", kind), tuple(KIND_LABEL), file, f"yearly.{number}.kind")
        level = _choice(extra.get("level", level), ("county", "street"), file,
                        f"yearly.{number}.level")
        inp.yearly.append(read_yearly(at(name, f"yearly.{number}"), number, kind, level, sheet))
    targets = doc.get("targets")
    if isinstance(targets, str):
        inp.targets = read_targets_csv(at(targets, "targets"))
    elif isinstance(targets, dict):
        years = doc.get("target_years") or DEFAULT_TARGET_YEARS
        if not isinstance(years, dict):
            raise ScenarioError(file, None, "target_years", "expected {heading: year}")
        parts = []
        for number, spec in targets.items():
            name, sheet, extra = _ref(spec, f"targets.{number}", file)
            kind = _choice(extra.get("kind", _TARGETS.get(str(number))), tuple(KIND_LABEL), file,
                           f"targets.{number}.kind")
            grid, source = read_grid(at(name, f"targets.{number}"), sheet)
            frame, totals = parse_target_table(grid, source, kind, years)
            parts.append((frame, totals, str(number), kind))
        inp.targets = _combine_targets(parts, base_year)
    elif targets is not None:
        raise ScenarioError(file, None, "targets", "expected targets.csv or {表2: …, 表3: …}")
    for number, spec in (doc.get("beds") or {}).items():
        number = str(number)
        name, sheet, extra = _ref(spec, f"beds.{number}", file)
        group = _choice(extra.get("group", _BEDS.get(number)), ("level", "county"), file,
                        f"beds.{number}.group")
        grid, source = read_grid(at(name, f"beds.{number}"), sheet)
        inp.beds.append(parse_beds(grid, source, number, group))
    ratio = doc.get("level_ratio")
    if ratio is not None:
        if not isinstance(ratio, dict) or not all(isinstance(v, int | float) and v > 0
                                                  for v in ratio.values()):
            raise ScenarioError(file, None, "level_ratio", "expected {三级: 3, 二级: 5, …}")
        inp.level_ratio = {str(k): float(v) for k, v in ratio.items()}
    figures = doc.get("text_figures")
    if isinstance(figures, str):
        inp.text_figures = read_text_figures(_yaml(at(figures, "text_figures")), figures)
    elif figures is not None:
        inp.text_figures = read_text_figures(figures, file)
    return inp


def _table_files(source: Path) -> dict[str, tuple[Path, str | None]]:
    """``表N`` → (file, sheet) found in a folder (or its ``tables/``) or an Excel workbook."""
    found: dict[str, tuple[Path, str | None]] = {}
    if source.is_dir():
        files = sorted([*source.glob("*"), *(source / "tables").glob("*")],
                       key=lambda p: (p.suffix.lower() != ".csv", str(p)))
        for p in files:
            m = TABLE_NAME.match(p.name)
            if m and p.suffix.lower() in (".csv", ".xlsx", ".xlsm"):
                found.setdefault(m.group(1).replace(" ", ""), (p, None))
        return found
    if source.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(source, read_only=True)
            names = list(wb.sheetnames)
            wb.close()
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is bad input
            raise ScenarioError(source.name, None, None,
                                f"not a readable Excel workbook ({exc})") from None
        for name in names:
            m = TABLE_NAME.match(name)
            if m:
                found.setdefault(m.group(1).replace(" ", ""), (source, name))
        if not found and TABLE_NAME.match(source.name):
            found[TABLE_NAME.match(source.name).group(1)] = (source, None)
        return found
    m = TABLE_NAME.match(source.name)
    if m:
        found[m.group(1).replace(" ", "")] = (source, None)
    return found


def read_scenario_targets(scenario: Path, allow_outside: bool = False) -> tuple[Targets, dict]:
    """The targets, target mode and street county of a dingdian scenario (YAML or folder); its
    files stay inside its folder unless ``allow_outside``."""
    scenario = Path(scenario)
    if scenario.is_dir():
        scenario = scenario / "scenario.yaml"
    doc = _yaml(scenario)
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise ScenarioError(scenario.name, None, "files", "not a dingdian scenario (no files:)")
    name = doc["files"].get("targets")
    if not name:
        raise ScenarioError(scenario.name, None, "files.targets", "the scenario has no targets")
    for key, value in doc["files"].items():
        if key in ("targets", "street_quotas") and isinstance(value, str):
            confine(split_sheet(scenario.parent / value)[0], (scenario.parent,),
                    file=scenario.name, field=f"files.{key}", shown=value,
                    allow_outside=allow_outside)
    # the scenario's own reader: CSV in any encoding or a workbook's sheet, Chinese headings
    with Table(scenario.parent / name, ["county", "kind"], key="targets", totals="county",
               city=doc.get("city")) as t:
        grid = [list(t.df.columns), *t.df.to_numpy().tolist()]
    targets = targets_from_grid(grid, t.name)
    extra = {"target_mode": (doc.get("options") or {}).get("target_mode", "equal")}
    streets = doc["files"].get("street_quotas")
    extra["street_county"] = None
    if streets and split_sheet(scenario.parent / streets)[0].is_file():
        with Table(scenario.parent / streets, ["county"], key="street_quotas",
                   totals="county") as t:
            counties = t.df["county"].unique()
        extra["street_county"] = str(counties[0]) if len(counties) == 1 else None
    return targets, extra


def load_tables(source: Path, scenario: Path | None = None,
                text_figures: Path | None = None, allow_outside: bool = False) -> AuditInput:
    """Audit input from an audit.yaml, a folder (dingdian's OUT or 表N files) or a workbook.

    Tables are recognised by their number (``表6…``, Zhangye's numbering: 表1/表5 beds per
    level, 表2/表3 targets, 表4 beds per county, 表6–表9 yearly). ``scenario`` supplies the
    existing counts and targets (its targets.csv) and takes precedence over 表2/表3;
    ``text_figures`` is a YAML list of the text's figures. The files an audit.yaml or the
    scenario names stay inside its folder unless ``allow_outside``.
    """
    source = Path(source)
    if source.is_file() and source.suffix.lower() in (".yaml", ".yml"):
        inp = load_audit_file(source, allow_outside)
    elif source.is_dir() and (source / "audit.yaml").is_file() and not scenario:
        inp = load_audit_file(source / "audit.yaml", allow_outside)
    else:
        if not source.exists():
            raise ScenarioError(source.name, None, None, f"not found ({source})")
        files = _table_files(source)
        if not any(n in files for n in _YEARLY):
            raise ScenarioError(source.name, None, None,
                                "no yearly tables found (files or sheets named 表6…表9)")
        inp = AuditInput(label=str(source))
        for number, (kind, level) in _YEARLY.items():
            if number in files:
                inp.yearly.append(read_yearly(files[number][0], number, kind, level,
                                              files[number][1]))
        for number, group in _BEDS.items():
            if number in files:
                grid, src = read_grid(*files[number])
                inp.beds.append(parse_beds(grid, src, number, group))
        if scenario is None and all(n in files for n in _TARGETS):
            parts = []
            for number, kind in _TARGETS.items():
                grid, src = read_grid(*files[number])
                frame, totals = parse_target_table(grid, src, kind, DEFAULT_TARGET_YEARS)
                parts.append((frame, totals, number, kind))
            inp.targets = _combine_targets(parts, DEFAULT_BASE_YEAR)
    if scenario is not None:
        inp.targets, extra = read_scenario_targets(scenario, allow_outside)
        inp.target_mode = extra["target_mode"]
        if not any(t.level == "street" for t in inp.yearly) or extra["street_county"]:
            inp.street_county = extra["street_county"] or inp.street_county
    if text_figures is not None:
        inp.text_figures = read_text_figures(_yaml(Path(text_figures)), Path(text_figures).name)
    if inp.targets is None:
        inp.notes.append("no existing counts or targets (表2/表3 or --scenario): "
                         "checks a and b skipped")
    return inp


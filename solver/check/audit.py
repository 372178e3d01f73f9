"""Audit a published (or hand-written) yearly plan against its own targets, without solving.

``dingdian audit`` reads the tables of a plan in the plan's layout and checks that they agree:

* yearly admission/exit tables (表6–表9): first column ``区域`` (counties) or ``网格划分``
  (streets), then ``准入``/``退出`` per year, either with flattened headings (``2025年准入,
  2025年退出, …``, as ``dingdian solve`` writes ``OUT/tables/``) or with the plan's heading rows
  (a year merged over its ``准入 | 退出`` pair, optionally under a group heading and a title row,
  as in ``OUT/plan.xlsx``); CSV (UTF-8 or GB18030) or Excel;
* existing counts and targets: 表2/表3 in the plan's layout (``县区, 现有数, 中期目标, 规划数``)
  or a scenario's ``targets.csv`` (``county, kind, existing_<year>, target_<year>…``);
* bed tables 表1/表5 (per level) and 表4 (per county): ``label, 现有…, 规划/必需…, 调整…``;
* figures quoted in the plan's text (``text_figures``, see
  ``scenarios/zhangye/published/text_figures.yaml``).

Checks (``code`` column of the findings):

* ``a`` each county's path ``existing + Σ admissions − Σ exits`` reaches its target in each
  target year (the count reached and the gap);
* ``b`` the path never goes negative, no year exits more than was designated at the end of the
  year before, and the exits never exceed the existing stock (otherwise admitted facilities have
  to exit again: the numbers are given);
* ``c`` the 全市 (or 总数) row equals the sum of the counties, per year and column;
* ``d`` the streets add up to their county's row (表8/表9 vs 表6/表7) and to 街道合计;
* ``e1`` the level tables agree (表1 = 表5); ``e2`` the levels follow the ratio (3:5:2) of the
  planned total within rounding; ``e3`` every bed table's rows add up to its total row; ``e4``
  调整数 = 规划 − 现有 in every row; ``e5`` the county table's total equals the level table's;
* ``f`` each text figure equals what the tables give.

Everything here is pure: readers return frozen dataclasses, :func:`audit` returns the findings
as a frame (``table, row, year, code, check, result, detail``; ``result`` is :data:`PASS` or
:data:`FAIL`). Unreadable input raises :class:`dingdian.errors.ScenarioError`, one line naming
the file, the data row (1-based, heading rows excluded) and the field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from dingdian.errors import ScenarioError
from dingdian.write.tables import ADMIT, CITY_TOTAL, EXIT, STREET_TOTAL, table_specs

PASS = "通过 pass"
FAIL = "不一致 inconsistent"
FINDING_COLUMNS = ["table", "row", "year", "code", "check", "result", "detail"]
HEADINGS = {"table": "表 table", "row": "行 row", "year": "年份 year", "code": "代码 code",
            "check": "检查 check", "result": "结果 result", "detail": "说明 detail"}
CHECKS = {
    "a": "目标 target",
    "b": "存量 stock path",
    "c": "合计 city total",
    "d": "街道合计 streets",
    "e1": "表1=表5 levels",
    "e2": "配比 level ratio",
    "e3": "合计 totals",
    "e4": "调整数 adjustment",
    "e5": "县区=级别 counties = levels",
    "f": "文字 text vs tables",
}
KIND_LABEL = {"clinic": "诊所", "pharmacy": "药店"}
KIND_NAME = {"clinic": "clinics", "pharmacy": "pharmacies"}
TOTAL_LABELS = (CITY_TOTAL, STREET_TOTAL, "合计", "总数", "总计", "全县", "全区")
DEFAULT_RATIO = {"三级": 3.0, "二级": 5.0, "一级及未定级": 2.0}
DEFAULT_BASE_YEAR = 2024  # 表2/表3 现有数: end of 2024 (Zhangye numbering, folder mode)
DEFAULT_TARGET_YEARS = {"中期目标": 2028, "中期": 2028, "规划数": 2030, "规划目标": 2030}
# Zhangye's numbering (used when a folder or workbook is audited without an audit.yaml)
_YEARLY = {s.number: (s.kind, s.level) for s in table_specs()}
_TARGETS = {"表2": "clinic", "表3": "pharmacy"}
_BEDS = {"表1": "level", "表4": "county", "表5": "level"}
TABLE_NAME = re.compile(r"^(表\s*\d+)(?!\d)")
_FLAT = re.compile(r"^(\d{4})年?(准入|退出)$")
_YEAR = re.compile(r"^(\d{4})年?$")
_INT = re.compile(r"^[+-]?\d+$")


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class YearlyTable:
    """One of 表6–表9: admissions and exits per area (rows) and year (columns).

    ``areas`` are the data rows except the total row; ``total`` is the total row's label (or
    ``None``); ``admit``/``exit`` are int frames indexed by every row label (total included) with
    one column per year; ``rows`` maps each label to its 1-based data row.
    """

    number: str
    kind: str
    level: str  # 'county' | 'street'
    source: str
    first_column: str
    years: tuple[int, ...]
    areas: tuple[str, ...]
    total: str | None
    admit: pd.DataFrame
    exit: pd.DataFrame
    rows: dict


@dataclass(frozen=True)
class Targets:
    """Existing counts and targets per county and kind.

    ``frame``: ``county, kind, existing`` and ``target_<year>`` per target year; ``sources``:
    the table each kind came from (``表2``, ``targets.csv``); ``totals``: the published total row
    per kind (``{'existing': 1067, 'target_2028': 988, …}``) with its label, when there is one.
    """

    frame: pd.DataFrame
    years: tuple[int, ...]
    base_year: int
    sources: dict
    totals: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BedTable:
    """表1/表5 (``group='level'``) or 表4 (``group='county'``): existing, planned, adjustment."""

    number: str
    group: str
    source: str
    body: pd.DataFrame  # index row label; columns existing, planned, adjustment
    total_label: str | None
    total: dict | None
    headings: dict  # existing/planned/adjustment → the column's heading as printed


@dataclass(frozen=True)
class TextFigure:
    figure: str
    value: int
    compare: str
    where: str = ""
    quote: str = ""


@dataclass
class AuditInput:
    """Everything one audit looks at; any part may be missing (its checks are then skipped)."""

    yearly: list[YearlyTable] = field(default_factory=list)
    targets: Targets | None = None
    beds: list[BedTable] = field(default_factory=list)
    text_figures: list[TextFigure] = field(default_factory=list)
    street_county: str | None = "甘州区"
    level_ratio: dict = field(default_factory=lambda: dict(DEFAULT_RATIO))
    target_mode: str = "equal"  # or 'at_most'
    label: str = ""
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- reading


def _text(value) -> str:
    """A cell as text without any whitespace (headings wrap inside cells)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", str(value))


def _int(value, source: str, row: int, col: str, label: str) -> int:
    """A whole number from a cell (``+20``, ``1,906``, ``−500``, ``3.0``), else ScenarioError."""
    where = f"{row} ({label})" if label else str(row)
    if isinstance(value, bool):
        raise ScenarioError(source, where, col, f"{value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ScenarioError(source, where, col, f"{value!r} is not a whole number")
    s = _text(value).replace(",", "").replace("，", "").replace("−", "-").replace("－", "-")
    if not s:
        raise ScenarioError(source, where, col, "empty (write 0 for none)")
    if not _INT.match(s):
        raise ScenarioError(source, where, col, f"{str(value).strip()!r} is not a whole number")
    return int(s)


def read_grid(path: Path, sheet: str | None = None) -> tuple[list[list], str]:
    """The cells of a CSV file or an Excel sheet as rows of values, and the name for messages.

    Merged Excel cells keep their value in the top-left cell only (the others are ``None``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    name = path.name
    if not path.is_file():
        raise ScenarioError(name, None, None, f"file not found ({path})")
    if suffix in (".xlsx", ".xlsm"):
        import zipfile

        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            wb = load_workbook(path, data_only=True, read_only=True)
        except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError) as exc:
            raise ScenarioError(name, None, None, f"not a readable Excel workbook ({exc})") from None
        try:
            if sheet is None:
                ws = wb[wb.sheetnames[0]]
            elif sheet in wb.sheetnames:
                ws = wb[sheet]
                name = f"{path.name}[{sheet}]"
            else:
                raise ScenarioError(name, None, "sheet",
                                    f"no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})")
            grid = [list(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
        return grid, name
    if suffix in (".xls", ".ods"):
        raise ScenarioError(name, None, None, "save it as .xlsx or .csv to audit it")
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ScenarioError(name, None, None, "neither UTF-8 nor GB18030 text")
    try:
        grid = [[c if c.strip() else None for c in r] for r in csv.reader(text.splitlines())]
    except csv.Error as exc:
        raise ScenarioError(name, None, None, f"not a CSV table ({exc})") from None
    return grid, name


def _nonempty(row: Sequence) -> list[int]:
    return [i for i, v in enumerate(row) if _text(v)]


def parse_yearly(grid: list[list], source: str, number: str, kind: str,
                 level: str) -> YearlyTable:
    """A yearly admit/exit table from raw cells (either heading layout, see the module doc)."""
    head_end = None
    columns: dict[int, tuple[int, str]] = {}
    for r, row in enumerate(grid[:12]):
        flat = {i: _FLAT.match(_text(v)) for i, v in enumerate(row) if i > 0}
        flat = {i: (int(m.group(1)), m.group(2)) for i, m in flat.items() if m}
        if flat:
            head_end, columns = r, flat
            break
        pairs = [i for i, v in enumerate(row) if i > 0 and _text(v) in (ADMIT, EXIT)]
        if len(pairs) >= 2:
            year_row = next((grid[k] for k in range(r - 1, -1, -1)
                             if any(_YEAR.match(_text(v)) for v in grid[k][1:])), None)
            if year_row is None:
                raise ScenarioError(source, None, None,
                                    "the 准入/退出 heading row has no row of years above it")
            year = None
            for i in range(1, len(row)):
                m = _YEAR.match(_text(year_row[i])) if i < len(year_row) else None
                if m:
                    year = int(m.group(1))
                elif _text(year_row[i] if i < len(year_row) else None):
                    year = None  # some other heading: stop carrying the year over
                if i in pairs:
                    if year is None:
                        raise ScenarioError(source, None, None,
                                            f"column {i + 1} ({_text(row[i])}) has no year above it")
                    columns[i] = (year, _text(row[i]))
            head_end = r
            break
    if head_end is None:
        raise ScenarioError(source, None, None,
                            "no 准入/退出 headings: expected '2025年准入, 2025年退出, …' or a row "
                            "of years over a row of 准入 | 退出")
    first = next((_text(grid[k][0]) for k in range(head_end + 1)
                  if grid[k] and _text(grid[k][0]) and len(_nonempty(grid[k])) > 1), "")
    if not first:
        first = next((_text(grid[k][0]) for k in range(head_end, -1, -1)
                      if grid[k] and _text(grid[k][0])), "区域")
    seen: dict[tuple[int, str], int] = {}
    for i, key in columns.items():
        if key in seen:
            raise ScenarioError(source, None, f"{key[0]}年{key[1]}", "appears twice in the headings")
        seen[key] = i
    years = sorted({y for y, _ in seen})
    for y in years:
        for what in (ADMIT, EXIT):
            if (y, what) not in seen:
                other = EXIT if what == ADMIT else ADMIT
                raise ScenarioError(source, None, f"{y}年{what}",
                                    f"missing: {y} has a {other} column but no {what} column")
    admit: dict[str, dict[int, int]] = {}
    exits: dict[str, dict[int, int]] = {}
    rows: dict[str, int] = {}
    for k, row in enumerate(grid[head_end + 1:], start=1):
        label = _text(row[0]) if row else ""
        cells = {key: (row[i] if i < len(row) else None) for key, i in seen.items()}
        if not any(_text(v) for v in cells.values()):
            continue  # blank line or a note under the table
        if not label:
            raise ScenarioError(source, k, first, "empty: every row needs its area's name")
        if label in rows:
            raise ScenarioError(source, f"{k} ({label})", first,
                                f"{label} appears twice (rows {rows[label]} and {k})")
        rows[label] = k
        admit[label], exits[label] = {}, {}
        for (y, what), v in cells.items():
            n = _int(v, source, k, f"{y}年{what}", label)
            if n < 0:
                raise ScenarioError(source, f"{k} ({label})", f"{y}年{what}",
                                    f"{n} is negative (admissions and exits are counts)")
            (admit if what == ADMIT else exits)[label][y] = n
    if not rows:
        raise ScenarioError(source, None, None, "the table has headings but no rows")
    totals = [a for a in rows if a in TOTAL_LABELS]
    total = totals[-1] if totals else None
    areas = tuple(a for a in rows if a != total)
    return YearlyTable(number, kind, level, source, first, tuple(years), areas, total,
                       _wide(admit, years), _wide(exits, years), rows)


def _wide(values: dict, years: Sequence[int]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(values, orient="index")[list(years)].astype(int)


def read_yearly(path: Path, number: str, kind: str, level: str,
                sheet: str | None = None) -> YearlyTable:
    grid, source = read_grid(path, sheet)
    return parse_yearly(grid, source, number, kind, level)


def _figure_grid(grid: list[list], source: str, must: str = "现有"):
    """Heading row (the first row with a cell containing ``must``) and the body rows."""
    for r, row in enumerate(grid[:12]):
        if any(must in _text(v) for v in row):
            heads = [_text(v) for v in row]
            body = []
            for k, cells in enumerate(grid[r + 1:], start=1):
                if not any(_text(v) for v in cells[1:]):
                    continue
                label = _text(cells[0]) if cells else ""
                if not label:
                    raise ScenarioError(source, k, heads[0] or "label", "empty row label")
                body.append((k, label, cells))
            return heads, body
    raise ScenarioError(source, None, None, f"no heading row with a '{must}…' column")


def parse_beds(grid: list[list], source: str, number: str, group: str) -> BedTable:
    """表1/表4/表5: a label column, then 现有… (existing), 规划/必需… (planned), 调整… columns."""
    heads, body = _figure_grid(grid, source)
    cols: dict[str, int] = {}
    for i, h in enumerate(heads):
        if i == 0 or not h:
            continue
        role = "existing" if "现有" in h else "adjustment" if "调整" in h else "planned"
        if role in cols:
            raise ScenarioError(source, None, h,
                                f"two {role} columns ({heads[cols[role]]} and {h})")
        cols[role] = i
    for role, hint in (("existing", "现有…"), ("planned", "规划…"), ("adjustment", "…调整…")):
        if role not in cols:
            raise ScenarioError(source, None, None, f"no {role} column ({hint})")
    values: dict[str, dict] = {}
    for k, label, cells in body:
        if label in values:
            raise ScenarioError(source, f"{k} ({label})", heads[0], f"{label} appears twice")
        values[label] = {role: _int(cells[i] if i < len(cells) else None, source, k, heads[i],
                                    label) for role, i in cols.items()}
    if not values:
        raise ScenarioError(source, None, None, "the table has headings but no rows")
    totals = [a for a in values if a in TOTAL_LABELS]
    total_label = totals[-1] if totals else None
    total = values.pop(total_label) if total_label else None
    if not values:
        raise ScenarioError(source, None, None, f"the table has only its {total_label} row")
    frame = pd.DataFrame.from_dict(values, orient="index")[["existing", "planned", "adjustment"]]
    return BedTable(number, group, source, frame, total_label, total,
                    {role: heads[i] for role, i in cols.items()})


def parse_target_table(grid: list[list], source: str, kind: str,
                       target_years: dict) -> tuple[pd.DataFrame, dict]:
    """表2/表3: ``县区, 现有数, 中期目标, 规划数`` → rows ``county, kind, existing, target_<y>``."""
    heads, body = _figure_grid(grid, source)
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
        vals = {c: _int(cells[i] if i < len(cells) else None, source, k, heads[i], label)
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
    if not grid:
        raise ScenarioError(source, None, None, "empty file")
    heads = [_text(h) for h in grid[0]]
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
        if not any(_text(v) for v in cells):
            continue
        rec = dict(zip(heads, cells, strict=False))
        county, kind = _text(rec.get("county")), _text(rec.get("kind"))
        if kind not in KIND_LABEL:
            raise ScenarioError(source, k, "kind", f"{kind!r} is not clinic or pharmacy")
        row = {"county": county, "kind": kind,
               "existing": _int(rec.get(existing[0]), source, k, existing[0], county)}
        for c in target_cols:
            if _text(rec.get(c)):
                row[c] = _int(rec.get(c), source, k, c, county)
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
        raise ScenarioError(file, None, where, f"{value!r} is not one of {', '.join(allowed)}")
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
    if not path.is_file():
        raise ScenarioError(path.name, None, None, f"file not found ({path})")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise ScenarioError(path.name, row, None, f"not valid YAML ({exc})") from None
    except UnicodeDecodeError:
        raise ScenarioError(path.name, None, None, "not UTF-8 text") from None


def load_audit_file(path: Path) -> AuditInput:
    """An ``audit.yaml`` (see ``scenarios/zhangye/published/audit.yaml``); paths are relative."""
    path = Path(path)
    doc = _yaml(path)
    file = path.name
    if not isinstance(doc, dict):
        raise ScenarioError(file, None, None, "expected a mapping (yearly:, targets:, beds:, …)")
    known = {"title", "base_year", "street_county", "yearly", "targets", "target_years", "beds",
             "level_ratio", "text_figures", "target_mode"}
    for key in doc:
        if key not in known:
            raise ScenarioError(file, None, str(key), f"unknown key (known: {', '.join(sorted(known))})")
    base = path.parent
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
        inp.yearly.append(read_yearly(base / name, number, kind, level, sheet))
    targets = doc.get("targets")
    if isinstance(targets, str):
        inp.targets = read_targets_csv(base / targets)
    elif isinstance(targets, dict):
        years = doc.get("target_years") or DEFAULT_TARGET_YEARS
        if not isinstance(years, dict):
            raise ScenarioError(file, None, "target_years", "expected {heading: year}")
        parts = []
        for number, spec in targets.items():
            name, sheet, extra = _ref(spec, f"targets.{number}", file)
            kind = _choice(extra.get("kind", _TARGETS.get(str(number))), tuple(KIND_LABEL), file,
                           f"targets.{number}.kind")
            grid, source = read_grid(base / name, sheet)
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
        grid, source = read_grid(base / name, sheet)
        inp.beds.append(parse_beds(grid, source, number, group))
    ratio = doc.get("level_ratio")
    if ratio is not None:
        if not isinstance(ratio, dict) or not all(isinstance(v, int | float) and v > 0
                                                  for v in ratio.values()):
            raise ScenarioError(file, None, "level_ratio", "expected {三级: 3, 二级: 5, …}")
        inp.level_ratio = {str(k): float(v) for k, v in ratio.items()}
    figures = doc.get("text_figures")
    if isinstance(figures, str):
        inp.text_figures = read_text_figures(_yaml(base / figures), figures)
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


def read_scenario_targets(scenario: Path) -> tuple[Targets, dict]:
    """The targets, target mode and street county of a dingdian scenario (YAML or folder)."""
    scenario = Path(scenario)
    if scenario.is_dir():
        scenario = scenario / "scenario.yaml"
    doc = _yaml(scenario)
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise ScenarioError(scenario.name, None, "files", "not a dingdian scenario (no files:)")
    name = doc["files"].get("targets")
    if not name:
        raise ScenarioError(scenario.name, None, "files.targets", "the scenario has no targets")
    targets = read_targets_csv(scenario.parent / name)
    extra = {"target_mode": (doc.get("options") or {}).get("target_mode", "equal")}
    streets = doc["files"].get("street_quotas")
    if streets and (scenario.parent / streets).is_file():
        counties = pd.read_csv(scenario.parent / streets, usecols=["county"])["county"].unique()
        extra["street_county"] = str(counties[0]) if len(counties) == 1 else None
    else:
        extra["street_county"] = None
    return targets, extra


def load_tables(source: Path, scenario: Path | None = None,
                text_figures: Path | None = None) -> AuditInput:
    """Audit input from an audit.yaml, a folder (dingdian's OUT or 表N files) or a workbook.

    Tables are recognised by their number (``表6…``, Zhangye's numbering: 表1/表5 beds per
    level, 表2/表3 targets, 表4 beds per county, 表6–表9 yearly). ``scenario`` supplies the
    existing counts and targets (its targets.csv) and takes precedence over 表2/表3;
    ``text_figures`` is a YAML list of the text's figures.
    """
    source = Path(source)
    if source.is_file() and source.suffix.lower() in (".yaml", ".yml"):
        inp = load_audit_file(source)
    elif source.is_dir() and (source / "audit.yaml").is_file() and not scenario:
        inp = load_audit_file(source / "audit.yaml")
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
        inp.targets, extra = read_scenario_targets(scenario)
        inp.target_mode = extra["target_mode"]
        if not any(t.level == "street" for t in inp.yearly) or extra["street_county"]:
            inp.street_county = extra["street_county"] or inp.street_county
    if text_figures is not None:
        inp.text_figures = read_text_figures(_yaml(Path(text_figures)), Path(text_figures).name)
    if inp.targets is None:
        inp.notes.append("no existing counts or targets (表2/表3 or --scenario): "
                         "checks a and b skipped")
    return inp


# ----------------------------------------------------------------------------- checks


def _finding(table, row, year, code, result, detail) -> dict:
    return {"table": table, "row": row, "year": "" if year is None else str(year), "code": code,
            "check": f"{code} {CHECKS[code]}", "result": result, "detail": detail}


def _span(years: Sequence[int]) -> str:
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0]) if years else ""


def _county_table(inp: AuditInput, kind: str) -> YearlyTable | None:
    return next((t for t in inp.yearly if t.kind == kind and t.level == "county"), None)


def check_targets(inp: AuditInput) -> list[dict]:
    """(a) existing + Σ admissions − Σ exits per county reaches each target year's figure."""
    out: list[dict] = []
    tg = inp.targets
    if tg is None:
        return out
    for kind in KIND_LABEL:
        rows = tg.frame[tg.frame["kind"] == kind]
        if rows.empty:
            continue
        table = _county_table(inp, kind)
        src = tg.sources.get(kind, "targets")
        if table is None:
            continue
        for area in table.areas:
            if area not in set(rows["county"]):
                out.append(_finding(table.number, area, None, "a", FAIL,
                                    f"{area} is in {table.number} but has no target in {src}"))
        for r in rows.itertuples(index=False):
            rec = r._asdict()
            for year in tg.years:
                target = rec.get(f"target_{year}")
                if target is None or pd.isna(target):
                    continue
                target = int(target)
                if r.county not in table.areas:
                    out.append(_finding(table.number, r.county, year, "a", FAIL,
                                        f"{r.county} has a target in {src} but no row in "
                                        f"{table.number}"))
                    continue
                upto = [y for y in table.years if y <= year]
                if year > table.years[-1]:
                    out.append(_finding(table.number, r.county, year, "a", FAIL,
                                        f"{table.number} stops in {table.years[-1]}: no path "
                                        f"to the {year} target {target}"))
                    continue
                adm = int(table.admit.loc[r.county, upto].sum())
                ext = int(table.exit.loc[r.county, upto].sum())
                got = int(r.existing) + adm - ext
                gap = got - target
                ok = gap <= 0 if inp.target_mode == "at_most" else gap == 0
                rel = "≤" if inp.target_mode == "at_most" else "="
                sums = (f"{tg.base_year} 现有 {int(r.existing)} + 准入 {adm} − 退出 {ext} "
                        f"({_span(upto)}) = {got}")
                if ok:
                    detail = f"{sums} {rel} {year} 目标 target {target} ({src})"
                else:
                    side = "short" if gap < 0 else "over"
                    detail = (f"{sums}, {year} 目标 target {target} ({src}): gap {gap:+d} "
                              f"({abs(gap)} {side})")
                out.append(_finding(table.number, r.county, year, "a", PASS if ok else FAIL,
                                    detail))
    return out


def _stock_path(existing: int, table: YearlyTable, area: str) -> list[int]:
    path = [existing]
    for y in table.years:
        path.append(path[-1] + int(table.admit.loc[area, y]) - int(table.exit.loc[area, y]))
    return path


def check_paths(inp: AuditInput) -> list[dict]:
    """(b) the count never goes negative and exits never exceed what is designated."""
    out: list[dict] = []
    tg = inp.targets
    if tg is None:
        return out
    for kind in KIND_LABEL:
        table = _county_table(inp, kind)
        if table is None:
            continue
        rows = tg.frame[tg.frame["kind"] == kind].set_index("county")
        for area in table.areas:
            if area not in rows.index:
                continue
            existing = int(rows.loc[area, "existing"])
            path = _stock_path(existing, table, area)
            shown = "→".join(map(str, path)) + f" ({tg.base_year}–{table.years[-1]})"
            problems = []
            over = [(i, y) for i, y in enumerate(table.years)
                    if int(table.exit.loc[area, y]) > max(path[i], 0)]
            if over:  # the first year exits exceed the count; later ones are listed
                i, y = over[0]
                later = ", ".join(str(v) for _, v in over[1:])
                also = f" (again in {later})" if later else ""
                problems.append(_finding(
                    table.number, area, y, "b", FAIL,
                    f"{y}: {int(table.exit.loc[area, y])} exits but only {path[i]} "
                    f"{KIND_NAME[kind]} designated at the end of {y - 1}; the count would be "
                    f"{path[i + 1]}{also}; path {shown}"))
            adm_total = int(table.admit.loc[area].sum())
            ext_total = int(table.exit.loc[area].sum())
            if ext_total > existing:
                cum = table.exit.loc[area].cumsum()
                first = int(next(y for y in table.years if cum[y] > existing))
                again = ext_total - existing
                head = (f"退出 {ext_total} exits {_span(table.years)} > 现有 {existing} existing "
                        f"({existing} + 准入 {adm_total} − 退出 {ext_total} = {path[-1]})")
                if again <= adm_total:
                    why = (f"at least {again} of the {adm_total} admitted {KIND_NAME[kind]} "
                           "must exit again")
                else:
                    why = (f"more exits than existing and admitted together "
                           f"({existing} + {adm_total} = {existing + adm_total})")
                problems.append(_finding(
                    table.number, area, first, "b", FAIL,
                    f"{head}: {why} (by {first} exits reach {int(cum[first])} > {existing}); "
                    f"path {shown}"))
            out += problems or [_finding(
                table.number, area, _span(table.years), "b", PASS,
                f"path {shown} never negative; no year exits more than it holds; "
                f"exits {ext_total} ≤ existing {existing}")]
    return out


def _sum_check(table: YearlyTable, parts: Sequence[str], against: pd.Series,
               against_name: str, code: str, row: str, parts_name: str) -> list[dict]:
    """Σ ``parts`` rows of ``table`` vs ``against`` (index (year, 准入|退出)) per column."""
    out = []
    for y in table.years:
        for what, frame in ((ADMIT, table.admit), (EXIT, table.exit)):
            total = int(frame.loc[list(parts), y].sum())
            want = int(against[(y, what)])
            if total != want:
                terms = " + ".join(f"{a} {int(frame.loc[a, y])}" for a in parts)
                out.append(_finding(table.number, row, y, code, FAIL,
                                    f"{y}年{what}: {against_name} {want} ≠ {total} = "
                                    f"{parts_name} ({terms}); differs by {want - total:+d}"))
    return out


def _row_series(table: YearlyTable, area: str) -> pd.Series:
    return pd.Series({(y, w): int(f.loc[area, y]) for y in table.years
                      for w, f in ((ADMIT, table.admit), (EXIT, table.exit))})


def check_city_totals(inp: AuditInput) -> list[dict]:
    """(c) the 全市 row of each county table, and 表2/表3's 总数 row, equal Σ counties."""
    out: list[dict] = []
    for t in inp.yearly:
        if t.level != "county" or t.total is None:
            continue
        found = _sum_check(t, t.areas, _row_series(t, t.total), t.total, "c", t.total,
                           f"Σ {len(t.areas)} 县区")
        out += found or [_finding(t.number, t.total, _span(t.years), "c", PASS,
                                  f"{t.total} = Σ {len(t.areas)} 县区 counties in all "
                                  f"{2 * len(t.years)} columns")]
    tg = inp.targets
    if tg is not None:
        for kind, tot in tg.totals.items():
            rows = tg.frame[tg.frame["kind"] == kind]
            bad = []
            for col, want in tot.items():
                if col == "label":
                    continue
                got = int(rows[col].sum())
                if got != int(want):
                    year = col.split("_")[1] if col.startswith("target_") else tg.base_year
                    bad.append(_finding(tg.sources[kind], tot["label"], year, "c", FAIL,
                                        f"{_col_name(col, tg.base_year)}: {tot['label']} {want} "
                                        f"≠ {got} = Σ {len(rows)} 县区 counties; differs by "
                                        f"{int(want) - got:+d}"))
            shown = ", ".join(f"{_col_name(c, tg.base_year)} {v}" for c, v in tot.items()
                              if c != "label")
            out += bad or [_finding(tg.sources[kind], tot["label"], "", "c", PASS,
                                    f"{tot['label']} = Σ {len(rows)} 县区 counties: {shown}")]
    return out


def _col_name(col: str, base_year: int) -> str:
    if col.startswith("target_"):
        return f"{col.split('_')[1]} 目标"
    return f"{base_year} 现有"


def check_streets(inp: AuditInput) -> list[dict]:
    """(d) the street rows add up to 街道合计 and to the street county's row of 表6/表7."""
    out: list[dict] = []
    for t in inp.yearly:
        if t.level != "street":
            continue
        county = inp.street_county
        ct = _county_table(inp, t.kind)
        streets = list(t.areas)
        found: list[dict] = []
        if t.total is not None:
            found += _sum_check(t, streets, _row_series(t, t.total), t.total, "d", t.total,
                                f"Σ {len(streets)} 街道")
        if ct is not None and county and county in ct.areas:
            against = _row_series(ct, county)
            missing = [y for y in t.years if y not in ct.years]
            if missing:
                found.append(_finding(t.number, county, missing[0], "d", FAIL,
                                      f"{ct.number} has no {missing[0]} columns"))
            else:
                found += _sum_check(t, streets, against, f"{county} ({ct.number})", "d",
                                    county, f"Σ {len(streets)} 街道 streets")
            compared = f"{t.total or 'Σ 街道'} and {county} ({ct.number})"
        elif ct is not None and county:
            found.append(_finding(t.number, county, None, "d", FAIL,
                                  f"{county} has no row in {ct.number}"))
            compared = ""
        else:
            compared = t.total or ""
        if not found and compared:
            found = [_finding(t.number, t.total or "Σ 街道", _span(t.years), "d", PASS,
                              f"Σ {len(streets)} 街道 streets = {compared} in all "
                              f"{2 * len(t.years)} columns")]
        out += found
    return out


def _norm_level(label: str) -> str:
    return label.replace("定点", "").replace("医疗机构", "")


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def check_beds(inp: AuditInput) -> list[dict]:
    """(e1–e5) the bed tables: 表1 = 表5, ratio, totals, adjustments, county vs level totals."""
    out: list[dict] = []
    level = [b for b in inp.beds if b.group == "level"]
    county = [b for b in inp.beds if b.group == "county"]
    roles = ("existing", "planned", "adjustment")
    # e1: level tables agree
    for other in level[1:]:
        first = level[0]
        a = first.body.rename(index=_norm_level)
        b = other.body.rename(index=_norm_level)
        bad = []
        for lab in dict.fromkeys([*a.index, *b.index]):
            if lab not in a.index or lab not in b.index:
                which = first.number if lab not in a.index else other.number
                bad.append(_finding(f"{first.number}/{other.number}", lab, None, "e1", FAIL,
                                    f"level {lab} is missing from {which}"))
                continue
            for role in roles:
                if int(a.loc[lab, role]) != int(b.loc[lab, role]):
                    bad.append(_finding(
                        f"{first.number}/{other.number}", lab, None, "e1", FAIL,
                        f"{first.headings[role]}: {first.number} {int(a.loc[lab, role])} ≠ "
                        f"{other.number} {int(b.loc[lab, role])}"))
        if first.total and other.total:
            for role in roles:
                if first.total[role] != other.total[role]:
                    bad.append(_finding(f"{first.number}/{other.number}", first.total_label,
                                        None, "e1", FAIL,
                                        f"{first.headings[role]} total: {first.number} "
                                        f"{first.total[role]} ≠ {other.number} {other.total[role]}"))
        out += bad or [_finding(f"{first.number}/{other.number}", "", None, "e1", PASS,
                                f"{first.number} = {other.number}: {len(a)} levels and the total, "
                                "现有/规划/调整 equal")]
    # e2: the level ratio of the planned total
    ratio = inp.level_ratio
    for b in level:
        planned_total = b.total["planned"] if b.total else int(b.body["planned"].sum())
        weight = sum(ratio.values())
        parts, bad = [], []
        matched: dict[str, str] = {}
        for lab in b.body.index:
            keys = sorted((k for k in ratio if k in lab), key=len, reverse=True)
            if not keys:
                bad.append(_finding(b.number, lab, None, "e2", FAIL,
                                    f"{lab} matches no level of the ratio "
                                    f"{':'.join(map(_fmt, ratio.values()))} ({', '.join(ratio)})"))
                continue
            matched[keys[0]] = lab
            share = planned_total * ratio[keys[0]] / weight
            got = int(b.body.loc[lab, "planned"])
            parts.append(f"{keys[0]} {_fmt(ratio[keys[0]])}/{_fmt(weight)} = {share:.1f} → {got}")
            if abs(got - share) >= 1:
                bad.append(_finding(b.number, lab, None, "e2", FAIL,
                                    f"规划 planned {got}, but {planned_total} × "
                                    f"{_fmt(ratio[keys[0]])}/{_fmt(weight)} = {share:.1f}: off by "
                                    f"{got - share:+.1f} (more than rounding)"))
        for key in ratio:
            if key not in matched:
                bad.append(_finding(b.number, key, None, "e2", FAIL,
                                    f"no row for level {key} of the ratio"))
        out += bad or [_finding(b.number, b.total_label or "", None, "e2", PASS,
                                f"{':'.join(map(_fmt, ratio.values()))} of 规划 {planned_total}: "
                                + "; ".join(parts) + " (within rounding)")]
    # e3: rows add up to the total row; e4: adjustment = planned − existing
    for b in inp.beds:
        parts_name = "Σ 县区 counties" if b.group == "county" else "Σ 级别 levels"
        if b.total is not None:
            bad = []
            for role in roles:
                got = int(b.body[role].sum())
                if got != b.total[role]:
                    terms = " + ".join(f"{lab} {int(v)}" for lab, v in b.body[role].items())
                    bad.append(_finding(b.number, b.total_label, None, "e3", FAIL,
                                        f"{b.headings[role]}: {b.total_label} {b.total[role]} ≠ "
                                        f"{got} = {parts_name} ({terms}); differs by "
                                        f"{b.total[role] - got:+d}"))
            out += bad or [_finding(b.number, b.total_label, None, "e3", PASS,
                                    f"{b.total_label} = {parts_name} ({len(b.body)} rows): 现有 "
                                    f"{b.total['existing']}, 规划 {b.total['planned']}, 调整 "
                                    f"{b.total['adjustment']:+d}")]
        rows = list(b.body.iterrows())
        if b.total is not None:
            rows.append((b.total_label, pd.Series(b.total)))
        bad = []
        for lab, r in rows:
            want = int(r["planned"]) - int(r["existing"])
            if int(r["adjustment"]) != want:
                bad.append(_finding(b.number, lab, None, "e4", FAIL,
                                    f"{b.headings['adjustment']} {int(r['adjustment']):+d}, but "
                                    f"{int(r['planned'])} − {int(r['existing'])} = {want:+d}"))
        out += bad or [_finding(b.number, "", None, "e4", PASS,
                                f"调整数 = 规划 − 现有 in all {len(rows)} rows")]
    # e5: county table total = level table total
    for c in county:
        for b in level[:1]:
            if c.total is None or b.total is None:
                continue
            bad = [_finding(f"{c.number}/{b.number}", c.total_label, None, "e5", FAIL,
                            f"{c.headings[role]}: {c.number} {c.total_label} {c.total[role]} ≠ "
                            f"{b.number} {b.total_label} {b.total[role]}")
                   for role in roles if c.total[role] != b.total[role]]
            out += bad or [_finding(f"{c.number}/{b.number}", c.total_label, None, "e5", PASS,
                                    f"{c.number} {c.total_label} = {b.number} {b.total_label}: "
                                    f"现有 {c.total['existing']}, 规划 {c.total['planned']}, "
                                    f"调整 {c.total['adjustment']:+d}")]
    return out


def _figure_value(inp: AuditInput, compare: str) -> tuple[int | None, str]:
    """What the tables give for a text figure's ``compare`` key, and where it comes from."""
    head, what = compare.split(".", 1)
    if head == "beds" or head.startswith("表"):
        beds = [b for b in inp.beds if b.total is not None]
        beds = sorted(beds, key=lambda b: (b.group != "level", b.number))
        if head != "beds":
            beds = [b for b in beds if b.number == head]
        if not beds:
            return None, f"no bed table with a total row ({head})"

        def value(b: BedTable) -> int:
            if what == "surplus":
                return b.total["existing"] - b.total["planned"]
            return b.total[what]

        got = value(beds[0])
        agree = [b for b in beds if value(b) == got]
        name = ("现有 − 规划 existing − planned" if what == "surplus"
                else beds[0].headings[what])
        where = ", ".join(f"{b.number} {b.total_label}" for b in agree) + f" {name}"
        if what == "surplus":
            where += f" ({beds[0].total['existing']} − {beds[0].total['planned']})"
        return got, where
    tg = inp.targets
    if tg is None:
        return None, "no existing counts or targets"
    rows = tg.frame[tg.frame["kind"] == head]
    if rows.empty:
        return None, f"no {head} targets"
    src = tg.sources.get(head, "")
    if what == "surplus":
        last = f"target_{tg.years[-1]}"
        e, t = int(rows["existing"].sum()), int(rows[last].sum())
        return e - t, f"{src} Σ 县区 现有 − {tg.years[-1]} 目标 ({e} − {t})"
    if what not in rows.columns:
        return None, f"{src} has no {what}"
    return int(rows[what].sum()), f"{src} Σ 县区 {_col_name(what, tg.base_year)}"


def check_text(inp: AuditInput) -> list[dict]:
    """(f) each figure quoted in the text equals what the tables give."""
    out = []
    for f in inp.text_figures:
        got, where = _figure_value(inp, f.compare)
        table = "文字 text"
        quote = (f" {f.where}" if f.where else "") + (f" '{f.quote}'" if f.quote else "")
        if got is None:
            out.append(_finding(table, f.figure, None, "f", FAIL,
                                f"文字 text {f.value}{quote}: nothing to compare ({where})"))
        elif got == f.value:
            out.append(_finding(table, f.figure, None, "f", PASS,
                                f"文字 text {f.value}{quote} = 表格 tables {got} ({where})"))
        else:
            out.append(_finding(table, f.figure, None, "f", FAIL,
                                f"文字 text {f.value}{quote} ≠ 表格 tables {got} ({where}): "
                                f"text is {abs(f.value - got)} "
                                f"{'lower' if f.value < got else 'higher'}"))
    return out


def audit(inp: AuditInput) -> pd.DataFrame:
    """Every check on ``inp``: the findings frame (:data:`FINDING_COLUMNS`), in check order."""
    rows: list[dict] = []
    for check in (check_targets, check_paths, check_city_totals, check_streets, check_beds,
                  check_text):
        rows += check(inp)
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def inconsistent(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings that failed."""
    return findings[findings["result"] == FAIL]


def write_findings(findings: pd.DataFrame, path: Path) -> None:
    """The findings as a CSV with bilingual headings (UTF-8 with BOM, opens in Excel)."""
    findings.rename(columns=HEADINGS).to_csv(path, index=False, encoding="utf-8-sig")


def sources(inp: AuditInput) -> Iterable[str]:
    """One line per table read, for the report's header."""
    for t in inp.yearly:
        yield f"{t.number} {KIND_LABEL[t.kind]} {t.level}: {t.source}"
    if inp.targets is not None:
        for kind, src in inp.targets.sources.items():
            yield f"目标 targets {KIND_LABEL.get(kind, kind)}: {src}"
    for b in inp.beds:
        yield f"{b.number} 床位 beds ({b.group}): {b.source}"
    if inp.text_figures:
        yield f"文字 text figures: {len(inp.text_figures)}"

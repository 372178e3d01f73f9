"""Audit input: the data classes an audit looks at, and the readers of single tables.

Owns :class:`YearlyTable`, :class:`Targets`, :class:`BedTable`, :class:`TextFigure` and
:class:`AuditInput`; reading a CSV file (UTF-8 or GB18030) or an Excel sheet as a grid of cells
(:func:`read_grid`, with :func:`cell_text` and :func:`cell_int` for single cells); and parsing
the yearly admission/exit tables 表6–表9 (:func:`parse_yearly`, :func:`read_yearly`) and the bed
tables 表1/表4/表5 (:func:`parse_beds`). The target tables, the text figures and whole audits
(audit.yaml, a folder, a workbook) are read by :mod:`dingdian.check.audit_load`.

A yearly table has ``区域`` (counties) or ``网格划分`` (streets) in its first column, then
``准入``/``退出`` per year, either with flattened headings (``2025年准入, 2025年退出, …``, as
``dingdian solve`` writes ``OUT/tables/``) or with the plan's heading rows (a year merged over its
``准入 | 退出`` pair, optionally under a group heading and a title row, as in ``OUT/plan.xlsx``).

Readers return frozen dataclasses. Unreadable input raises
:class:`dingdian.errors.ScenarioError`, one line naming the file, the data row (1-based, heading
rows excluded) and the field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dingdian.errors import ScenarioError
from dingdian.write.tables import ADMIT, CITY_TOTAL, EXIT, STREET_TOTAL

KIND_LABEL = {"clinic": "诊所", "pharmacy": "药店"}
TOTAL_LABELS = (CITY_TOTAL, STREET_TOTAL, "合计", "总数", "总计", "全县", "全区")
DEFAULT_RATIO = {"三级": 3.0, "二级": 5.0, "一级及未定级": 2.0}
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


def cell_text(value) -> str:
    """A cell as text without any whitespace (headings wrap inside cells)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", str(value))


def cell_int(value, source: str, row: int, col: str, label: str) -> int:
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
    s = cell_text(value).replace(",", "").replace("，", "").replace("−", "-").replace("－", "-")
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
    return [i for i, v in enumerate(row) if cell_text(v)]


def parse_yearly(grid: list[list], source: str, number: str, kind: str,
                 level: str) -> YearlyTable:
    """A yearly admit/exit table from raw cells (either heading layout, see the module doc)."""
    head_end = None
    columns: dict[int, tuple[int, str]] = {}
    for r, row in enumerate(grid[:12]):
        flat = {i: _FLAT.match(cell_text(v)) for i, v in enumerate(row) if i > 0}
        flat = {i: (int(m.group(1)), m.group(2)) for i, m in flat.items() if m}
        if flat:
            head_end, columns = r, flat
            break
        pairs = [i for i, v in enumerate(row) if i > 0 and cell_text(v) in (ADMIT, EXIT)]
        if len(pairs) >= 2:
            year_row = next((grid[k] for k in range(r - 1, -1, -1)
                             if any(_YEAR.match(cell_text(v)) for v in grid[k][1:])), None)
            if year_row is None:
                raise ScenarioError(source, None, None,
                                    "the 准入/退出 heading row has no row of years above it")
            year = None
            for i in range(1, len(row)):
                m = _YEAR.match(cell_text(year_row[i])) if i < len(year_row) else None
                if m:
                    year = int(m.group(1))
                elif cell_text(year_row[i] if i < len(year_row) else None):
                    year = None  # some other heading: stop carrying the year over
                if i in pairs:
                    if year is None:
                        raise ScenarioError(source, None, None,
                                            f"column {i + 1} ({cell_text(row[i])}) has no year "
                                            "above it")
                    columns[i] = (year, cell_text(row[i]))
            head_end = r
            break
    if head_end is None:
        raise ScenarioError(source, None, None,
                            "no 准入/退出 headings: expected '2025年准入, 2025年退出, …' or a row "
                            "of years over a row of 准入 | 退出")
    first = next((cell_text(grid[k][0]) for k in range(head_end + 1)
                  if grid[k] and cell_text(grid[k][0]) and len(_nonempty(grid[k])) > 1), "")
    if not first:
        first = next((cell_text(grid[k][0]) for k in range(head_end, -1, -1)
                      if grid[k] and cell_text(grid[k][0])), "区域")
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
        label = cell_text(row[0]) if row else ""
        cells = {key: (row[i] if i < len(row) else None) for key, i in seen.items()}
        if not any(cell_text(v) for v in cells.values()):
            continue  # blank line or a note under the table
        if not label:
            raise ScenarioError(source, k, first, "empty: every row needs its area's name")
        if label in rows:
            raise ScenarioError(source, f"{k} ({label})", first,
                                f"{label} appears twice (rows {rows[label]} and {k})")
        rows[label] = k
        admit[label], exits[label] = {}, {}
        for (y, what), v in cells.items():
            n = cell_int(v, source, k, f"{y}年{what}", label)
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


def figure_grid(grid: list[list], source: str, must: str = "现有"):
    """Heading row (the first row with a cell containing ``must``) and the body rows."""
    for r, row in enumerate(grid[:12]):
        if any(must in cell_text(v) for v in row):
            heads = [cell_text(v) for v in row]
            body = []
            for k, cells in enumerate(grid[r + 1:], start=1):
                if not any(cell_text(v) for v in cells[1:]):
                    continue
                label = cell_text(cells[0]) if cells else ""
                if not label:
                    raise ScenarioError(source, k, heads[0] or "label", "empty row label")
                body.append((k, label, cells))
            return heads, body
    raise ScenarioError(source, None, None, f"no heading row with a '{must}…' column")


def parse_beds(grid: list[list], source: str, number: str, group: str) -> BedTable:
    """表1/表4/表5: a label column, then 现有… (existing), 规划/必需… (planned), 调整… columns."""
    heads, body = figure_grid(grid, source)
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
        values[label] = {role: cell_int(cells[i] if i < len(cells) else None, source, k, heads[i],
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


"""Shared openpyxl formatting: every workbook dingdian writes is print-ready.

Used by plan.xlsx (:mod:`dingdian.write.outputs`, :mod:`dingdian.write.tables`), report.xlsx
(:mod:`dingdian.write.report_xlsx`) and compare.xlsx (:mod:`dingdian.write.compare`); only
openpyxl's own features, no hand-written XML.

* :func:`put` — the one safe cell writer: text that starts with ``= + - @`` is stored as text
  (never a live formula: ``data_type 's'`` and the quote prefix), numbers held in strings
  (``"-4,333,778"``, ``"−12"``, ``"72.6%"``) become numbers, ``True``/``False`` become 是/否,
  missing values stay empty; each number gets its format (``#,##0`` for integers, ``0.0%``
  for shares, ``#,##0.00`` for reals, ``0`` for years).
* :func:`title_row`, :func:`header_row`, :func:`border` — a bold merged title, bold shaded
  headings, thin borders on the table body.
* :func:`write_frame` — a frame as a titled, bordered table with formatted numbers.
* :func:`fit_columns` — column widths from the content (CJK characters count double).
* :func:`print_setup` — A4 landscape, fit to one page wide (any number of pages tall),
  centred horizontally, margins, heading rows repeated on every page, footer
  ``第 &P 页 共 &N 页``.
* :func:`sheet_name` — a sheet name without underscores, at most 31 characters, unique.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

INT = "#,##0"
SHARE = "0.0%"
REAL = "#,##0.00"
YEAR = "0"
COORD = "0.000000"
FOOTER = "第 &P 页 共 &N 页"
FORMULA_START = ("=", "+", "-", "@")
MAX_WIDTH = 50
WRAP_AT = 40  # display width beyond which text wraps inside its cell

_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
_NUMBER = re.compile(r"^([+\-−－]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)$")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\_]")


def year_heading(year) -> str:
    """A year as a heading: ``2025`` → ``"2025年"``."""
    return f"{int(year)}年"


def text_width(value) -> int:
    """Display width of a value as Excel shows it (CJK and full-width characters count 2)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 2
    if isinstance(value, int):
        return len(f"{value:,}")
    if isinstance(value, float):
        return len(f"{value:,.2f}") if math.isfinite(value) else 4
    text = str(value)
    lines = text.splitlines() or [""]
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
               for line in lines)


def to_number(text: str):
    """``"-4,333,778"`` → -4333778, ``"72.6%"`` → 0.726, ``"3.5"`` → 3.5; ``None`` for any
    other text, and for codes that only look numeric (a leading zero, more than 15 digits)."""
    m = _NUMBER.match(text.strip())
    if not m:
        return None
    sign, digits, frac, pct = m.groups()
    plain = digits.replace(",", "")
    if (len(plain) > 1 and plain.startswith("0")) or len(plain) > 15:
        return None
    value = float(plain + (frac or "")) if (frac or pct) else int(plain)
    if sign in ("-", "−", "－"):
        value = -value
    return value / 100 if pct else value


def plain(value):
    """A value as a cell holds it: numpy scalars unwrapped, NaN/NA/None → ``None``."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    try:
        if value != value:  # NaN, pandas NA raises TypeError
            return None
    except TypeError:
        return None
    return value


def put(ws, row: int, col: int, value, number_format: str | None = None, *,
        coerce: bool = True, wrap: bool = True):
    """Write ``value`` to ``ws.cell(row, col)`` safely (see the module doc); return the cell.

    ``number_format`` overrides the automatic format of a number; ``coerce=False`` keeps a
    numeric-looking string as text (codes, ids); ``wrap=False`` keeps long text on one line.
    """
    value = plain(value)
    fmt = number_format
    if isinstance(value, bool):
        value = "是" if value else "否"
    elif isinstance(value, float) and not math.isfinite(value):
        value = str(value)
    elif isinstance(value, (list, tuple, set, dict)):
        value = "; ".join(map(str, value)) if not isinstance(value, dict) else str(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        number = to_number(value) if coerce else None
        if number is not None:
            if value.strip().endswith("%") and fmt is None:
                fmt = SHARE
            value = number
    cell = ws.cell(row, col)
    cell.value = value
    if isinstance(value, str):
        if value.startswith(FORMULA_START):
            cell.data_type = "s"  # text, never a formula
            cell.quotePrefix = True
        if wrap and text_width(value) > WRAP_AT:
            cell.alignment = WRAP
    elif isinstance(value, (int, float)):
        if fmt is None:
            whole = isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15)
            fmt = INT if whole else REAL
        cell.number_format = fmt
    return cell


def title_row(ws, text: str, width: int, row: int = 1) -> None:
    """A bold title merged over ``width`` columns."""
    cell = put(ws, row, 1, text, coerce=False)
    cell.font = TITLE_FONT
    cell.alignment = Alignment(horizontal="center", vertical="center")
    if width > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.row_dimensions[row].height = 24


def style_header(ws, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
    """Bold, shaded, centred and bordered heading cells (merged ones included)."""
    for r in range(first_row, last_row + 1):
        for c in range(first_col, last_col + 1):
            cell = ws.cell(r, c)
            cell.font, cell.fill, cell.alignment, cell.border = (HEADER_FONT, HEADER_FILL,
                                                                 CENTER, BORDER)


def header_row(ws, row: int, headings: Iterable, col: int = 1) -> int:
    """One row of headings from column ``col``; return the last column."""
    last = col - 1
    for last, heading in enumerate(headings, col):
        put(ws, row, last, str(heading), coerce=False)
    style_header(ws, row, row, col, last)
    return last


def border(ws, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
    """Thin borders on every cell of the block."""
    for r in range(first_row, last_row + 1):
        for c in range(first_col, last_col + 1):
            ws.cell(r, c).border = BORDER


def is_year_column(name) -> bool:
    s = str(name)
    return bool(re.search(r"(^|_)year$", s)) or s.endswith("年份") or s.endswith(" year")


def is_share_column(name) -> bool:
    s = str(name)
    return "share" in s.lower() or "占比" in s or s.endswith("率") or s.split(" ")[0].endswith("率")


def column_format(name, formats: Mapping | None = None) -> str | None:
    """The number format of a column by its name: ``formats``, then years, then shares."""
    if formats and name in formats:
        return formats[name]
    if is_year_column(name):
        return YEAR
    if is_share_column(name):
        return SHARE
    return None


def write_frame(ws, frame, *, row: int = 1, title: str | None = None,
                headings: Callable | Mapping | None = None, formats: Mapping | None = None,
                text_columns: Iterable = (), values: Callable | None = None,
                row_format: Callable | None = None, wrap: bool = True) -> tuple[int, int]:
    """``frame`` as a table from ``row``: an optional title, headings, a bordered body.

    ``headings`` maps a column name to its printed heading (a dict or a function; unknown
    names stay); ``formats`` gives a column's number format (default :func:`column_format`);
    ``text_columns`` are never turned into numbers; ``values(column, value)`` may translate a
    cell's value; ``row_format(row)`` may give every number of a row one format (a share row);
    ``wrap=False`` keeps every row one line high (long sheets). Return ``(heading row, last
    row)``.
    """
    cols = list(frame.columns)
    width = max(len(cols), 1)
    if title:
        title_row(ws, title, width, row)
        row += 1
    name = headings if callable(headings) else (lambda c: (headings or {}).get(c, c))
    header_row(ws, row, [name(c) for c in cols])
    head = row
    fmts = [column_format(c, formats) or column_format(name(c), formats) for c in cols]
    texts = {c for c in cols if c in set(text_columns)}
    for rec in frame.itertuples(index=False):
        row += 1
        fmt_row = row_format(rec) if row_format else None
        for j, (c, v) in enumerate(zip(cols, rec, strict=True)):
            if values is not None:
                v = values(c, v)
            put(ws, row, j + 1, v, fmts[j] or fmt_row, coerce=c not in texts, wrap=wrap)
    border(ws, head + 1, row, 1, width)
    return head, row


def _width(cell) -> int:
    """The display width ``cell`` needs on one line (numbers as their format shows them)."""
    v = cell.value
    if cell.number_format == SHARE:
        return 6
    if cell.number_format == COORD and isinstance(v, (int, float)):
        return len(f"{v:.6f}")
    if cell.number_format == YEAR and isinstance(v, (int, float)):
        return len(str(int(v)))
    w = text_width(v)
    return int(w * 1.1) + 1 if cell.font is not None and cell.font.b else w


def _is_heading(cell) -> bool:
    return cell.fill is not None and cell.fill.fgColor is not None \
        and str(cell.fill.fgColor.rgb).endswith(HEADER_FILL.fgColor.rgb[-6:])


def fit_columns(ws, *, min_width: int = 6, max_width: int = MAX_WIDTH,
                widths: Mapping[int, float] | None = None) -> None:
    """Column widths from the content (CJK counts double), then row heights for the text
    that wraps. A merged cell spanning several columns (a title) does not widen its first
    column; a long heading wraps (it counts half); ``widths`` fixes some columns."""
    spanning = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges if r.max_col > r.min_col}
    best: dict[int, int] = {}
    wraps = []
    for line in ws.iter_rows():
        for cell in line:
            if cell.value is None or (cell.row, cell.column) in spanning:
                continue
            w = _width(cell)
            if _is_heading(cell):
                w = min(w, max(8, math.ceil(w / 2) + 2))
            best[cell.column] = max(best.get(cell.column, 0), w)
            if isinstance(cell.value, str) and cell.alignment is not None \
                    and cell.alignment.wrap_text:
                wraps.append(cell)
    final = {col: min(max_width, max(min_width, w + 2)) for col, w in best.items()}
    final.update(widths or {})
    for col, w in final.items():
        ws.column_dimensions[get_column_letter(col)].width = w
    heights: dict[int, float] = {}
    for cell in wraps:
        room = max(final.get(cell.column, min_width) - 1, 1)
        lines = sum(max(1, math.ceil(text_width(t) / room)) for t in cell.value.splitlines())
        if lines > 1:
            heights[cell.row] = max(heights.get(cell.row, 0), 15.0 * lines + 2)
    for row, h in heights.items():
        if (ws.row_dimensions[row].height or 0) < h:
            ws.row_dimensions[row].height = h
        for cell in ws[row]:  # the row's other cells from its top, beside the wrapped text
            a = cell.alignment
            if cell.value is not None and a.vertical is None:
                cell.alignment = Alignment(horizontal=a.horizontal, vertical="top",
                                           wrap_text=a.wrap_text)


def print_setup(ws, *, title_rows: tuple[int, int] | None = None, landscape: bool = True,
                fit_height: int = 0) -> None:
    """A4, landscape, one page wide (``fit_height`` pages tall, 0: as many as needed),
    centred horizontally, margins, ``title_rows`` repeated on every page, page-number footer."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = fit_height
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.7, header=0.3,
                                  footer=0.3)
    if title_rows:
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    ws.oddFooter.center.text = FOOTER
    ws.oddFooter.center.size = 9
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.left.size = 9


def finish(ws, *, header: tuple[int, int] | None = None, freeze: str | None = None,
           widths: Mapping[int, float] | None = None, max_width: int = MAX_WIDTH) -> None:
    """Column widths, frozen panes (``freeze``: the first body cell) and print setup with
    ``header`` (first and last heading row) repeated on every page."""
    fit_columns(ws, widths=widths, max_width=max_width)
    if freeze:
        ws.freeze_panes = freeze
    print_setup(ws, title_rows=header)


def sheet_name(name: str, wb=None) -> str:
    """A valid sheet name: no underscores (a space instead) nor ``[]:*?/\\``, at most 31
    characters, unique in ``wb``."""
    base = re.sub(r"\s+", " ", _SHEET_BAD.sub(" ", str(name))).strip()[:31].strip() or "表"
    taken = set(wb.sheetnames) if wb is not None else set()
    out, n = base, 1
    while out in taken:
        n += 1
        out = f"{base[:31 - len(str(n)) - 1]} {n}"
    return out

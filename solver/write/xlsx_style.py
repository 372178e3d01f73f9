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

Every style goes through :func:`dingdian.write.xlsx_cells.restyle` (one dictionary look-up a
cell) and :func:`write_frame` styles each body cell in one pass, so a sheet of 50,000 cells
takes a fraction of a second.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from copy import copy

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from dingdian.write.xlsx_cells import restyle

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
TITLE_ALIGN = Alignment(horizontal="center", vertical="center")
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
    if text.isascii():
        return max(map(len, lines))
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


def cell_value(value, number_format: str | None = None, *, coerce: bool = True,
               wrap: bool = True) -> tuple[object, str | None, bool, bool]:
    """What :func:`put` writes for ``value``: ``(value, number format, quoted, wraps)``; the
    format is None but for a number, ``quoted`` is text that must never be a formula and
    ``wraps`` text wider than :data:`WRAP_AT` (when ``wrap``)."""
    kind = type(value)
    if kind is int:  # the common cases first: plain numbers
        return value, INT if number_format is None else number_format, False, False
    if kind is float and math.isfinite(value):
        whole = value.is_integer() and abs(value) < 1e15
        return value, (INT if whole else REAL) if number_format is None else number_format, \
            False, False
    value = value if kind is str else plain(value)
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
    if isinstance(value, str):
        return (value, None, value.startswith(FORMULA_START),
                wrap and text_width(value) > WRAP_AT)
    if isinstance(value, (int, float)):
        if fmt is None:
            whole = isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15)
            fmt = INT if whole else REAL
        return value, fmt, False, False
    return value, None, False, False


def _style_value(cell, fmt: str | None, quoted: bool, wraps: bool) -> None:
    """The style :func:`put` gives a cell holding a value of :func:`cell_value`."""
    if quoted:
        cell.data_type = "s"  # text, never a formula
        cell.quotePrefix = True
    if wraps:
        restyle(cell, alignment=WRAP)
    if fmt is not None:
        cell.number_format = fmt


def put(ws, row: int, col: int, value, number_format: str | None = None, *,
        coerce: bool = True, wrap: bool = True):
    """Write ``value`` to ``ws.cell(row, col)`` safely (see the module doc); return the cell.

    ``number_format`` overrides the automatic format of a number; ``coerce=False`` keeps a
    numeric-looking string as text (codes, ids); ``wrap=False`` keeps long text on one line.
    """
    value, fmt, quoted, wraps = cell_value(value, number_format, coerce=coerce, wrap=wrap)
    cell = ws.cell(row, col)
    cell.value = value
    _style_value(cell, fmt, quoted, wraps)
    return cell


def title_row(ws, text: str, width: int, row: int = 1) -> None:
    """A bold title merged over ``width`` columns."""
    cell = put(ws, row, 1, text, coerce=False)
    restyle(cell, font=TITLE_FONT, alignment=TITLE_ALIGN)
    if width > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.row_dimensions[row].height = 24


def style_header(ws, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
    """Bold, shaded, centred and bordered heading cells (merged ones included)."""
    for r in range(first_row, last_row + 1):
        for c in range(first_col, last_col + 1):
            restyle(ws.cell(r, c), font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER,
                    border=BORDER)


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
            restyle(ws.cell(r, c), border=BORDER)


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
    coerce = [c not in texts for c in cols]
    styles: dict = {}  # (format, quoted, wraps) → the style array of a new body cell
    for rec in frame.itertuples(index=False, name=None if row_format is None else "Pandas"):
        row += 1
        fmt_row = row_format(rec) if row_format else None
        for j, (c, v) in enumerate(zip(cols, rec, strict=True)):
            if values is not None:
                v = values(c, v)
            v, fmt, quoted, wraps = cell_value(v, fmts[j] or fmt_row, coerce=coerce[j],
                                               wrap=wrap)
            cell = ws.cell(row, j + 1)
            cell.value = v
            key = (fmt, quoted, wraps)
            known = None if cell.has_style else styles.get(key)
            if known is not None:  # a style seen before: one copy, as put + border would give
                cell._style = copy(known)
                if quoted:
                    cell.data_type = "s"
                continue
            fresh = not cell.has_style
            _style_value(cell, fmt, quoted, wraps)
            restyle(cell, border=BORDER)
            if fresh:
                styles[key] = copy(cell._style)
    if not cols:  # the body's one column, empty: bordered all the same
        border(ws, head + 1, row, 1, width)
    return head, row


def _style_facts(cell) -> tuple[str, bool, bool, bool]:
    """What :func:`fit_columns` reads of a cell's style: its number format, whether its font
    is bold, whether it is a heading (shaded as :data:`HEADER_FILL`) and whether it wraps."""
    fill = cell.fill
    heading = fill is not None and fill.fgColor is not None \
        and str(fill.fgColor.rgb).endswith(HEADER_FILL.fgColor.rgb[-6:])
    bold = bool(cell.font is not None and cell.font.b)
    wraps = bool(cell.alignment is not None and cell.alignment.wrap_text)
    return cell.number_format, bold, heading, wraps


def _width(value, number_format: str, bold: bool) -> int:
    """The display width a cell needs on one line (numbers as their format shows them)."""
    if number_format == SHARE:
        return 6
    if number_format == COORD and isinstance(value, (int, float)):
        return len(f"{value:.6f}")
    if number_format == YEAR and isinstance(value, (int, float)):
        return len(str(int(value)))
    w = text_width(value)
    return int(w * 1.1) + 1 if bold else w


def fit_columns(ws, *, min_width: int = 6, max_width: int = MAX_WIDTH,
                widths: Mapping[int, float] | None = None) -> None:
    """Column widths from the content (CJK counts double), then row heights for the text
    that wraps. A merged cell spanning several columns (a title) does not widen its first
    column; a long heading wraps (it counts half); ``widths`` fixes some columns."""
    spanning = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges if r.max_col > r.min_col}
    best: dict[int, int] = {}
    wraps = []
    facts: dict = {}  # a style array → _style_facts, read once per style
    known: dict = {}  # (text or integer, facts) → width: the same values recur down a column
    for line in ws.iter_rows():
        for cell in line:
            value = cell.value
            if value is None or (cell.row, cell.column) in spanning:
                continue
            key = tuple(cell._style) if cell.has_style else None
            fact = facts.get(key)
            if fact is None:
                fact = facts[key] = _style_facts(cell)
            kind = type(value)
            seen = (kind, value, fact) if kind is str or kind is int else None
            w = known.get(seen)
            if w is None:
                fmt, bold, heading, _ = fact
                w = _width(value, fmt, bold)
                if heading:
                    w = min(w, max(8, math.ceil(w / 2) + 2))
                if seen is not None:
                    known[seen] = w
            col = cell.column
            if w > best.get(col, -1):
                best[col] = w
            if fact[3] and isinstance(value, str):
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
    last = ws.max_column if heights else 0
    for row, h in heights.items():
        if (ws.row_dimensions[row].height or 0) < h:
            ws.row_dimensions[row].height = h
        # the row's other cells from its top, beside the wrapped text
        for cell in next(ws.iter_rows(min_row=row, max_row=row, max_col=last)):
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

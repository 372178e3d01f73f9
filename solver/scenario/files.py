"""Reading the scenario's tables as bureaus have them, and reporting every problem at once.

A table is a ``.csv`` file (UTF-8 with or without BOM, or GBK/GB18030 as Excel on Chinese
Windows saves it: detected) or a sheet of an ``.xlsx`` workbook (``规划数据.xlsx#机构名单`` names
the sheet; without ``#`` the sheet :data:`~dingdian.scenario.aliases.SHEETS` gives for the
table, or the only sheet). Headings and coded values may be Chinese
(:mod:`dingdian.scenario.aliases`); the heading row may sit below a title row. Every cell is
read as text and converted column by column, so ``'abc'`` in a count is reported instead of
silently becoming NaN.

A :class:`Table` is used as a context manager. Its checks (:meth:`Table.integer`,
:meth:`Table.choice`, :meth:`Table.flag` …) note every bad cell, not only the first, and the
``with`` block raises them together as one :class:`~dingdian.errors.ScenarioErrors` when it
ends. "row N" is the row as Excel shows it: the heading is row 1 (or the row it sits on), the
first data row 2. A cell or heading quoted in a message is cut to 40 characters
(:func:`dingdian.errors.clip`); a folder, FIFO, device or /proc file is refused before it is read
(:func:`dingdian.scenario.paths.file_kind`).

Counts have plausible bounds (:data:`MAX_COUNT`, :data:`MAX_POPULATION`, :data:`MAX_FIGURE`):
a figure beyond them is a typo or a unit mistake (``1e300``, 23 digits), said as such ("too
large") before any conversion could overflow.

:class:`Collector` gathers the problems of several files, so that ``dingdian validate`` lists
everything wrong with a scenario in one run.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dingdian.errors import ScenarioError, ScenarioErrors, clip
from dingdian.scenario.aliases import BOOLEANS, COLUMNS, SHEETS, VALUES, column_code, value_code
from dingdian.scenario.paths import refuse_special

ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 reads GBK and GB2312 too
HEADER_SEARCH = 10  # rows searched for the heading row (a title may sit above it)
#: a row whose key column says one of these is a total (合计) row: skipped, the plan adds up
TOTAL_LABELS = frozenset({"合计", "总计", "小计", "全市", "总数", "全县", "全区", "街道合计"})
#: the plausible bounds of a figure (not rules of the plans: guards against typos and unit
#: mistakes). A county's population: the most populous county-level units hold a few million,
#: 30 million leaves room for a whole city given as one unit. A count of facilities, a target,
#: a yearly admission or exit limit: a large city designates tens of thousands. Any other whole
#: number (beds, insured persons): a trillion, far inside what a 64-bit integer holds exactly.
MAX_POPULATION = 30_000_000
MAX_COUNT = 100_000
MAX_FIGURE = 10**12


def split_sheet(path: str | Path) -> tuple[Path, str | None]:
    """``规划数据.xlsx#机构名单`` → (the workbook, the sheet), ``边界.gpkg#县区`` → (the
    GeoPackage, the layer); other paths → (path, None)."""
    text = str(path)
    if "#" in text and Path(text.split("#", 1)[0]).suffix.lower() in (".xlsx", ".xlsm", ".gpkg"):
        file, sheet = text.split("#", 1)
        return Path(file), sheet.strip() or None
    return Path(text), None


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key given twice in one mapping (plain PyYAML keeps
    the last value silently, so a planner's second ``target_2030:`` would hide the first)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"duplicate key {clip(key)!r} (first on line {seen[key] + 1})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def safe_load(text: str):
    """YAML text as Python data, safely (no tags that run code), refusing duplicate keys."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def yaml_problem(exc: yaml.YAMLError) -> str:
    """``invalid YAML (line N): <what>``, without the file's text (PyYAML's own message quotes
    the offending line, which may be anything: a binary file, a /proc file)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1})" if mark is not None else ""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"invalid YAML{where}: {clip(problem, 120)}"


def read_text(path: Path) -> str:
    """A text file (a CSV, a YAML) as saved on any planner's machine: UTF-8 (BOM or not), else
    GBK/GB18030 (Excel and Notepad on Chinese Windows); anything else is one
    :class:`~dingdian.errors.ScenarioError`, and so is a folder, FIFO, device or /proc file. A
    missing file raises ``FileNotFoundError``."""
    refuse_special(path)
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ScenarioError(path.name, None, None,
                        "cannot decode: not UTF-8 and not GBK/GB18030; save it as UTF-8 "
                        "(Excel: 'CSV UTF-8', or .xlsx)")


def _raw_frame(path: Path, sheet: str | None, key: str | None) -> tuple[pd.DataFrame, str]:
    """Every cell as text, no heading yet, and the name to report (``file`` or ``file#sheet``)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises several types
            raise ScenarioError(path.name, None, None,
                                f"cannot read the workbook: {clip(exc, 80)}") from None
        names = [n for n in wb.sheetnames if n != "说明"]
        wanted = sheet or (SHEETS.get(key) if key else None)
        if wanted not in wb.sheetnames:
            if sheet is None and len(names) == 1:
                wanted = names[0]
            else:
                what = f"no sheet {wanted!r}" if wanted else "several sheets, none named"
                raise ScenarioError(path.name, None, None,
                                    f"{what} (sheets: {', '.join(map(clip, wb.sheetnames))}); "
                                    f"name one as {path.name}#<sheet>")
        rows = [["" if v is None else _cell_text(v) for v in row]
                for row in wb[wanted].iter_rows(values_only=True)]
        wb.close()
        width = max((len(r) for r in rows), default=0)
        frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)
        return frame, f"{path.name}#{wanted}"
    if suffix == ".xls":
        raise ScenarioError(path.name, None, None,
                            "the old .xls format is not read: save it as .xlsx or CSV")
    text = read_text(path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None,
                            skipinitialspace=True, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError(path.name, None, None,
                            f"cannot parse CSV: {' '.join(str(exc).split())}") from None
    return frame, path.name


def _cell_text(value) -> str:
    """An Excel cell as the text a CSV would hold (2024.0 → '2024')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class Table:
    """A table read as strings, with checked, typed column accessors (see the module docstring).

    ``columns`` are required, ``optional`` ones are added empty when absent; ``key`` is the
    table's key under ``files:`` (for the default sheet of a workbook); rows whose ``totals``
    column holds a total label (合计, 全市 … or ``city``) are skipped, as the plan's own tables
    carry them. Use it as ``with Table(path, columns) as t:``; the accessors are available
    inside the block only.
    """

    def __init__(self, path: str | Path, columns: Sequence[str], optional: Sequence[str] = (),
                 *, key: str | None = None, totals: str | None = None, city: str | None = None):
        self.path, sheet = split_sheet(path)
        self.name = self.path.name
        self.problems: list[ScenarioError] = []
        self._open = False
        refuse_special(self.path)
        if not self.path.is_file():
            raise ScenarioError(self.name, None, None, f"file not found: {self.path}")
        raw, self.name = _raw_frame(self.path, sheet, key)
        raw = raw.apply(lambda s: s.str.strip())
        heading = _heading_row(raw, columns)
        codes = [column_code(h) or h for h in raw.iloc[heading]] if len(raw) else []
        missing = [c for c in columns if c not in codes]
        if missing:
            headings = [str(h) for h in raw.iloc[heading] if str(h)] if len(raw) else []
            raise ScenarioErrors([ScenarioError(self.name, None, c, _missing(c, headings))
                                  for c in missing])
        seen: dict[str, int] = {}
        for i, c in enumerate(codes):
            if c and c in seen:
                raise ScenarioError(self.name, heading + 1, c,
                                    f"two columns are {c!r}: {clip(raw.iloc[heading, seen[c]])!r} "
                                    f"and {clip(raw.iloc[heading, i])!r}")
            seen[c] = i
        body = raw.iloc[heading + 1:]
        body = body[(body != "").any(axis=1)]  # blank lines, and Excel's empty trailing rows
        df = body.copy()
        df.columns = codes
        df = df.loc[:, [c != "" for c in df.columns]]
        for col in optional:
            if col not in df.columns:
                df[col] = ""
        for col in VALUES:
            if col in df.columns:
                df[col] = df[col].map(lambda v, col=col: value_code(col, v))
        if totals is not None and totals in df.columns:
            keep = ~df[totals].isin(TOTAL_LABELS | ({city} if city else set()))
            df, body = df[keep.to_numpy()], body[keep.to_numpy()]
        #: the row of each data line as Excel shows it (1-based, the heading row counted)
        self.rows = (body.index.to_numpy() + 1).astype(int)
        self.df = df.reset_index(drop=True)
        self._bad: dict[str, set[int]] = {}
        #: remarks on values read but changed (a score rounded), for the scenario's warnings
        self.notes: list[str] = []

    # ------------------------------------------------------------------ the block
    def __enter__(self) -> Table:
        self._open = True
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._open = False
        if exc_type is None and self.problems:  # the table's own first, then row by row
            raise ScenarioErrors(sorted(self.problems, key=lambda p: (p.row is not None,
                                                                      p.row or 0)))
        return False

    def __len__(self) -> int:
        return len(self.df)

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("use the table as `with Table(...) as t:`, so its problems "
                               "are raised")

    # ------------------------------------------------------------------ problems
    def error(self, index: int, field: str | None, message: str) -> ScenarioError:
        """A problem at positional ``index`` (0-based data line), at its Excel row."""
        return ScenarioError(self.name, int(self.rows[int(index)]), field, message)

    def add(self, index: int | None, field: str | None, message: str) -> None:
        """Note one problem (``index`` None: the table as a whole)."""
        self._check_open()
        if index is None:
            self.problems.append(ScenarioError(self.name, None, field, message))
            return
        self.problems.append(self.error(index, field, message))
        self._bad.setdefault(field or "", set()).add(int(index))

    def flag(self, mask, field: str, message) -> None:
        """Note every row where ``mask`` holds; ``message`` is a text or a function of the
        cell's value."""
        self._check_open()
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            i = int(i)
            if i in self._bad.get(field, ()):
                continue  # one problem per cell
            value = self.df[field].iloc[i] if field in self.df else None
            value = clip(value) if isinstance(value, str) else value  # never a whole cell
            self.add(i, field, message(value) if callable(message) else message)

    def bad(self, *fields: str) -> np.ndarray:
        """Rows with a problem noted in any of ``fields`` (all fields when none given)."""
        rows = set().union(*(self._bad.get(f, set()) for f in fields)) if fields \
            else set().union(*self._bad.values()) if self._bad else set()
        out = np.zeros(len(self.df), dtype=bool)
        out[list(rows)] = True
        return out

    # ------------------------------------------------------------------ typed columns
    def text(self, col: str, required: bool = True) -> pd.Series:
        self._check_open()
        s = self.df[col]
        if required:
            self.flag(s == "", col, "empty value")
        return s

    def integer(self, col: str, minimum: int | None = None, maximum: int | None = None,
                blank=None, plausible: tuple[int, str] = (MAX_FIGURE, "figure")) -> pd.Series:
        """Integer column; ``blank`` (if not None) replaces empty cells; bad cells become 0.
        A value beyond ``plausible`` (the bound and what the column holds, e.g.
        ``(MAX_COUNT, "count")``) is "too large", found before it is cast to an integer."""
        self._check_open()
        s = self.df[col]
        if blank is not None:
            s = s.where(s != "", str(blank))
        num = pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce").astype(float)
        ok = num.notna() & np.isfinite(num) & (num == np.round(num))
        self.flag(s == "", col, "empty value")
        self.flag(~ok, col, lambda v: f"{v!r} is not an integer")
        limit, noun = plausible  # checked on the floats: a cast would overflow first
        self.flag(ok & (num > limit), col,
                  lambda v: f"{v} is too large: not a plausible {noun} (at most {limit:,})")
        if minimum is not None:
            self.flag(ok & (num < minimum), col, lambda v: f"{v} is below {minimum}")
        if maximum is not None:
            self.flag(ok & (num > maximum), col, lambda v: f"{v} is above {maximum}")
        self.flag(ok & (num < -limit), col,
                  lambda v: f"{v} is too small: not a plausible {noun} (at least {-limit:,})")
        return num.where(ok & (num.abs() <= limit), 0).astype(np.int64)

    def number(self, col: str, minimum: float | None = None, maximum: float | None = None,
               percent: bool = False):
        """Number column; bad cells become 0.0 (and are noted). With ``percent``, a share may be
        written ``65%`` (read as 0.65)."""
        self._check_open()
        text = self.df[col].str.replace(",", "", regex=False)
        scale = pd.Series(1.0, index=text.index)
        if percent:
            pct = text.str.endswith("%")
            text = text.where(~pct, text.str.rstrip("%"))
            scale = scale.where(~pct, 0.01)
        num = pd.to_numeric(text, errors="coerce") * scale
        ok = num.notna() & np.isfinite(num)
        self.flag(self.df[col] == "", col, "empty value")
        self.flag(~ok, col, lambda v: f"{v!r} is not a number")
        num = num.where(ok, 0.0)
        if minimum is not None:
            self.flag(ok & (num < minimum), col, lambda v: f"{v} is below {minimum}")
        if maximum is not None:
            self.flag(ok & (num > maximum), col, lambda v: f"{v} is above {maximum}")
        return num.astype(float)

    def whole(self, col: str, minimum: int, maximum: int) -> pd.Series:
        """A column of whole points (a score): decimals are rounded half up, and noted."""
        num = self.number(col, minimum, maximum)
        rounded = np.floor(num + 0.5).astype(np.int64)
        changed = int((rounded != num).sum())
        if changed:
            self.notes.append(f"{self.name}: {changed} value(s) of {col} rounded to whole "
                              "points (the objective weighs whole points)")
        return rounded

    def boolean(self, col: str) -> pd.Series:
        """Yes/no column: 1/0, true/false, yes/no, 是/否 … (an empty cell is no)."""
        self._check_open()
        low = self.df[col].str.lower()
        self.flag(~low.isin(BOOLEANS), col, lambda v: f"{v!r} is not a boolean (use 1 or 0, 是 or 否)")
        return low.map(BOOLEANS).fillna(False).astype(bool)

    def choice(self, col: str, allowed: Iterable[str], what: str,
               blank: bool = False) -> pd.Series:
        """A column of codes from ``allowed``; with ``blank``, an empty cell means none."""
        self._check_open()
        allowed = list(allowed)
        s = self.df[col]
        empty = "; empty when none" if blank else ""
        chinese = {code: zh for zh, code in reversed(list(VALUES.get(col, {}).items()))}
        known = ", ".join(f"{a} {chinese[a]}" if a in chinese else str(a) for a in allowed)
        self.flag(~s.isin([*([""] if blank else []), *allowed]), col,
                  lambda v: f"unknown {what} {v!r} (known: {known}{empty})")
        return s

    def require_rows(self, what: str) -> None:
        """Note a table with its heading only (no data row): ``what`` it must list."""
        if not len(self.df):
            self.add(None, None, f"no rows, only the heading: list {what}")

    def unique(self, cols: Sequence[str], what: str) -> None:
        """Note every repeated key (the first occurrence stays valid)."""
        self._check_open()
        keys = self.df[list(cols)]
        first_at = {}
        for i, key in enumerate(map(tuple, keys.to_numpy())):
            if key in first_at:
                self.add(i, cols[-1], f"duplicate {what} {clip(', '.join(key))!r} "
                                      f"(first at row {self.rows[first_at[key]]})")
            else:
                first_at[key] = i


def _missing(code: str, headings: list[str]) -> str:
    """'missing column' with the Chinese headings it may have and the nearest heading given."""
    names = COLUMNS.get(code, ())
    also = f" ({' or '.join(names[:2])})" if names else ""
    near = [m for name in (code, *names)
            for m in difflib.get_close_matches(name, headings, n=1, cutoff=0.6)]
    guess = f"; is {clip(near[0])!r} it?" if near else ""
    shown = ", ".join(map(clip, headings[:12])) + (", …" if len(headings) > 12 else "")
    return f"missing column{also} (columns are: {shown or 'none'}){guess}"


def _heading_row(raw: pd.DataFrame, columns: Sequence[str]) -> int:
    """The first of the top rows that holds every required column (else the first row)."""
    best, best_hits = 0, -1
    for i in range(min(HEADER_SEARCH, len(raw))):
        codes = {column_code(h) or h for h in raw.iloc[i]}
        hits = sum(c in codes for c in columns)
        if hits == len(columns):
            return i
        if hits > best_hits:
            best, best_hits = i, hits
    return best


class Collector:
    """The problems of several steps: each step runs, and its problems are kept, not raised.

    ``collector.run(read, …)`` returns what ``read`` returns, or None when it raised a
    :class:`~dingdian.errors.ScenarioError` (its problems are kept); :meth:`raise_if_any`
    raises them all together.
    """

    def __init__(self) -> None:
        self.problems: list[ScenarioError] = []

    def run(self, step: Callable, *args, **kwargs):
        try:
            return step(*args, **kwargs)
        except ScenarioError as exc:
            self.add(exc)
            return None

    def add(self, exc: ScenarioError) -> None:
        self.problems.extend(exc.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ScenarioErrors(self.problems)

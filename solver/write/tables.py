"""Yearly counts and the plan's admission/exit tables (表6–表9) built from a solved plan.

Inputs are plain frames: the scenario's facilities frame (``facility_id, kind, county, street,
...``) and a 0/1 designation table (index facility id, one column per year from the base year,
as in :class:`dingdian.result.SolveResult`). Nothing here knows about solvers or files.

* :func:`counts_frame` — long table ``county, street, kind, year, designated, admitted,
  exited`` (counts.csv): county rows, street rows and city rows (county ``全市``).
* :func:`yearly_table` — one of 表6–表9 in the plan's layout, flattened for CSV
  (``区域 | 2025年准入 | 2025年退出 | …``).
* :func:`table_specs` — number, title and headings of each table; other cities pass their own
  city and street-county names.
* :func:`write_table_sheet` — the same table on an openpyxl sheet with the plan's merged
  headings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from dingdian.models.data import KINDS

CITY_TOTAL = "全市"
STREET_TOTAL = "街道合计"
ADMIT = "准入"
EXIT = "退出"
COUNT_COLUMNS = ["county", "street", "kind", "year", "designated", "admitted", "exited"]


@dataclass(frozen=True)
class TableSpec:
    """How one yearly admission/exit table is numbered, titled and laid out."""

    number: str  # '表6'
    title: str  # '张掖市无住院服务定点医疗机构每年配置增减数量'
    kind: str  # 'clinic' | 'pharmacy'
    level: str  # 'county' | 'street'
    first_column: str  # '区域' (county tables) or '网格划分' (street tables)
    group_heading: str  # '无住院服务定点医疗机构每年配置增减数' (spans the year columns)
    total_label: str  # '全市' or '街道合计'
    file_stem: str  # '表6_无住院服务定点医疗机构每年配置增减数量'
    county: str | None = None  # street tables: only this county's streets (None: all)

    @property
    def heading(self) -> str:
        """Number and title as printed above the table: ``表6 张掖市…``."""
        return f"{self.number} {self.title}"


#: each table's default number and title body (Zhangye 表6–表9); ``table_names`` and
#: ``table_titles`` in scenario.yaml replace them (Heze: 附表1/附表2, 门诊定点医疗机构…)
DEFAULT_TABLES = {
    "county_clinic": ("表6", "无住院服务定点医疗机构每年配置增减数量"),
    "county_pharmacy": ("表7", "定点零售药店每年配置增减数量"),
    "street_clinic": ("表8", "各街道定点诊所每年配置增减数量"),
    "street_pharmacy": ("表9", "各街道定点零售药店每年配置增减数量"),
}


#: what the maps and the report call each kind unless the scenario's table titles say otherwise
KIND_LABELS = {"clinic": "无住院服务定点医疗机构（诊所）", "pharmacy": "定点零售药店"}


def kind_labels(titles: dict[str, str] | None = None) -> dict[str, str]:
    """Each kind's name as the plan writes it: from ``table_titles`` (Heze
    ``门诊定点医疗机构年度受理计划…`` → ``门诊定点医疗机构``: the title up to its first
    ``医疗机构`` or ``药店``), else :data:`KIND_LABELS`."""
    out = dict(KIND_LABELS)
    for kind, word in (("clinic", "医疗机构"), ("pharmacy", "药店")):
        title = (titles or {}).get(f"county_{kind}") or ""
        if word in title:
            out[kind] = title[:title.index(word) + len(word)]
    return out


def _group_heading(body: str) -> str:
    """The heading over the year columns: the title body without its street prefix and
    final 量 (``定点诊所每年配置增减数``)."""
    body = body.split("各街道")[-1]
    return body[:-1] if body.endswith("数量") else body


def table_specs(city: str = "张掖市", street_county: str | None = "甘州区",
                names: dict[str, str] | None = None,
                titles: dict[str, str] | None = None) -> list[TableSpec]:
    """The four yearly tables of the plan (表6 … 表9), in order.

    ``city`` prefixes the county-level titles; ``street_county`` names the county whose streets
    form 表8/表9 (``None`` drops the street tables). ``names`` and ``titles`` (scenario.yaml
    ``table_names``/``table_titles``, keys ``county_clinic`` … ``street_pharmacy``) replace a
    table's number and the body of its title.
    """
    names, titles = names or {}, titles or {}
    specs = []
    levels = ("county", "street") if street_county else ("county",)
    for level in levels:
        for kind in KINDS:
            key = f"{level}_{kind}"
            number = names.get(key) or DEFAULT_TABLES[key][0]
            body = titles.get(key) or DEFAULT_TABLES[key][1]
            if level == "county":
                specs.append(TableSpec(number, f"{city}{body}", kind, level, "区域",
                                       _group_heading(body), CITY_TOTAL, f"{number}_{body}"))
            else:
                specs.append(TableSpec(number, f"{street_county}{body}", kind, level, "网格划分",
                                       _group_heading(body), STREET_TOTAL,
                                       f"{number}_{street_county}{body}", street_county))
    return specs


def spec_for(kind: str, level: str, specs: Iterable[TableSpec] | None = None) -> TableSpec:
    """The spec of ``kind`` at ``level`` (default: Zhangye's 表6–表9)."""
    for spec in specs if specs is not None else table_specs():
        if spec.kind == kind and spec.level == level:
            return spec
    raise KeyError(f"no table for kind={kind!r} level={level!r}")


def flows_wide(facilities: pd.DataFrame, designated: pd.DataFrame):
    """``(designated, admitted, exited)`` facility × year 0/1 int frames aligned to ``facilities``.

    Year columns are ints in ascending order; facilities missing from ``designated`` are 0; the
    base-year (first) column of ``admitted``/``exited`` is 0.
    """
    ids = facilities["facility_id"].astype(str).tolist()
    d = designated.copy()
    d.columns = [int(c) for c in d.columns]
    d = d[sorted(d.columns)]
    d.index = d.index.astype(str)
    d = d.reindex(pd.Index(ids, dtype=object)).fillna(0).astype(int)
    delta = d.diff(axis=1).fillna(0).astype(int)
    return d, (delta > 0).astype(int), (delta < 0).astype(int)


def counts_frame(
    facilities: pd.DataFrame,
    designated: pd.DataFrame,
    *,
    counties: Sequence[str] | None = None,
    streets: Sequence[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """counts.csv: designated, admitted and exited per area, kind and year.

    Rows: every county (``counties`` order first, then any other county with facilities; street
    ``''``), city totals (county ``全市``), then every street (``streets`` as ``(county,
    street)`` pairs first, then any other street with facilities). Each area has a row for
    every kind and every year from the base year, whose admitted/exited are 0.
    """
    d, adm, ext = flows_wide(facilities, designated)
    years = list(d.columns)
    fac = facilities.reset_index(drop=True)
    keys = pd.DataFrame(
        {
            "county": fac["county"].fillna("").astype(str).to_numpy(),
            "street": fac["street"].fillna("").astype(str).to_numpy(),
            "kind": fac["kind"].astype(str).to_numpy(),
        }
    )
    county_order = [c for c in dict.fromkeys([*(counties or []), *keys["county"]]) if c]
    has_street = keys[keys["street"] != ""]
    street_order = list(
        dict.fromkeys([*(tuple(s) for s in (streets or [])),
                       *zip(has_street["county"], has_street["street"], strict=True)])
    )

    def block(mask: pd.Series, county: str, street: str) -> list[dict]:
        rows = []
        for kind in KINDS:
            m = (mask & (keys["kind"] == kind)).to_numpy()
            dsum, asum, esum = d[m].sum(), adm[m].sum(), ext[m].sum()
            for y in years:
                rows.append({"county": county, "street": street, "kind": kind, "year": y,
                             "designated": int(dsum[y]), "admitted": int(asum[y]),
                             "exited": int(esum[y])})
        return rows

    rows: list[dict] = []
    for c in county_order:
        rows += block(keys["county"] == c, c, "")
    rows += block(pd.Series(True, index=keys.index), CITY_TOTAL, "")
    for c, s in street_order:
        rows += block((keys["county"] == c) & (keys["street"] == s), c, s)
    out = pd.DataFrame(rows, columns=COUNT_COLUMNS)
    return out.astype({"year": int, "designated": int, "admitted": int, "exited": int})


def year_columns(years: Iterable[int]) -> list[str]:
    """Flattened CSV headings ``2025年准入, 2025年退出, …``."""
    return [f"{y}年{w}" for y in years for w in (ADMIT, EXIT)]


def yearly_table(
    counts: pd.DataFrame,
    kind: str,
    level: str,
    *,
    years: Sequence[int] | None = None,
    specs: Iterable[TableSpec] | None = None,
) -> pd.DataFrame:
    """One of 表6–表9: areas in ``counts`` order plus a total row (the column sums).

    ``level='county'``: county rows and ``全市``; ``level='street'``: the spec's county's streets
    and ``街道合计``. ``years`` defaults to every year of ``counts`` after the first (the base
    year). Columns: the spec's first column, then ``<year>年准入``, ``<year>年退出`` per year.
    """
    spec = spec_for(kind, level, specs)
    c = counts[counts["kind"] == kind]
    if level == "county":
        c = c[(c["street"] == "") & (c["county"] != CITY_TOTAL)]
        area = c["county"]
    elif level == "street":
        c = c[c["street"] != ""]
        if spec.county is not None:
            c = c[c["county"] == spec.county]
        area = c["street"]
    else:
        raise ValueError(f"level must be 'county' or 'street', not {level!r}")
    if years is None:
        years = sorted(int(y) for y in counts["year"].unique())[1:]
    cols = year_columns(years)
    body = []
    for a in dict.fromkeys(area):
        sub = c[area == a].groupby("year")[["admitted", "exited"]].sum()
        row: dict = {spec.first_column: a}
        for y in years:
            row[f"{y}年{ADMIT}"] = int(sub["admitted"].get(y, 0))
            row[f"{y}年{EXIT}"] = int(sub["exited"].get(y, 0))
        body.append(row)
    table = pd.DataFrame(body, columns=[spec.first_column, *cols])
    total = {spec.first_column: spec.total_label}
    total.update({col: int(table[col].sum()) for col in cols})
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table.astype({col: int for col in cols})


def all_tables(
    counts: pd.DataFrame,
    specs: Iterable[TableSpec] | None = None,
    years: Sequence[int] | None = None,
) -> list[tuple[TableSpec, pd.DataFrame]]:
    """Every table of ``specs`` (default 表6–表9) built from ``counts``."""
    specs = list(specs) if specs is not None else table_specs()
    return [(s, yearly_table(counts, s.kind, s.level, years=years, specs=specs)) for s in specs]


def write_table_sheet(ws, spec: TableSpec, frame: pd.DataFrame) -> None:
    """Lay out one table on an openpyxl worksheet as printed in the plan, print-ready.

    Row 1: ``表6 <title>`` merged across; row 2: the first column's heading (merged down to
    row 4) and the group heading merged across the year columns; row 3: each year (``2025年``)
    merged over its two columns; row 4: ``准入``/``退出``; then the body and the total row (bold).
    Headings shaded, every cell bordered, rows 1–4 repeated on each printed page, A4 landscape
    one page wide (:mod:`dingdian.write.xlsx_style`).
    """
    from openpyxl.styles import Alignment, Font

    from dingdian.write import xlsx_style as X

    cols = list(frame.columns[1:])
    years = list(dict.fromkeys(c.split("年")[0] for c in cols))
    width = 1 + len(cols)
    X.title_row(ws, spec.heading, width)
    ws.cell(2, 1, spec.first_column)
    ws.merge_cells(start_row=2, start_column=1, end_row=4, end_column=1)
    ws.cell(2, 2, spec.group_heading)
    ws.merge_cells(start_row=2, start_column=2, end_row=2, end_column=width)
    for i, y in enumerate(years):
        col = 2 + 2 * i
        ws.cell(3, col, X.year_heading(y))
        ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + 1)
        ws.cell(4, col, ADMIT)
        ws.cell(4, col + 1, EXIT)
    X.style_header(ws, 2, 4, 1, width)
    center = Alignment(horizontal="center", vertical="center")
    for r, row in enumerate(frame.itertuples(index=False), 5):
        X.put(ws, r, 1, row[0], coerce=False).alignment = center
        for c, v in enumerate(row[1:], 2):
            X.put(ws, r, c, int(v), X.INT).alignment = center
    last = 4 + len(frame)
    X.border(ws, 5, last, 1, width)
    if len(frame) and str(frame.iloc[-1, 0]) in {spec.total_label, CITY_TOTAL, STREET_TOTAL}:
        for c in range(1, width + 1):
            ws.cell(last, c).font = Font(bold=True)
    X.finish(ws, header=(1, 4), freeze="B5", widths={c: 8 for c in range(2, width + 1)})
    ws.column_dimensions["A"].width = max(14, min(30, 2 + max(
        (X.text_width(v) for v in frame.iloc[:, 0]), default=0)))

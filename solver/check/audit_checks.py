"""Audit checks a–d: the yearly tables against the targets, the stock and their own totals.

Owns the findings' vocabulary (:data:`PASS`, :data:`FAIL`, :data:`CHECKS`, :func:`finding`) and
the checks on counts: (a) each county's path reaches its targets (:func:`check_targets`), (b) the
path never goes negative and exits never exceed what is designated (:func:`check_paths`), (c) the
total rows equal the sum of the counties (:func:`check_city_totals`), (d) the streets add up to
街道合计 and to their county's row (:func:`check_streets`). Each check takes an
:class:`~dingdian.check.audit_read.AuditInput` and returns its findings as dicts (one per row of
the findings frame). The bed and text checks (e, f) are in :mod:`dingdian.check.audit_beds`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dingdian.check.audit_read import KIND_LABEL, AuditInput, YearlyTable
from dingdian.write.tables import ADMIT, EXIT

PASS = "通过 pass"
FAIL = "不一致 inconsistent"
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
KIND_NAME = {"clinic": "clinics", "pharmacy": "pharmacies"}


def finding(table, row, year, code, result, detail) -> dict:
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
                out.append(finding(table.number, area, None, "a", FAIL,
                                   f"{area} is in {table.number} but has no target in {src}"))
        for r in rows.itertuples(index=False):
            rec = r._asdict()
            for year in tg.years:
                target = rec.get(f"target_{year}")
                if target is None or pd.isna(target):
                    continue
                target = int(target)
                if r.county not in table.areas:
                    out.append(finding(table.number, r.county, year, "a", FAIL,
                                       f"{r.county} has a target in {src} but no row in "
                                       f"{table.number}"))
                    continue
                upto = [y for y in table.years if y <= year]
                if year > table.years[-1]:
                    out.append(finding(table.number, r.county, year, "a", FAIL,
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
                out.append(finding(table.number, r.county, year, "a", PASS if ok else FAIL,
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
                problems.append(finding(
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
                problems.append(finding(
                    table.number, area, first, "b", FAIL,
                    f"{head}: {why} (by {first} exits reach {int(cum[first])} > {existing}); "
                    f"path {shown}"))
            out += problems or [finding(
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
                out.append(finding(table.number, row, y, code, FAIL,
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
        out += found or [finding(t.number, t.total, _span(t.years), "c", PASS,
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
                    bad.append(finding(tg.sources[kind], tot["label"], year, "c", FAIL,
                                       f"{col_name(col, tg.base_year)}: {tot['label']} {want} "
                                       f"≠ {got} = Σ {len(rows)} 县区 counties; differs by "
                                       f"{int(want) - got:+d}"))
            shown = ", ".join(f"{col_name(c, tg.base_year)} {v}" for c, v in tot.items()
                              if c != "label")
            out += bad or [finding(tg.sources[kind], tot["label"], "", "c", PASS,
                                   f"{tot['label']} = Σ {len(rows)} 县区 counties: {shown}")]
    return out


def col_name(col: str, base_year: int) -> str:
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
                found.append(finding(t.number, county, missing[0], "d", FAIL,
                                     f"{ct.number} has no {missing[0]} columns"))
            else:
                found += _sum_check(t, streets, against, f"{county} ({ct.number})", "d",
                                    county, f"Σ {len(streets)} 街道 streets")
            compared = f"{t.total or 'Σ 街道'} and {county} ({ct.number})"
        elif ct is not None and county:
            found.append(finding(t.number, county, None, "d", FAIL,
                                 f"{county} has no row in {ct.number}"))
            compared = ""
        else:
            compared = t.total or ""
        if not found and compared:
            found = [finding(t.number, t.total or "Σ 街道", _span(t.years), "d", PASS,
                             f"Σ {len(streets)} 街道 streets = {compared} in all "
                             f"{2 * len(t.years)} columns")]
        out += found
    return out


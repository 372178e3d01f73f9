"""Audit checks e and f: the bed tables, and the figures quoted in the plan's text.

Owns (e1) the level tables agree (表1 = 表5), (e2) the levels follow the ratio of the planned
total within rounding, (e3) every bed table's rows add up to its total row, (e4) 调整数 = 规划 −
现有 in every row, (e5) the county table's total equals the level table's (:func:`check_beds`),
and (f) each text figure equals what the tables give (:func:`check_text`).
"""

from __future__ import annotations

import pandas as pd

from dingdian.check.audit_checks import FAIL, PASS, col_name, finding
from dingdian.check.audit_read import AuditInput, BedTable


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
                bad.append(finding(f"{first.number}/{other.number}", lab, None, "e1", FAIL,
                                   f"level {lab} is missing from {which}"))
                continue
            for role in roles:
                if int(a.loc[lab, role]) != int(b.loc[lab, role]):
                    bad.append(finding(
                        f"{first.number}/{other.number}", lab, None, "e1", FAIL,
                        f"{first.headings[role]}: {first.number} {int(a.loc[lab, role])} ≠ "
                        f"{other.number} {int(b.loc[lab, role])}"))
        if first.total and other.total:
            for role in roles:
                if first.total[role] != other.total[role]:
                    bad.append(finding(f"{first.number}/{other.number}", first.total_label,
                                       None, "e1", FAIL,
                                       f"{first.headings[role]} total: {first.number} "
                                       f"{first.total[role]} ≠ {other.number} {other.total[role]}"))
        out += bad or [finding(f"{first.number}/{other.number}", "", None, "e1", PASS,
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
                bad.append(finding(b.number, lab, None, "e2", FAIL,
                                   f"{lab} matches no level of the ratio "
                                   f"{':'.join(map(_fmt, ratio.values()))} ({', '.join(ratio)})"))
                continue
            matched[keys[0]] = lab
            share = planned_total * ratio[keys[0]] / weight
            got = int(b.body.loc[lab, "planned"])
            parts.append(f"{keys[0]} {_fmt(ratio[keys[0]])}/{_fmt(weight)} = {share:.1f} → {got}")
            if abs(got - share) >= 1:
                bad.append(finding(b.number, lab, None, "e2", FAIL,
                                   f"规划 planned {got}, but {planned_total} × "
                                   f"{_fmt(ratio[keys[0]])}/{_fmt(weight)} = {share:.1f}: off by "
                                   f"{got - share:+.1f} (more than rounding)"))
        for key in ratio:
            if key not in matched:
                bad.append(finding(b.number, key, None, "e2", FAIL,
                                   f"no row for level {key} of the ratio"))
        out += bad or [finding(b.number, b.total_label or "", None, "e2", PASS,
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
                    bad.append(finding(b.number, b.total_label, None, "e3", FAIL,
                                       f"{b.headings[role]}: {b.total_label} {b.total[role]} ≠ "
                                       f"{got} = {parts_name} ({terms}); differs by "
                                       f"{b.total[role] - got:+d}"))
            out += bad or [finding(b.number, b.total_label, None, "e3", PASS,
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
                bad.append(finding(b.number, lab, None, "e4", FAIL,
                                   f"{b.headings['adjustment']} {int(r['adjustment']):+d}, but "
                                   f"{int(r['planned'])} − {int(r['existing'])} = {want:+d}"))
        out += bad or [finding(b.number, "", None, "e4", PASS,
                               f"调整数 = 规划 − 现有 in all {len(rows)} rows")]
    # e5: county table total = level table total
    for c in county:
        for b in level[:1]:
            if c.total is None or b.total is None:
                continue
            bad = [finding(f"{c.number}/{b.number}", c.total_label, None, "e5", FAIL,
                           f"{c.headings[role]}: {c.number} {c.total_label} {c.total[role]} ≠ "
                           f"{b.number} {b.total_label} {b.total[role]}")
                   for role in roles if c.total[role] != b.total[role]]
            out += bad or [finding(f"{c.number}/{b.number}", c.total_label, None, "e5", PASS,
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
    return int(rows[what].sum()), f"{src} Σ 县区 {col_name(what, tg.base_year)}"


def check_text(inp: AuditInput) -> list[dict]:
    """(f) each figure quoted in the text equals what the tables give."""
    out = []
    for f in inp.text_figures:
        got, where = _figure_value(inp, f.compare)
        table = "文字 text"
        quote = (f" {f.where}" if f.where else "") + (f" '{f.quote}'" if f.quote else "")
        if got is None:
            out.append(finding(table, f.figure, None, "f", FAIL,
                               f"文字 text {f.value}{quote}: nothing to compare ({where})"))
        elif got == f.value:
            out.append(finding(table, f.figure, None, "f", PASS,
                               f"文字 text {f.value}{quote} = 表格 tables {got} ({where})"))
        else:
            out.append(finding(table, f.figure, None, "f", FAIL,
                               f"文字 text {f.value}{quote} ≠ 表格 tables {got} ({where}): "
                               f"text is {abs(f.value - got)} "
                               f"{'lower' if f.value < got else 'higher'}"))
    return out


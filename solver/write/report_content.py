"""The content of a plan's report shared by both formats: frames, captions, formatting.

What ``report.xlsx`` (:mod:`dingdian.write.report_xlsx`) and ``report.html``
(:mod:`dingdian.write.report_html`) both show, from a plan folder read into a
:class:`ReportInput` (:func:`dingdian.write.report.read_output`, with the scenario's settings):
the coverage and blind-spot tables of ``summary.json``, the per-county counts against the
targets (目标) or caps (上限), the rules the plan was solved under
(:mod:`dingdian.write.report_rules`) and the maps' captions, with the value formatting they
share. The director's part is :mod:`dingdian.write.report_brief`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dingdian.scenario.schema import ScenarioConfig
from dingdian.write.maps import KIND_ZH, map_caption  # noqa: F401 (map_caption: re-exported)
from dingdian.write.report_rules import rule_rows, target_word
from dingdian.write.tables import kind_labels

CITY = "全市"


@dataclass
class ReportInput:
    """A plan folder, read."""

    out: Path
    summary: dict
    counts: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    scenario: Path | None
    maps: dict[str, Path] = field(default_factory=dict)
    map_fragment: str = ""
    #: the scenario the plan was solved with (None: its file could not be read)
    config: ScenarioConfig | None = None
    #: plan.csv's columns (a rule whose column is absent is not in force)
    plan_columns: tuple[str, ...] = ()

    @property
    def kind_zh(self) -> dict[str, str]:
        """Each kind's name as this plan writes it (Heze: 门诊定点医疗机构)."""
        return kind_labels(dict(self.config.table_titles) if self.config is not None else None)

    @property
    def word(self) -> str:
        """目标 (the plan's figures, met exactly) or 上限 (caps)."""
        return target_word(self.config)

    @property
    def street_counties(self) -> list[str]:
        """Counties with street rows in counts.csv (表8/表9)."""
        c = self.counts
        return list(dict.fromkeys(c.loc[c["street"] != "", "county"]))


def fmt(v) -> str:
    """A value as the report shows it: thousands separators, 是/否, ``-`` when missing."""
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v == int(v) and abs(v) >= 1:
            return f"{int(v):,}"
        return f"{v:.4g}" if abs(v) < 1 else f"{v:,.2f}"
    return str(v)


def cell(v):
    """A value typed for a sheet: numbers held in strings become numbers, missing None."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, str):
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            try:
                return float(s) if s and s.lower() not in ("nan", "inf", "-inf") else v
            except ValueError:
                return v
    return v


def coverage_frame(s: dict, labels: dict[str, str] | None = None) -> pd.DataFrame:
    rows = []
    for kind, per_year in (s.get("coverage") or {}).items():
        for y, c in per_year.items():
            share = c.get("population_covered_share")
            rows.append({"类别": (labels or KIND_ZH).get(kind, kind), "年份": str(y),
                         "覆盖人口": c.get("population_covered"),
                         "服务圈内人口": c.get("population_in_scope"),
                         "覆盖率": f"{share:.1%}" if share is not None else "-",
                         "必保服务圈": c.get("must_cover_cells"),
                         "已覆盖必保服务圈": c.get("must_cover_covered"),
                         "可填补盲区": c.get("gain_cells"),
                         "已填补盲区": c.get("gain_cells_filled")})
    return pd.DataFrame(rows)


def county_frame(counts: pd.DataFrame, summary: dict, kind: str,
                 word: str = "目标") -> pd.DataFrame:
    """Per county: designated per year, the 2028/2030 targets (``word``: 目标, or 上限 for caps),
    admissions and exits."""
    c = counts[(counts["kind"] == kind) & (counts["street"] == "")]
    years = sorted(c["year"].unique())
    piv = c.pivot_table(index="county", columns="year", values="designated", aggfunc="sum",
                        sort=False)
    order = list(dict.fromkeys(c["county"]))
    piv = piv.reindex(order)
    out = pd.DataFrame({"县区": order})
    for y in years:
        out[f"{y}年"] = piv[y].astype(int).to_numpy()
    targets = {(t.get("county"), t.get("kind")): t for t in summary.get("targets") or []}
    for ty in (2028, 2030):
        if any(f"target_{ty}" in t for t in targets.values()):
            vals = []
            for county in order:
                t = targets.get((county, kind))
                if t is None and county == CITY:
                    ts = [v.get(f"target_{ty}") for (_, k), v in targets.items() if k == kind]
                    vals.append(sum(int(x) for x in ts if x is not None) if ts else None)
                else:
                    vals.append(None if t is None else t.get(f"target_{ty}"))
            out[f"{ty}年{word}"] = vals
    sums = c.groupby("county", sort=False)[["admitted", "exited"]].sum().reindex(order)
    out["准入合计"] = sums["admitted"].astype(int).to_numpy()
    out["退出合计"] = sums["exited"].astype(int).to_numpy()
    return out


def _last(b: dict, what: str):
    """``uncovered_<what>_<last year>`` of a blind-spot section, whatever the last year."""
    keys = sorted(k for k in b if k.startswith(f"uncovered_{what}_"))
    return b.get(keys[-1]) if keys else None


def blind_frame(s: dict, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Blind spots by the cell-radius definition per kind, then by the text's (五(二)2), each
    row labelled with its definition."""
    rows = []
    label = (s.get("blind_spots_definition") or {}).get("definition_zh", "服务盲区（服务圈）")
    for kind, b in (s.get("blind_spots") or {}).items():
        rows.append({"类别": (labels or KIND_ZH).get(kind, kind), "定义": label,
                     "无人可达盲区(个)": b.get("cells"), "盲区人口": b.get("population"),
                     "末年未覆盖服务圈(个)": _last(b, "cells"),
                     "末年未覆盖人口": _last(b, "population")})
    text = s.get("blind_spots_text")
    if text:
        rows.append({"类别": (labels or KIND_ZH).get(text.get("kind"), text.get("kind")),
                     "定义": text.get("definition_zh"), "无人可达盲区(个)": None,
                     "盲区人口": None, "末年未覆盖服务圈(个)": _last(text, "cells"),
                     "末年未覆盖人口": _last(text, "population")})
    return pd.DataFrame(rows, dtype=object)


def assumption_rows(inp: ReportInput) -> list[tuple[str, str]]:
    """(rule, explanation) rows of the 规划依据与规则 section, from the scenario the plan was
    run on (:func:`dingdian.write.report_rules.rule_rows`)."""
    if inp.config is None:
        return [("情景文件", "无法读取本方案的情景文件，规则未列出；请用 --scenario 指定。")]
    return rule_rows(inp.config, inp.summary, streets=inp.street_counties,
                     columns=inp.plan_columns)

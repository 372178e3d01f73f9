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
as a frame (``table, row, year, code, check, result, detail``; ``result`` is
:data:`~dingdian.check.audit_checks.PASS` or :data:`~dingdian.check.audit_checks.FAIL`).
Unreadable input raises :class:`dingdian.errors.ScenarioError`, one line naming the file, the
data row (1-based, heading rows excluded) and the field.

The audit is split by role: :mod:`dingdian.check.audit_read` (the input data classes and the
readers of single tables), :mod:`dingdian.check.audit_load` (targets, text figures and whole
audits: ``load_tables``, ``load_audit_file``), :mod:`dingdian.check.audit_checks` (checks a–d and
the findings' vocabulary) and :mod:`dingdian.check.audit_beds` (checks e and f). This module runs
every check (:func:`audit`) and reports the findings (:func:`inconsistent`,
:func:`write_findings`, :func:`sources`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dingdian.check.audit_beds import check_beds, check_text
from dingdian.check.audit_checks import (
    FAIL,
    check_city_totals,
    check_paths,
    check_streets,
    check_targets,
)
from dingdian.check.audit_read import KIND_LABEL, AuditInput

FINDING_COLUMNS = ["table", "row", "year", "code", "check", "result", "detail"]
HEADINGS = {"table": "表 table", "row": "行 row", "year": "年份 year", "code": "代码 code",
            "check": "检查 check", "result": "结果 result", "detail": "说明 detail"}


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
    """The findings as a CSV with bilingual headings (UTF-8 with BOM, GBK-safe: opens in Excel)."""
    from dingdian.write.outputs import write_csv

    write_csv(Path(path), findings.rename(columns=HEADINGS))


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


@dataclass(frozen=True)
class Audit:
    """What :func:`dingdian.audit` found: the tables read (``input``) and one finding per
    check (``findings``, :data:`FINDING_COLUMNS`; ``result`` is 通过 or 不一致)."""

    input: AuditInput
    findings: pd.DataFrame
    #: the findings' headings and the failed result, for printing
    headings = HEADINGS
    columns = FINDING_COLUMNS
    fail = FAIL

    @property
    def label(self) -> str:
        return self.input.label

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(self.input.notes)

    @property
    def sources(self) -> list[str]:
        """One line per table read."""
        return list(sources(self.input))

    @property
    def inconsistent(self) -> pd.DataFrame:
        """The findings that failed."""
        return inconsistent(self.findings)

    @property
    def passed(self) -> bool:
        return self.inconsistent.empty

    def write(self, path: str | Path) -> Path:
        """The findings as a CSV with bilingual headings (UTF-8 with BOM, opens in Excel)."""
        write_findings(self.findings, Path(path))
        return Path(path)

"""``dingdian audit``: check a yearly admit/exit plan against its targets, without solving.

Registered in :mod:`dingdian.cli.main` with ``main.add_command(audit)``. The checks themselves are in
:mod:`dingdian.check.audit`. Exit codes: 0 every check passes, 1 some are inconsistent, 2 unreadable
input (one ``error:`` line naming the file, row and field).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import dingdian
from dingdian.cli.common import CONTEXT, EXIT_INCONSISTENT, allow_outside_option, fail

WIDE = 110  # narrower terminals get one finding per line instead of a table


def _table(shown, report) -> Table:
    """The findings as a rich table (wide terminals)."""
    table = Table(title="核对结果 findings", show_lines=False)
    widths = {"table": 10, "row": 12, "year": 9, "check": 14, "result": 12, "detail": None}
    for col in report.columns:
        if col == "code":
            continue
        table.add_column(report.headings[col], no_wrap=col == "year", overflow="fold",
                         max_width=widths[col], ratio=1 if col == "detail" else None)
    for r in shown.itertuples(index=False):
        style = "red" if r.result == report.fail else "green"
        table.add_row(escape(r.table), escape(r.row), r.year, escape(r.check),
                      f"[{style}]{r.result}[/{style}]", escape(r.detail))
    return table


@click.command(context_settings=CONTEXT)
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), default=None,
              help="A dingdian scenario (YAML or folder): its targets.csv gives the existing "
                   "counts and the targets (表2/表3).")
@click.option("--text-figures", type=click.Path(path_type=Path), default=None,
              help="YAML list of figures quoted in the plan's text, each compared with the "
                   "tables (e.g. scenarios/zhangye/published/text_figures.yaml).")
@click.option("--out", "out_file", type=click.Path(path_type=Path), default=None,
              help="Also write the findings to this CSV (UTF-8, opens in Excel).")
@click.option("--problems-only", is_flag=True,
              help="Print only the inconsistent findings (--out still gets all of them).")
@allow_outside_option
@click.pass_context
def audit(ctx: click.Context, source: Path, scenario: Path | None, text_figures: Path | None,
          out_file: Path | None, problems_only: bool, allow_outside: bool = False) -> None:
    """Check a plan's yearly tables against its targets, without solving (核对规划表).

    SOURCE is one of:

    \b
      audit.yaml  names each table: yearly 表6–表9, targets 表2/表3 (or a targets.csv),
                  beds 表1/表4/表5, text figures (see scenarios/zhangye/published/audit.yaml)
      a folder    one holding an audit.yaml (used as above), dingdian's OUT folder
                  (reads OUT/tables/), or any folder of files named
                  表6….csv / 表6….xlsx (Zhangye numbering: 表6/表7 counties, 表8/表9 streets,
                  表2/表3 targets, 表1/表5 beds per level, 表4 beds per county)
      a workbook  .xlsx with sheets named 表6, 表7, … (e.g. OUT/plan.xlsx)

    A yearly table has the area in its first column (区域 or 网格划分), then 准入 and 退出 for
    each year: flattened headings (2025年准入, 2025年退出, …) or the plan's heading rows (the
    year merged over 准入 | 退出). Without 表2/表3, pass --scenario for the existing counts and
    targets.

    \b
    Checks (column 代码 code):
      a  each county: existing + Σ 准入 − Σ 退出 reaches the 2028 and 2030 targets (gap)
      b  the count never goes negative; exits never exceed what is designated (else
         admitted facilities must exit again, with the numbers)
      c  全市 row = Σ counties, per year and column (and 表2/表3's 总数 row)
      d  streets (表8/表9) add up to 街道合计 and to 甘州区's row of 表6/表7, per year
      e  beds: e1 表1 = 表5, e2 levels follow 3:5:2 of the planned total within rounding,
         e3 rows add up to the total, e4 调整数 = 规划 − 现有, e5 表4 全市 = 表1 合计
      f  figures quoted in the text equal the tables

    Exit 0 when every check passes, 1 when some are inconsistent (不一致), 2 for unreadable
    input (one error line naming the file, row and field).

    \b
    Examples:
      dingdian audit scenarios/zhangye/published/audit.yaml
      dingdian audit scenarios/zhangye/published/audit.yaml --problems-only --out findings.csv
      dingdian audit out/zhangye --scenario scenarios/zhangye/scenario.yaml
      dingdian audit out/zhangye/plan.xlsx --scenario scenarios/zhangye
      dingdian audit my_tables/ --scenario scenarios/zhangye \\
          --text-figures scenarios/zhangye/published/text_figures.yaml
    """
    try:
        report = dingdian.audit(source, scenario=scenario, text_figures=text_figures,
                                allow_outside=allow_outside)
    except dingdian.ScenarioError as exc:
        fail(ctx, exc)
    except OSError as exc:
        fail(ctx, f"{getattr(exc, 'filename', None) or source}: {exc.strerror or exc}")
    if out_file is not None:
        try:
            report.write(out_file)
        except OSError as exc:
            fail(ctx, f"cannot write {out_file}: {exc.strerror or exc}")
    findings = report.findings

    out = Console(highlight=False, soft_wrap=False, log_path=False)
    out.print(f"核对 audit: [bold]{escape(report.label)}[/bold]", soft_wrap=True)
    for line in report.sources:
        out.print(f"  {line}", markup=False, soft_wrap=True)
    for note in report.notes:
        out.print(f"[yellow]注意 note[/yellow]: {escape(note)}", soft_wrap=True)
    bad = report.inconsistent
    shown = bad if problems_only else findings
    if len(shown) and out.width >= WIDE:
        out.print(_table(shown, report))
    elif len(shown):  # narrow terminal: one finding per line
        out.print("[bold]核对结果 findings[/bold] (表 table | 行 row | 年份 year | 检查 check | "
                  "结果 result: 说明 detail)")
        for r in shown.itertuples(index=False):
            style = "red" if r.result == report.fail else "green"
            where = " | ".join(x for x in (r.table, r.row, r.year, r.check) if x)
            out.print(f"- {escape(where)} | [{style}]{r.result}[/{style}]: {escape(r.detail)}")
    n, k = len(findings), len(bad)
    summary = f"{n} 项检查 checks: {n - k} 通过 pass, {k} 不一致 inconsistent"
    if out_file is not None:
        summary += f"; findings written to {out_file}"
    if k:
        out.print(f"[bold red]{summary}[/bold red]")
        ctx.exit(EXIT_INCONSISTENT)
    out.print(f"[green]{summary}[/green]")

"""``dingdian report OUT``: a plan folder as an Excel workbook and a self-contained HTML page.

Registered in :mod:`dingdian.cli.main` with ``main.add_command(report)``. The work is done by
:func:`dingdian.report`.

Exit codes: 0 written; 2 OUT is not a plan folder (or a file of it differs from summary.json's
manifest), the scenario cannot be found or read, another run is writing OUT, or the report
cannot be written (a full disk: an earlier report is then left as it was).
"""

from __future__ import annotations

from pathlib import Path

import click

import dingdian
from dingdian.cli.common import CONTEXT, EXIT_INPUT, allow_outside_option


@click.command("report", context_settings=CONTEXT)
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--scenario", "scenario", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Scenario for the county outlines [default: summary.json's scenario path].")
@click.option("--all-years", is_flag=True,
              help="Draw a coverage map for every year, not only the first and last.")
@allow_outside_option
def report(out: Path, scenario: Path | None, all_years: bool,
           allow_outside: bool = False) -> None:
    """Write OUT/report.xlsx, OUT/report.html and the maps in OUT/maps/.

    Reads only OUT's files (plan.csv, cells.csv, counts.csv, summary.json, tables/) and the
    scenario's county outlines. report.xlsx holds the summary (status, gap), 表6–表9, the
    county tables, the model's assumptions and the map PNGs; report.html holds the same with
    the images inlined and an interactive map, and loads nothing from the network.
    OUT/maps/ holds density_<kind>.png (热点分布图, 2024 vs 2030),
    coverage_<kind>_<year>.png (coverage per service cell, blind spots in red) and map.html.
    All three are built aside and replace the earlier ones together at the end: on any error
    (a full disk) the earlier report is left as it was. OUT's files are first checked against
    summary.json's manifest (a truncated or edited plan.csv is refused, exit 2).

    \b
    Example:
      dingdian solve scenarios/zhangye/scenario.yaml --out out/zhangye
      dingdian report out/zhangye
      xdg-open out/zhangye/report.html
    """
    try:
        written = dingdian.report(out, scenario, all_years=all_years,
                                  allow_outside=allow_outside)
    except (dingdian.ReportError, dingdian.ScenarioError, dingdian.OutputBusy,
            FileNotFoundError) as exc:
        click.echo(f"error: {' '.join(str(exc).split())}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    except OSError as exc:  # a full disk: nothing of the new report is left, the old one stays
        click.echo(f"error: cannot write the report into {out}: {exc.strerror or exc} "
                   "(an earlier report is left as it was)", err=True)
        raise SystemExit(EXIT_INPUT) from None
    n_png = sum(1 for p in written.values() if p.suffix == ".png")
    click.echo(f"报告 report: {written['report_xlsx']}, {written['report_html']}")
    click.echo(f"地图 maps: {n_png} PNG + {written['map_html']}")

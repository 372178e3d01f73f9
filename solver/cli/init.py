"""``dingdian init DIR``: a new scenario's skeleton, for a city that brings its own data.

Registered in :mod:`dingdian.cli.main` with the other commands. The work is done by
:func:`dingdian.init` (:mod:`dingdian.scenario.templates`).

Exit codes: 0 written; 2 DIR already holds a scenario.yaml (or another file it would write),
or cannot be written: one ``error:`` line, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import click

import dingdian
from dingdian.cli.common import CONTEXT, EXIT_INPUT, console, fail


@click.command("init", context_settings=CONTEXT)
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--city", default="示例市", show_default=True,
              help="The city's name, for the titles (表6/表7: '<city>无住院服务定点医疗机构…').")
@click.option("--county", "counties", multiple=True, metavar="NAME",
              help="A county (县区) of the city; repeat for each. Pre-fills the tables with "
                   "one row per county (× kind × year).")
@click.option("--base-year", type=int, default=2024, show_default=True,
              help="The year whose end the existing facilities describe.")
@click.option("--last-year", type=int, default=None,
              help="The last planning year [default: base year + 6].")
@click.pass_context
def init(ctx: click.Context, folder: Path, city: str, counties: tuple[str, ...],
         base_year: int, last_year: int | None) -> None:
    """Write a new scenario's skeleton into FOLDER (新建情景模板).

    FOLDER/scenario.yaml with every key commented, FOLDER/规划数据.xlsx with a 说明 sheet
    and one sheet per table (Chinese headings, drop-down lists), the same tables as CSV files
    in FOLDER/csv/ (UTF-8 with BOM) and a README.md. Fill them in, add the county and urban
    outlines (县区边界.geojson, 城区范围.geojson; Shapefile or GeoPackage too), then validate and
    solve. Nothing is overwritten: a FOLDER that already holds scenario.yaml is refused.

    \b
    Example:
      dingdian init 新城 --city 新城市 --county 甲区 --county 乙县
      dingdian validate 新城
      dingdian solve 新城 --out out/新城
    """
    last = last_year if last_year is not None else base_year + 6
    try:
        written = dingdian.init(folder, city=city, counties=counties, base_year=base_year,
                                years=list(range(base_year + 1, last + 1)))
    except dingdian.ScenarioError as exc:
        fail(ctx, exc, EXIT_INPUT)
    except OSError as exc:
        fail(ctx, f"{folder}: cannot write: {exc.strerror or exc}", EXIT_INPUT)
    out = console()
    out.print(f"已生成 written: {folder}", markup=False)
    for path in written:
        out.print(f"  {path.relative_to(folder).as_posix()}", markup=False)
    out.print("下一步 next: fill in 规划数据.xlsx (its 说明 sheet explains every column), add "
              "县区边界.geojson and 城区范围.geojson, check scenario.yaml, then", markup=False)
    out.print(f"  dingdian validate {folder}\n  dingdian solve {folder} --out out", markup=False)

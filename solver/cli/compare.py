"""``dingdian compare OUT_A OUT_B …``: plan folders of ``dingdian solve`` side by side.

Registered in :mod:`dingdian.cli.main` with ``main.add_command(compare)``. The work is done by the
library (:func:`dingdian.compare`); this module prints the tables and writes ``--out``.

Exit codes: 0 compared; 2 fewer than two folders (usage error), a folder that is not a plan or
whose files differ from its summary.json manifest, plans of different cities (one ``error:``
line), a bad ``--label`` or an unwritable ``--out``.
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from rich.table import Table

import dingdian
from dingdian.cli.common import CONTEXT, EXIT_INPUT, KIND_LABEL, console

#: summary rows printed in the terminal (compare_summary.csv has them all)
SUMMARY_SHOWN = ("scenario.name", "solver", "status", "objective", "bound", "gap",
                 "build_seconds", "solve_seconds", "model_size.variables",
                 "model_size.constraints", "verification.passed")
SUMMARY_HEAD = {"scenario.name": "情景 scenario", "solver": "求解器 solver",
                "status": "状态 status", "objective": "目标值 objective", "bound": "界 bound",
                "gap": "间隙 gap", "build_seconds": "建模 build s", "solve_seconds": "求解 solve s",
                "model_size.variables": "变量 variables",
                "model_size.constraints": "约束 constraints",
                "verification.passed": "校验 verified"}


def _fmt(v, signed: bool = False) -> str:
    """A cell: ``-`` for missing, thousands separators, floats without noise."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, bool):
        return "是 yes" if v else "否 no"
    if isinstance(v, (int, float)) or hasattr(v, "item"):
        v = v.item() if hasattr(v, "item") else v
        if isinstance(v, float) and v.is_integer() and abs(v) >= 1:
            v = int(v)
        if isinstance(v, int):
            return f"{v:+,}" if signed and v else f"{v:,}"
        if abs(v) < 1e-3 and v:
            return f"{v:+.2e}" if signed else f"{v:.2e}"
        return f"{v:+,.4g}" if signed and v else f"{v:,.4g}"
    return str(v)


def _triple(values, signed: bool = False) -> str:
    return "/".join(_fmt(v, signed) for v in values)


def _changed(values) -> bool:
    vals = [None if (v is pd.NA or v is None) else v for v in values]
    return len(set(vals)) > 1


def _key_columns(table: Table) -> None:
    table.add_column("县区 county", no_wrap=True, min_width=6)
    table.add_column("类别 kind", no_wrap=True, min_width=6)
    table.add_column("年份 year", justify="right", no_wrap=True, min_width=4)


def _runs_table(title: str, labels: list[str]) -> Table:
    """The key columns, one column per run and, for two runs, their difference Δ."""
    two = len(labels) == 2
    table = Table(title=title, caption=f"Δ = {labels[1]} − {labels[0]}" if two else None)
    _key_columns(table)
    for lab in labels:
        table.add_column(lab, justify="right", no_wrap=True)
    if two:
        table.add_column("Δ", justify="right", no_wrap=True)
    return table


def counts_table(cmp, kind_label: dict, streets: bool, diff_only: bool) -> Table:
    """County (and street) × kind × year: designated / admitted / exited per run, and Δ."""
    labels, two = list(cmp.labels), len(cmp.labels) == 2
    table = _runs_table("定点数量 designated / 准入 admitted / 退出 exited", labels)
    c = cmp.counts
    if not streets:
        c = c[c["street"] == ""]
    wide = {key: grp.set_index("measure") for key, grp in
            c.groupby(["county", "street", "kind", "year"], sort=False)}
    for (county, street, kind, year), g in wide.items():
        runs = [[g.at[m, lab] if m in g.index else None for m in cmp.measures]
                for lab in labels]
        if diff_only and not any(_changed(col) for col in zip(*runs, strict=True)):
            continue
        row = [f"{county} {street}".strip(), kind_label.get(kind, kind), str(year),
               *(_triple(r) for r in runs)]
        if two:
            delta = [g.at[m, cmp.delta] if m in g.index else None for m in cmp.measures]
            text = _triple(delta, signed=True)
            row.append(f"[yellow]{text}[/yellow]" if any(d != 0 for d in delta
                                                         if d is not None and d is not pd.NA)
                       else text)
        table.add_row(*row)
    return table


def coverage_table(cmp, kind_label: dict, year: int, diff_only: bool) -> Table:
    """County × kind in ``year``: population covered / in scope, uncovered cells; Δ covered."""
    labels, two = list(cmp.labels), len(cmp.labels) == 2
    table = _runs_table("覆盖人口 population covered (未覆盖网格 uncovered cells)", labels)
    cov = cmp.coverage[cmp.coverage["year"] == year]
    for (county, kind), g in cov.groupby(["county", "kind"], sort=False):
        g = g.set_index("measure")
        if "population_covered" not in g.index:
            continue
        get = lambda m, col, g=g: g.at[m, col] if m in g.index else None  # noqa: E731
        if diff_only and not any(_changed([get(m, lab) for lab in labels])
                                 for m in g.index):
            continue
        row = [county, kind_label.get(kind, kind), str(year)]
        for lab in labels:
            row.append(f"{_fmt(get('population_covered', lab))} "
                       f"({_fmt(get('uncovered_cells', lab))})")
        if two:
            row.append(f"{_fmt(get('population_covered', cmp.delta), signed=True)} "
                       f"({_fmt(get('uncovered_cells', cmp.delta), signed=True)})")
        table.add_row(*row)
    return table


def summary_table(cmp) -> Table:
    """Status, objective and its terms, gap, times and verification per run."""
    labels, two = list(cmp.labels), len(cmp.labels) == 2
    table = Table(title="求解汇总 solve summary")
    table.add_column("项目 item", no_wrap=True)
    for lab in labels:
        table.add_column(lab, justify="right")
    if two:
        table.add_column("Δ", justify="right")
    s = cmp.summary.set_index("measure")
    shown = [m for m in SUMMARY_SHOWN if m in s.index]
    shown += [m for m in s.index if str(m).startswith(("objective_terms.", "blind_spots."))
              and not str(m).split(".")[-1].startswith("uncovered_")]
    shown += [m for m in s.index if str(m).endswith(".status") and m not in shown]
    for m in shown:
        row = [SUMMARY_HEAD.get(m, m), *(_fmt(s.at[m, lab]) for lab in labels)]
        if two:
            row.append(_fmt(s.at[m, cmp.delta], signed=True))
        table.add_row(*row)
    return table


def facilities_table(cmp, kind_label: dict, limit: int) -> Table:
    """The first ``limit`` facilities whose designation path differs."""
    f = cmp.facilities
    table = Table(title=f"规划不同的机构 facilities that differ: {len(f)}",
                  caption=(f"前 {limit} 家 first {limit}; all in compare_facilities.csv (--out)"
                           if len(f) > limit else None))
    for head in ("机构 facility", "县区 county", "类别 kind"):
        table.add_column(head, no_wrap=True)
    for lab in cmp.labels:
        table.add_column(lab, min_width=8)
    for row in f.head(limit).to_dict("records"):
        table.add_row(str(row["facility_id"]), str(row["county"]),
                      kind_label.get(row["kind"], row["kind"]),
                      *(str(row[lab]) for lab in cmp.labels))
    return table


def _inside(path: Path, other: Path) -> bool:
    """Whether ``other`` is ``path`` or lies inside it."""
    try:
        other.relative_to(path)
    except ValueError:
        return False
    return True


@click.command(context_settings=CONTEXT)
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path))
@click.option("--label", "labels", multiple=True, metavar="NAME",
              help="Name of a run, once per folder in order (default: the folder names).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Write compare_counts.csv, compare_coverage.csv, compare_summary.csv, "
                   "compare_facilities.csv and compare.xlsx here (replaced atomically).")
@click.option("--streets", is_flag=True, help="Also print the street rows (表8/表9 areas).")
@click.option("--diff-only", is_flag=True, help="Print only the rows where the runs differ.")
@click.option("--show", "limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Facilities listed in the terminal.")
@click.pass_context
def compare(ctx: click.Context, folders: tuple[Path, ...], labels: tuple[str, ...],
            out_dir: Path | None, streets: bool, diff_only: bool, limit: int) -> None:
    """Compare plan folders written by `dingdian solve` side by side (方案比较).

    Per county, kind and year: designated counts, admissions and exits (counts.csv);
    population covered and blind spots (cells.csv, summary.json); status, objective and gap
    (summary.json); and the facilities whose designation path differs (plan.csv). With two
    folders a Δ column gives the second minus the first. Plans of different cities (no county
    in common) are refused. Each folder's files are checked against its summary.json manifest
    first. Exit 0 when compared; 2 with one `error:` line when a folder is not a plan, a file
    of it was truncated or edited, or the plans are of different cities; a usage error for
    fewer than two folders.

    \b
    Example:
      dingdian solve scenarios/zhangye --out out/at_most
      dingdian solve my_exact/scenario.yaml --out out/exact
      dingdian compare out/at_most out/exact --label 上限 --label 精确 --out out/compare
    """
    if len(folders) < 2:
        raise click.UsageError("give at least two plan folders (OUT_A OUT_B …)", ctx)
    if labels and len(labels) != len(folders):
        raise click.BadParameter(f"{len(labels)} labels for {len(folders)} folders; give one "
                                 "per folder or none", ctx, param_hint="'--label'")
    if out_dir is not None:
        target = out_dir.absolute()
        for folder in folders:
            if _inside(target, folder.absolute()):
                click.echo(f"error: --out {out_dir} would replace the plan folder {folder}",
                           err=True)
                ctx.exit(EXIT_INPUT)
    try:
        cmp = dingdian.compare(folders, labels or None)
    except dingdian.NotAPlan as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_INPUT)
    except ValueError as exc:  # a label that is empty, repeated or reserved
        raise click.BadParameter(str(exc), ctx, param_hint="'--label'") from exc

    out = console()
    out.print(counts_table(cmp, KIND_LABEL, streets, diff_only))
    year = max(cmp.years)
    out.print(coverage_table(cmp, KIND_LABEL, year, diff_only))
    out.print(summary_table(cmp))
    if limit and len(cmp.facilities):
        out.print(facilities_table(cmp, KIND_LABEL, limit))
    else:
        out.print(f"规划不同的机构 facilities that differ: {len(cmp.facilities)}")
    if out_dir is not None:
        try:
            path = cmp.write(out_dir)
        except dingdian.OutputBusy as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_INPUT)
        except OSError as exc:
            click.echo(f"error: cannot write {out_dir}: {exc.strerror or exc}", err=True)
            ctx.exit(EXIT_INPUT)
        files = ", ".join(cmp.files)
        out.print(f"输出 output: {path} ({files})", markup=False)

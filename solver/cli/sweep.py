"""``dingdian sweep``: many variants of a scenario, solved in parallel (:func:`dingdian.sweep`).

Registered in :mod:`dingdian.cli.main`. Exit codes: 0 every run solved (infeasible runs are results
too, explained in sweep.csv); 2 bad input (a setting, the sweep file, the scenario, a Dask
scheduler address that is none or is unreachable, an unwritable DIR, another sweep writing DIR),
one ``error:`` line; 4 a run failed (no plan for another reason than infeasibility: time limit
before any plan, solver failure); 5 a run's plan failed the residual check.

While the runs are solved, stderr counts the runs done (:class:`RunCounter`): on a terminal one
live line (``已完成 done 7/20``, the last run done with its status and seconds, the time
elapsed); elsewhere (CI, a log file) one plain line per run as it finishes, in the order they
finish: ``sweep: 7/20 done: gz_x0.8 optimal 12.3 s``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import dingdian
from dingdian.cli.common import (
    CONTEXT,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_NO_PLAN,
    EXIT_UNVERIFIED,
    SOLVERS,
    Seconds,
    allow_outside_option,
    fail,
)
from dingdian.result import FEASIBLE, INFEASIBLE, OPTIMAL

SHOWN = {"status": "状态 status", "objective": "目标值 objective",
         "exited_clinic": "诊所退出 clinic exits", "exited_pharmacy": "药店退出 pharmacy exits",
         "coverage_{last}_clinic": "诊所覆盖 clinic coverage",
         "coverage_{last}_pharmacy": "药店覆盖 pharmacy coverage", "seconds": "秒 s"}


def _table(frame: pd.DataFrame) -> Table:
    """One row per run (its name says its settings): status, objective, exits, coverage."""
    last = next(c.split("_")[1] for c in frame.columns if c.startswith("designated_"))
    table = Table(title="情景扫描 sweep", caption=f"覆盖 coverage = population covered in {last}")
    cols = ["run", *(c.format(last=last) for c in SHOWN)]
    for col, head in zip(cols, ["运行 run", *SHOWN.values()], strict=True):
        table.add_column(head, justify="left" if col in ("run", "status") else "right",
                         overflow="fold")
    for r in frame.to_dict("records"):
        cells = []
        for col in cols:
            v = r.get(col)
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                cells.append("-")
            elif col.startswith("coverage_"):
                cells.append(f"{100 * float(v):.1f}%")
            elif col == "objective":
                cells.append(f"{float(v):,.0f}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    return table


class RunCounter:
    """``dingdian.sweep``'s ``progress``: the runs done so far, on stderr (module docstring).

    Used as a context manager around the sweep: on a terminal the live line runs from the
    start (``情景扫描 sweeping…`` while the runs are checked) and is cleared at the end.
    """

    def __init__(self, live: bool | None = None) -> None:
        console = Console(stderr=True)
        self.live = console.is_interactive and sys.stderr.isatty() if live is None else live
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.fields[last]}", markup=False),
                            TimeElapsedColumn(), console=console, transient=True) \
            if self.live else None
        self.task = self.bar.add_task("情景扫描 sweeping…", total=None, last="") \
            if self.bar else None

    def __enter__(self) -> RunCounter:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar:
            self.bar.stop()

    def __call__(self, done: int, total: int, row: dict | None) -> None:
        if row is None:  # the runs start
            if self.bar:
                self.bar.update(self.task, description=f"已完成 done 0/{total}", total=total)
            return
        last = f"{row['run']} {row['status']} {float(row['seconds']):.1f} s"
        if self.bar:
            self.bar.update(self.task, completed=done, description=f"已完成 done {done}/{total}",
                            last=last)
        else:
            click.echo(f"sweep: {done}/{total} done: {last}", err=True)


@click.command(context_settings=CONTEXT)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for sweep.csv, variants/ and one plan folder per run.")
@click.option("--set", "settings", multiple=True, metavar="KEY=V1[,V2…]",
              help="A setting and its values; several --set make the cartesian product.")
@click.option("--solver", "backend", type=click.Choice(SOLVERS),
              default=None, help="MILP backend (default: the sweep file's, else highs).")
@click.option("--time-limit", type=Seconds(), default=None,
              help="Seconds per run.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Runs solved at once by the local process pool (default: the CPU count).")
@click.option("--scheduler", default=None, metavar="ADDRESS|local",
              help="Run on Dask: a scheduler ADDRESS (tcp://host:8786) or a LocalCluster "
                   "('local').")
@click.option("--unique/--any-optimum", default=True, show_default=True,
              help="Break ties as `dingdian solve` does (stage L2), or stop at the first "
                   "optimal plan of each run (faster).")
@click.option("--decompose", is_flag=True,
              help="Also split each run's problem into its independent parts.")
@click.option("--no-explain", is_flag=True, help="Do not explain infeasible runs (faster).")
@click.option("--no-plans", is_flag=True,
              help="Write sweep.csv and sweep_counts.csv only, no plan folder per run (faster).")
@allow_outside_option
@click.pass_context
def sweep(ctx: click.Context, scenario: Path, out_dir: Path, settings: tuple[str, ...],
          backend: str | None, time_limit: float | None, workers: int | None,
          scheduler: str | None, unique: bool, decompose: bool, no_explain: bool,
          no_plans: bool, allow_outside: bool = False) -> None:
    """Solve many variants of SCENARIO in parallel (情景扫描) and compare them in sweep.csv.

    SCENARIO is a scenario (file or folder) or a sweep file (a YAML with `scenario:`, `grid:`
    and `runs:`). KEY is a dotted scenario key (weights.churn, grid.urban_radius_m,
    options.exit_mode …), `radius` (the urban service radius), `exit_scale` or `admit_scale`
    (the yearly limits times a factor, optionally narrowed: exit_scale.甘州区.pharmacy), or
    `solver`. Each run is written to OUT/<run>/ (the files of `dingdian solve`, atomically;
    a run's name is made a safe folder name, a/b → a-b, and `.`, `..`, `variants` or two runs
    with one folder are refused), its variant to OUT/variants/<run>.yaml, one row per run to OUT/sweep.csv and its counts
    (county, street, city per kind and year) to OUT/sweep_counts.csv.

    While the runs are solved, stderr counts the runs done: a live line on a terminal,
    otherwise one line per run as it finishes (`sweep: 7/20 done: NAME optimal 12.3 s`).

    Exit 0 when every run is solved (an infeasible run is a result: explained in sweep.csv);
    2 bad input; 4 a run found no plan; 5 a plan failed the residual check.

    \b
    Examples:
      dingdian sweep scenarios/zhangye --set radius=800,1060.82 --set weights.churn=1,5 \\
          --out out/sweep
      dingdian sweep scenarios/zhangye --set exit_scale.甘州区.pharmacy=0.8,1,1.2 --out out/s2
      dingdian sweep my_sweep.yaml --out out/s3 --scheduler local --workers 2
    """
    try:
        with RunCounter() as counter:
            frame = dingdian.sweep(scenario, (), out_dir, sets=settings, backend=backend,
                                   time_limit=time_limit, workers=workers, scheduler=scheduler,
                                   explain=not no_explain, decompose=decompose,
                                   write_plans=not no_plans, unique=unique,
                                   allow_outside=allow_outside, progress=counter)
    except (dingdian.ScenarioError, dingdian.EngineError, dingdian.OutputBusy) as exc:
        fail(ctx, exc, EXIT_INPUT)
    except OSError as exc:
        fail(ctx, f"cannot read or write: {exc.strerror or exc} ({exc.filename or out_dir})",
             EXIT_INPUT)
    except KeyboardInterrupt:
        fail(ctx, "interrupted (runs already written are kept; no sweep.csv)", EXIT_INTERRUPTED)

    out = Console(highlight=False, soft_wrap=True)
    out.print(_table(frame))
    for r in frame.itertuples(index=False):
        if r.status == INFEASIBLE and isinstance(r.explanation, str):
            out.print(f"不可行 infeasible {r.run}: {r.explanation}", markup=False)
    out.print(f"输出 output: {Path(out_dir).absolute()} (sweep.csv, sweep_counts.csv, variants/, "
              f"{int(frame['out'].astype(bool).sum())} plan folders)", markup=False)
    if pd.to_numeric(frame["violations"], errors="coerce").fillna(0).gt(0).any():
        fail(ctx, "a run's plan failed the residual check: see sweep.csv", EXIT_UNVERIFIED)
    if (~frame["status"].isin([OPTIMAL, FEASIBLE, INFEASIBLE])).any():
        fail(ctx, "a run found no plan: see sweep.csv", EXIT_NO_PLAN)

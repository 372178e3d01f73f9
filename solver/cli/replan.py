"""``dingdian replan``: plan the remaining years again from what actually happened.

The work is :func:`dingdian.replan`; the printing and exit codes are ``dingdian solve``'s
(:mod:`dingdian.cli.solve`), plus the facilities whose plan changed and why.
"""

from __future__ import annotations

from pathlib import Path

import click

import dingdian
from dingdian.cli.common import (
    CONTEXT,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_NO_PLAN,
    SOLVERS,
    Seconds,
    allow_outside_option,
    console,
    fail,
    lock_output,
)
from dingdian.cli.solve import print_plan, write_or_explain


@click.command(context_settings=CONTEXT)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--actual", required=True, type=click.Path(path_type=Path),
              help="What happened before --from: a facility list like plan.csv (admitted_year, "
                   "exited_year, withdrawn, score; new applicants as new rows), CSV or .xlsx.")
@click.option("--from", "from_year", required=True, type=int,
              help="The first year planned again (the years before are fixed to --actual).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output directory (replaced atomically).")
@click.option("--previous", type=click.Path(path_type=Path), default=None,
              help="The output folder of the plan being revised (default: the scenario solved "
                   "as it stands).")
@click.option("--solver", "backend", type=click.Choice(SOLVERS), default="highs",
              show_default=True, help="MILP backend.")
@click.option("--time-limit", type=Seconds(), default=None,
              help="Seconds; on timeout the best plan found is written (status feasible).")
@allow_outside_option
@click.pass_context
def replan(ctx: click.Context, scenario: Path, actual: Path, from_year: int, out_dir: Path,
           previous: Path | None, backend: str, time_limit: float | None,
           allow_outside: bool = False) -> None:
    """Plan the years from --from again, the years before fixed to --actual (年度重新规划).

    The plan works year by year (每年年初公布年度准入退出计划): at the start of a year, what
    happened (exits, admissions, withdrawn applications, new applicants, new scores) fixes the
    past, and the remaining years are solved again against the same targets and limits. OUT
    holds the files of `dingdian solve` for the remaining years, plus replan/changes.csv (every
    facility whose plan changed, and why), replan/history.csv and replan/inputs/. Exit codes as
    `dingdian solve`: 3 when the remainder is impossible (explained, nothing written).

    \b
    Example:
      dingdian solve scenarios/example --out out/plan2025
      dingdian replan scenarios/example --actual actual_2025.csv --from 2026 \\
          --previous out/plan2025 --out out/plan2026
    """
    lock_output(ctx, out_dir)  # a second run on OUT fails now, not after its solve
    out = console()
    try:
        with out.status("重新规划 re-planning…"):
            try:
                result = dingdian.replan(scenario, actual, from_year, previous=previous,
                                         solver=backend, time_limit=time_limit,
                                         allow_outside=allow_outside)
            except (dingdian.ScenarioError, dingdian.NotAPlan) as exc:
                fail(ctx, exc, EXIT_INPUT)
            except dingdian.SolverFailed as exc:
                fail(ctx, exc, EXIT_NO_PLAN)
        plan = result.plan
        path = write_or_explain(ctx, plan, out_dir, f"the years from {from_year} cannot meet "
                                "every rule after what happened", write=result.write)
    except KeyboardInterrupt:
        fail(ctx, "interrupted (nothing written)", EXIT_INTERRUPTED)
    for r in result.changes.itertuples(index=False):
        out.print(f"调整 change {r.facility_id} {r.name} ({r.county}): {r.previous} → "
                  f"{r.replanned} — {r.why}", markup=False)
    print_plan(ctx, out, plan, path)

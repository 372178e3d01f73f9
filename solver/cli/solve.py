"""``dingdian validate`` and ``dingdian solve``: parse the options, call the library, print.

The work is :func:`dingdian.check_inputs` and :func:`dingdian.solve`; this module turns their
results and errors into the printed tables, the one-line ``error:`` and the exit codes of
:mod:`dingdian.cli.common`.
"""

from __future__ import annotations

import signal
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

import dingdian
from dingdian.cli.common import (
    CONTEXT,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_NO_PLAN,
    EXIT_UNVERIFIED,
    KIND_LABEL,
    MAX_ERRORS,
    SOLVERS,
    Seconds,
    allow_outside_option,
    console,
    fail,
    lock_output,
)
from dingdian.models.data import KINDS


def _load(ctx: click.Context, scenario_path: Path):
    """Load a scenario (a directory means its scenario.yaml); errors → one line, exit 2."""
    try:
        return dingdian.load(scenario_path)
    except dingdian.ScenarioError as exc:
        fail(ctx, exc, EXIT_INPUT)


def _print_gate(out: Console, sc) -> None:
    """The fund-risk gate (Heze 二(三)1) year by year, when the scenario has fund figures."""
    gate = getattr(sc, "gate", None)
    if gate is None:
        return
    for r in gate.itertuples(index=False):
        state = "开放 open" if int(r.open) else f"关闭 closed: {r.reasons}"
        out.print(f"基金风险闸门 fund gate {int(r.year)}: {state}", markup=False)


def _flag_count(frame: pd.DataFrame, col: str) -> int:
    return int(frame[col].fillna(False).astype(bool).sum()) if col in frame else 0


def _print_extras(out: Console, extras) -> None:
    """Each rule's or planner's headline and warnings."""
    for extra in extras:
        head = extra.summary.get("headline")
        if head:
            out.print(f"{extra.name}: {head}", markup=False)
        for line in extra.summary.get("warnings") or []:
            out.print(f"警告 warning: {line}", markup=False)


@click.command(context_settings=CONTEXT)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--max-errors", type=click.IntRange(min=1), default=MAX_ERRORS, show_default=True,
              help="Problems listed before '… and N more'.")
@allow_outside_option
@click.pass_context
def validate(ctx: click.Context, scenario: Path, max_errors: int = MAX_ERRORS,
             allow_outside: bool = False) -> None:
    """Check SCENARIO and every file it names, and print what it holds (检查情景数据).

    Reads every table (CSV in UTF-8 or GBK, or .xlsx; Chinese headings accepted), the
    outlines and the beds and nursing files, and lists every problem at once, one line each
    naming the file, the row as Excel shows it and the field. Then prints facilities per
    county and kind, the planning cells to keep, to gain and the blind spots, and the street
    split and basic set (with their warnings), and checks that each county can reach its
    targets within the yearly limits. Exit 0 when the scenario is valid; 2 with the problems
    listed; 3 when a target cannot be reached (no solve needed to see it).

    \b
    Example:
      dingdian validate scenarios/zhangye
    """
    try:
        inputs = dingdian.check_inputs(scenario, allow_outside=allow_outside)
    except dingdian.ScenarioError as exc:
        fail(ctx, exc, EXIT_INPUT, limit=max_errors)
    sc = inputs.scenario
    out = console()
    cfg = sc.config
    out.print(f"情景 scenario: [bold]{cfg.name}[/bold] {getattr(cfg, 'title', '')}")
    out.print(f"年份 years: {cfg.base_year} → {', '.join(map(str, cfg.years))}")
    fac = sc.facilities
    table = Table(title="机构 facilities")
    for head in ("县区 county", "类别 kind", "现有 existing", "申请 applicants", "保护 protected"):
        table.add_column(head, justify="left" if "county" in head or "kind" in head else "right")
    counties = list(dict.fromkeys([*sc.targets["county"], *fac["county"]]))
    for county in counties:
        for kind in KINDS:
            f = fac[(fac["county"] == county) & (fac["kind"] == kind)]
            table.add_row(county, KIND_LABEL[kind], str(int((f["status"] == "existing").sum())),
                          str(int((f["status"] == "applicant").sum())),
                          str(_flag_count(f, "protected")))
    out.print(table)
    cells = sc.cells
    populated = cells[cells["population"] > 0]
    out.print(f"网格 cells: {len(cells)} ({len(populated)} 有人口 populated, "
              f"人口 population {int(cells['population'].sum())})")
    for kind in KINDS:
        out.print(
            f"  {KIND_LABEL[kind]}: 保持 keep {_flag_count(cells, f'must_cover_{kind}')}, "
            f"可补 gain {_flag_count(cells, f'gain_{kind}')}, "
            f"盲区 blind {_flag_count(cells, f'blind_spot_{kind}')}"
        )
    for note in sc.warnings:  # a score rounded, population placed without rural cells …
        out.print(f"注意 note: {note}", markup=False)
    _print_gate(out, sc)
    for key, file in inputs.planner_files.items():
        out.print(f"{key}: {file} OK", markup=False)
    for extra in inputs.extras:
        out.print(f"{extra.name}: {extra.summary.get('headline', '')}", markup=False)
        for line in extra.summary.get("warnings") or []:
            out.print(f"警告 warning: {line}", markup=False)
    if inputs.shortfalls:
        err = console(stderr=True)
        err.print("[bold red]不可行 infeasible[/bold red]: the targets cannot be reached within "
                  "the yearly limits (found before any solve)")
        for line in inputs.shortfalls:
            err.print(f"  - {line}", markup=False)
        ctx.exit(EXIT_INFEASIBLE)
    out.print("[green]OK[/green] 情景有效 scenario is valid")


def _summary_table(summary: dict, counts: pd.DataFrame, years: list[int]) -> Table:
    """County × kind: base-year and target-year counts (with targets), admitted, exited."""
    rows = summary.get("targets") or []
    target_years = sorted({int(k.split("_")[1]) for r in rows for k in r
                           if k.startswith("target_")})
    table = Table(title="规划结果 plan", caption="括号内为规划目标 (target in brackets)")
    table.add_column("县区 county", no_wrap=True)
    table.add_column("类别 kind", no_wrap=True)
    table.add_column(str(years[0]), justify="right")
    for y in target_years:
        table.add_column(f"{y} (目标)", justify="right")
    table.add_column("准入 admitted", justify="right")
    table.add_column("退出 exited", justify="right")
    areas = counts[counts["street"] == ""]
    flows = areas.groupby(["county", "kind"])[["admitted", "exited"]].sum()
    base = areas[areas["year"] == years[0]].set_index(["county", "kind"])["designated"]
    designated: dict = {}  # (county, kind, year) → the first count row's figure
    for key, n in zip(zip(areas["county"], areas["kind"], areas["year"], strict=True),
                      areas["designated"], strict=True):
        designated.setdefault(key, n)
    extra = [(c, k) for c, k in base.index if c == "全市"]
    for county, kind in [*((r["county"], r["kind"]) for r in rows), *extra]:
        row = next((r for r in rows if r["county"] == county and r["kind"] == kind), None)
        if row is None:  # city row: the county targets add up
            row = {f"target_{y}": sum(int(r[f"target_{y}"]) for r in rows
                                      if r["kind"] == kind and r.get(f"target_{y}") is not None)
                   for y in target_years}
        cells = [county, KIND_LABEL.get(kind, kind), str(base.get((county, kind), ""))]
        for y in target_years:
            got = designated.get((county, kind, y))
            value = "-" if got is None else str(int(got))
            tgt = row.get(f"target_{y}")
            cells.append(value if tgt is None else f"{value} ({tgt})")
        f = flows.loc[(county, kind)] if (county, kind) in flows.index else None
        cells += [str(int(f["admitted"])) if f is not None else "-",
                  str(int(f["exited"])) if f is not None else "-"]
        table.add_row(*cells)
    return table


def _solver_options(pairs: tuple[str, ...]) -> dict[str, object]:
    """``KEY=VALUE`` pairs as a dict, each value an int, a float, true/false or the text."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--solver-option")
        value: object = text.strip()
        for cast in (int, float):
            try:
                value = cast(text)
                break
            except ValueError:
                continue
        if text.strip().lower() in ("true", "false"):
            value = text.strip().lower() == "true"
        options[key.strip()] = value
    return options


@click.command(context_settings=CONTEXT)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output directory (replaced atomically).")
@click.option("--solver", "backend", type=click.Choice(SOLVERS), default="highs",
              show_default=True, help="MILP backend.")
@click.option("--time-limit", type=Seconds(), default=None,
              help="Seconds for the whole run (site model, nursing, beds); on timeout the best "
                   "plan found is written (status feasible) and what was cut short is said.")
@click.option("--solver-option", "solver_options", multiple=True, metavar="KEY=VALUE",
              callback=lambda _ctx, _param, value: _solver_options(value),
              help="A parameter of the chosen solver itself, passed through (repeatable): "
                   "HiGHS option (mip_max_nodes=1000), CBC option (maxSolutions=1), CP-SAT "
                   "parameter (max_deterministic_time=30), for the site model (the beds and "
                   "nursing plans solve without it). A stop it causes writes the best plan "
                   "found, not proven optimal.")
@click.option("--fallback", type=click.Choice(SOLVERS), default=None,
              help="If the solver is missing or fails, solve again with this one (off by "
                   "default: a failure is one error line, exit 4).")
@click.option("--unique/--any-optimum", default=True, show_default=True,
              help="Refine the optimum by score, then id (stage L2), so every solver returns "
                   "the same plan; --any-optimum stops at the first optimal plan.")
@click.option("--certify", is_flag=True, default=False,
              help="Also prove the plan is the only one as good (stage L3; can take minutes).")
@click.option("--decompose", is_flag=True,
              help="Solve the independent groups of counties as separate sub-problems, in "
                   "parallel; the same optimum (see docs/performance.md, Decomposition).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes: the model's independent blocks solved side by side "
                   "(default: up to 4; 1 solves them one after the other, in this process), "
                   "or with --decompose the groups of counties (default: the CPU count).")
@click.option("--scheduler", default=None, metavar="ADDRESS|local",
              help="With --decompose: run the parts on Dask, at a scheduler ADDRESS "
                   "(tcp://host:8786) or on a LocalCluster ('local').")
@allow_outside_option
@click.pass_context
def solve(ctx: click.Context, scenario: Path, out_dir: Path, backend: str,
          time_limit: float | None, fallback: str | None, unique: bool, certify: bool,
          decompose: bool = False, workers: int | None = None,
          scheduler: str | None = None, solver_options: dict | None = None,
          allow_outside: bool = False) -> None:
    """Solve SCENARIO and write the plan to OUT (求解并输出规划).

    The optimum is made unique by a second stage (ties broken by score, then by facility id),
    so every solver writes the same plan; --certify proves no other plan is as good.
    Writes plan.csv, cells.csv, counts.csv, decisions.csv, tables/表6…表9 (CSV), plan.xlsx,
    summary.json and plan.gpkg (GeoPackage for QGIS/ArcGIS: facilities, cells, counties,
    streets); with the allocation rules (rules: in the scenario) also street_split.csv
    (人口90%+地理10%), basic_set.csv (综合/中医类/妇幼 per county) and indices.csv (HRAD, PAD,
    density index), roles.csv when the scenario's allocation rules give pharmacy roles, and
    zone_proposals.csv (特殊区域准入建议, for expert review) when they give special zones.
    Exit 0 on a verified plan; 2 bad input (an option the solver does not take included, OUT
    busy: another run is writing it);
    3 infeasible (reasons printed, nothing written); 4 no plan found; 5 plan written but the
    residual check failed. --solver-option applies to --solver only, not to --fallback.

    \b
    Example:
      dingdian solve scenarios/zhangye --out out/zhangye --solver highs --time-limit 120
      dingdian solve scenarios/zhangye --out out/zhangye --decompose --workers 2
      dingdian solve scenarios/zhangye --out out/zhangye --solver cbc --solver-option maxSolutions=1
    """
    if scheduler is not None and not decompose:
        fail(ctx, "--scheduler needs --decompose", EXIT_INPUT)
    lock_output(ctx, out_dir)  # a second run on OUT fails now, not after its solve
    out = console()
    try:
        with out.status("读取情景 loading scenario…") as status:
            def progress(message: str, kind: str = "step") -> None:
                if kind == "warning":
                    out.print(f"[yellow]{message}[/yellow]")
                    return
                status.update(f"{message}…")
                if kind == "step":
                    out.log(str(message))

            plan = _solve(ctx, scenario, backend, time_limit, fallback, unique, certify, decompose,
                          workers, scheduler, solver_options, progress, allow_outside)
        path = write_or_explain(ctx, plan, out_dir, "no plan meets every rule")
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the exit
        fail(ctx, "interrupted (nothing written)", EXIT_INTERRUPTED)
    print_plan(ctx, out, plan, path)


def write_or_explain(ctx: click.Context, plan, out_dir: Path, infeasible: str,
                     write=None) -> Path:
    """Write the plan (``write``: another writer of it) and return the folder; an infeasible
    plan is explained (``不可行 infeasible: <infeasible> (nothing written)``, exit 3), no plan is
    one ``error:`` line (exit 4), an unwritable folder too (exit 2)."""
    if plan.infeasible:
        err = console(stderr=True)
        err.print(f"[bold red]不可行 infeasible[/bold red]: {infeasible} (nothing written)")
        for line in plan.explain():
            err.print(f"  - {line}", markup=False)
        try:
            warnings = plan.warnings  # e.g. a street split a street cannot carry
        except dingdian.ScenarioError as exc:
            fail(ctx, exc, EXIT_INPUT)
        for line in warnings:
            err.print(f"  - 警告 warning: {line}", markup=False)
        ctx.exit(EXIT_INFEASIBLE)
    if not plan.has_plan:
        fail(ctx, f"no plan ({plan.status}) {plan.result.message}".strip(), EXIT_NO_PLAN)
    try:
        return (write or plan.write)(out_dir)
    except OSError as exc:
        fail(ctx, f"cannot write {out_dir}: {exc.strerror or exc}", EXIT_INPUT)


def _solve(ctx, scenario, backend, time_limit, fallback, unique, certify, decompose, workers,
           scheduler, solver_options, progress, allow_outside=False):
    """:func:`dingdian.solve`, its errors as one ``error:`` line and an exit code."""
    try:
        return dingdian.solve(scenario, solver=backend, time_limit=time_limit, unique=unique,
                              certify=certify, fallback=fallback, decompose=decompose,
                              workers=workers, scheduler=scheduler, options=solver_options,
                              progress=progress, allow_outside=allow_outside)
    except dingdian.OptionError as exc:
        fail(ctx, f"--solver-option: {exc}", EXIT_INPUT)
    except (dingdian.ScenarioError, dingdian.EngineError) as exc:
        fail(ctx, exc, EXIT_INPUT)
    except dingdian.SolverFailed as exc:
        fail(ctx, exc, EXIT_NO_PLAN)
    except dingdian.PlannerFailed as exc:
        fail(ctx, exc, EXIT_INFEASIBLE if exc.status == "infeasible" else EXIT_NO_PLAN)


def _cut_short_line(summary: dict, status: str) -> str:
    """One line: the solves cut short (summary.json ``cut_short``), by what, and whether the
    plan is still the unique tie-broken one."""
    why = (f"time limit {summary['time_limit']:g}s for the whole run reached"
           if summary.get("time_limit_reached") else "stopped by the solver's own limits")
    line = f"[yellow]未完成 cut short[/yellow]: {', '.join(summary['cut_short'])} ({why})"
    if status == "optimal" and "L2" in summary["cut_short"]:
        line += "; 非唯一 optimal, but not the unique plan (tie-break stage L2 unfinished)"
    return line


def print_plan(ctx: click.Context, out: Console, plan, path: Path) -> None:
    """The plan table, the solve's figures, the rules' headlines; exit 5 on violations."""
    result, summary = plan.result, plan.summary
    years = [int(plan.scenario.config.base_year), *(int(y) for y in plan.scenario.config.years)]
    out.print(_summary_table(summary, plan.counts, years))
    gap = "-" if result.gap is None else f"{result.gap:.2e}"
    obj = "-" if result.objective is None else f"{result.objective:,.0f}"
    bound = "-" if result.bound is None else f"{result.bound:,.0f}"
    out.print(f"状态 status: [bold]{result.status}[/bold]  求解器 solver: {result.backend}  "
              f"目标值 objective: {obj}  界 bound: {bound}  间隙 gap: {gap}  "
              f"时间 time: {result.build_seconds:.1f}s build + {result.solve_seconds:.1f}s solve")
    for st in result.stages[1:]:
        out.print(f"阶段 stage {st['stage']}: {st['status']} {st['objective']} "
                  f"({st['seconds']:.1f}s)", markup=False)
    if result.unique is not None:
        out.print("唯一最优 unique optimum: " + ("yes, proven (no other plan is as good)"
                                             if result.unique else "no: another plan ties"))
    if summary.get("cut_short"):
        out.print(_cut_short_line(summary, result.status))
    if result.objective_terms:
        terms = "  ".join(f"{k} {v:,.0f}" for k, v in result.objective_terms.items())
        out.print(f"目标分项 objective terms: {terms}")
    decomposed = plan.decomposition
    if decomposed is not None:
        n = len(decomposed.parts)
        out.print(f"分解 decomposed: {n} part{'' if n == 1 else 's'} on {decomposed.engine}"
                  + (f" ({decomposed.workers} workers)" if decomposed.workers > 1 else "")
                  + f": wall {decomposed.wall_seconds:.1f}s, summed "
                  f"{result.build_seconds + result.solve_seconds:.1f}s", markup=False)
    if result.status != "optimal":
        out.print("[yellow]未证明最优 not proven optimal[/yellow]: the best plan found within the "
                  "time limit (or the solver's own limits); the gap bounds how far it can be "
                  "from the optimum")
    written = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
    out.print(f"输出 output: {path} ({', '.join(written)})", markup=False)
    _print_gate(out, plan.scenario)
    if plan.allocation_headline:
        out.print(f"分配规则 allocation: {plan.allocation_headline}", markup=False)
    _print_extras(out, plan.extras)
    violations = plan.check()
    if violations:
        err = console(stderr=True)
        err.print("[bold red]校验失败 verification failed[/bold red]: "
                  f"{len(violations)} violations")
        for line in violations[:20]:
            err.print(f"  - {line}", markup=False)
        ctx.exit(EXIT_UNVERIFIED)
    out.print("[green]校验通过 verified[/green]: every rule holds in the written plan")

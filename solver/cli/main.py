"""Command line: ``dingdian validate`` and ``dingdian solve``.

Exit codes: 0 success; 2 bad input (scenario error, unwritable output); 3 infeasible (the
reasons are printed, nothing is written); 4 no plan (time limit before any plan, solver
failure); 5 a plan was written but the residual check found violations; 130 interrupted.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from dingdian.cli.common import (
    CONTEXT,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_NO_PLAN,
    EXIT_UNVERIFIED,
    KIND_LABEL,
    SOLVERS,
)
from dingdian.cli.common import console as _console
from dingdian.cli.common import fail as _fail
from dingdian.models.data import KINDS


def _load(ctx: click.Context, scenario_path: Path):
    """Load a scenario (a directory means its scenario.yaml); errors → one line, exit 2."""
    from dingdian.errors import ScenarioError
    from dingdian.scenario.loader import load_scenario

    if scenario_path.is_dir() and (scenario_path / "scenario.yaml").is_file():
        scenario_path = scenario_path / "scenario.yaml"
    try:
        return load_scenario(scenario_path)
    except ScenarioError as exc:
        _fail(ctx, str(exc), EXIT_INPUT)
    except OSError as exc:
        _fail(ctx, f"{scenario_path}: {exc.strerror or exc}", EXIT_INPUT)


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


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="dingdian", prog_name="dingdian", message="%(prog)s %(version)s")
def main() -> None:
    """定点 dingdian — multi-year planner for medical-insurance designated institutions.

    \b
    Examples:
      dingdian validate scenarios/zhangye
      dingdian solve scenarios/zhangye --out out/zhangye --solver highs
    """


@main.command(context_settings=CONTEXT)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.pass_context
def validate(ctx: click.Context, scenario: Path) -> None:
    """Load SCENARIO and print what it holds (检查情景数据).

    Prints facilities per county and kind, the planning cells to keep, to gain and the blind
    spots, and the street split and basic set (with their warnings). Exit 0 when the scenario
    loads, 2 with one `error:` line otherwise.

    \b
    Example:
      dingdian validate scenarios/zhangye
    """
    sc = _load(ctx, scenario)
    out = _console()
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
    _print_gate(out, sc)
    _check_planner_files(ctx, sc, out)
    for extra in _rule_extras(ctx, sc):
        out.print(f"{extra.name}: {extra.summary.get('headline', '')}", markup=False)
        for line in extra.summary.get("warnings") or []:
            out.print(f"警告 warning: {line}", markup=False)
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
    flows = counts[counts["street"] == ""].groupby(["county", "kind"])[["admitted", "exited"]].sum()
    base = counts[(counts["street"] == "") & (counts["year"] == years[0])]
    base = base.set_index(["county", "kind"])["designated"]
    extra = [(c, k) for c, k in base.index if c == "全市"]
    for county, kind in [*((r["county"], r["kind"]) for r in rows), *extra]:
        row = next((r for r in rows if r["county"] == county and r["kind"] == kind), None)
        if row is None:  # city row: the county targets add up
            row = {f"target_{y}": sum(int(r[f"target_{y}"]) for r in rows
                                      if r["kind"] == kind and r.get(f"target_{y}") is not None)
                   for y in target_years}
        cells = [county, KIND_LABEL.get(kind, kind), str(base.get((county, kind), ""))]
        for y in target_years:
            got = counts[(counts["county"] == county) & (counts["kind"] == kind)
                         & (counts["street"] == "") & (counts["year"] == y)]["designated"]
            value = str(int(got.iloc[0])) if len(got) else "-"
            tgt = row.get(f"target_{y}")
            cells.append(value if tgt is None else f"{value} ({tgt})")
        f = flows.loc[(county, kind)] if (county, kind) in flows.index else None
        cells += [str(int(f["admitted"])) if f is not None else "-",
                  str(int(f["exited"])) if f is not None else "-"]
        table.add_row(*cells)
    return table


def _check_planner_files(ctx: click.Context, sc, out: Console) -> None:
    """Read the beds and nursing YAML files the scenario names (their CSVs are read by solve)."""
    from dingdian.errors import ScenarioError
    from dingdian.planners.nursing import read_nursing_config
    from dingdian.scenario.beds import read_beds_config

    for key, reader in (("beds", read_beds_config), ("nursing", read_nursing_config)):
        file = getattr(sc.config, key, None)
        if not file:
            continue
        try:
            reader(Path(sc.path).parent / file)
        except ScenarioError as exc:
            _fail(ctx, str(exc), EXIT_INPUT)
        out.print(f"{key}: {file} OK", markup=False)


def _rule_extras(ctx: click.Context, sc, plan=None, extras=()) -> list:
    """Street split, basic set and indices (:mod:`dingdian.planners.extras`); bad input exits 2."""
    from dingdian.errors import ScenarioError
    from dingdian.planners.extras import rule_extras

    try:
        return rule_extras(sc, plan, extras)
    except ScenarioError as exc:
        _fail(ctx, str(exc), EXIT_INPUT)


def _plan_extras(ctx: click.Context, sc, backend: str, time_limit: float | None, out) -> list:
    """Run the planners the scenario names beside the site model (beds, nursing).

    Bad input in their files exits 2, an infeasible one 3, no plan 4: nothing is written.
    """
    from dingdian.errors import ScenarioError
    from dingdian.result import ERROR, INFEASIBLE, NO_SOLUTION

    extras = []
    linked: dict = {}
    # nursing first: the beds it takes from surplus hospital beds cap the hospitals' conversion
    for key, module, function in (("nursing", "dingdian.planners.nursing", "plan_nursing"),
                                  ("beds", "dingdian.planners.beds", "plan_beds")):
        file = getattr(sc.config, key, None)
        if not file:
            continue
        out.log(f"planning {key} ({file})")
        run = getattr(importlib.import_module(module), function)
        try:
            extra = run(Path(sc.path).parent, file, backend=backend, time_limit=time_limit,
                        **(linked if key == "beds" else {"scenario": sc}))
        except ScenarioError as exc:
            _fail(ctx, str(exc), EXIT_INPUT)
        status = extra.summary.get("status")
        if status == INFEASIBLE:
            _fail(ctx, f"{key} ({file}) is infeasible: {extra.summary.get('message', '')}; "
                  "nothing written", EXIT_INFEASIBLE)
        if status in (NO_SOLUTION, ERROR):
            _fail(ctx, f"{key} ({file}): no plan ({status}) {extra.summary.get('message', '')}",
                  EXIT_NO_PLAN)
        extras.append(extra)
        if key == "nursing" and extra.summary.get("converted_by_county") is not None:
            linked["nursing_capacity"] = extra.summary["converted_by_county"]
    return extras


@main.command(context_settings=CONTEXT)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output directory (replaced atomically).")
@click.option("--solver", "backend", type=click.Choice(SOLVERS), default="highs",
              show_default=True, help="MILP backend.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds; on timeout the best plan found is written (status feasible).")
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
                   "parallel; the same optimum (see README, Decomposition and sweeps).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="With --decompose: parallel worker processes (default: the CPU count).")
@click.option("--scheduler", default=None, metavar="ADDRESS|local",
              help="With --decompose: run the parts on Dask, at a scheduler ADDRESS "
                   "(tcp://host:8786) or on a LocalCluster ('local').")
@click.pass_context
def solve(ctx: click.Context, scenario: Path, out_dir: Path, backend: str,
          time_limit: float | None, fallback: str | None, unique: bool, certify: bool,
          decompose: bool = False, workers: int | None = None,
          scheduler: str | None = None, solver_options: dict | None = None) -> None:
    """Solve SCENARIO and write the plan to OUT (求解并输出规划).

    The optimum is made unique by a second stage (ties broken by score, then by facility id),
    so every solver writes the same plan; --certify proves no other plan is as good.
    Writes plan.csv, cells.csv, counts.csv, decisions.csv, tables/表6…表9 (CSV), plan.xlsx and
    summary.json; with the allocation rules (rules: in the scenario) also street_split.csv
    (人口90%+地理10%), basic_set.csv (综合/中医类/妇幼 per county) and indices.csv (HRAD, PAD,
    density index), and roles.csv when the scenario's allocation rules give pharmacy roles.
    Exit 0 on a verified plan; 2 bad input (an option the solver does not take included);
    3 infeasible (reasons printed, nothing written); 4 no plan found; 5 plan written but the
    residual check failed. --solver-option applies to --solver only, not to --fallback.

    \b
    Example:
      dingdian solve scenarios/zhangye --out out/zhangye --solver highs --time-limit 120
      dingdian solve scenarios/zhangye --out out/zhangye --decompose --workers 2
      dingdian solve scenarios/zhangye --out out/zhangye --solver cbc --solver-option maxSolutions=1
    """
    from dingdian.result import ERROR, INFEASIBLE
    from dingdian.write import outputs

    if (workers is not None or scheduler is not None) and not decompose:
        _fail(ctx, "--workers and --scheduler need --decompose", EXIT_INPUT)
    if solver_options:
        from dingdian.run.backends import OptionError, check_options

        try:
            check_options(backend, solver_options)
        except OptionError as exc:
            _fail(ctx, f"--solver-option: {exc}", EXIT_INPUT)
    out = _console()
    decomposed = None
    try:
        with out.status("读取情景 loading scenario…") as status:
            sc = _load(ctx, scenario)
            from dingdian.run import backends

            backend_error = getattr(backends, "BackendError", RuntimeError)

            def progress(message: str, *_args, **_kwargs) -> None:
                status.update(f"{message}…")
                out.log(str(message))

            def run(name: str):
                """(result, failure): a missing solver or a crash is a failure, not a plan."""
                nonlocal decomposed
                options = solver_options if name == requested else None  # not for --fallback
                try:
                    if decompose:
                        decomposed = _solve_decomposed(ctx, sc, name, time_limit, workers,
                                                       scheduler, progress, unique=unique,
                                                       certify=certify, options=options)
                        r = decomposed.result
                    else:
                        r = backends.solve(sc.problem, backend=name, time_limit=time_limit,
                                           progress=progress, unique=unique, certify=certify,
                                           options=options)
                except backend_error as exc:  # solver missing, or an option it does not take
                    if isinstance(exc, backends.OptionError):
                        _fail(ctx, f"--solver-option: {exc}", EXIT_INPUT)
                    return None, str(exc)
                return (None, f"{name}: {r.message}") if r.status == ERROR else (r, None)

            requested = backend
            result, failure = run(backend)
            if failure and fallback and fallback != backend:
                out.print(f"[yellow]{failure}[/yellow]; 改用 falling back to {fallback}")
                backend = fallback
                result, failure = run(fallback)
            if failure:
                _fail(ctx, failure, EXIT_NO_PLAN)
            if result.status == INFEASIBLE:
                status.update("分析不可行原因 explaining infeasibility…")
                from dingdian.run.explain import explain_infeasible

                lines = explain_infeasible(sc.problem, backend)
        if result.status == INFEASIBLE:
            err = _console(stderr=True)
            err.print("[bold red]不可行 infeasible[/bold red]: no plan meets every rule "
                      "(nothing written)")
            for line in lines:
                err.print(f"  - {line}", markup=False)
            for extra in _rule_extras(ctx, sc):  # e.g. a street split a street cannot carry
                for line in extra.summary.get("warnings") or []:
                    err.print(f"  - 警告 warning: {line}", markup=False)
            ctx.exit(EXIT_INFEASIBLE)
        if not result.has_plan:
            _fail(ctx, f"no plan ({result.status}) {result.message}".strip(), EXIT_NO_PLAN)

        from dingdian.check.verify import check_plan

        plan = outputs.plan_frame(sc.facilities, result.designated, result.choices)
        violations = check_plan(plan, sc)
        extras = _plan_extras(ctx, sc, backend, time_limit, out)
        extras += _rule_extras(ctx, sc, plan, extras)
        try:
            path = outputs.write_outputs(
                out_dir, sc, result, verification=violations, extras=extras,
                extra_summary={"decomposition": decomposed.summary()} if decomposed else None)
        except OSError as exc:
            _fail(ctx, f"cannot write {out_dir}: {exc.strerror or exc}", EXIT_INPUT)
    except KeyboardInterrupt:
        _fail(ctx, "interrupted (nothing written)", EXIT_INTERRUPTED)

    import json

    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    counts = pd.read_csv(path / "counts.csv", dtype={"street": str}, keep_default_na=False)
    years = outputs.plan_years(sc)
    out.print(_summary_table(summary, counts, years))
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
    if result.objective_terms:
        terms = "  ".join(f"{k} {v:,.0f}" for k, v in result.objective_terms.items())
        out.print(f"目标分项 objective terms: {terms}")
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
    _print_gate(out, sc)
    if summary.get("allocation"):
        from dingdian.write.allocation import headline

        out.print(f"分配规则 allocation: {headline(summary['allocation'])}", markup=False)
    for extra in extras:
        head = extra.summary.get("headline")
        if head:
            out.print(f"{extra.name}: {head}", markup=False)
        for line in extra.summary.get("warnings") or []:
            out.print(f"警告 warning: {line}", markup=False)
    violations = violations + [f"{e.name}: {v}" for e in extras for v in e.violations]
    if violations:
        err = _console(stderr=True)
        err.print("[bold red]校验失败 verification failed[/bold red]: "
                  f"{len(violations)} violations")
        for line in violations[:20]:
            err.print(f"  - {line}", markup=False)
        ctx.exit(EXIT_UNVERIFIED)
    out.print("[green]校验通过 verified[/green]: every rule holds in the written plan")


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


def _solve_decomposed(ctx, sc, backend, time_limit, workers, scheduler, progress, **kwargs):
    """:func:`dingdian.run.decompose.solve_parts`; an engine that cannot start exits 2."""
    from dingdian.run.decompose import solve_parts
    from dingdian.run.engine import EngineError

    try:
        return solve_parts(sc.problem, backend, time_limit, workers=workers,
                           scheduler=scheduler, progress=progress, **kwargs)
    except EngineError as exc:
        _fail(ctx, str(exc), EXIT_INPUT)


def _register() -> None:
    """Commands kept in modules of their own."""
    from dingdian.cli.audit import audit
    from dingdian.cli.compare import compare
    from dingdian.cli.report import report
    from dingdian.cli.scenarios import scenarios
    from dingdian.cli.sweep import sweep

    main.add_command(audit)
    main.add_command(compare)
    main.add_command(report)
    main.add_command(scenarios)
    main.add_command(sweep)


_register()

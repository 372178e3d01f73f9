"""The ``dingdian`` command group; each command lives in a module of its own.

``validate`` and ``solve`` are in :mod:`dingdian.cli.solve`, ``scenarios`` in
:mod:`dingdian.cli.scenarios`, ``compare``, ``audit``, ``report`` and ``sweep`` in the modules
of those names. Exit codes: :mod:`dingdian.cli.common`.
"""

from __future__ import annotations

import click

from dingdian.cli.audit import audit
from dingdian.cli.common import CONTEXT, one_line_warnings
from dingdian.cli.compare import compare
from dingdian.cli.init import init
from dingdian.cli.replan import replan
from dingdian.cli.report import report
from dingdian.cli.scenarios import scenarios
from dingdian.cli.solve import solve, validate
from dingdian.cli.sweep import sweep


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="dingdian", prog_name="dingdian", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """定点 dingdian — multi-year planner for medical-insurance designated institutions.

    \b
    Examples:
      dingdian validate scenarios/zhangye
      dingdian solve scenarios/zhangye --out out/zhangye --solver highs
    """
    ctx.with_resource(one_line_warnings())


for command in (init, validate, solve, replan, audit, compare, report, scenarios, sweep):
    main.add_command(command)

"""What every command shares: the exit codes, the console and the one-line ``error:``.

Exit codes: 0 success; 1 an audited plan is inconsistent (``dingdian audit``); 2 bad input
(scenario error, unwritable output, an option the solver does not take); 3 infeasible (the
reasons are printed, nothing is written); 4 no plan (time limit before any plan, solver
failure); 5 a plan was written but the residual check found violations; 130 interrupted.
"""

from __future__ import annotations

import click
from rich.console import Console

from dingdian.errors import ScenarioError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
KIND_LABEL = {"clinic": "诊所 clinic", "pharmacy": "药店 pharmacy"}
SOLVERS = ("highs", "cbc", "cpsat")

EXIT_INCONSISTENT = 1
EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN, EXIT_UNVERIFIED, EXIT_INTERRUPTED = 2, 3, 4, 5, 130


def console(stderr: bool = False) -> Console:
    """A rich console that prints text as given (no highlighting, no wrapping of long lines)."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True, log_path=False)


#: problems listed for bad input before "… and N more" (``dingdian validate --max-errors``)
MAX_ERRORS = 20


class Seconds(click.FloatRange):
    """A positive, finite number of seconds (``--time-limit``): ``nan`` and ``inf`` are
    refused, not read as "no limit" (a FloatRange lets ``nan`` through every comparison)."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True)

    def convert(self, value, param, ctx):
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


def fail(ctx: click.Context, message, code: int = EXIT_INPUT, limit: int = MAX_ERRORS) -> None:
    """Print ``error: <one line>`` to stderr and exit with ``code``; for an error that holds
    several problems (:class:`dingdian.errors.ScenarioErrors`), one such line per problem, at
    most ``limit``, then how many more."""
    lines = message.lines(limit) if isinstance(message, ScenarioError) else [str(message)]
    for line in lines:
        click.echo("error: " + " ".join(str(line).split()), err=True)
    ctx.exit(code)

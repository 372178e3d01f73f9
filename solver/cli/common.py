"""What every command shares: the exit codes, the console and the one-line ``error:``.

Exit codes: 0 success; 1 an audited plan is inconsistent (``dingdian audit``); 2 bad input
(scenario error, unwritable output, an option the solver does not take); 3 infeasible (the
reasons are printed, nothing is written); 4 no plan (time limit before any plan, solver
failure); 5 a plan was written but the residual check found violations; 130 interrupted.

:data:`allow_outside_option` is the one ``--allow-outside`` option of every command that loads a
scenario (validate, solve, sweep, replan, audit, report), passed to the library as the keyword
``allow_outside`` (:mod:`dingdian.scenario.paths`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console

import dingdian
from dingdian.errors import ScenarioError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
KIND_LABEL = {"clinic": "诊所 clinic", "pharmacy": "药店 pharmacy"}
SOLVERS = ("highs", "cbc", "cpsat")

EXIT_INCONSISTENT = 1
EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN, EXIT_UNVERIFIED, EXIT_INTERRUPTED = 2, 3, 4, 5, 130


def console(stderr: bool = False) -> Console:
    """A rich console that prints text as given (no highlighting, no wrapping of long lines)."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True, log_path=False)


#: ``--allow-outside``: the scenario's files may lie outside its folder (an absolute path,
#: ``../`` or a symlink out of it); without it they are refused, one line naming the key
allow_outside_option = click.option(
    "--allow-outside", is_flag=True, default=False,
    help="Let the scenario (and its beds, nursing or audit YAML) name files outside its "
         "folder: absolute paths, ../ or symlinks out of it. Off: such a path is refused.")

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


def lock_output(ctx: click.Context, out_dir: Path) -> None:
    """Hold the lock on ``out_dir`` until the command ends (:func:`dingdian.output_lock`), taken
    before any work so that a second run on the same folder fails at once: one ``error:`` line
    naming the pid that holds it, exit 2, nothing touched."""
    try:
        ctx.with_resource(dingdian.output_lock(out_dir))
    except dingdian.OutputBusy as exc:
        fail(ctx, exc, EXIT_INPUT)
    except OSError as exc:
        fail(ctx, f"cannot write {out_dir}: {exc.strerror or exc}", EXIT_INPUT)


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Print dingdian's own warnings (a plan folder read without a manifest) as one
    ``warning:`` line each on stderr, every time; other warnings as Python shows them."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, dingdian.UncheckedPlan):
                click.echo("warning: " + " ".join(str(message).split()), err=True)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("always", dingdian.UncheckedPlan)
        yield

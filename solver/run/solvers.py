"""How each solver is called: HiGHS in-process, CBC through PuLP, CP-SAT through OR-tools' model builder.

The same :class:`pulp.LpProblem` (a model's ``lp``) reaches a solver in one of three ways:

* ``highs`` — PuLP's in-process HiGHS interface (``highspy``), the model handed over in
  arrays (:mod:`dingdian.run.highs_model`);
* ``cbc``   — PuLP's ``COIN_CMD`` on the CBC binary installed by ``pulp[cbc]`` (``cbcbox``);
* ``cpsat`` — the problem exported by PuLP as MPS and read by OR-tools' model builder, which hands
  it to CP-SAT (every variable is integer and every coefficient an integer, as CP-SAT needs).

All three are asked for a proven optimum (relative gap 0, absolute gap below 1: the objective
has integer coefficients, so an absolute gap < 1 proves optimality); with a time limit the best
plan found is returned with status ``feasible`` and its gap.

``options`` (a solver's own parameters, see :mod:`dingdian.run.backends`) are passed through
unchanged, after dingdian's, so that they win. CBC reports an unknown option in its log, which
is refused after the run. A stop the options cause (a node, solution or deterministic-time
limit) is read like a time limit: the best plan found, ``feasible``, with its gap.

Their files (CBC's MPS, solution and log; CP-SAT's MPS) go to the run's scratch folder
(:mod:`dingdian.run.scratch`), removed on every way out. Ctrl-C stops each solver and is then
passed on as a KeyboardInterrupt: HiGHS raises it itself; the CBC process is killed and waited
for, and dies with dingdian even when dingdian is killed (:func:`run_child`); CP-SAT's thread is
stopped and always ended first (:func:`_interruptible`).

Each runner returns ``(status, objective, bound, values by variable name, message)``.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import pulp

from dingdian.models.site import SiteModel
from dingdian.result import ERROR, FEASIBLE, INFEASIBLE, NO_SOLUTION, OPTIMAL
from dingdian.run.highs_model import HiGHS
from dingdian.run.scratch import run_folder

#: CP-SAT parameters: linearization_level 2 adds the LP relaxation's cuts that let CP-SAT prove
#: the optimum of covering models quickly (measured: default stays ~1 % from its bound).
#: ``catch_sigint_signal:false`` leaves Ctrl-C to Python (see :func:`_interruptible`).
CPSAT_PARAMETERS: dict[str, object] = {"linearization_level": 2, "num_workers": 1,
                                       "catch_sigint_signal": False}

#: a solver's own parameters by name, passed through (module docstring)
Options = Mapping[str, object]


class BackendError(RuntimeError):
    """A backend is missing or failed; the message is one line for the planner."""


class OptionError(BackendError):
    """A solver option (``--solver-option``) the solver does not take: bad input, one line."""


def sat_text(parameters: Options) -> str:
    """CP-SAT parameters as protobuf text (``linearization_level:2 catch_sigint_signal:false``)."""
    def text(v) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    return " ".join(f"{k}:{text(v)}" for k, v in parameters.items())


@contextmanager
def quiet_stdout():
    """Silence C-level stdout (HiGHS prints its banner even with output off)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# --------------------------------------------------------------------------- HiGHS (highspy)
def run_highs(model: SiteModel, time_limit: float | None, options: dict,
              start: dict[str, float] | None = None):
    cmd = HiGHS(msg=False, gapRel=0.0, gapAbs=0.999, timeLimit=time_limit, start=start,
                **options)
    try:
        with quiet_stdout():
            model.lp.solve(cmd)
    except pulp.PulpSolverError as exc:  # pragma: no cover - depends on the installation
        return ERROR, None, None, None, f"HiGHS failed: {exc}"
    highs = model.lp.solverModel
    model.lp.solverModel = None  # HiGHS's copy of the model is not used again: free it
    info = highs.getInfo()
    model_status = highs.modelStatusToString(highs.getModelStatus())
    highs.clear()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = cmd.values if has_solution else None
    if model_status == "Optimal":
        return OPTIMAL, info.objective_function_value, info.mip_dual_bound, values, model_status
    if model_status == "Infeasible":
        return INFEASIBLE, None, None, None, model_status
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else None
    if has_solution:
        return FEASIBLE, info.objective_function_value, bound, values, model_status
    return NO_SOLUTION, None, bound, None, model_status


# --------------------------------------------------------------------------- CBC (COIN_CMD)
_CBC_LINE = re.compile(r"^(Result|Objective value|Lower bound|Gap)\s*[-:]\s*(.+)$")


#: environment variable naming the CBC executable (default: the one ``pulp[cbc]`` installs)
CBC_PATH_ENV = "DINGDIAN_CBC_PATH"


def cbc_path() -> str | None:
    """The CBC executable: ``$DINGDIAN_CBC_PATH``, else the binary ``pulp[cbc]`` ships
    (``cbcbox``), found from the package and not from ``PATH`` (an installed ``dingdian`` run
    by its full path has no venv ``bin`` on ``PATH``), else None (PuLP searches ``PATH``)."""
    if os.environ.get(CBC_PATH_ENV):
        return os.environ[CBC_PATH_ENV]
    try:
        import cbcbox

        found = cbcbox.cbc_bin_path()
    except Exception:  # noqa: BLE001 - no cbcbox, or no binary for this platform
        return None
    return str(found) if found and os.path.isfile(found) else None


def run_cbc(model: SiteModel, time_limit: float | None, options: dict):
    cmd = _CoinCmd(msg=False, gapRel=0.0, gapAbs=0.999, timeLimit=time_limit, threads=1,
                   path=cbc_path(), options=[f"{k} {v}" for k, v in options.items()])
    if not cmd.available():
        raise BackendError("CBC is not installed: pip install 'pulp[cbc]' (or choose --solver highs)")
    with run_folder() as folder:
        cmd.tmpDir = str(folder)
        fd, log_name = tempfile.mkstemp(dir=folder, prefix="cbc-", suffix=".log")
        os.close(fd)
        log_path = Path(log_name)
        cmd.optionsDict["logPath"] = cmd.logPath = log_name
        try:
            model.lp.solve(cmd)
            failure = None
        except pulp.PulpSolverError as exc:
            failure = f"CBC failed: {exc}"
        finally:
            log = log_path.read_text(errors="replace") if log_path.exists() else ""
            log_path.unlink(missing_ok=True)
    unknown = re.search(r"(?:No match for|Unrecognized parameter -)\s*([^\s,]+)", log)
    if options and unknown:
        raise OptionError(f"CBC does not take the option {unknown.group(1)}: see `cbc -?`")
    if failure:
        return ERROR, None, None, None, failure
    summary = {}
    for line in log.splitlines():
        m = _CBC_LINE.match(line.strip())
        if m:
            summary[m.group(1)] = m.group(2).strip()
    result = summary.get("Result", "")
    status = pulp.LpStatus[model.lp.status]
    sol_status = model.lp.sol_status
    values = {v.name: v.varValue or 0.0 for v in model.lp.variables()}
    objective = pulp.value(model.lp.objective)
    if objective is None:  # an objective without terms (every weight 0): PuLP gives None
        objective = float(model.lp.objective.constant if model.lp.objective else 0.0)
    if status == "Infeasible" or "infeasible" in result.lower():
        return INFEASIBLE, None, None, None, result or status
    if sol_status == pulp.LpSolutionOptimal and "Optimal" in (result or "Optimal"):
        return OPTIMAL, objective, objective, values, result or status
    bound = _printed_lower_bound(summary.get("Lower bound"))
    if sol_status in (pulp.LpSolutionIntegerFeasible, pulp.LpSolutionOptimal):
        return FEASIBLE, objective, bound, values, result or status
    return NO_SOLUTION, None, bound, None, result or status


class _CoinCmd(pulp.COIN_CMD):
    """PuLP's ``COIN_CMD`` with the CBC process in dingdian's hands.

    PuLP writes the MPS file (in the run folder, ``tmpDir``), builds the options and reads the
    solution back, as :meth:`pulp.COIN_CMD.solve_CBC` does; the process is started by
    :func:`run_child`, so that it never outlives dingdian (killed and waited on Ctrl-C or any
    error; on Linux killed by the kernel when dingdian itself is killed). Its files are removed
    after the solve, whatever happens.
    """

    def solve_CBC(self, lp, use_mps=True):
        mps, sol = self.create_tmp_files(lp.name, "mps", "sol")
        try:
            vs, names, rows, _ = lp.writeMPS(mps, rename=1)
            args = [self.path, mps, *(["-max"] if lp.sense == pulp.LpMaximize else [])]
            if self.timeLimit is not None:
                args += ["-sec", str(self.timeLimit)]
            for option in self.options + self.getOptions():
                args += ("-" + option).split()
            args += ["-solve", "-printingOptions", "all", "-solution", sol]
            with open(self.optionsDict["logPath"], "w") as log:
                code = run_child(args, log)
            if code != 0 or not os.path.exists(sol):
                raise pulp.PulpSolverError(f"{self.path} exited with code {code}")
            status, values, dj, pi, slacks, sol_status = self.readsol_MPS(sol, lp, vs, names,
                                                                          rows)
        finally:
            self.delete_tmp_files(mps, sol)
        lp.assignVarsVals(values)
        lp.assignVarsDj(dj)
        lp.assignConsPi(pi)
        lp.assignConsSlack(slacks, activity=True)
        lp.assignStatus(status, sol_status)
        return status


def run_child(args: list[str], log) -> int:
    """Run a solver's executable to its end and return its exit code; it dies with dingdian.

    On Ctrl-C (or any exception while waiting) the child is killed and waited for, further
    Ctrl-C held back meanwhile, then the exception goes on. On Linux the child also asks the
    kernel to kill it when dingdian dies (``PR_SET_PDEATHSIG``), even by SIGKILL.
    """
    proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                            preexec_fn=die_with_parent())
    try:
        return proc.wait()
    except BaseException:
        with held_interrupts():
            proc.kill()
            proc.wait()
        raise


def die_with_parent(parent: int | None = None):
    """A ``preexec_fn`` asking Linux to SIGKILL the child when its parent (``parent``, default
    this process) dies; None elsewhere. (The signal follows the thread that starts the child,
    which waits for it.) A forked worker calls it on itself (:mod:`dingdian.run.forked`)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - an unusual libc
        return None
    parent = os.getpid() if parent is None else parent

    def preexec() -> None:
        prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return preexec


class Interrupted:
    """Ctrl-C noted, not raised (:func:`held_interrupts`). A plain flag, set without a lock: a
    second Ctrl-C landing inside the handler of the first must not wait on a lock the first
    holds (a :class:`threading.Event` would deadlock there)."""

    def __init__(self) -> None:
        self.pressed = False

    def set(self, *_signal) -> None:
        self.pressed = True

    def is_set(self) -> bool:
        return self.pressed


@contextmanager
def held_interrupts():
    """Hold Ctrl-C back: while inside, a SIGINT (a second one too) sets the flag yielded
    (:class:`Interrupted`) instead of raising KeyboardInterrupt, and the caller raises it at a
    safe point. Used where an interrupt must not land: inside OR-tools' C++ (which calls back
    into Python) and while a stopped solver is waited for. Only in the main thread with
    Python's own handler in place; elsewhere nothing changes."""
    pressed = Interrupted()
    own = (threading.current_thread() is threading.main_thread()
           and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    if own:
        signal.signal(signal.SIGINT, pressed.set)
    try:
        yield pressed
    finally:
        if own:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _printed_lower_bound(text: str | None) -> float | None:
    """CBC's printed lower bound, widened by its printing precision so that it stays a bound.

    CBC prints the bound with six significant digits (``-4.16632e+06``); the true bound may lie
    up to half a unit of the last printed digit below it.
    """
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    if value is None or not math.isfinite(value):
        return None
    mantissa = text.strip().lstrip("+-").lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
    return value - 0.5 * 10.0 ** (exponent - decimals)


# --------------------------------------------------------------------------- CP-SAT (OR-tools)
def run_cpsat(model: SiteModel, time_limit: float | None, options: dict):
    with run_folder() as folder, held_interrupts() as pressed:
        fd, mps_path = tempfile.mkstemp(dir=folder, prefix="cpsat-", suffix=".mps")
        os.close(fd)
        try:
            model.lp.writeMPS(mps_path)
            found = _run_cpsat_mps(mps_path, time_limit, model.lp.objective.constant, options,
                                   pressed)
        finally:
            os.unlink(mps_path)
    if pressed.is_set():  # after the solve: the plan is dropped, as on the other backends
        raise KeyboardInterrupt
    return found


def _run_cpsat_mps(mps_path: str, time_limit: float | None, offset: float,
                   options: Options | None = None, pressed: Interrupted | None = None):
    """CP-SAT on a model written as MPS by PuLP;
    ``offset`` is the objective's constant, which MPS does not carry; ``pressed`` is set on
    Ctrl-C (:func:`held_interrupts`)."""
    from ortools.linear_solver.python import model_builder as mb

    mbm = mb.Model()
    if not mbm.import_from_mps_file(mps_path):
        return ERROR, None, None, None, "OR-tools could not read the model (MPS import failed)"
    sat = mb.ModelSolver("sat")
    if not sat.solver_is_supported():  # pragma: no cover - depends on the OR-tools build
        raise BackendError("CP-SAT is not available in this OR-tools build: choose --solver highs")
    sat.set_solver_specific_parameters(sat_text({**CPSAT_PARAMETERS, **(options or {})}))
    if time_limit is not None:
        sat.set_time_limit_in_seconds(time_limit)
    status = _interruptible(sat, mbm, pressed or Interrupted())
    S = mb.SolveStatus
    if status == S.INFEASIBLE:
        return INFEASIBLE, None, None, None, "INFEASIBLE"
    if status not in (S.OPTIMAL, S.FEASIBLE):
        return NO_SOLUTION, None, None, None, status.name
    variables = mbm.get_variables()
    values = dict(zip((v.name for v in variables), sat.values(variables).to_numpy(), strict=True))
    objective = sat.objective_value + offset
    bound = sat.best_objective_bound + offset
    if status == S.OPTIMAL or objective - bound < 1 - 1e-9:
        return OPTIMAL, objective, bound, values, "OPTIMAL"
    return FEASIBLE, objective, bound, values, status.name


def _interruptible(sat, mbm, pressed: Interrupted):
    """Run ``sat.solve(mbm)`` so that Ctrl-C stops it and reaches the caller as a
    KeyboardInterrupt, with the solver's thread always ended first.

    CP-SAT is told not to catch SIGINT (``catch_sigint_signal:false``) and runs in a thread
    (the OR-tools binding releases the GIL) while this thread waits. Ctrl-C sets ``pressed``
    (:func:`held_interrupts`; a KeyboardInterrupt raised by a handler of the caller's does the
    same); the search is then asked to stop every 0.1 s until the thread has ended — a stop
    asked before the search began is not lost — and only then is the interrupt raised. The
    end is read from an event the thread sets, not from ``Thread.join``: on Python ≤ 3.11 a
    join interrupted by KeyboardInterrupt marks a running thread as ended
    (python/cpython#90882), and a thread left inside C++ when Python exits aborts the process
    (``terminate called without an active exception``). Nothing is guessed from the status or
    the wall time.
    """
    if pressed.is_set():
        raise KeyboardInterrupt
    box: dict = {}
    done = threading.Event()

    def run():
        try:
            box["status"] = sat.solve(mbm)
        except BaseException as exc:  # pragma: no cover - re-raised in the caller's thread
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=run, name="cp-sat", daemon=True)
    worker.start()
    while True:
        try:
            if done.wait(0.1):
                break
        except KeyboardInterrupt:
            pressed.set()
        if pressed.is_set():
            sat.stop_search()
    worker.join()  # out of the solver already: only Python's own end of the thread is left
    if pressed.is_set():
        raise KeyboardInterrupt
    if "error" in box:  # pragma: no cover
        raise box["error"]
    return box["status"]

"""Blocks solved side by side in forked workers (solver/run/forked.py): the same plan, the same
stage records and the same failures as one after the other; Ctrl-C and a killed run leave no
worker behind.

The tiny instance is two_counties (tests/model_cases.py, hand-worked there): optimum 156, the
tie broken at tau* = 33 by A2 and B2 leaving in 2025; its twin without an exit in 乙县 has no
plan. It has two blocks, far below forked.MIN_ROWS, so the tests ask for two workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from model_cases import BACKENDS, INFEASIBLE, OPTIMAL, exits, solve_verified, two_counties

from dingdian.models.site import build_site_model
from dingdian.run import backends, forked
from dingdian.run.backends import BackendError, solve, solve_model

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not forked.can_fork(), reason="workers are forked on Linux only")


@linux_only
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_workers_give_the_plan_of_one(backend, tmp_path):
    problem = two_counties()
    # every rule recomputed from the plan written to CSV and read back
    side = solve_verified(problem, backend, tmp_path, workers=2, certify=True)
    serial = solve(problem, backend, workers=1, certify=True)
    assert side.status == serial.status == OPTIMAL
    assert side.objective == serial.objective == 156
    assert exits(side) == exits(serial) == {"A2": 2025, "B2": 2025}
    assert side.designated.equals(serial.designated)
    assert [(s["stage"], s["status"], s["objective"]) for s in side.stages] == \
        [(s["stage"], s["status"], s["objective"]) for s in serial.stages] == \
        [("L1", OPTIMAL, 156), ("L2", OPTIMAL, 33), ("L3", OPTIMAL, 0)]
    assert side.unique is serial.unique is True


@linux_only
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_block_without_a_plan_leaves_no_plan_side_by_side(backend):
    r = solve(two_counties(exit_limit_b=0), backend, workers=2)
    assert r.status == INFEASIBLE and r.designated is None and r.objective is None


@linux_only
def test_a_time_limit_side_by_side_still_proves_the_tiny_optimum():
    """Each block's (L1) gets the time left times two workers times its share of the rows
    (at least its share of MIN_SECONDS): ample here."""
    r = solve_model(build_site_model(two_counties()), "highs", time_limit=30, stages=("L2",),
                    workers=2)
    assert r.status == OPTIMAL and r.objective == 156
    assert [s["objective"] for s in r.stages] == [156, 33]
    assert not any(s["cut_short"] for s in r.stages)


def test_auto_workers():
    big = forked.MIN_ROWS
    assert forked.auto_workers(1, 10 * big) == 1  # one block: nothing to share
    assert forked.auto_workers(12, big - 1) == 1  # tiny: forking costs more than it saves
    expected = min(forked.MAX_WORKERS, forked.default_workers(), 12) if forked.can_fork() else 1
    assert forked.auto_workers(12, big) == expected
    assert forked.auto_workers(3, 10, workers=8) == (3 if forked.can_fork() else 1)
    assert forked.auto_workers(12, 10 * big, workers=1) == 1


def _pid_and_square(n: int):
    return os.getpid(), n * n


def _fail(message: str):
    raise ValueError(message)


@linux_only
def test_side_by_side_keeps_the_order_and_runs_in_workers():
    calls = [lambda n=n: _pid_and_square(n) for n in range(7)]  # closures: nothing pickled in
    results = forked.side_by_side(calls, workers=2)
    assert [square for _pid, square in results] == [n * n for n in range(7)]
    pids = {pid for pid, _square in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_one_worker_runs_the_calls_here_in_order():
    seen = []
    results = forked.side_by_side([lambda n=n: seen.append(n) or n for n in range(3)], 1)
    assert results == [0, 1, 2] and seen == [0, 1, 2]


@linux_only
def test_an_error_in_a_worker_is_raised_here():
    calls = [lambda: 1, lambda: _fail("block 2 failed"), lambda: 3]
    with pytest.raises(ValueError, match="block 2 failed"):
        forked.side_by_side(calls, workers=2)
    assert forked._calls == ()  # nothing kept for the next pool


_SLEEPER = """
import sys, time
sys.path.insert(0, {root!r})
from dingdian.run import forked
print("started", flush=True)
forked.side_by_side([lambda: time.sleep(60)] * 2, workers=2)
"""


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_sleeper() -> tuple[subprocess.Popen, list[int]]:
    """A process whose two forked workers sleep; returned once both workers run."""
    proc = subprocess.Popen([sys.executable, "-c", _SLEEPER.format(root=str(ROOT))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout.readline().strip() == "started"
    for _ in range(100):
        kids = _children(proc.pid)
        if len(kids) == 2:
            return proc, kids
        time.sleep(0.05)
    raise AssertionError("the workers did not start")


@linux_only
def test_ctrl_c_stops_the_workers_and_is_raised_here():
    proc, workers = _start_sleeper()
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the workers get it too
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert err.count("Traceback") == 1  # the parent's; the workers ignore Ctrl-C
    assert not any(_running(pid) for pid in workers)


@linux_only
def test_a_killed_run_leaves_no_worker():
    proc, workers = _start_sleeper()
    proc.kill()
    proc.communicate(timeout=30)
    for _ in range(50):  # the kernel's SIGKILL (PR_SET_PDEATHSIG) needs a moment
        if not any(_running(pid) for pid in workers):
            break
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)


@linux_only
@pytest.mark.parametrize("backend", ["highs", "cbc"])
def test_ctrl_c_during_a_forked_solve_exits_130(backend, tmp_path):
    """Zhangye (12 blocks) solved side by side: Ctrl-C to the process group exits 130 with one
    line, and neither a worker nor a CBC process is left."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "solver", "solve", str(ROOT / "scenarios" / "zhangye"),
         "--out", str(tmp_path / "out"), "--solver", backend, "--workers", "2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"}, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:
        if "solving with" in line:
            break
    tree: list[int] = []
    for _ in range(100):  # the workers, and CBC under them
        tree = _children(proc.pid)
        tree += [g for pid in tree for g in _children(pid)]
        if len(tree) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "error: interrupted (nothing written)"
    time.sleep(0.5)
    assert tree and not any(_running(pid) for pid in tree)
    assert not (tmp_path / "out").exists()


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


@linux_only
def test_a_worker_that_dies_is_an_error_not_a_wait():
    """A solver that crashes its process (a segfault, the out-of-memory killer) must not leave
    the run waiting for an answer that never comes."""
    from concurrent.futures.process import BrokenProcessPool

    with pytest.raises(BrokenProcessPool):
        forked.side_by_side([lambda: time.sleep(0.2), _die, lambda: 3], workers=2)
    with pytest.raises(BackendError, match="^a worker process solving the model's blocks "
                       "stopped .*; --workers 1 solves them in this process$"):
        backends._each([lambda: 1, _die], workers=2)  # what the solve says: one line, exit 4

"""Hardening of a run: Ctrl-C during CP-SAT, solver children and files, one time limit.

* Ctrl-C during a CP-SAT solve, once or twice and to the process group as a terminal sends
  it, at moments around the start of the solver's thread: exit 130, never an abort
  (``terminate called without an active exception``, SIGABRT) nor a traceback.
* CBC runs as a child process and every solver file goes to one run folder under the temp
  folder: after Ctrl-C no ``cbc`` child survives and the temp folder is empty; after SIGKILL of
  dingdian the child dies too (Linux) and the next run removes the folder left behind.
* ``--time-limit`` covers the whole run: a tie-break stage with no time left is recorded as
  cut short (the plan optimal but not the unique one), the planners get the time left (at
  least :data:`~dingdian.run.backends.MIN_SECONDS`), and ``summary.json`` and the terminal
  say what was cut short.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from model_cases import county_quotas, fac, make_problem

from dingdian.cli.main import main
from dingdian.pipeline import solving
from dingdian.result import NO_SOLUTION, OPTIMAL, ExtraResult
from dingdian.run import backends, scratch

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


def _sigint_as_default() -> None:
    """In the child: Ctrl-C's default action. A test run started in the background of a
    script (``pytest &``) inherits SIGINT ignored, and Python then installs no handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path: Path, backend: str, env: dict | None = None) -> subprocess.Popen:
    """``dingdian solve`` on Zhangye in its own process group, once the solver runs; with one
    worker, so that the solver runs in that process (forked workers: tests/test_forked.py)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "solver", "solve", str(ZHANGYE), "--out", str(tmp_path / "out"),
         "--solver", backend, "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "COLUMNS": "200", **(env or {})}, start_new_session=True,
        preexec_fn=_sigint_as_default)
    for line in proc.stdout:
        if "solving with" in line:
            break
    return proc


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        kids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue
        return kids
    try:
        return [c.pid for c in psutil.Process(pid).children()]
    except psutil.NoSuchProcess:
        return []


def _running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cbc_child(proc: subprocess.Popen) -> int:
    """The CBC process of ``proc``, waited for (PuLP writes the MPS file first)."""
    for _ in range(600):
        kids = _children(proc.pid)
        if kids:
            return kids[0]
        time.sleep(0.1)
    raise AssertionError("no CBC process started")


# --------------------------------------------------------------------------- Ctrl-C on CP-SAT
@linux_only
@pytest.mark.parametrize("delay, times", [(0.6, 2), (1.0, 1), (2.0, 2)])
def test_ctrl_c_during_cp_sat_exits_130_without_abort(tmp_path, delay, times):
    """Before the fix about half of such tries aborted (SIGABRT) or printed a traceback."""
    proc = _start(tmp_path, "cpsat")
    time.sleep(delay)  # around the start of CP-SAT's thread, then inside the search
    for _ in range(times):  # as a terminal does: the whole process group
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.01)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "terminate called" not in err and "Traceback" not in err, err
    assert err.strip() == "error: interrupted (nothing written)"


# --------------------------------------------------------------------------- CBC and its files
@linux_only
def test_ctrl_c_kills_cbc_and_leaves_no_file(tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    proc = _start(tmp_path, "cbc", {"TMPDIR": str(temp)})
    cbc = _cbc_child(proc)
    assert [p.name.split("-")[:2] for p in temp.iterdir()] == [["dingdian", "run"]]
    proc.send_signal(signal.SIGINT)  # dingdian alone: CBC does not see this one
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not _running(cbc)
    assert list(temp.iterdir()) == []


@linux_only
def test_sigkill_kills_cbc_and_the_next_run_removes_the_folder(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    proc = _start(tmp_path, "cbc", {"TMPDIR": str(temp)})
    cbc = _cbc_child(proc)
    proc.kill()
    proc.communicate(timeout=60)
    for _ in range(50):  # the kernel's SIGKILL (PR_SET_PDEATHSIG) needs a moment
        if not _running(cbc):
            break
        time.sleep(0.1)
    assert not _running(cbc)
    (left,) = temp.iterdir()
    assert left.name.startswith(f"{scratch.PREFIX}{proc.pid}-")
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with scratch.run_folder() as folder:  # the next run
        assert [p.name for p in temp.iterdir()] == [folder.name]
    assert list(temp.iterdir()) == []


def test_run_folders_nest_and_a_live_one_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with scratch.run_folder() as outer:
        with scratch.run_folder() as inner:
            assert inner == outer and outer.parent == tmp_path
        assert outer.is_dir()
        assert scratch.sweep(tmp_path) == []  # this run is alive
    assert not outer.exists()


# --------------------------------------------------------------------------- one time limit
def _tied():
    """Four plans tie at 78 in stage L1; L2 picks one (tests/test_model_tiebreak.py)."""
    return make_problem([fac("P1", 70), fac("P2", 70), fac("P3", 90)], targets={2026: 2},
                        quotas=county_quotas({2025: (0, 1), 2026: (0, 1)}))


def test_tie_break_with_no_time_left_is_recorded_cut_short(monkeypatch):
    """L1 is made to end after the limit (it sleeps past it): L2 is not run, recorded as cut
    short with 0 s given, and the plan stays L1's optimum, not certified unique."""
    real, seen = backends.run_backend, []

    def slow(model, backend, time_limit=None, options=None):
        seen.append(time_limit)
        found = real(model, backend, time_limit, options)
        time.sleep(1.6)
        return found

    monkeypatch.setattr(backends, "run_backend", slow)
    r = backends.solve(_tied(), "highs", time_limit=1.5)
    assert len(seen) == 1 and seen[0] <= 1.5
    assert r.status == OPTIMAL and r.objective == 78 and r.unique is None
    l1, l2 = r.stages
    assert (l1["stage"], l1["cut_short"]) == ("L1", False)
    assert (l2["stage"], l2["status"], l2["time_limit"], l2["cut_short"]) == \
        ("L2", NO_SOLUTION, 0.0, True)
    assert r.cut_short == ("L2",)


def _fake_sc(tmp_path):
    class Config:
        nursing, beds = "nursing.yaml", "beds.yaml"

    class Sc:
        config, path = Config(), tmp_path / "scenario.yaml"

    return Sc()


@pytest.mark.parametrize("nursing_takes, beds_gets", [(1.5, (2.3, 2.55)), (3.5, (1.0, 1.0))])
def test_planners_get_the_time_left(tmp_path, monkeypatch, nursing_takes, beds_gets):
    """A limit of 4 s for both: nursing gets (about) 4 s and takes ``nursing_takes``; beds get
    what is left, or MIN_SECONDS (1 s) when nothing is."""
    given = {}

    def planner(name, seconds):
        def run(_folder, _file, backend, time_limit, **_kw):
            given[name] = time_limit
            time.sleep(seconds)
            return ExtraResult(name=name, summary={"status": OPTIMAL})
        return run

    monkeypatch.setattr(solving, "plan_nursing", planner("nursing", nursing_takes))
    monkeypatch.setattr(solving, "plan_beds", planner("beds", 0))
    solving.plan_beside(_fake_sc(tmp_path), "highs", time_limit=4.0)
    assert 3.9 <= given["nursing"] <= 4.0
    assert beds_gets[0] <= given["beds"] <= beds_gets[1]
    assert backends.MIN_SECONDS == 1.0


def test_time_limit_covers_the_whole_run_and_says_what_was_cut(tmp_path):
    """Zhangye with 2 s: HiGHS needs about 2 s to prove stage L1 of the largest of its 12
    blocks alone (solver/run/blocks.py), which gets a share of the 2 s by its rows (about
    0.4 s), so L1 is stopped there with a plan (feasible, cut short) and no tie-break stage
    runs; nursing and beds start with (almost) no time left and get 1 s each."""
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(ZHANGYE), "--out", str(out), "--time-limit", "2"])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["time_limit"] == 2.0 and s["time_limit_reached"] is True
    assert s["stages"][0]["time_limit"] <= 2.0 and s["stages"][0]["cut_short"] is True
    assert s["cut_short"][0] == "L1"
    assert s["nursing"]["time_limit"] == s["beds"]["time_limit"] == backends.MIN_SECONDS
    assert s["status"] == "feasible" and s["unique"] is None
    line = next(x for x in r.output.splitlines() if x.startswith("未完成 cut short"))
    assert "L1" in line and "time limit 2s for the whole run reached" in line

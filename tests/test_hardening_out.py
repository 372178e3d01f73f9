"""Hardening of the output folder OUT: its manifest, its lock, a killed run's leftovers, the
report written atomically, and one-line errors where there were tracebacks.

* summary.json's ``manifest`` lists every file the write put in OUT; ``report``, ``compare``,
  ``replan --previous`` and ``audit`` refuse a truncated, edited or missing CSV file with one
  line, exit 2, and read a folder without a manifest (an older dingdian's) with a warning;
* two runs into one OUT: the second stops at once, naming the pid that holds the lock; a real
  solve is run twice at the same time to show it, then nothing is left beside OUT;
* a run killed with SIGKILL leaves ``.OUT.tmp-<pid>-…``; the next run writing OUT removes it
  (and what an older dingdian left), but not what a live run holds;
* ``report`` on a full disk: a write failing with ENOSPC part-way (a low-level write made to
  fail) and a real one (the file-size limit ``RLIMIT_FSIZE``: the kernel refuses the write,
  EFBIG) leave an earlier report as it was, nothing half-written, one line, exit 2;
* ``report`` on a summary.json that is not JSON, ``solve --scheduler notanaddress`` and
  ``compare`` of plans of different cities: one line, exit 2 (the last crashed before, as did
  ``compare`` of a plan and its re-plan, which is of one city and is compared).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from tiny_city import write_tiny_city

import dingdian
from dingdian.cli.main import main
from dingdian.write import lock as L
from dingdian.write import manifest as M

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example"
HEZE = ROOT / "scenarios" / "heze"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_error(r, code: int = 2) -> str:
    """The single ``error:`` line of a run that exited with ``code``."""
    assert r.exit_code == code, (r.exit_code, r.output)
    assert "Traceback" not in r.output
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


def beside(out: Path) -> list[str]:
    """What lies beside OUT, hidden names included (leftovers, lock files)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}"))


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("solved") / "example"
    r = cli("solve", EXAMPLE, "--out", out)
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture
def plan(solved, tmp_path) -> Path:
    out = tmp_path / "plan"
    shutil.copytree(solved, out)
    return out


@pytest.fixture(scope="module")
def reported(solved, tmp_path_factory) -> Path:
    """The example plan with a report (about 13 s)."""
    out = tmp_path_factory.mktemp("reported") / "example"
    shutil.copytree(solved, out)
    r = cli("report", out)
    assert r.exit_code == 0, r.output
    return out


# --------------------------------------------------------------------------- the manifest
def test_the_manifest_lists_every_file_as_written(solved):
    summary = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    assert list(summary)[-1] == "manifest" and summary["manifest"]["version"] == 1
    files = summary["manifest"]["files"]
    on_disk = {p.relative_to(solved).as_posix() for p in solved.rglob("*") if p.is_file()}
    assert set(files) == on_disk - {"summary.json"}
    assert {"plan.csv", "cells.csv", "counts.csv", "decisions.csv", "plan.xlsx",
            "plan.gpkg"} <= set(files) and any(f.startswith("tables/表7") for f in files)
    for rel, entry in files.items():
        data = (solved / rel).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
        if rel.endswith(".csv"):
            assert entry["rows"] == len(pd.read_csv(solved / rel, dtype=str)), rel
        else:
            assert "rows" not in entry
    assert not beside(solved)  # no lock file, no temporary folder left


def _truncate(path: Path, keep: float = 0.5) -> tuple[int, int]:
    """Cut ``path`` to a share of its lines, as a copy interrupted part-way; (before, after) rows."""
    lines = path.read_bytes().splitlines(keepends=True)
    before = len(lines) - 1
    path.write_bytes(b"".join(lines[: max(2, int(len(lines) * keep))]))
    return before, M.count_rows(path.read_bytes())


def test_a_truncated_plan_csv_is_refused_on_every_read(plan, solved, tmp_path):
    before, after = _truncate(plan / "plan.csv")
    want = (f"error: {plan / 'plan.csv'}: truncated since dingdian wrote it (expected {before} "
            f"rows, found {after})")
    assert one_error(cli("compare", solved, plan)) == want
    assert one_error(cli("report", plan)) == want
    assert not (plan / "maps").exists() and not (plan / "report.html").exists()
    assert one_error(cli("replan", EXAMPLE, "--actual", solved / "plan.csv", "--from", "2026",
                         "--previous", plan, "--out", tmp_path / "re")) == want
    assert not (tmp_path / "re").exists()
    assert one_error(cli("audit", plan)) == want
    with pytest.raises(dingdian.NotAPlan, match="expected"):
        dingdian.compare([solved, plan])


def test_an_edited_or_missing_file_is_refused(plan, solved):
    counts = plan / "counts.csv"
    data = counts.read_bytes()
    assert data.endswith(b"0\n")
    counts.write_bytes(data[:-2] + b"1\n")  # same rows, the last figure changed
    assert one_error(cli("compare", solved, plan)) == (
        f"error: {counts}: edited since dingdian wrote it (sha256 differs from summary.json's "
        "manifest)")
    shutil.copy(solved / "counts.csv", counts)
    table = next((plan / "tables").glob("表7*.csv"))
    table.unlink()
    assert one_error(cli("report", plan)) == (
        f"error: {table}: missing (summary.json's manifest lists it)")
    shutil.copy(solved / "tables" / table.name, table)
    (plan / "plan.xlsx").write_bytes(b"re-saved by a spreadsheet")  # listed, not checked
    assert cli("compare", solved, plan).exit_code == 0


def test_a_folder_without_a_manifest_is_read_with_a_warning(plan, solved):
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    del summary["manifest"]
    (plan / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    r = cli("compare", solved, plan)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [
        f"warning: {plan}: summary.json has no manifest (written by an older dingdian), so its "
        "files are read unchecked"]
    with pytest.warns(dingdian.UncheckedPlan):
        dingdian.compare([solved, plan])


# --------------------------------------------------------------------------- report
def test_report_on_a_summary_that_is_not_json(plan):
    (plan / "summary.json").write_text('{"status": "optimal", ', encoding="utf-8")
    line = one_error(cli("report", plan))
    assert line.startswith(f"error: {plan / 'summary.json'}: not valid JSON (")
    assert not (plan / "maps").exists()


def test_report_replaces_its_files_together_and_keeps_the_manifest(reported, solved):
    assert {"report.xlsx", "report.html", "maps"} <= {p.name for p in reported.iterdir()}
    assert not [p for p in reported.iterdir() if p.name.startswith(".")]
    assert not beside(reported)
    # the report's files are not in the manifest and do not break it
    assert cli("compare", solved, reported).exit_code == 0
    assert digest(solved).items() <= digest(reported).items()


def _earlier(reported: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "out"
    shutil.copytree(reported, out)
    (out / "maps" / "note.txt").write_text("the earlier maps/", encoding="utf-8")
    return out, digest(out)


def test_report_on_a_full_disk_leaves_the_earlier_report(reported, tmp_path, monkeypatch):
    """The 4th file written by the maps fails with ENOSPC after a partial write."""
    from dingdian.write import map_frame

    out, before = _earlier(reported, tmp_path)
    real, calls = map_frame.atomic_file, []

    def full_disk(path, write):
        calls.append(path)
        if len(calls) < 4:
            return real(path, write)

        def partial(tmp):
            tmp.write_bytes(b"\x89PNG half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
        return real(path, partial)

    monkeypatch.setattr(map_frame, "atomic_file", full_disk)
    line = one_error(cli("report", out))
    assert line == (f"error: cannot write the report into {out}: No space left on device (an "
                    "earlier report is left as it was)")
    assert len(calls) == 4 and ".report.tmp-" in str(calls[0])
    assert digest(out) == before  # earlier report and maps untouched, nothing half-written
    assert not [p for p in out.iterdir() if p.name.startswith(".")] and not beside(out)


def test_report_refused_by_the_kernel_leaves_the_earlier_report(reported, tmp_path):
    """A real failed write, no mock: the file-size limit makes the kernel refuse the first map
    (EFBIG, "File too large"), as a full disk refuses it (ENOSPC)."""
    out, before = _earlier(reported, tmp_path)
    limit = 200_000  # bytes: a map PNG is larger, the lock file and folders are not

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write, not a killed process

    run = subprocess.run([sys.executable, "-m", "dingdian", "report", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, preexec_fn=small_files)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines() == [
        f"error: cannot write the report into {out}: File too large (an earlier report is "
        "left as it was)"]
    assert digest(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")] and not beside(out)


# --------------------------------------------------------------------------- one-line errors
def test_a_scheduler_that_is_no_address_is_said_before_anything(tmp_path):
    out = tmp_path / "out"
    line = one_error(cli("solve", EXAMPLE, "--out", out, "--decompose", "--scheduler",
                         "notanaddress"))
    assert line.startswith("error: 'notanaddress' is not a Dask scheduler address")
    # before the scenario is read: a missing scenario is not what it says
    line = one_error(cli("solve", tmp_path / "nowhere", "--out", out, "--decompose",
                         "--scheduler", "notanaddress"))
    assert "notanaddress" in line
    line = one_error(cli("sweep", EXAMPLE, "--out", tmp_path / "sweep", "--set", "radius=800",
                         "--scheduler", "tcp://host"))
    assert "'tcp://host' is not a Dask scheduler address" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_compare_refuses_plans_of_different_cities(solved, tmp_path):
    city = write_tiny_city(tmp_path / "tiny")
    other = tmp_path / "other"
    assert cli("solve", city, "--out", other).exit_code == 0
    assert one_error(cli("compare", solved, other)) == (
        f"error: {solved} (example) and {other} (tiny-city) have no county in common: plans of "
        "different cities are not compared")


def test_compare_a_plan_with_its_replan(solved, tmp_path):
    """One city, but the re-plan starts a year later: rows of one run only (Δ missing)."""
    re = tmp_path / "re"
    r = cli("replan", EXAMPLE, "--actual", solved / "plan.csv", "--from", "2026", "--previous",
            solved, "--out", re)
    assert r.exit_code == 0, r.output
    files = json.loads((re / "summary.json").read_text(encoding="utf-8"))["manifest"]["files"]
    assert {"replan/changes.csv", "replan/history.csv"} <= set(files)
    r = cli("compare", solved, re, "--streets")
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    assert "facilities that differ" in r.output


# --------------------------------------------------------------------------- the lock
def _holding(out: Path) -> subprocess.Popen:
    """Another process holding the lock on ``out`` until it is killed."""
    code = ("import sys, time; from dingdian.write.lock import output_lock\n"
            f"with output_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_busy_out_is_refused_at_once_by_every_writer(plan, tmp_path):
    proc = _holding(plan)
    try:
        before = digest(plan)
        busy = (f"error: {plan} is busy: another dingdian run (pid {proc.pid}) is writing it; "
                "try again when it has finished")
        assert one_error(cli("solve", EXAMPLE, "--out", plan)) == busy
        assert one_error(cli("report", plan)) == busy
        assert one_error(cli("replan", EXAMPLE, "--actual", plan / "plan.csv", "--from", "2026",
                             "--out", plan)) == busy
        with pytest.raises(dingdian.OutputBusy):
            with dingdian.output_lock(plan):
                pass
        assert digest(plan) == before
    finally:
        proc.kill()
        proc.wait()
    sweep = tmp_path / "sweep"
    proc = _holding(sweep)
    try:
        line = one_error(cli("sweep", EXAMPLE, "--out", sweep, "--set", "radius=800"))
        assert line.startswith(f"error: {sweep} is busy") and not sweep.exists()
    finally:
        proc.kill()
        proc.wait()
    assert beside(sweep) == [".sweep.lock"]  # killed: its file stays, its lock is gone
    assert cli("solve", EXAMPLE, "--out", sweep).exit_code == 0  # and the next run takes it
    assert beside(sweep) == []


def test_the_lock_is_reentrant_and_leaves_nothing(tmp_path):
    out = tmp_path / "a" / "b" / "out"
    with dingdian.output_lock(out) as held:
        assert held.path == out.parent / ".out.lock" and held.path.read_text().strip() == \
            str(os.getpid())
        with dingdian.output_lock(out):  # the writer inside the command's lock
            pass
        assert held.path.exists()
    assert not (tmp_path / "a").exists()  # the folders it made for the lock file, nothing in
    with dingdian.output_lock(out):
        out.mkdir()
    assert out.is_dir() and beside(out) == []


def test_two_solves_into_one_out(tmp_path):
    """A real solve (Heze, about 13 s) and a second into the same OUT while it runs."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dingdian", "solve", str(HEZE), "--out", str(out)]
    first = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    try:
        lock = L.lock_path(out)
        deadline = time.monotonic() + 120
        while not (lock.exists() and lock.read_text().strip()) and first.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        t0 = time.monotonic()
        second = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
        seconds = time.monotonic() - t0
        assert first.poll() is None, "the first solve ended before the second started"
    finally:
        _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.returncode == 2, second.stderr
    assert second.stderr.strip().splitlines() == [
        f"error: {out} is busy: another dingdian run (pid {first.pid}) is writing it; try "
        "again when it has finished"]
    assert seconds < 30  # it did not solve first
    assert beside(out) == []
    r = cli("compare", out, out)  # whole: every file as its manifest says
    assert r.exit_code == 0, r.output


# --------------------------------------------------------------------------- leftovers
def test_the_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path):
    out = tmp_path / "out"
    code = ("import os, signal; from dingdian.write.outputs import atomic_directory\n"
            f"with atomic_directory({str(out)!r}) as tmp:\n"
            "    (tmp / 'plan.csv').write_text('half')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)")
    killed = subprocess.Popen([sys.executable, "-c", code])
    assert killed.wait(timeout=120) == -signal.SIGKILL
    left = beside(out)
    assert left[0] == ".out.lock" and left[1].startswith(f".out.tmp-{killed.pid}-")
    (tmp_path / ".out.old-abcd1234").mkdir()  # an older dingdian's, no pid
    (tmp_path / f".out.old-{killed.pid}-0badf00d").mkdir()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        live = tmp_path / f".out.tmp-{alive.pid}-xyz_1234"
        live.mkdir()
        assert L.remove_leftovers(tmp_path, "other") == []
        r = cli("solve", EXAMPLE, "--out", out)
        assert r.exit_code == 0, r.output
        assert beside(out) == [live.name]  # a run still alive keeps its folder
    finally:
        alive.kill()
        alive.wait()
    assert L.remove_leftovers(tmp_path, "out") == [live]
    assert beside(out) == [] and (out / "summary.json").is_file()


def test_a_killed_report_leaves_nothing_the_next_one_keeps(tmp_path):
    """``report`` builds in ``OUT/.report.tmp-<pid>-…`` (:func:`atomic_entries`): a killed
    report's folder is removed by the next, which replaces ``maps/`` whole."""
    from dingdian.write.outputs import atomic_entries

    out = tmp_path / "out"
    (out / "maps").mkdir(parents=True)
    (out / "maps" / "old.png").write_bytes(b"old")
    (out / "plan.csv").write_text("facility_id\n", encoding="utf-8")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / f".report.tmp-{dead.pid}-k1ll3d_x").mkdir()
    with atomic_entries(out, ("maps", "report.html"), "report") as tmp:
        assert tmp.parent == out and tmp.name.startswith(f".report.tmp-{os.getpid()}-")
        (tmp / "maps").mkdir()
        (tmp / "maps" / "new.png").write_bytes(b"new")
        (tmp / "report.html").write_text("<p>", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["maps", "plan.csv", "report.html"]
    assert [p.name for p in (out / "maps").iterdir()] == ["new.png"] and beside(out) == []

"""The live count of a sweep's runs (issue 16): ``run_all``'s ``on_done``, ``dingdian.sweep``'s
``progress`` and the lines ``dingdian sweep`` prints on stderr when it is not a terminal.

The sweeps use 示例市 (:mod:`tiny_city`): a run solves in well under a second. Its exit limit
scaled by 0 makes the 2028 target unreachable (infeasible), by 1 or 2 it is met (optimal).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tiny_city import run, write_tiny_city

from dingdian.cli.sweep import RunCounter
from dingdian.pipeline.sweep import sweep
from dingdian.run.engine import run_all

#: sweep.csv's columns that are clock readings, the only ones two sweeps may differ in
CLOCK = ["build_seconds", "solve_seconds", "seconds"]
RUNS = [{"name": "x1", "exit_scale.pharmacy": 1}, {"name": "x0", "exit_scale.pharmacy": 0},
        {"name": "x2", "exit_scale.pharmacy": 2}]
STATUS = {"x1": "optimal", "x0": "infeasible", "x2": "optimal"}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    return write_tiny_city(tmp_path_factory.mktemp("tiny") / "city")


def _nap(seconds: float) -> float:
    """A task that takes ``seconds`` and returns them (module level: picklable)."""
    time.sleep(seconds)
    return seconds


# --------------------------------------------------------------------------- run_all
def test_on_done_in_this_process_follows_the_items():
    seen = []
    assert run_all(abs, [-3, 1, -2], workers=1, on_done=lambda i, r: seen.append((i, r))) \
        == [3, 1, 2]
    assert seen == [(0, 3), (1, 1), (2, 2)]


def test_on_done_on_the_pool_comes_as_tasks_finish_results_in_item_order():
    seen = []
    naps = [3.0, 0.0, 0.1]  # two workers: the long first task finishes last
    assert run_all(_nap, naps, workers=2, on_done=lambda i, r: seen.append((i, r))) == naps
    assert sorted(seen) == [(0, 3.0), (1, 0.0), (2, 0.1)]
    assert seen[-1] == (0, 3.0), seen


def test_on_done_on_dask_comes_as_tasks_finish():
    pytest.importorskip("dask.distributed")
    seen = []
    naps = [3.0, 0.0, 0.1]
    assert run_all(_nap, naps, scheduler="local", workers=2,
                   on_done=lambda i, r: seen.append((i, r))) == naps
    assert sorted(seen) == [(0, 3.0), (1, 0.0), (2, 0.1)]
    assert seen[-1] == (0, 3.0), seen


def test_an_error_in_on_done_stops_the_pool():
    def boom(i, r):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_all(_nap, [0.0, 0.0, 0.0], workers=2, on_done=boom)


# --------------------------------------------------------------------------- dingdian.sweep
def test_progress_counts_every_run_and_leaves_sweep_csv_alone(city, tmp_path):
    calls = []
    quiet = sweep(city, RUNS, tmp_path / "quiet", workers=2, unique=False)
    told = sweep(city, RUNS, tmp_path / "told", workers=2, unique=False,
                 progress=lambda done, total, row: calls.append((done, total, row)))
    assert calls[0] == (0, 3, None)
    assert [(d, t) for d, t, _ in calls[1:]] == [(1, 3), (2, 3), (3, 3)]
    rows = {row["run"]: row for _, _, row in calls[1:]}
    assert {k: r["status"] for k, r in rows.items()} == STATUS
    # sweep.csv: the runs in the order given, the rows progress was told; the same file as
    # without progress, but for the clocks
    assert told["run"].tolist() == ["x1", "x0", "x2"]
    keys = ["run", "out", "status", "objective", "exited_pharmacy", "seconds"]
    assert told[keys].fillna(-1).values.tolist() == \
        [[rows[n][k] if rows[n][k] is not None else -1 for k in keys] for n in ["x1", "x0", "x2"]]
    pd.testing.assert_frame_equal(told.drop(columns=CLOCK), quiet.drop(columns=CLOCK))

    def text(folder: str) -> list[str]:
        frame = pd.read_csv(tmp_path / folder / "sweep.csv", dtype=str, keep_default_na=False)
        return frame.drop(columns=CLOCK).to_csv(index=False).splitlines()

    assert text("told") == text("quiet")
    assert (tmp_path / "told" / "sweep.csv").read_bytes().splitlines()[0] == \
        (tmp_path / "quiet" / "sweep.csv").read_bytes().splitlines()[0]
    assert (tmp_path / "told" / "sweep_counts.csv").read_bytes() == \
        (tmp_path / "quiet" / "sweep_counts.csv").read_bytes()


# --------------------------------------------------------------------------- dingdian sweep
LINE = re.compile(r"^sweep: (\d+)/(\d+) done: (\S+) (\w+) (\d+\.\d) s$")


@pytest.mark.parametrize("workers", [1, 2])
def test_cli_prints_one_line_per_run_done_when_not_a_terminal(city, tmp_path, workers):
    r = run("sweep", city, "--out", tmp_path / "out", "--set", "exit_scale.pharmacy=1,0,2",
            "--workers", workers, "--any-optimum", "--no-plans")
    assert r.exit_code == 0, r.output
    lines = [line for line in r.stderr.splitlines() if line.startswith("sweep: ")]
    found = [LINE.match(line) for line in lines]
    assert all(found), lines
    assert [(m[1], m[2]) for m in found] == [("1", "3"), ("2", "3"), ("3", "3")]
    names = ["001_exit_scale.pharmacy=1", "002_exit_scale.pharmacy=0",
             "003_exit_scale.pharmacy=2"]
    assert sorted(m[3] for m in found) == names  # in the order they finish
    assert {m[3]: m[4] for m in found} == dict(zip(names, ["optimal", "infeasible", "optimal"],
                                                   strict=True))
    assert "sweep:" not in r.stdout  # the count is on stderr, the table on stdout
    assert pd.read_csv(tmp_path / "out" / "sweep.csv")["run"].tolist() == names


def test_the_live_line_counts_the_runs():
    counter = RunCounter(live=True)
    with counter:
        counter(0, 2, None)
        counter(1, 2, {"run": "gz_x0.8", "status": "optimal", "seconds": 12.34})
        task = counter.bar.tasks[0]
        assert (task.completed, task.total) == (1, 2)
        assert task.description == "已完成 done 1/2"
        assert task.fields["last"] == "gz_x0.8 optimal 12.3 s"


def test_a_list_setting_is_one_cell_of_sweep_csv(city, tmp_path):
    """A sweep file may set a list (``grid.rural_pharmacy_exempt: [甲县]``): sweep.csv shows it
    as its YAML text (it was a TypeError when sweep.csv was written, after every run)."""
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({"scenario": str(city), "runs": [
        {"name": "exempt", "set": {"grid.rural_pharmacy_exempt": ["甲县"]}},
        {"name": "none", "set": {"grid.rural_pharmacy_exempt": []}}]}, allow_unicode=True),
        encoding="utf-8")
    r = run("sweep", spec, "--out", tmp_path / "out", "--workers", 1, "--no-plans")
    assert r.exit_code == 0, r.output
    frame = pd.read_csv(tmp_path / "out" / "sweep.csv", keep_default_na=False)
    assert frame["grid.rural_pharmacy_exempt"].tolist() == ["[甲县]", "[]"]
    assert [line.split(": ", 2)[1] for line in r.stderr.splitlines()] == ["1/2 done", "2/2 done"]

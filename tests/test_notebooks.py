"""The notebooks under ``notebooks/`` run end to end and are committed without outputs.

Each notebook is executed once (module fixture) with nbclient on the ``python3`` kernel that
ipykernel ships (no ``ipykernel install`` step needed), in a temporary working directory and
with ``TMPDIR`` pointing there, so the files the notebooks write are cleaned up by pytest.
Together the two take about a minute on 2 cores (7 + 2 site-model solves with HiGHS, the 7 of
the sensitivity sweep on a process pool of 2 workers without the tie-break stage, plus the
explanations of the infeasible runs).

Besides the figures and explanations, the tests check what a planner sees: the charts are
labelled in Chinese with the packaged CJK font (no Latin letters, so no romanised county names,
and no glyph missing from the font), every run of the sensitivity sweep has its place on the
per-run charts, infeasible ones marked 无可行解 with their reason and listed in a table, and the
walk-through shows pictures of the solved plan. The notebooks' last cells assert the same on the
figure objects and print the lines read here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import ipykernel  # noqa: F401 - the python3 kernel the notebooks run on
import matplotlib  # noqa: F401 - the notebooks plot
import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("sensitivity", "walkthrough")
CELL_TIMEOUT = 300  # seconds per cell


def _execute(name: str, workdir: Path):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(workdir))  # the kernel inherits it: tempfile writes here
        mp.setenv("DINGDIAN_SCENARIOS", str(NOTEBOOKS.parent / "scenarios"))
        client = nbclient.NotebookClient(
            nb, timeout=CELL_TIMEOUT, kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict:
    out = {}
    for name in NAMES:
        workdir = tmp_path_factory.mktemp(f"nb_{name}")
        out[name] = _execute(name, workdir)
    return out


def _text(nb) -> str:
    """Every stream and text/plain output of the executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            assert o.output_type != "error", f"cell failed: {o.get('ename')}: {o.get('evalue')}"
            if o.output_type == "stream":
                parts.append(o.text)
            elif "data" in o:
                parts.append(o["data"].get("text/plain", ""))
    return "\n".join(parts)


def _images(nb) -> int:
    """How many PNG pictures the executed notebook shows."""
    return sum("image/png" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _line(text: str, prefix: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(prefix)).removeprefix(prefix)


#: romanised Zhangye place names (and the English kinds) that must not label a chart
ROMANISED = ("Zhangye", "Ganzhou", "GZ", "Linze", "Gaotai", "Shandan", "Minle", "Sunan",
             "clinic", "pharmacy")


def _check_chart_labels(nb) -> list[str]:
    """The notebook's chart labels (its 'chart labels:' line): Chinese, or numbers; no glyph
    missing from the font (matplotlib warns on stderr)."""
    labels = _line(_text(nb), "chart labels: ").split(" | ")
    assert len(labels) > 10
    for label in labels:
        number = re.fullmatch(r"[\d\s.,%+\-−×]+", label)
        assert number or re.search(r"[\u4e00-\u9fff]", label), label
        assert not re.search(r"[A-Za-z]", label), label
        assert not any(name.lower() in label.lower() for name in ROMANISED), label
    stderr = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.get("name") == "stderr")
    assert "missing from" not in stderr and "findfont" not in stderr, stderr
    return labels


# --------------------------------------------------------------------------- committed files
@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    raw = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    assert raw["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert code
    for cell in code:
        assert cell["outputs"] == [], "strip outputs before committing"
        assert cell["execution_count"] is None, "strip execution counts before committing"
    nbformat.validate(nbformat.reads(json.dumps(raw), as_version=4))


@pytest.mark.parametrize("name", NAMES)
def test_public_api_only(name):
    """The notebooks use the library through ``import dingdian`` alone: no submodule import, no
    private name."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    imports = [line.strip() for line in source.splitlines()
               if line.lstrip().startswith(("import ", "from "))]
    assert "import dingdian" in imports
    for line in imports:
        assert not line.startswith(("from dingdian", "import dingdian.")), line
        assert " _" not in line and "._" not in line, line
    assert "dingdian._" not in source and ")._" not in source


# --------------------------------------------------------------------------- executed
RUNS = {  # the sensitivity sweep: run → status, in the sweep's order
    "基准": "optimal", "半径800米": "optimal", "半径1300米": "optimal",
    "甘州区药店退出0.8倍": "infeasible", "甘州区药店退出1.2倍": "optimal",
    "全市退出0.8倍": "infeasible", "全市退出1.2倍": "optimal",
}
INFEASIBLE = [run for run, status in RUNS.items() if status == "infeasible"]


def test_sensitivity_runs(executed):
    nb = executed["sensitivity"]
    text = _text(nb)
    runs = _line(text, "runs: ")
    status = dict(item.split("=") for item in runs.split(", "))
    assert list(status.items()) == list(RUNS.items())
    # the infeasible runs are explained in the plan's words (表7: 20 a year allow at most 80)
    assert "甘州区 定点零售药店 (pharmacies): the 2028 target 231 needs 87 exits" in text
    assert "allow at most 80 — 7 short" in text
    # … and in a few Chinese words, in the table of the runs without a plan
    assert "甘州区定点零售药店：2028年目标231家，至少需退出87家，年度退出上限（表7）至多80家，差7家" in text
    reasons = next(o["data"]["text/plain"] for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if "规划说明（原文）" in o.get("data", {}).get(
                       "text/plain", ""))
    assert all(run in reasons for run in INFEASIBLE)
    # the tidy tables: one row per run, and per county × kind flows, in Chinese
    for county in ("甘州区", "临泽县", "高台县", "山丹县", "民乐县", "肃南县"):
        assert county in text
    assert "2030年人口覆盖率·药店（%）" in text
    assert "2030年人口覆盖率·诊所（%）" in text


def test_sensitivity_chart_shows_every_run(executed):
    """Both per-run charts have a bar or marker for each of the 7 runs; the 2 infeasible runs
    are marked 无可行解 with the reason (a hatched bar, an ✕ at the axis), and a second chart
    shows the exits against the limits."""
    nb = executed["sensitivity"]
    text = _text(nb)
    assert _line(text, "chart runs: ") == (
        f"{len(RUNS)} of {len(RUNS)}; marked 无可行解: {', '.join(INFEASIBLE)}")
    labels = _check_chart_labels(nb)
    for run in RUNS:
        assert any(label.replace(" ", "") == run for label in labels), run  # its tick label
    assert "无可行解" in labels  # the legend entry
    assert "无可行解 甘州区药店 2028年差7家" in labels  # the mark with its reason (explanation)
    assert any(label.startswith("差7家") for label in labels)
    assert any("无可行解" in label and "0.8倍" in label for label in labels)
    assert _images(nb) == 2


def test_walkthrough_runs(executed):
    nb = executed["walkthrough"]
    text = _text(nb)
    assert "status optimal" in text
    assert "violations: none" in text
    assert "published targets reached (表2/表3): True" in text
    assert "status: infeasible" in text
    assert "allow at most 80 — 7 short" in text
    assert "summary.json" in text
    assert "tables/表7_定点零售药店每年配置增减数量.csv" in text
    # the tables print Chinese headings and words
    for heading in ("县区", "类别", "2028年目标", "申请定点", "村卫生室", "可填补盲区", "人口覆盖率（%）"):
        assert heading in text, heading


def test_walkthrough_pictures(executed):
    """The walk-through shows the plan as pictures: the designated counts per county 2024→2030
    and a map of what becomes of every facility, both labelled in Chinese."""
    nb = executed["walkthrough"]
    assert _images(nb) == 2
    labels = _check_chart_labels(nb)
    for county in ("甘州区", "临泽县", "高台县", "山丹县", "民乐县", "肃南县"):
        assert county in labels  # on the map and in the legend, as the data spell them
    assert "张掖市定点医药机构规划地图（2024年→2030年）" in labels
    assert {"退出（206家）", "准入（75家）"} <= set(labels)  # the pharmacies' fates, 2024→2030
    points = dict(item.split(" ") for item in _line(_text(nb), "map points: ").split(", "))
    assert points == {"保留": "1318", "退出": "363", "准入": "112"}

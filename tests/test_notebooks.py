"""The notebooks under ``notebooks/`` run end to end and are committed without outputs.

Each notebook is executed once (module fixture) with nbclient on the ``python3`` kernel that
ipykernel ships (no ``ipykernel install`` step needed), in a temporary working directory and
with ``TMPDIR`` pointing there, so the files the notebooks write are cleaned up by pytest.
Together the two take about a minute on 2 cores (7 + 2 site-model solves with HiGHS, the 7 of
the sensitivity sweep on a process pool of 2 workers, plus the
explanations of the infeasible runs).
"""

from __future__ import annotations

import json
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


def _has_image(nb) -> bool:
    return any("image/png" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


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
def test_sensitivity_runs(executed):
    nb = executed["sensitivity"]
    text = _text(nb)
    runs = next(line for line in text.splitlines() if line.startswith("runs:"))
    status = dict(item.split("=") for item in runs.removeprefix("runs:").strip().split(", "))
    assert status == {
        "base": "optimal", "r800": "optimal", "r1300": "optimal",
        "gz_pharm_x0.8": "infeasible", "gz_pharm_x1.2": "optimal",
        "all_x0.8": "infeasible", "all_x1.2": "optimal",
    }
    # the infeasible runs are explained in the plan's words (表7: 20 a year allow at most 80)
    assert "甘州区 定点零售药店 (pharmacies): the 2028 target 231 needs 87 exits" in text
    assert "allow at most 80 — 7 short" in text
    # the tidy tables: one row per run, and per county × kind flows
    for county in ("甘州区", "临泽县", "高台县", "山丹县", "民乐县", "肃南县"):
        assert county in text
    assert "coverage_2030_pharmacy" in text
    assert _has_image(nb)


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

"""Inputs that used to pass silently or be misread (issue 15, items 3 and 9): each is refused
with one line, exit 2, and nothing is written.

CBC without the venv on PATH is in tests/test_solver_options.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dingdian.cli.main import main
from dingdian.errors import ScenarioError
from dingdian.scenario.files import safe_load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example"


def test_safe_load_refuses_a_key_given_twice():
    assert safe_load("a: 1\nb: {c: 2}\n") == {"a": 1, "b": {"c": 2}}
    with pytest.raises(yaml.YAMLError, match=r"duplicate key 'a' \(first on line 1\)"):
        safe_load("a: 1\nb: 2\na: 3\n")
    with pytest.raises(yaml.YAMLError, match="duplicate key 'c'"):
        safe_load("b:\n  c: 1\n  c: 2\n")
    with pytest.raises(yaml.YAMLError):
        safe_load("!!python/object/apply:os.system ['true']\n")  # still safe


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "city"
    shutil.copytree(EXAMPLE, folder)
    return folder


def test_a_duplicate_key_in_scenario_yaml_is_one_line_exit_2(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "scenario.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "base_year: 2023\n", encoding="utf-8")  # base_year given twice
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(path), "--out", str(out)])
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert any("scenario.yaml" in x and "duplicate key 'base_year'" in x for x in lines), r.output
    assert "Traceback" not in r.output and not out.exists()


def test_a_duplicate_key_in_the_beds_yaml_is_refused(tmp_path):
    from dingdian.scenario.beds import read_beds_config

    src = ROOT / "scenarios" / "heze" / "beds" / "beds.yaml"
    path = tmp_path / "beds.yaml"
    path.write_text(src.read_text(encoding="utf-8") + "\nkind: heze\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="duplicate key 'kind'"):
        read_beds_config(path)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_a_time_limit_must_be_a_finite_positive_number(value, tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(EXAMPLE / "scenario.yaml"), "--out", str(out),
                                  "--time-limit", value])
    assert r.exit_code == 2 and "--time-limit" in r.output, r.output
    assert not out.exists()


def test_a_broken_beds_file_is_refused_before_the_site_model_is_solved(tmp_path):
    """The beds and nursing planners run after the site model (about 20 s on Zhangye): their
    files are read first, so a broken one is said at once and nothing is solved."""
    folder = tmp_path / "zhangye"
    shutil.copytree(ROOT / "scenarios" / "zhangye", folder,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    beds = folder / "beds" / "beds.yaml"
    beds.write_text(beds.read_text(encoding="utf-8") + "\nbroken: [unclosed\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(folder), "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert "beds.yaml" in r.stderr and "solving with" not in r.stdout, r.output
    assert not out.exists()

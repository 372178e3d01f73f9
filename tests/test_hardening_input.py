"""Inputs that used to escape the scenario folder, mislead or overwrite (issue 15, items 7, 8
and the rest of 9): each is refused with one ``error:`` line naming the file and the key or
field, exit 2, no traceback, nothing written.

* paths (8): ``files:``, beds and nursing YAML and audit.yaml paths stay inside the scenario
  folder (absolute, ``../`` and symlinks out are refused) unless ``--allow-outside``; a folder,
  FIFO, device or /proc file is refused by its kind; a file's contents are never echoed;
* figures (9): a huge number is "too large" with the bound, not "below 0"; a facility list with
  its heading only and a census of 1e15 fail ``validate``, not the solve; a county outline that
  crosses itself is named by its file, feature and county;
* sweep run names (7): ``.``, ``..``, ``variants``, ``CON`` and two runs with one folder are
  refused; ``a/b`` becomes the folder ``a-b`` and stays ``a/b`` in sweep.csv.

Built on the tiny fictional city of tests/tiny_city.py.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tiny_city import edit, run, write_tiny_city

import dingdian
from dingdian.errors import QUOTE_CHARS, ScenarioError, clip
from dingdian.pipeline.sweep_setup import run_folder
from dingdian.scenario.files import MAX_COUNT, MAX_POPULATION
from dingdian.scenario.paths import file_kind, inside

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def city(tmp_path) -> Path:
    return write_tiny_city(tmp_path / "city").parent


def one_error(r, *parts: str) -> str:
    """The one ``error:`` line of a refused command (exit 2), which holds every part."""
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.output and len(lines[0]) <= 300, r.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


# --------------------------------------------------------------------------- paths (8)
def test_a_proc_file_is_refused_and_never_echoed(city, monkeypatch):
    monkeypatch.setenv("DINGDIAN_SECRET", "s3cr3t-token-value")
    edit(city / "scenario.yaml", "census: census.csv", "census: /proc/self/environ")
    line = one_error(run("validate", city), "scenario.yaml", "field 'files.census'",
                     "outside the scenario folder city/", "--allow-outside")
    assert "s3cr3t" not in line
    if Path("/proc/self/environ").exists():  # Linux: allowed outside, refused by its kind
        r = run("validate", city, "--allow-outside")
        line = one_error(r, "scenario.yaml", "field 'files.census'", "a system file (/proc)")
        assert "s3cr3t" not in r.output


def test_dot_dot_out_of_the_folder_is_refused_unless_allowed(city, tmp_path):
    shutil.copy(city / "census.csv", tmp_path / "shared_census.csv")
    edit(city / "scenario.yaml", "census: census.csv", "census: ../shared_census.csv")
    one_error(run("validate", city), "scenario.yaml, field 'files.census': "
              "'../shared_census.csv' leads outside the scenario folder city/")
    r = run("validate", city, "--allow-outside")
    assert r.exit_code == 0, r.output
    assert dingdian.load(city, allow_outside=True).census["population"].sum() == 20000
    with pytest.raises(ScenarioError, match="files.census"):
        dingdian.load(city)


def test_an_absolute_path_inside_the_folder_is_fine(city):
    edit(city / "scenario.yaml", "census: census.csv", f"census: {city / 'census.csv'}")
    assert run("validate", city).exit_code == 0


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_a_symlink_out_of_the_folder_is_refused(city, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    shutil.move(city / "census.csv", outside)
    (city / "census.csv").symlink_to(outside)
    one_error(run("validate", city), "field 'files.census'", "'census.csv' leads outside",
              "symlink")
    assert run("validate", city, "--allow-outside").exit_code == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_and_a_folder_are_refused_by_their_kind(city):
    (city / "census.csv").unlink()
    os.mkfifo(city / "census.csv")  # reading it would wait for a writer for ever
    one_error(run("validate", city), "field 'files.census'", "is a FIFO (named pipe)")
    (city / "census.csv").unlink()
    (city / "census.csv").mkdir()
    one_error(run("validate", city), "field 'files.census'", "is a folder, not a data file")
    assert file_kind(city) == "a folder" and file_kind(city / "nowhere") is None


def test_solve_with_an_outside_path_writes_nothing(city, tmp_path):
    edit(city / "scenario.yaml", "targets: targets.csv", "targets: /etc/hostname")
    out = tmp_path / "OUT"
    one_error(run("solve", city, "--out", out), "field 'files.targets'", "--allow-outside")
    assert not out.exists()


def _with_beds(city: Path, body: dict) -> None:
    (city / "beds").mkdir()
    (city / "beds" / "beds.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    with (city / "scenario.yaml").open("a", encoding="utf-8") as f:
        f.write("beds: beds/beds.yaml\n")


def test_a_path_in_the_beds_yaml_is_confined_too(city):
    _with_beds(city, {"kind": "zhangye", "files": {"hospitals": "../../hospitals.csv",
                                                   "tables": "tables.csv",
                                                   "census": "../census.csv"}})
    one_error(run("validate", city), "beds.yaml, field 'files.hospitals'",
              "'../../hospitals.csv' leads outside the scenario folder city/")


def test_the_beds_yaml_may_name_the_scenario_census():
    """Zhangye's beds/beds.yaml names ``census: ../census.csv``: inside the scenario folder."""
    from dingdian.scenario.scenario_paths import planner_paths
    from dingdian.scenario.variants import resolve_config

    cfg, res = resolve_config(ROOT / "scenarios" / "zhangye" / "scenario.yaml")
    assert cfg.beds and cfg.nursing and planner_paths(cfg, res) is True


def test_a_variant_may_name_files_in_its_own_folder(city, tmp_path):
    whatif = tmp_path / "whatif"
    whatif.mkdir()
    shutil.copy(city / "targets.csv", whatif / "my_targets.csv")
    variant = whatif / "v.yaml"
    variant.write_text(f"base: {city / 'scenario.yaml'}\nname: v\n"
                       "files: {targets: my_targets.csv}\n", encoding="utf-8")
    assert run("validate", variant).exit_code == 0
    variant.write_text(f"base: {city / 'scenario.yaml'}\nname: v\n"
                       "files: {targets: ../city_targets.csv}\n", encoding="utf-8")
    shutil.copy(city / "targets.csv", tmp_path / "city_targets.csv")
    one_error(run("validate", variant), "v.yaml, field 'files.targets'", "leads outside")


def test_audit_yaml_paths_stay_in_its_folder(tmp_path):
    folder = tmp_path / "published"
    shutil.copytree(ROOT / "scenarios" / "zhangye" / "published", folder)
    shutil.copy(ROOT / "scenarios" / "zhangye" / "targets.csv", tmp_path / "targets.csv")
    doc = yaml.safe_load((folder / "audit.yaml").read_text(encoding="utf-8"))
    doc["targets"] = "../targets.csv"
    (folder / "audit.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    one_error(run("audit", folder / "audit.yaml"), "audit.yaml, field 'targets'",
              "leads outside the audit folder published/", "--allow-outside")
    r = run("audit", folder / "audit.yaml", "--allow-outside")
    assert r.exit_code in (0, 1) and "error:" not in r.output, r.output


@pytest.mark.parametrize("command", ["validate", "solve", "sweep", "replan", "audit", "report"])
def test_every_command_that_loads_a_scenario_takes_allow_outside(command):
    r = run(command, "--help")
    assert r.exit_code == 0 and "--allow-outside" in r.output


def test_a_file_is_never_echoed(city):
    """A heading row of 5,000 characters, a YAML error on a secret line, a long cell: each
    message quotes at most a few dozen characters of them."""
    (city / "census.csv").write_text("x" * 5000 + "\n1\n", encoding="utf-8")
    r = run("validate", city)
    assert r.exit_code == 2 and "x" * (QUOTE_CHARS + 1) not in r.output
    assert all(len(line) <= 300 for line in r.stderr.splitlines()), r.stderr
    write_tiny_city(city)
    with (city / "scenario.yaml").open("a", encoding="utf-8") as f:
        f.write("secret: [TOKEN_abcdef\n")
    line = one_error(run("validate", city), "scenario.yaml", "invalid YAML (line")
    assert "TOKEN" not in line
    assert clip("a\x00b\n" + "c" * 100) == "a?b " + "c" * 35 + "…"


def test_inside_resolves_dot_dot():
    assert inside(ROOT / "scenarios" / "zhangye" / "beds" / ".." / "census.csv",
                  [ROOT / "scenarios" / "zhangye"])
    assert not inside(ROOT / "scenarios" / "zhangye" / ".." / "heze", [ROOT / "scenarios" / "zhangye"])


# --------------------------------------------------------------------------- figures (9)
@pytest.mark.parametrize("value", ["1e300", "1" + "0" * 22])
def test_a_huge_target_is_too_large_not_below_0(city, value):
    edit(city / "targets.csv", "甲县,clinic,2,2,2", f"甲县,clinic,2,{value},2")
    line = one_error(run("validate", city), "targets.csv row 2, field 'target_2028'",
                     f"{value} is too large: not a plausible count (at most {MAX_COUNT:,})")
    assert "below" not in line


def test_a_huge_quota_and_a_negative_overflow(city):
    edit(city / "quotas_county.csv", "甲县,pharmacy,2025,0,1", "甲县,pharmacy,2025,0,1e300")
    one_error(run("validate", city), "quotas_county.csv", "field 'exit'", "too large")
    write_tiny_city(city)
    edit(city / "targets.csv", "甲县,clinic,2,2,2", "甲县,clinic,2,-" + "1" + "0" * 22 + ",2")
    one_error(run("validate", city), "field 'target_2028'", "is below 0")


def test_a_census_of_1e15_fails_validate(city, tmp_path):
    edit(city / "census.csv", "甲县,20000,0.5", "甲县,1e15,0.5")
    one_error(run("validate", city), "census.csv row 2, field 'population'",
              f"too large: not a plausible county population (at most {MAX_POPULATION:,})")
    one_error(run("solve", city, "--out", tmp_path / "OUT"), "census.csv")
    assert not (tmp_path / "OUT").exists()


def test_a_facility_list_with_its_heading_only_fails_validate(city):
    fac = city / "facilities.csv"
    fac.write_text(fac.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    one_error(run("validate", city), "facilities.csv: no rows, only the heading")


@pytest.mark.parametrize("name", ["census.csv", "targets.csv", "quotas_county.csv"])
def test_any_required_table_with_its_heading_only_fails_validate(city, name):
    path = city / name
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    r = run("validate", city)
    assert r.exit_code == 2 and f"{name}: no rows, only the heading" in r.stderr, r.output


def _bow_tie(city: Path) -> None:
    data = json.loads((city / "counties.geojson").read_text(encoding="utf-8"))
    ring = data["features"][0]["geometry"]["coordinates"][0]
    (x0, y0), (x1, y1) = ring[0], ring[2]
    data["features"][0]["geometry"]["coordinates"] = [[[x0, y0], [x1, y1], [x1, y0], [x0, y1],
                                                       [x0, y0]]]
    (city / "counties.geojson").write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def test_a_county_outline_that_crosses_itself_is_named(city):
    _bow_tie(city)
    line = one_error(run("validate", city), "counties.geojson row 1, field 'geometry': "
                     "invalid outline of 甲县: Self-intersection[", "area by 100%", "Fix geometries")
    assert "facilities.csv" not in line


def test_a_sliver_of_a_crossing_is_repaired_and_noted(city):
    data = json.loads((city / "counties.geojson").read_text(encoding="utf-8"))
    ring = data["features"][0]["geometry"]["coordinates"][0]
    (x2, y2) = ring[2]  # the north-east corner: cross it by a hair
    ring[2:3] = [[x2, y2 + 1e-6], [x2 + 1e-6, y2]]
    (city / "counties.geojson").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    r = run("validate", city)
    assert r.exit_code == 0, r.output
    assert "counties.geojson feature 1 (甲县): invalid outline" in r.output
    assert any("repaired" in w for w in dingdian.load(city).warnings)


# --------------------------------------------------------------------------- sweep names (7)
def _sweep_file(tmp_path: Path, city: Path, names: list[str]) -> Path:
    runs = [{"name": n, "set": {"weights.churn": i + 1}} for i, n in enumerate(names)]
    path = tmp_path / "my_sweep.yaml"
    path.write_text(yaml.safe_dump({"scenario": str(city / "scenario.yaml"), "runs": runs},
                                   allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("name, why", [(".", "leaves no folder name"),
                                       ("..", "leaves no folder name"),
                                       ("///", "leaves no folder name"),
                                       ("variants", "the sweep's own variants/"),
                                       ("Sweep.csv", "the sweep's own sweep.csv"),
                                       ("CON", "a device name on Windows"),
                                       ("nul.txt", "a device name on Windows")])
def test_a_run_name_that_cannot_be_a_folder_is_refused(city, tmp_path, name, why):
    out = tmp_path / "OUT"
    out.mkdir()
    (out / "keep.txt").write_text("an earlier sweep's", encoding="utf-8")
    line = one_error(run("sweep", _sweep_file(tmp_path, city, [name]), "--out", out),
                     "my_sweep.yaml, field 'name': run ", why)
    assert repr(name) in line
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_an_empty_run_name_is_refused(city, tmp_path):
    one_error(run("sweep", _sweep_file(tmp_path, city, [""]), "--out", tmp_path / "OUT"),
              "my_sweep.yaml", "runs[0].name")
    assert not (tmp_path / "OUT").exists()


def test_two_runs_with_one_folder_are_refused(city, tmp_path):
    one_error(run("sweep", _sweep_file(tmp_path, city, ["a/b", "A:b"]), "--out",
                  tmp_path / "OUT"), "my_sweep.yaml, field 'name': runs 'a/b' and 'A:b' "
              "would share the folder")
    assert not (tmp_path / "OUT").exists()


def test_run_folders_are_made_safe_deterministically():
    assert run_folder("甘州区 x0.8") == "甘州区-x0.8"
    assert run_folder("a/b\\c:d*e?f\"g<h>i|j") == "a-b-c-d-e-f-g-h-i-j"
    assert run_folder("-rf") == "rf" and run_folder("..hidden.") == "hidden"
    assert run_folder("003_radius=800_weights.churn=1") == "003_radius=800_weights.churn=1"
    assert len(run_folder("区" * 200).encode("utf-8")) <= 150
    with pytest.raises(ScenarioError, match="^s.yaml, field 'name': run '..' cannot name"):
        run_folder("..", "s.yaml")


def test_sweep_csv_keeps_the_run_s_own_name(city, tmp_path):
    out = tmp_path / "OUT"
    r = run("sweep", _sweep_file(tmp_path, city, ["甘州 a/b"]), "--out", out, "--workers", 1)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv", "sweep_counts.csv",
                                                     "variants", "甘州-a-b"]
    assert (out / "variants" / "甘州-a-b.yaml").is_file()
    frame = pd.read_csv(out / "sweep.csv", encoding="utf-8-sig")
    assert frame[["run", "out"]].values.tolist() == [["甘州 a/b", "甘州-a-b"]]
    counts = pd.read_csv(out / "sweep_counts.csv", encoding="utf-8-sig")
    assert set(counts["run"]) == {"甘州 a/b"}

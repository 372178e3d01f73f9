"""Scenario variants (dingdian.scenario.variants): merging, the shipped Zhangye variants, overrides,
one-line errors, and the ``scenarios`` command group."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dingdian.cli.main import main
from dingdian.cli.scenarios import scenarios
from dingdian.errors import ScenarioError
from dingdian.scenario.catalogue import diff
from dingdian.scenario.loader import load_scenario
from dingdian.scenario.variants import deep_merge, resolve_config

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
ZHANGYE = SCENARIOS / "zhangye"
VARIANTS = ZHANGYE / "variants"
BASE_YAML = (ZHANGYE / "scenario.yaml").as_posix()


@cache
def loaded(name: str):
    return load_scenario(ZHANGYE / "scenario.yaml" if name == "base" else VARIANTS / name)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- merge semantics
def test_deep_merge_mappings_merge_lists_and_scalars_replace():
    base = {"a": 1, "m": {"x": 1, "y": [1, 2], "n": {"p": 1}}, "l": [1, 2], "s": {"k": 1}}
    over = {"m": {"y": [3], "n": {"q": 2}}, "l": [], "b": None, "s": 5, "a": {"z": 1}}
    got = deep_merge(base, over)
    assert got == {"a": {"z": 1}, "m": {"x": 1, "y": [3], "n": {"p": 1, "q": 2}}, "l": [],
                   "s": 5, "b": None}
    assert base == {"a": 1, "m": {"x": 1, "y": [1, 2], "n": {"p": 1}}, "l": [1, 2],
                    "s": {"k": 1}}  # inputs untouched
    got["m"]["y"].append(4)
    assert over["m"]["y"] == [3]  # no shared lists
    assert deep_merge({"a": {"b": 1}}, {}) == {"a": {"b": 1}}
    assert deep_merge({}, {"a": {"b": 1}}) == {"a": {"b": 1}}


# --------------------------------------------------------------------------- shipped variants
EXPECTED = {
    "published.yaml": ["options.exit_mode: at_most → exact",
                       "options.admit_mode: at_most → exact"],
    "radius_800.yaml": ["grid.urban_radius_m: 1060.82 → 800.0"],
    "no_street_quotas.yaml": ["options.street_quotas: true → false"],
    "tight_exits.yaml": [f"overrides.county_quotas[{i}]: 甘州区 pharmacy {2025 + i}: exit 25 → 20"
                         for i in range(6)],
}


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_each_variant_changes_exactly_what_it_says(file):
    base = resolve_config(ZHANGYE / "scenario.yaml")[0]
    cfg, res = resolve_config(VARIANTS / file)
    assert res.is_variant and res.root == ZHANGYE and res.chain[1] == ZHANGYE / "scenario.yaml"
    assert diff(base, cfg, res.root) == EXPECTED[file]
    assert cfg.name.startswith("zhangye-") and cfg.name != base.name
    assert len(cfg.description) > 80 and "Run it" in cfg.description
    assert cfg.beds == "beds/beds.yaml" and cfg.nursing == "nursing/nursing.yaml"  # root-relative


def test_plain_scenario_loads_as_before():
    sc = loaded("base")
    assert sc.variant is None and sc.path == ZHANGYE / "scenario.yaml" and sc.root == ZHANGYE
    assert not sc.config.overrides and sc.config.base is None


def test_radius_800_cells():
    base, sc = loaded("base"), loaded("radius_800.yaml")
    assert sc.path == ZHANGYE / "scenario.yaml" and sc.root == ZHANGYE  # files/beds/nursing
    assert sc.variant == VARIANTS / "radius_800.yaml" and sc.source == sc.variant
    urban = sc.cells[sc.cells["zone"] == "urban"]
    assert (urban["radius_m"] == 800).all()
    assert len(urban) > len(base.cells[base.cells["zone"] == "urban"])
    assert len(sc.cells) > len(base.cells)
    assert sc.cells["population"].sum() == base.cells["population"].sum()


def _quota(problem, area, kind, year, level="county"):
    return next(q for q in problem.quotas
                if (q.level, q.area, q.kind, q.year) == (level, area, kind, year))


def test_tight_exits_is_in_the_problem_and_explained(tmp_path):
    base, sc = loaded("base"), loaded("tight_exits.yaml")
    for year in range(2025, 2031):
        assert _quota(base.problem, "甘州区", "pharmacy", year).exit == 25
        assert _quota(sc.problem, "甘州区", "pharmacy", year).exit == 20
        assert _quota(sc.problem, "甘州区", "clinic", year) == \
            _quota(base.problem, "甘州区", "clinic", year)
    r = CliRunner().invoke(main, ["solve", str(VARIANTS / "tight_exits.yaml"),
                                  "--out", str(tmp_path / "out")])
    assert r.exit_code == 3, r.output
    assert "allow at most 80 — 7 short" in r.stderr and "allow at most 120 — 9 short" in r.stderr
    assert not (tmp_path / "out").exists()


def test_published_solved_reproduces_the_county_tables(tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["solve", str(VARIANTS / "published.yaml"), "--out", str(out),
                                  "--solver", "highs"])
    assert r.exit_code == 0, (r.output, r.exception)
    assert (out / "beds.csv").is_file() and (out / "nursing.csv").is_file()  # base-relative
    counts = pd.read_csv(out / "counts.csv", dtype={"street": str}, keep_default_na=False)
    counts = counts[(counts["street"] == "") & (counts["county"] != "全市")]
    got = counts.set_index(["county", "kind", "year"])[["admitted", "exited"]]
    want = pd.read_csv(ZHANGYE / "quotas_county.csv").set_index(["county", "kind", "year"])
    want = want.rename(columns={"admit": "admitted", "exit": "exited"})
    assert len(want) == 72
    assert got.loc[want.index].astype(int).equals(want.astype(int))  # 表6/表7 cell by cell


def test_overrides_and_own_files(tmp_path):
    """A variant elsewhere: own targets CSV (relative to the variant), and overrides."""
    targets = pd.read_csv(ZHANGYE / "targets.csv")
    targets.loc[(targets["county"] == "临泽县") & (targets["kind"] == "clinic"), "target_2030"] = 88
    targets.to_csv(tmp_path / "my_targets.csv", index=False)
    fid = loaded("base").facilities.query("status == 'existing' and not protected") \
        .iloc[0]["facility_id"]
    variant = write(tmp_path / "what_if.yaml", f"""
base: {BASE_YAML}
name: what-if
files: {{targets: my_targets.csv}}
overrides:
  targets: [{{county: 甘州区, kind: pharmacy, target_2030: 200}}]
  county_quotas: [{{county: 甘州区, kind: pharmacy, year: 2028, exit: 30}}]
  street_quotas: [{{county: 甘州区, street: 东街街道, kind: pharmacy, year: 2025, exit: 5}}]
  facilities: [{{facility_id: {fid}, score: 99, protected: true}}]
""")
    cfg, res = resolve_config(variant)
    assert (res.root / cfg.files.targets).resolve() == (tmp_path / "my_targets.csv").resolve()
    sc = load_scenario(variant)
    tg = {(t.county, t.kind, t.year): t.count for t in sc.problem.targets}
    assert tg[("甘州区", "pharmacy", 2030)] == 200 and tg[("甘州区", "pharmacy", 2028)] == 231
    assert tg[("临泽县", "clinic", 2030)] == 88
    assert _quota(sc.problem, "甘州区", "pharmacy", 2028).exit == 30
    assert _quota(sc.problem, "甘州区", "pharmacy", 2027).exit == 25
    assert _quota(sc.problem, "东街街道", "pharmacy", 2025, "street").exit == 5
    fac = next(f for f in sc.problem.facilities if f.id == fid)
    assert fac.protected and fac.score == 99
    lines = diff(resolve_config(ZHANGYE / "scenario.yaml")[0], cfg, res.root)
    assert "overrides.targets[0]: 甘州区 pharmacy: target_2030 189 → 200" in lines
    assert any(line.startswith("files.targets: targets.csv → ") for line in lines)


def test_variant_of_a_variant(tmp_path):
    variant = write(tmp_path / "v2.yaml", f"""
base: {(VARIANTS / 'published.yaml').as_posix()}
name: published-800
grid: {{urban_radius_m: 800}}
options: {{street_quotas: false}}
""")
    cfg, res = resolve_config(variant)
    assert len(res.chain) == 3 and res.root == ZHANGYE
    assert (cfg.options.exit_mode, cfg.options.admit_mode, cfg.options.street_quotas) == \
        ("exact", "exact", False)
    assert cfg.grid.urban_radius_m == 800 and cfg.grid.rural_radius_m == 2121.64


# --------------------------------------------------------------------------- errors
BAD = {
    "unknown_key": ("options: {exit_mod: exact}", "bad.yaml", "options.exit_mod",
                    "unknown key (line"),
    "unknown_top_key": ("colour: red", "bad.yaml", "colour", "unknown key"),
    "bad_value": ("grid: {urban_radius_m: -5}", "bad.yaml", "grid.urban_radius_m",
                  "greater than 0"),
    "bad_override_entry": ("overrides: {targets: [{county: 甘州区, kind: pharmacy}]}",
                           "bad.yaml", "overrides.targets[0]", "target_YYYY"),
    "unmatched_quota": ("overrides: {county_quotas: [{county: 甘州区, kind: pharmacy, "
                        "year: 2031, exit: 1}]}", "bad.yaml", "overrides.county_quotas[0]",
                        "no row for 甘州区 pharmacy 2031 in quotas_county.csv"),
    "unmatched_target": ("overrides:\n  targets:\n    - {county: 甘州区, kind: clinic, "
                         "target_2030: 1}\n    - {county: 无此区, kind: clinic, target_2030: 1}",
                         "bad.yaml", "overrides.targets[1]", "no row for 无此区 clinic"),
    "unknown_column": ("overrides: {targets: [{county: 甘州区, kind: clinic, target_2029: 1}]}",
                       "bad.yaml", "overrides.targets[0]", "no column target_2029"),
    "unmatched_facility": ("overrides: {facilities: [{facility_id: NOPE, score: 1}]}",
                           "bad.yaml", "overrides.facilities[0]", "no facility 'NOPE'"),
    "missing_file": ("files: {targets: nowhere.csv}", "bad.yaml", "files.targets",
                     "file not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_variant_is_one_line_naming_file_and_field(tmp_path, case):
    body, file, field, message = BAD[case]
    bad = write(tmp_path / "bad.yaml", f"base: {BASE_YAML}\n{body}\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(bad)
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"{file}, field '{field}': "), text
    assert message in text, text


def test_missing_base_and_base_cycle(tmp_path):
    write(tmp_path / "a.yaml", "base: b.yaml\nname: a\n")
    write(tmp_path / "b.yaml", "base: a.yaml\nname: b\n")
    write(tmp_path / "c.yaml", "name: c\nbase: ../nowhere/scenario.yaml\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "a.yaml")
    assert str(exc.value) == "b.yaml, field 'base': base cycle: a.yaml → b.yaml → a.yaml (line 1)"
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "c.yaml")
    text = str(exc.value)
    assert text.startswith("c.yaml, field 'base': file not found: ") and text.endswith("(line 2)")


def test_error_in_the_base_names_the_base(tmp_path):
    """A key the base wrote is reported in the base, one the variant wrote in the variant."""
    shutil.copy(ZHANGYE / "scenario.yaml", tmp_path / "scenario.yaml")
    text = (tmp_path / "scenario.yaml").read_text(encoding="utf-8")
    write(tmp_path / "scenario.yaml", text.replace("target_mode: equal", "target_mode: nearly"))
    (tmp_path / "v").mkdir()
    write(tmp_path / "v" / "variant.yaml", "base: ../scenario.yaml\nname: v\n")
    with pytest.raises(ScenarioError) as exc:
        resolve_config(tmp_path / "v" / "variant.yaml")
    assert str(exc.value).startswith("scenario.yaml, field 'options.target_mode': ")
    write(tmp_path / "v" / "variant.yaml", "base: ../scenario.yaml\nname: v\n"
          "options: {target_mode: at_most}\nweights: {churn: -1}\n")
    with pytest.raises(ScenarioError) as exc:
        resolve_config(tmp_path / "v" / "variant.yaml")
    assert str(exc.value).startswith("variant.yaml, field 'weights.churn': ")
    assert "(line 4)" in str(exc.value)


def test_cli_validate_bad_variant_exits_2_with_one_line(tmp_path):
    bad = write(tmp_path / "bad.yaml", f"base: {BASE_YAML}\noptions: {{exit_mod: exact}}\n")
    r = CliRunner().invoke(main, ["validate", str(bad)])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        "error: bad.yaml, field 'options.exit_mod': unknown key (line 2)"]


# --------------------------------------------------------------------------- scenarios CLI
def test_scenarios_list():
    r = CliRunner().invoke(scenarios, ["list", str(SCENARIOS)])
    assert r.exit_code == 0, r.output
    heads = [line.split()[0] for line in r.output.splitlines() if not line.startswith(" ")]
    want = ["heze", "zhangye", "zhangye-no-street-quotas", "zhangye-published",
            "zhangye-radius-800", "zhangye-tight-exits"]
    assert [h for h in heads if h in want] == want  # sorted by path: bases before variants
    assert "zhangye/variants/published.yaml  (基于 base: zhangye)" in r.output
    assert "scenario(s)," in r.output and "with errors" not in r.output
    assert "beds.yaml" not in r.output and "nursing.yaml" not in r.output


def test_scenarios_show_published_prints_the_diff():
    r = CliRunner().invoke(scenarios, ["show", "published", "--dir", str(SCENARIOS)])
    assert r.exit_code == 0, r.output
    assert "name: zhangye-published" in r.output
    assert "exit_mode: exact" in r.output
    tail = r.output.split("变体改动 changes relative to zhangye")[1]
    assert tail.splitlines()[1:] == ["  - options.exit_mode: at_most → exact",
                                     "  - options.admit_mode: at_most → exact"]


def test_scenarios_show_unknown_and_help():
    r = CliRunner().invoke(scenarios, ["show", "nope", "--dir", str(SCENARIOS)])
    assert r.exit_code == 2 and r.stderr.startswith("error: nope: no scenario")
    for args in (["--help"], ["list", "--help"], ["show", "--help"]):
        r = CliRunner().invoke(scenarios, args)
        assert r.exit_code == 0 and "Example" in r.output

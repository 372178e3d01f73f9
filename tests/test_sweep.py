"""Sweeps (:mod:`dingdian.pipeline.sweep`, ``dingdian sweep``) and ``dingdian solve --decompose``.

The runs use a small Zhangye: the shipped files, with the facilities, targets and county quotas
of 高台县 and 肃南县 only (357 facilities, no street quotas, no beds or nursing), so a solve
takes a second or two. The two counties share no cell: two independent parts.

Hand-worked run ``gt_x0.3``: 高台县's pharmacies go 78 → 71 (2028) → 67 (2030), 7 exits by
2028 and 11 by 2030. The published yearly exit limits (表7) 3, 5, 5, 5, 5, 5 times 0.3, rounded
half up, are 1, 2, 2, 2, 2, 2: exactly 7 by 2028 and 11 by 2030. So every limit is used to the
full, and no pharmacy is admitted (an admission would need one more exit). Its twin ×0.2
(1, 1, 1, 1, 1, 1) allows 4 exits by 2028 against the 7 needed: infeasible, 3 short.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from dingdian.cli.main import main
from dingdian.errors import ScenarioError
from dingdian.pipeline.sweep import sweep
from dingdian.pipeline.sweep_setup import cross, grid, parse_set, variant_data
from dingdian.run.backends import solve
from dingdian.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"
COUNTIES = ("高台县", "肃南县")
YEARS = [str(y) for y in range(2024, 2031)]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("small") / "zhangye-small"
    dst.mkdir()
    for name in ("counties.geojson", "census.csv", "urban_areas.geojson"):
        shutil.copy(ZHANGYE / name, dst / name)
    for name in ("facilities.csv", "targets.csv", "quotas_county.csv"):
        frame = pd.read_csv(ZHANGYE / name, dtype=str, keep_default_na=False)
        frame[frame["county"].isin(COUNTIES)].to_csv(dst / name, index=False)
    cfg = yaml.safe_load((ZHANGYE / "scenario.yaml").read_text(encoding="utf-8"))
    for key in ("beds", "nursing"):
        cfg.pop(key)
    cfg["files"].pop("street_quotas")
    cfg["name"] = "zhangye-small"
    (dst / "scenario.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True),
                                       encoding="utf-8")
    return dst / "scenario.yaml"


@pytest.fixture(scope="module")
def base_objective(small) -> float:
    r = solve(load_scenario(small).problem, "highs")
    assert r.status == "optimal"
    return r.objective


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def flows(plan: pd.DataFrame) -> pd.DataFrame:
    d = plan[YEARS].to_numpy()
    rows = []
    for j, year in enumerate(YEARS[1:], start=1):
        step = d[:, j] - d[:, j - 1]
        rows.append(plan[["county", "kind"]].assign(year=int(year), admitted=(step > 0),
                                                    exited=(step < 0)))
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------- building runs
def test_grid_cross_and_parse_set():
    assert grid({"radius": [800, 1000], "weights.churn": [1, 5]}) == [
        {"radius": 800, "weights.churn": 1}, {"radius": 800, "weights.churn": 5},
        {"radius": 1000, "weights.churn": 1}, {"radius": 1000, "weights.churn": 5}]
    assert cross([{"name": "a"}, {}], {"radius": [800]}) == [
        {"name": "a_radius=800", "radius": 800}, {"radius": 800}]
    assert parse_set("radius=800,1060.82") == ("radius", [800, 1060.82])
    assert parse_set("options.exit_mode=exact") == ("options.exit_mode", ["exact"])
    with pytest.raises(ScenarioError, match=r"^--set, field 'radius': expected KEY=VALUE"):
        parse_set("radius")


def test_exit_scale_becomes_quota_overrides(small):
    sc = load_scenario(small)
    data = variant_data(sc, {"radius": 800, "exit_scale.高台县.pharmacy": 0.3}, "x")
    assert data["grid"] == {"urban_radius_m": 800}
    rows = data["overrides"]["county_quotas"]
    assert [(r["year"], r["exit"]) for r in rows] == [(2025, 1), (2026, 2), (2027, 2),
                                                       (2028, 2), (2029, 2), (2030, 2)]
    assert all(r["county"] == "高台县" and r["kind"] == "pharmacy" for r in rows)
    every = variant_data(sc, {"exit_scale": 1.2}, "y")["overrides"]["county_quotas"]
    assert len(every) == len(sc.quotas)  # every county row, both kinds


# --------------------------------------------------------------------------- the API
def test_sweep_runs_writes_and_every_rule_holds(small, tmp_path):
    out = tmp_path / "sweep"
    runs = [{"name": "gt_x0.3", "exit_scale.高台县.pharmacy": 0.3},
            {"name": "gt_x0.2", "exit_scale.高台县.pharmacy": 0.2}]
    frame = sweep(small, runs, out, workers=2, unique=False).set_index("run")
    assert frame["status"].to_dict() == {"gt_x0.3": "optimal", "gt_x0.2": "infeasible"}
    assert "the 2028 target 71 needs 7 exits" in frame.loc["gt_x0.2", "explanation"]
    assert "allow at most 4 — 3 short" in frame.loc["gt_x0.2", "explanation"]
    assert sorted(p.name for p in out.iterdir()) == ["gt_x0.3", "sweep.csv",
                                                    "sweep_counts.csv", "variants"]
    assert pd.read_csv(out / "sweep.csv")["run"].tolist() == ["gt_x0.3", "gt_x0.2"]
    # the scaled run, recomputed from its plan.csv alone
    plan = pd.read_csv(out / "gt_x0.3" / "plan.csv", dtype={"street": str},
                       keep_default_na=False)
    f = flows(plan)
    gt = f[(f["county"] == "高台县") & (f["kind"] == "pharmacy")].groupby("year")
    assert gt["exited"].sum().tolist() == [1, 2, 2, 2, 2, 2]
    # no admission within the scaled limits; the only ones are special-zone overrides (需专家论证,
    # issue 7), which lie outside the yearly limits by design
    came = plan[(plan["county"] == "高台县") & (plan["kind"] == "pharmacy")
                & (plan["admitted_year"] != "")]
    assert (came["approval"] == "需专家论证").all(), came[["facility_id", "approval"]]
    pharm = plan[plan["kind"] == "pharmacy"].groupby("county")[["2028", "2030"]].sum()
    assert pharm.loc["高台县"].tolist() == [71, 67]
    row = frame.loc["gt_x0.3"]
    assert row["designated_2030_pharmacy"] == plan.loc[plan["kind"] == "pharmacy", "2030"].sum()
    assert row["exited_pharmacy"] == f.loc[f["kind"] == "pharmacy", "exited"].sum()
    assert row["verified"] is True or row["verified"] == 1
    summary = json.loads((out / "gt_x0.3" / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == pytest.approx(row["objective"])
    assert summary["sweep"]["settings"] == {"name": "gt_x0.3", "exit_scale.高台县.pharmacy": 0.3}
    # the counts of every run with a plan, and the variant file that repeats the run
    counts = pd.read_csv(out / "sweep_counts.csv", dtype={"street": str}, keep_default_na=False)
    assert set(counts["run"]) == {"gt_x0.3"}
    variant = load_scenario(out / "variants" / "gt_x0.3.yaml")
    assert variant.config.name == "zhangye-small-gt_x0.3"


# --------------------------------------------------------------------------- the CLI
def test_cli_sweep_file_with_a_grid_and_runs(small, base_objective, tmp_path):
    spec = tmp_path / "sweep.yaml"
    spec.write_text(yaml.safe_dump({
        "scenario": str(small), "solver": "highs",
        "grid": {"radius": [800, 1060.82]},
        "runs": [{"name": "sunan_no_exit", "set": {"exit_scale.肃南县.pharmacy": 0}}],
    }, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    r = run("sweep", spec, "--out", out, "--no-plans", "--any-optimum")
    assert r.exit_code == 0, r.output
    assert "情景扫描 sweep" in r.output and "不可行 infeasible sunan_no_exit" in r.output
    frame = pd.read_csv(out / "sweep.csv")
    assert frame["run"].tolist() == ["001_radius=800", "002_radius=1060.82", "sunan_no_exit"]
    assert frame["status"].tolist() == ["optimal", "optimal", "infeasible"]
    assert frame["radius"].tolist()[:2] == [800, 1060.82]
    assert frame.loc[1, "objective"] == pytest.approx(base_objective)  # the shipped radius
    assert not any(p.is_dir() and p.name != "variants" for p in out.iterdir())  # --no-plans
    # 肃南县 has 6 pharmacies and a 2028 target of 3: with no exit allowed, 3 short
    assert "肃南县 定点零售药店 (pharmacies): the 2028 target 3 needs 3 exits" in \
        frame.loc[2, "explanation"]


@pytest.mark.parametrize("args,fragment", [
    (["--set", "radius"], "error: --set, field 'radius': expected KEY=VALUE"),
    (["--set", "grid.urban_radus_m=800"], "field 'grid.urban_radus_m': unknown key"),
    (["--set", "radius=-5"], "field 'radius': Input should be greater than 0"),
    (["--set", "exit_scale.北京=0.5"], "'北京' is neither a kind"),
    (["--set", "solver=gurobi"], "unknown solver 'gurobi'"),
    (["--scheduler", "tcp://127.0.0.1:9", "--set", "radius=800"], "cannot reach the Dask"),
])
def test_cli_sweep_bad_input_is_one_line_exit_2(small, tmp_path, monkeypatch, args, fragment):
    monkeypatch.setattr("dingdian.run.engine.CONNECT_TIMEOUT", "1s")
    r = run("sweep", small, "--out", tmp_path / "out", *args)
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], r.output
    assert not (tmp_path / "out" / "sweep.csv").exists()


def test_cli_bad_sweep_file_names_the_file(small, tmp_path):
    spec = tmp_path / "my_sweep.yaml"
    spec.write_text(yaml.safe_dump({"scenario": str(small), "grids": {}}), encoding="utf-8")
    r = run("sweep", spec, "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert r.output.strip() == "error: my_sweep.yaml, field 'grids': unknown key"


def test_cli_solve_decompose(small, base_objective, tmp_path):
    out = tmp_path / "out"
    r = run("solve", small, "--out", out, "--decompose", "--workers", "2")
    assert r.exit_code == 0, r.output
    assert "分解 decomposed: 2 parts on process pool (2 workers)" in r.output
    assert "校验通过 verified" in r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == pytest.approx(base_objective)
    dec = summary["decomposition"]
    assert dec["parts"] == 2 and dec["engine"] == "process pool"
    assert sorted(tuple(c["counties"]) for c in dec["components"]) == [("肃南县",), ("高台县",)]
    assert sum(c["objective"] for c in dec["components"]) == pytest.approx(base_objective)


def test_cli_scheduler_needs_decompose(small, tmp_path):
    r = run("solve", small, "--out", tmp_path / "out", "--scheduler", "local")
    assert r.exit_code == 2
    assert r.output.strip() == "error: --scheduler needs --decompose"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [["sweep", "--help"], ["solve", "--help"]])
def test_help_shows_examples(args):
    r = run(*args)
    assert r.exit_code == 0 and "Example" in r.output
    assert "--decompose" in r.output and "--scheduler" in r.output

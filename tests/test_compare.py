"""``dingdian compare`` on real plans: the shipped Zhangye scenario and a variant solved once.

The variant (a copy in tmp: 800 m urban service circles instead of 1,060.82 m, no beds or
nursing) differs in counts, coverage, objective and facilities. Every compared figure is
checked against the plan folders' own files, read here in plain pandas.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dingdian.cli.compare import compare
from dingdian.cli.main import main
from dingdian.write import compare as C
from dingdian.write import compare_frames as F
from dingdian.write import compare_runs as R

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"
SHEETS = ["compare_counts", "compare_coverage", "compare_summary", "compare_facilities"]


def run(*args) -> object:
    return CliRunner().invoke(compare, [str(a) for a in args])


def solve(scenario: Path, out: Path) -> Path:
    r = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out), "--solver", "highs"])
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("compare")
    variant = tmp / "variant"
    shutil.copytree(ZHANGYE, variant)
    yaml = variant / "scenario.yaml"
    text = yaml.read_text(encoding="utf-8")
    assert "urban_radius_m: 1060.82" in text
    text = text.replace("urban_radius_m: 1060.82", "urban_radius_m: 800")
    yaml.write_text(re.sub(r"^(beds|nursing):.*$", "", text, flags=re.M), encoding="utf-8")
    a = solve(ZHANGYE / "scenario.yaml", tmp / "base")
    b = solve(yaml, tmp / "r800")
    same = tmp / "base_copy"
    shutil.copytree(a, same)
    cmp_dir = tmp / "cmp"
    r = run(a, b, "--out", cmp_dir)
    assert r.exit_code == 0, r.output
    return {"a": a, "b": b, "same": same, "out": cmp_dir, "tmp": tmp, "output": r.output}


def read(path: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, **kw)


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def test_files_and_terminal(plans):
    names = {p.name for p in plans["out"].iterdir()}
    assert names == {*(f"{s}.csv" for s in SHEETS), "compare.xlsx"}
    leftovers = [p.name for p in plans["out"].parent.iterdir() if p.name.startswith(".cmp")]
    assert leftovers == []
    out = plans["output"]
    for head in ("县区 county", "类别 kind", "年份 year", "base", "r800", "Δ", "全市",
                 "状态 status", "optimal"):
        assert head in out, head


def test_counts_delta_is_the_difference_of_counts_csv(plans):
    cmp = read(plans["out"] / "compare_counts.csv", dtype={"street": str})
    assert list(cmp.columns) == ["county", "street", "kind", "year", "measure", "base",
                                 "r800", "delta"]
    keys = ["county", "street", "kind", "year"]
    both = None
    for label in ("base", "r800"):
        c = read(plans["a" if label == "base" else "b"] / "counts.csv", dtype={"street": str})
        long = c.melt(id_vars=keys, value_vars=["designated", "admitted", "exited"],
                      var_name="measure", value_name=label)
        both = long if both is None else both.merge(long, on=[*keys, "measure"], how="outer")
    merged = cmp.merge(both, on=[*keys, "measure"], suffixes=("", "_file"), validate="1:1")
    assert len(merged) == len(cmp) == len(both)
    assert (merged["base"] == merged["base_file"]).all()
    assert (merged["r800"] == merged["r800_file"]).all()
    assert (merged["delta"] == merged["r800_file"] - merged["base_file"]).all()
    assert (merged["delta"] != 0).any()  # the variant really differs
    city = merged[(merged["county"] == "全市") & (merged["year"] == 2030)
                  & (merged["measure"] == "designated")]
    assert (city["delta"] == 0).all()  # both meet the 2030 targets


def test_facilities_are_those_whose_plan_rows_differ(plans):
    fac = read(plans["out"] / "compare_facilities.csv", dtype=str)
    pa, pb = (read(plans[k] / "plan.csv", dtype={"facility_id": str}) for k in ("a", "b"))
    years = [c for c in pa.columns if re.fullmatch(r"\d{4}", c)]
    m = pa[["facility_id", *years]].merge(pb[["facility_id", *years]], on="facility_id",
                                          suffixes=("_a", "_b"), validate="1:1")
    diff = (m[[f"{y}_a" for y in years]].to_numpy() != m[[f"{y}_b" for y in years]].to_numpy())
    expected = set(m.loc[diff.any(axis=1), "facility_id"])
    assert expected and set(fac["facility_id"]) == expected and fac["facility_id"].is_unique
    paths = m.set_index("facility_id")
    for row in fac.head(50).itertuples(index=False):
        a = "".join(str(paths.at[row.facility_id, f"{y}_a"]) for y in years)
        b = "".join(str(paths.at[row.facility_id, f"{y}_b"]) for y in years)
        assert (row.base_path, row.r800_path) == (a, b)
        first = next(y for y, x, z in zip(years, a, b, strict=True) if x != z)
        assert row.first_year_differs == first
    one = fac.set_index("facility_id")
    exited = pa[(pa["exited_year"] != "") & (pa["status"] == "existing")]
    for fid, year in zip(exited["facility_id"], exited["exited_year"], strict=True):
        if fid in one.index:
            assert f"退出 exited {int(float(year))}" in one.at[fid, "base"]


def test_coverage_matches_summary_json(plans):
    cov = read(plans["out"] / "compare_coverage.csv")
    for label, key in (("base", "a"), ("r800", "b")):
        s = summary(plans[key])
        city = cov[cov["county"] == "全市"].set_index(["kind", "year", "measure"])[label]
        for kind, per_year in s["coverage"].items():
            for year, figures in per_year.items():
                for measure in ("population_covered", "population_in_scope",
                                "must_cover_covered", "gain_cells_filled"):
                    assert city[(kind, int(year), measure)] == figures[measure]
            b = s["blind_spots"][kind]
            assert city[(kind, 2030, "blind_spot_cells")] == b["cells"]
            assert city[(kind, 2030, "uncovered_population")] == b["uncovered_population_2030"]
        # the county rows (from cells.csv) add up to the city's figures
        counties = cov[cov["county"] != "全市"].groupby(["kind", "year", "measure"])[label].sum()
        assert (counties.reindex(city.index) == city).all()
    assert (cov["delta"] == cov["r800"] - cov["base"]).all()
    assert (cov.loc[cov["measure"] == "blind_spot_cells", "delta"] != 0).any()


def test_summary_rows(plans):
    s = read(plans["out"] / "compare_summary.csv").set_index("measure")
    sa, sb = summary(plans["a"]), summary(plans["b"])
    for key in ("objective", "gap"):
        assert float(s.at[key, "base"]) == sa[key] and float(s.at[key, "r800"]) == sb[key]
    assert float(s.at["objective", "delta"]) == sb["objective"] - sa["objective"] != 0
    assert s.at["status", "base"] == sa["status"] == "optimal" and s.at["status", "delta"] == ""


def test_xlsx_has_the_four_sheets(plans):
    from openpyxl import load_workbook

    from dingdian.write import xlsx_labels as L

    wb = load_workbook(plans["out"] / "compare.xlsx", read_only=True)
    assert wb.sheetnames == list(L.COMPARE_SHEETS.values())  # Chinese, no underscores
    for name, sheet in zip(SHEETS, wb.sheetnames, strict=True):
        csv = read(plans["out"] / f"{name}.csv")  # the CSV keeps its column names
        rows = list(wb[sheet].iter_rows(values_only=True))
        headings = [L.compare_heading(c, ("base", "r800")) for c in csv.columns]
        if name == "compare_summary":
            headings.append("键名 key")  # the summary key, kept for tracing
        assert rows[0][0].startswith("方案对比") and list(rows[1]) == headings
        assert len(rows) == len(csv) + 2


def test_three_runs_labels_and_identical_plans(plans):
    out = plans["tmp"] / "cmp3"
    r = run(plans["a"], plans["b"], plans["same"], "--label", "上限", "--label", "精确",
            "--label", "副本", "--out", out, "--diff-only")
    assert r.exit_code == 0, r.output
    assert "上限" in r.output and "副本" in r.output
    counts = read(out / "compare_counts.csv", dtype={"street": str})
    assert "delta" not in counts and (counts["上限"] == counts["副本"]).all()
    fac = read(out / "compare_facilities.csv", dtype=str)
    two = read(plans["out"] / "compare_facilities.csv", dtype=str)
    assert set(fac["facility_id"]) == set(two["facility_id"])
    assert (fac["上限_path"] == fac["副本_path"]).all()
    runs = [R.load_plan(plans["a"]), R.load_plan(plans["same"], "copy")]
    assert C.compare_plans(runs).facilities.empty


@pytest.mark.parametrize("damage, reason", [
    ("summary.json", "missing summary.json"),
    ("plan.csv", "missing plan.csv"),
    ("garbage", "unreadable summary.json"),
    ("nothing", "no such folder"),
])
def test_not_a_plan_is_one_line_exit_2(plans, tmp_path, damage, reason):
    bad = tmp_path / "bad"
    if damage != "nothing":
        shutil.copytree(plans["a"], bad)
        if damage == "garbage":
            (bad / "summary.json").write_text("{not json", encoding="utf-8")
        else:
            (bad / damage).unlink()
    r = run(plans["a"], bad, "--out", tmp_path / "cmp")
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: {bad}: not a dingdian plan ({reason}"), lines[0]
    assert "Traceback" not in r.output and not (tmp_path / "cmp").exists()


def test_usage_errors(plans):
    for args in ([plans["a"]], [], [plans["a"], plans["b"], "--label", "x"],
                 [plans["a"], plans["b"], "--label", "x", "--label", "x"],
                 [plans["a"], plans["b"], "--label", "county", "--label", "y"]):
        r = run(*args)
        assert r.exit_code == 2 and "Traceback" not in r.output, (args, r.output)
        assert "Usage" in r.output or "Error" in r.output


def test_out_never_replaces_an_input_and_replaces_earlier_output(plans, tmp_path):
    r = run(plans["a"], plans["b"], "--out", plans["a"])
    assert r.exit_code == 2 and (plans["a"] / "plan.csv").is_file()
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "stale.txt").write_text("old", encoding="utf-8")
    r = run(plans["a"], plans["b"], "--out", out)
    assert r.exit_code == 0, r.output
    assert not (out / "stale.txt").exists() and (out / "compare.xlsx").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]


def test_pure_helpers():
    years = [2024, 2025, 2026, 2027]
    assert F.describe_path([0, 1, 1, 0], years) == "准入 admitted 2025; 退出 exited 2027"
    assert F.describe_path([1, 1, 1, 1], years) == "保留 kept"
    assert F.describe_path([0, 0, 0, 0], years, "applicant") == "未准入 not admitted"
    assert R.default_labels(["/x/a/out", "/x/b/out", "/y/c"]) == ["a/out", "b/out", "c"]
    assert R.default_labels(["/x/a", "/x/a"]) == ["a", "a#2"]

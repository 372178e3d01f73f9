"""``dingdian`` end to end on the shipped Zhangye scenario: real loader, real solvers, real files.

The plan written by ``dingdian solve`` is checked here from the output files alone, in plain
pandas, against the published tables (表2/表3 targets, 表6–表9 yearly limits) — independently
of :mod:`dingdian.check.verify`, which the CLI already ran.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dingdian.check.verify import coverage_residuals
from dingdian.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"
YEARS = [str(y) for y in range(2024, 2031)]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zhangye") / "out"
    r = run("solve", ZHANGYE / "scenario.yaml", "--out", out, "--solver", "highs")
    assert r.exit_code == 0, r.output
    assert "校验通过 verified" in r.output and "全市" in r.output
    return out


def read_plan(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "plan.csv", dtype={"street": str}, keep_default_na=False)


def flows(plan: pd.DataFrame) -> pd.DataFrame:
    """Admissions and exits per facility and year; ``override``: the admission is a special-zone
    override (plan.csv's approval 需专家论证, 五(二)2), outside the yearly limits."""
    d = plan[YEARS].to_numpy()
    override = (plan["approval"] != "").to_numpy() if "approval" in plan else False
    rows = []
    for j, year in enumerate(YEARS[1:], start=1):
        step = d[:, j] - d[:, j - 1]
        rows.append(plan[["facility_id", "kind", "county", "street"]].assign(
            year=int(year), admitted=((step > 0) & ~override).astype(int),
            exited=(step < 0).astype(int), override=((step > 0) & override).astype(int)))
    return pd.concat(rows, ignore_index=True)


def test_files_are_written(solved):
    names = {p.name for p in solved.iterdir()}
    assert {"plan.csv", "cells.csv", "counts.csv", "summary.json", "plan.xlsx", "tables"} <= names
    assert len(list((solved / "tables").glob("表[6-9]_*.csv"))) == 4
    summary = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal" and summary["gap"] == 0
    assert summary["verification"] == {"passed": True, "checked": True, "violations": []}


def test_targets_of_tables_2_and_3_are_met(solved):
    plan = read_plan(solved)
    targets = pd.read_csv(ZHANGYE / "targets.csv")
    got = plan.groupby(["county", "kind"])[["2024", "2028", "2030"]].sum()
    for t in targets.itertuples():
        assert got.loc[(t.county, t.kind)].tolist() == [t.existing_2024, t.target_2028,
                                                        t.target_2030], (t.county, t.kind)


@pytest.mark.parametrize("level,file", [("county", "quotas_county.csv"),
                                        ("street", "quotas_street.csv")])
def test_yearly_limits_of_tables_6_to_9_hold(solved, level, file):
    f = flows(read_plan(solved))
    quotas = pd.read_csv(ZHANGYE / file)
    made = f.groupby([level, "kind", "year"])[["admitted", "exited"]].sum()
    for q in quotas.itertuples():
        key = (getattr(q, level), q.kind, q.year)
        adm, ext = made.loc[key].tolist() if key in made.index else (0, 0)
        assert adm <= q.admit and ext <= q.exit, key


def test_special_zone_overrides_and_roles(solved):
    # 五(二)2: the expert review comes before an admission, so the plan books no admission
    # beyond the limits (budget 0) and lists the zone applicants it leaves out, ranked, in
    # zone_proposals.csv; 四(二): the 2030 role holders.
    import yaml

    cfg = yaml.safe_load((ZHANGYE / "scenario.yaml").read_text(encoding="utf-8"))["allocation"]
    assert cfg["zones"]["budget_per_year"] == 0
    plan = read_plan(solved)
    assert (plan["approval"] == "").all()
    props = pd.read_csv(solved / "zone_proposals.csv", keep_default_na=False,
                        dtype={"机构编码 facility_id": str})
    out = plan.set_index("facility_id").loc[props["机构编码 facility_id"]]
    assert len(props) > 0 and (out["special_zone"] != "").all() and (out["2030"] == 0).all()
    roles = pd.read_csv(solved / "roles.csv", keep_default_na=False)
    n = roles.groupby(["县区 county", "角色 role"]).size()
    assert (n.xs("双通道药店 dual channel", level=1) == 1).all() and len(n) == 12
    held = plan.set_index("facility_id").loc[roles["机构编码 facility_id"]]
    assert (held["2030"] == 1).all()


def test_protected_never_exit_and_paths_are_valid(solved):
    plan = read_plan(solved)
    d = plan[YEARS].to_numpy()
    steps = d[:, 1:] - d[:, :-1]
    assert not (steps[plan["protected"].to_numpy()] < 0).any()
    existing = (plan["status"] == "existing").to_numpy()
    assert (d[existing, 0] == 1).all() and (d[~existing, 0] == 0).all()
    assert ((steps > 0).sum(axis=1) <= (~existing).astype(int)).all()  # nobody comes back


def test_must_cover_cells_covered_every_year_from_geometry(solved):
    plan = read_plan(solved)
    cells = pd.read_csv(solved / "cells.csv", dtype={"street": str}, keep_default_na=False)
    assert coverage_residuals(plan, cells, "EPSG:32647") == []
    for kind in ("clinic", "pharmacy"):
        must = cells[cells[f"must_cover_{kind}"] == 1]
        assert len(must) > 0 and (must[[f"{kind}_{y}" for y in YEARS]] >= 1).all().all()


def test_tables_agree_with_plan(solved):
    f = flows(read_plan(solved))
    f["admitted"] += f["override"]  # the tables count every admission, approved ones too
    table7 = pd.read_csv(next((solved / "tables").glob("表7_*.csv")), encoding="utf-8-sig")
    row = table7.set_index("区域").loc["甘州区"]
    ganzhou = f[(f["county"] == "甘州区") & (f["kind"] == "pharmacy")].groupby("year").sum()
    for year in range(2025, 2031):
        assert row[f"{year}年准入"] == ganzhou.loc[year, "admitted"]
        assert row[f"{year}年退出"] == ganzhou.loc[year, "exited"]
    assert table7.set_index("区域").loc["全市"].sum() == f[f["kind"] == "pharmacy"][
        ["admitted", "exited"]].to_numpy().sum()


def copy_scenario(tmp_path: Path) -> Path:
    dst = tmp_path / "zhangye"
    shutil.copytree(ZHANGYE, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return dst


def test_infeasible_plan_is_explained_and_old_output_kept(solved, tmp_path):
    """甘州区 pharmacies: 318 → 231 by 2028 needs 87 exits; with no exits allowed in 2028 the
    exit limits give at most 25 × 3 = 75 (admissions only make it worse). The streets' 2028
    exits (表9) go to 0 as well: more than the county's would be bad input."""
    sc = copy_scenario(tmp_path)
    for name in ("quotas_county.csv", "quotas_street.csv"):
        q = pd.read_csv(sc / name)
        q.loc[(q.county == "甘州区") & (q.kind == "pharmacy") & (q.year == 2028), "exit"] = 0
        q.to_csv(sc / name, index=False)
    out = tmp_path / "out"
    shutil.copytree(solved, out)
    before = (out / "plan.csv").read_bytes()
    r = run("solve", sc / "scenario.yaml", "--out", out)
    assert r.exit_code == 3
    line = next(x for x in r.stderr.splitlines() if "2028 target 231" in x)
    assert "甘州区" in line and "87 exits" in line and "at most 75" in line and "12 short" in line
    assert (out / "plan.csv").read_bytes() == before


@pytest.mark.parametrize("edit,expected", [
    (lambda d: d.drop(columns=["kind"]), "targets.csv, field 'kind'"),
    (lambda d: d.assign(target_2028=d.target_2028.where(d.index != 2, -5)),
     "targets.csv row 4, field 'target_2028'"),
])
def test_bad_input_is_one_line_and_keeps_old_output(solved, tmp_path, edit, expected):
    sc = copy_scenario(tmp_path)
    edit(pd.read_csv(sc / "targets.csv")).to_csv(sc / "targets.csv", index=False)
    out = tmp_path / "out"
    shutil.copytree(solved, out)
    before = (out / "plan.csv").read_bytes()
    r = run("solve", sc / "scenario.yaml", "--out", out)
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and expected in r.stderr, r.stderr
    assert "Traceback" not in r.output
    assert (out / "plan.csv").read_bytes() == before


def test_validate_prints_counts():
    r = run("validate", ZHANGYE / "scenario.yaml")
    assert r.exit_code == 0, r.output
    assert "甘州区" in r.output and "441" in r.output and "318" in r.output


@pytest.mark.parametrize("args", [[], ["solve"], ["validate"]])
def test_help_has_an_example(args):
    r = run(*args, "--help")
    assert r.exit_code == 0 and "Example" in r.output


def test_unknown_solver_is_refused():
    r = run("solve", ZHANGYE / "scenario.yaml", "--out", "x", "--solver", "gurobi")
    assert r.exit_code == 2 and "gurobi" in r.output


def test_beds_and_nursing_are_planned_together(solved):
    """Zhangye names both planners: their files land in OUT, and the hospitals convert exactly
    the surplus beds the nursing plan takes (五(二)1(1) → 四(三)2), county by county."""
    summary = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    assert summary["beds"]["violations"] == [] and summary["nursing"]["violations"] == []
    beds = pd.read_csv(solved / "beds.csv")
    converted = beds.groupby("county")["to_nursing"].sum().to_dict()
    assert converted == summary["nursing"]["converted_by_county"]
    table4 = pd.read_csv(next((solved / "tables").glob("表4_*.csv")), encoding="utf-8-sig")
    assert table4.set_index("地区").loc["全市"].tolist() == [11762, 9856, -1906]
    last = beds[beds.year == 2030].groupby("county")["beds"].sum()
    published = table4.set_index("地区")["按人口比例分配床位数（张）必需床位数"].drop("全市")
    assert last.reindex(published.index).tolist() == published.tolist()
    nursing = pd.read_csv(next((solved / "tables").glob("护理机构规划.csv")), encoding="utf-8-sig")
    no_new = nursing[nursing["是否新增床位"] == "否"]
    assert (no_new["新增床位数"] == 0).all() and (no_new["床位使用率"] < 0.6).all()


def test_decisions_explain_every_admission_and_exit(solved):
    """decisions.csv: one row per admission and exit of plan.csv, with figures that hold."""
    plan = read_plan(solved)
    f = flows(plan)
    dec = pd.read_csv(solved / "decisions.csv", dtype={"street": str, "cells_filled": str},
                      keep_default_na=False)
    made = f[(f.admitted == 1) | (f.exited == 1) | (f.override == 1)]
    assert len(dec) == len(made)
    assert set(zip(dec.facility_id, dec.year, strict=True)) == set(
        zip(made.facility_id, made.year, strict=True))
    assert (dec["rank"] >= 1).all() and (dec["rank"] <= dec["rank_of"]).all()
    limited = dec[dec["quota_limit"] != ""]
    assert (limited["quota_used"].astype(int) <= limited["quota_limit"].astype(int)).all()
    # an admission that fills a blind spot names cells nobody designated reached the year before
    cells = pd.read_csv(solved / "cells.csv", keep_default_na=False).set_index("cell_id")
    for r in dec[dec["cells_filled"] != ""].itertuples():
        for cell in r.cells_filled.split(";"):
            assert cells.loc[cell, f"{r.kind}_{r.year - 1}"] == 0
    assert {"准入", "退出"} == set(dec["decision_zh"])


def test_decisions_say_why_a_lower_ranked_neighbour_stays(solved):
    """passed_over: for an exit, the peers ranked below it (lower score, or the same score and a
    later id) of its street/county that stay designated that year; for an admission, the
    better-ranked applicants left out. Each named peer is checked against plan.csv."""
    plan = read_plan(solved).set_index("facility_id")
    dec = pd.read_csv(solved / "decisions.csv", dtype={"street": str}, keep_default_na=False)
    named = 0
    for r in dec[dec["passed_over_en"] != ""].itertuples():
        for part in r.passed_over_en.split("; "):
            if " more" in part and "(" not in part:
                continue
            gid, rest = part.split(" (", 1)
            score = int(rest.split(")")[0])
            g = plan.loc[gid]
            assert g["kind"] == r.kind and int(g["score"]) == score
            if r.decision_en == "exited":
                assert score < r.score or (score == r.score and gid > r.facility_id)
                assert int(g[str(r.year)]) == 1
            else:
                assert score > r.score or (score == r.score and gid < r.facility_id)
                assert int(g[str(r.year)]) == 0
            named += 1
    assert named > 0
    kept = dec[dec["passed_over_en"].str.contains("break coverage")]
    assert len(kept) > 0
    assert dec.loc[dec.decision_en == "exited", "cell_count"].ne("").any()


def test_validate_reads_the_planner_files(tmp_path):
    sc = copy_scenario(tmp_path)
    with open(sc / "nursing" / "nursing.yaml", "a", encoding="utf-8") as fh:
        fh.write("colour: red\n")
    r = run("validate", sc / "scenario.yaml")
    assert r.exit_code == 2
    assert r.stderr.strip().startswith("error: nursing.yaml, field 'colour': unknown key")


def test_allocation_rules_street_split_basic_set_indices(solved):
    """Zhangye 五(二)3, 四(一), 一(二)2: the three reports of a solve, recomputed in pandas."""
    summary = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    # street split: the shipped 表8/表9 are applied and compared with the 90/10 rule
    split = pd.read_csv(solved / "street_split.csv")
    published = pd.read_csv(ZHANGYE / "quotas_street.csv")
    m = split.merge(published, left_on=["街道 street", "类别 kind", "年份 year"],
                    right_on=["street", "kind", "year"])
    assert len(m) == 72 and (split["采用 applied"] == "published").all()
    assert (m["公布退出 exit_published"] == m["exit"]).all()
    assert (m["退出差 exit_difference"] == m["退出 exit"] - m["exit"]).all()
    county = pd.read_csv(ZHANGYE / "quotas_county.csv").set_index(["county", "kind", "year"])
    rule = split.groupby(["县区 county", "类别 kind", "年份 year"])[["准入 admit", "退出 exit"]].sum()
    for (c, k, y), r in rule.iterrows():  # the rule's streets add up to 甘州区 every year
        assert r.tolist() == county.loc[(c, k, y), ["admit", "exit"]].tolist()
    assert summary["street_split"]["applied"] == {"甘州区": "published"}
    # basic set: complete, checked again on the beds plan's 2030
    basic = pd.read_csv(solved / "basic_set.csv")
    assert (basic["状态 status"] == "有 present").all() and len(basic) == 6 * 3 + 1
    assert (basic["规划末年机构数 count_last"] >= 1).all()
    assert summary["basic_set"]["missing"] == {}
    # indices: HRAD/PAD = facility share / population share, from plan.csv and census.csv
    plan, census = read_plan(solved), pd.read_csv(ZHANGYE / "census.csv").set_index("county")
    ind = pd.read_csv(solved / "indices.csv")
    ind = ind[ind["类别 kind"] == "定点零售药店 pharmacy"].set_index(["县区 county", "年份 year"])
    pop_share = census["population"] / census["population"].sum()
    for year in ("2024", "2030"):
        have = plan[plan["kind"] == "pharmacy"].groupby("county")[year].sum()
        ratio = (have / have.sum()) / pop_share
        for c, v in ratio.items():
            assert ind.loc[(c, int(year)), "集聚度比 HRAD/PAD"] == pytest.approx(v, abs=1e-4)
    # the plan's claim (一(二)2): 甘州区's pharmacies above its population share, not after
    assert ind.loc[("甘州区", 2024), "集聚度比 HRAD/PAD"] > 1
    assert ind.loc[("甘州区", 2030), "集聚度比 HRAD/PAD"] < 1
    assert "甘州区" in summary["indices"]["kinds"]["pharmacy"]["2024"]["above_population_share"]
    from openpyxl import load_workbook

    sheets = load_workbook(solved / "plan.xlsx", read_only=True).sheetnames
    assert {"街道测算 street split", "基本配置 basic set", "集聚度 indices"} <= set(sheets)

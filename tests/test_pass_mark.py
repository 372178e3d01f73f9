"""The pass mark (16): 张掖 五(一)2 "对考核不达标和考核排名末位的终止医保服务协议", with the scores by
year (``files.scores``), worked out by hand on tiny instances, on every backend.

Cost reminders (default weights, tests/model_cases.py): an exit in year t costs that year's
score + 5 (8c), an admission 5 − review (8d), 3 per change in the busiest year of a county and
kind (8e), −10 · population per covered gain-cell year (8a).

Every solved plan is also rechecked here in plain pandas (:func:`recheck`): no facility subject
to the rule is designated at the end of a year it scores below the pass mark, and the yearly
exit limits hold for the exits they count.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from model_cases import (
    BACKENDS,
    OPTIMAL,
    PH,
    Y2,
    A,
    Cover,
    Facility,
    admissions,
    assert_infeasible,
    county_quotas,
    exits,
    fac,
    make_problem,
    solve_verified,
)
from tiny_city import write_tiny_city

from dingdian.check.verify import residuals
from dingdian.errors import ScenarioError
from dingdian.models.site import failing_pairs, lost_cover
from dingdian.scenario.loader import load_scenario
from dingdian.write.decisions import decisions_frame

MARK = 60
#: the scores table of the main instance (long form, as files.scores): E2 scores 95 in 2026,
#: E4 50 in 2026; every other year keeps facilities.csv's score
SCORES = pd.DataFrame({"facility_id": ["E2", "E4"], "year": [2026, 2026], "score": [95, 50]})


def four(scores: pd.DataFrame | None = SCORES) -> list[Facility]:
    """E1 55, E2 70, E3 90, E4 80 (existing pharmacies of 甲县), with ``scores`` by year."""
    pairs = {} if scores is None else {
        fid: tuple(zip(g["year"], g["score"], strict=True)) for fid, g in scores.groupby("facility_id")}
    return [dataclasses.replace(fac(fid, s), scores=pairs.get(fid, ()))
            for fid, s in (("E1", 55), ("E2", 70), ("E3", 90), ("E4", 80))]


def problem(limits, *, mark: int | None = MARK, within: bool = True, scores=SCORES):
    """The main instance: the 2026 target 1 (from 4), no admission, ``limits`` of exits."""
    p = make_problem(four(scores), targets={2026: 1},
                     quotas=county_quotas({y: (0, x) for y, x in zip(Y2, limits, strict=True)}))
    return dataclasses.replace(p, pass_mark=mark, pass_mark_within_limits=within)


def recheck(result, p, scores: pd.DataFrame | None = SCORES) -> None:
    """The rule and the limits recomputed from the plan in plain pandas."""
    d = result.designated.rename_axis("facility_id").reset_index().melt(
        id_vars="facility_id", var_name="year", value_name="on")
    d["year"] = d["year"].astype(int)
    base = pd.DataFrame({"facility_id": [f.id for f in p.facilities],
                         "base": [f.score for f in p.facilities],
                         "existing": [f.existing for f in p.facilities],
                         "protected": [f.protected for f in p.facilities]})
    d = d.merge(base, on="facility_id")
    table = scores if scores is not None else pd.DataFrame(columns=["facility_id", "year",
                                                                    "score"])
    d = d.merge(table, on=["facility_id", "year"], how="left")
    d["that_year"] = d["score"].fillna(d["base"]).astype(int)
    plan_years = d["year"].isin(p.years)
    applicable = d["existing"] | d["score"].notna()
    failing = plan_years & applicable & ~d["protected"] & (d["that_year"] < p.pass_mark) \
        if p.pass_mark is not None else pd.Series(False, index=d.index)
    assert not (failing & (d["on"] == 1)).any(), d[failing & (d["on"] == 1)]
    # exits per year, those of a failing facility left out when they are outside the limits
    wide = d.pivot(index="facility_id", columns="year", values="on")
    out = {(fid, t): t - 1 in wide.columns and wide.loc[fid, t - 1] == 1 and wide.loc[fid, t] == 0
           for fid in wide.index for t in p.years}
    fail = set(zip(d.loc[failing, "facility_id"], d.loc[failing, "year"], strict=True))
    for q in p.quotas:
        counted = sum(v for (fid, t), v in out.items() if t == q.year
                      and (p.pass_mark_within_limits or (fid, t) not in fail))
        assert counted <= q.exit, (q, counted)


# ----------------------------------------------------------------------------- the rule
@pytest.mark.parametrize("backend", BACKENDS)
def test_pass_mark_exits_each_failing_facility_in_its_year(backend, tmp_path):
    # Limits: 1 exit in 2025, 2 in 2026; the 2026 target 1 needs 3 exits. E1 (55) fails in
    # 2025 and must go then: it takes 2025's one exit (55 + 5 = 60). E4 scores 50 in 2026: it
    # must go in 2026 (50 + 5 = 55). The third exit, in 2026, is the cheaper of E3 (90 + 5 =
    # 95) and E2 (95 in 2026: 100): E3. Busiest year 2026, 2 changes: 6. 60 + 55 + 95 + 6 = 216.
    p = problem((1, 2))
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 216
    assert exits(r) == {"E1": 2025, "E4": 2026, "E3": 2026}
    assert r.objective_terms["8c_exits"] == 210
    recheck(r, p)


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_the_pass_mark_the_lowest_score_may_wait(backend, tmp_path):
    # The twin without the rule: one exit in 2025 and two in 2026, each at that year's score.
    # 2025: E1 60, E2 75, E3 95, E4 85; 2026: E1 60, E2 100, E3 95, E4 55. Best: E2 in 2025
    # (75, before its 2026 score of 95 makes it dear), E1 and E4 in 2026 (60 + 55): 190 + 6 =
    # 196 — E1 (55) stays a year, which the pass mark forbids.
    r = solve_verified(problem((1, 2), mark=None), backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 196
    assert exits(r) == {"E2": 2025, "E1": 2026, "E4": 2026}


@pytest.mark.parametrize("backend", BACKENDS)
def test_pass_mark_on_facilities_csv_scores_alone(backend, tmp_path):
    # No scores table: E1 (55) still fails in 2025 (60); the 2026 exits are the two cheapest
    # left, E2 (75) and E4 (85): 60 + 160 + 6 = 226.
    p = problem((1, 2), scores=None)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 226
    assert exits(r) == {"E1": 2025, "E2": 2026, "E4": 2026}
    recheck(r, p, None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_within_the_limits_infeasible_twin(backend, tmp_path):
    # No exit allowed in 2025 and one in 2026. Counted within the limits, E1's forced 2025 exit
    # overruns 表7's 0 — infeasible, and the line says the pass mark forces it.
    assert_infeasible(problem((0, 1)), backend, tmp_path, "2025 needs 1 exits",
                      "the limit in 表7 is 0",
                      "1 score below the pass mark 60 in 2025 and must exit: 考核不达标",
                      "1 over")


@pytest.mark.parametrize("backend", BACKENDS)
def test_outside_the_limits_twin(backend, tmp_path):
    # The same limits with pass-mark exits outside them (the default reading): E1 goes in 2025
    # and E4 in 2026 uncounted; the one counted 2026 exit is E3 (95 < 100): 60 + 55 + 95 + 6 =
    # 216, the limits 0 and 1 hold for the exits they count.
    p = problem((0, 1), within=False)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 216
    assert exits(r) == {"E1": 2025, "E4": 2026, "E3": 2026}
    recheck(r, p)


@pytest.mark.parametrize("backend", BACKENDS)
def test_protected_stay_and_a_review_is_no_assessment(backend, tmp_path):
    # V1 (protected, 40) stays: protected facilities are outside the rule. A1 applies with a
    # review of 50: a review is no assessment, so A1 may come in: 5 − 50 = −45 and 3 for the
    # busiest year, −42 (in 2025 or 2026 alike; the tie-break picks the year). With a 2026 assessment of 40 from the scores table it would
    # have to exit in 2026: −45 + (40 + 5) + 3 = +3 > 0, so it stays out: 0.
    v1 = fac("V1", 40, protected=True)
    a1 = Facility(id="A1", kind=PH, county=A, existing=False, score=50, available_from=2025)
    base = make_problem([v1, a1], quotas=county_quotas({2025: (1, 1), 2026: (1, 1)}))
    p = dataclasses.replace(base, pass_mark=MARK)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -42 and set(admissions(r)) == {"A1"}
    assert exits(r) == {}
    scored = dataclasses.replace(p, facilities=(v1, dataclasses.replace(a1, scores=((2026, 40),))))
    r = solve_verified(scored, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 0 and admissions(r) == {} and exits(r) == {}
    assert failing_pairs(scored) == [("A1", 2026)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cell_whose_only_facility_fails_becomes_a_gain_cell(backend, tmp_path):
    # Keep cell k1 (100 people) is reached by E1 (55) alone among the existing, and by the
    # applicant A1 (review 80). E1 must go in 2025; k1 then counts as a gain cell (8a) instead
    # of a hard row (5), and A1 fills it at once: 60 (E1) − 75 (A1) − 10·100·2 (k1 covered in
    # 2025 and 2026) + 3·2 (2025 has two changes) = −2009. Without A1 the cell is left
    # uncovered — a blind spot, not an impossible plan: 60 + 3 = 63.
    a1 = Facility(id="A1", kind=PH, county=A, existing=False, score=80, available_from=2025)
    cover = [Cover("k1", A, PH, 100, "keep", ("E1", "A1"))]
    p = make_problem([fac("E1", 55), a1], cover=cover,
                     quotas=county_quotas({2025: (1, 1), 2026: (1, 1)}))
    p = dataclasses.replace(p, pass_mark=MARK)
    assert lost_cover(p) == {("k1", PH, 2025), ("k1", PH, 2026)}
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == -2009
    assert exits(r) == {"E1": 2025} and admissions(r) == {"A1": 2025}
    alone = dataclasses.replace(p, facilities=(fac("E1", 55),),
                                cover=(Cover("k1", A, PH, 100, "keep", ("E1",)),))
    r = solve_verified(alone, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 63 and exits(r) == {"E1": 2025}


# ----------------------------------------------------------------------------- the checks
def _hand_plan(p, rows: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame([{"facility_id": f.id, "kind": f.kind, "county": f.county, "street": "",
                          "protected": f.protected, "status": "existing",
                          **{str(y): v for y, v in zip((2024, *Y2), rows[f.id], strict=True)}}
                         for f in p.facilities])


def test_residuals_catch_a_plan_breaking_the_rule():
    p = problem((1, 2))
    stays = _hand_plan(p, {"E1": [1, 1, 0], "E2": [1, 0, 0], "E3": [1, 1, 1], "E4": [1, 1, 0]})
    assert "16 pass mark: E1 scores 55 in 2025, below the pass mark 60, but is designated " \
           "at the end of 2025" in residuals(stays, p)
    good = _hand_plan(p, {"E1": [1, 0, 0], "E2": [1, 1, 1], "E3": [1, 1, 0], "E4": [1, 1, 0]})
    assert residuals(good, p) == []
    # outside the limits the forced exits are not counted; within they are
    tight = problem((0, 1), within=False)
    assert residuals(good, tight) == []
    within = problem((0, 1))
    assert "3 county quota: 甲县 pharmacy 2025: 1 exits, limit 0 (at_most)" in residuals(good, within)


def test_decisions_say_why():
    p = problem((1, 2))
    fac_frame = pd.DataFrame({"facility_id": ["E1", "E2", "E3", "E4"], "name": "x", "kind": PH,
                              "county": A, "street": "", "status": "existing",
                              "available_from": 2024, "score": [55, 70, 90, 80],
                              "protected": False})
    designated = pd.DataFrame({2024: [1, 1, 1, 1], 2025: [0, 1, 1, 1], 2026: [0, 1, 0, 0]},
                              index=["E1", "E2", "E3", "E4"])
    quotas = pd.DataFrame([{"level": "county", "county": A, "area": A, "kind": PH, "year": y,
                            "admit": 0, "exit": x, "source": ""} for y, x in ((2025, 1),
                                                                               (2026, 2))])
    cells = pd.DataFrame({"cell_id": [], "must_cover_clinic": [], "must_cover_pharmacy": []})
    d = decisions_frame(fac_frame, designated, quotas, {}, cells, p).set_index("facility_id")
    assert d.loc["E1", "rule_zh"] == "考核不达标: 考核 55 分, 低于合格线 60 分 (五(一)2)"
    assert d.loc["E4", "rule_zh"] == "考核不达标: 考核 50 分, 低于合格线 60 分 (五(一)2)"
    assert d.loc["E4", "score"] == 50  # that year's score, from the scores table
    assert d.loc["E3", "rule_zh"].startswith("末位淘汰: 考核 90 分")
    assert d.loc["E3", "quota_used"] == 2
    outside = problem((1, 2), within=False)
    d = decisions_frame(fac_frame, designated, quotas, {}, cells, outside).set_index("facility_id")
    assert d.loc["E4", "rule_zh"].endswith("不计入年度退出计划")
    assert d.loc["E4", "rule_en"].endswith("outside the yearly exit limits")
    assert d.loc["E3", "quota_used"] == 1  # E4's exit is not counted in 表7


# ----------------------------------------------------------------------------- the scores table
def _city(tmp_path, scores: str | None, rules: str = "rules: {pass_mark: 60}\n"):
    path = write_tiny_city(tmp_path / "city")
    text = path.read_text(encoding="utf-8")
    if scores is not None:
        (path.parent / "scores.csv").write_text(scores, encoding="utf-8")
        text = text.replace("  county_quotas: quotas_county.csv\n",
                            "  county_quotas: quotas_county.csv\n  scores: scores.csv\n")
    path.write_text(text + rules, encoding="utf-8")
    return path


def test_scores_table_errors_name_file_row_and_field(tmp_path):
    bad = ("facility_id,year,score\nP1,2026,88\nP9,2026,70\nP2,2031,70\nP3,2027,101\n"
           "P1,2026,90\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(_city(tmp_path, bad))
    lines = [str(e) for e in exc.value.problems]
    assert lines == [
        "scores.csv row 3, field 'facility_id': unknown facility 'P9' (not in the facility list)",
        "scores.csv row 4, field 'year': 2031 is not a planning year (2025–2030)",
        "scores.csv row 5, field 'score': 101 is above 100",
        "scores.csv row 6, field 'year': duplicate facility and year 'P1, 2026' (first at row 2)",
    ]
    assert all("\n" not in line for line in lines)


def test_scores_table_with_chinese_headings(tmp_path):
    sc = load_scenario(_city(tmp_path, "机构编码,年度,考核得分\nP2,2025,50\nP3,2027,88.5\n"))
    f = {x.id: x for x in sc.problem.facilities}
    assert f["P2"].scores == ((2025, 50),) and f["P3"].scores == ((2027, 89),)  # rounded
    assert f["P2"].score_in(2025) == 50 and f["P2"].score_in(2026) == 80
    assert sc.problem.pass_mark == 60 and not sc.problem.pass_mark_within_limits
    assert failing_pairs(sc.problem) == [("P2", 2025)]
    assert any("rounded" in w for w in sc.warnings)


def test_pass_mark_switch_is_checked(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(_city(tmp_path, None, "rules: {pass_mark: 120}\n"))
    assert str(exc.value).startswith("scenario.yaml, field 'rules.pass_mark': ")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(_city(tmp_path, None, "rules: {pass_mark: 60, pass_mark_exits: both}\n"))
    assert "rules.pass_mark_exits" in str(exc.value)


SOLVERS = ("highs", "cbc", "cpsat")


@pytest.mark.parametrize("solver", SOLVERS)
def test_tiny_city_end_to_end(tmp_path, solver):
    # 示例市 (tests/tiny_city.py): without the rule P3 (60) exits in 2025 (末位淘汰), objective
    # 92 = crowding 24 + P3's exit 65 + spread 3. P2 scores 50 in 2025 (scores.csv): it must go
    # in 2025 (50 + 5 = 55), outside the yearly limit; the 2028 target 2 is then met with P1
    # and P3 (60, not below the mark), so P3 stays: 24 + 55 + 3 = 82.
    import dingdian

    plan = dingdian.solve(_city(tmp_path, "facility_id,year,score\nP2,2025,50\n"),
                          solver=solver)
    assert plan.status == "optimal" and plan.objective == 82
    f = plan.facilities.set_index("facility_id")
    assert f.loc["P2", ["2024", "2025"]].tolist() == [1, 0]
    assert f.loc["P3", "2030"] == 1 and f.loc["P1", "2030"] == 1
    d = plan.decisions.set_index("facility_id")
    assert d.loc["P2", "rule_zh"] == ("考核不达标: 考核 50 分, 低于合格线 60 分 (五(一)2), "
                                      "不计入年度退出计划")
    assert plan.check() == []

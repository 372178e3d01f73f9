"""Special-zone proposals for expert review (张掖 五(二)2, dingdian.write.proposals): the zone
applicants a plan leaves out, ranked greedily by the blind-spot population each adds; and the
shipped Zhangye plan, which books no override and writes the list instead."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dingdian.models.data import Cover, Facility, SiteProblem
from dingdian.write.proposals import COLUMNS, NOTE, zone_proposals

A, PH = "甲县", "pharmacy"


def _case():
    # Applicants (pharmacies, one planning year 2025): Z1 blind spot (review 80), Z2 blind
    # spot (90), Z3 high-demand area (70), Z4 blind spot (85, admitted by the plan), N1 no
    # zone (admitted). Gain cells (not covered in 2024): g1 500 people reached by Z1 and Z2;
    # g2 300 by Z1 only; g3 200 by Z2 and N1; g4 100 by Z4.
    fac = (Facility("E1", PH, A), Facility("Z1", PH, A, existing=False, score=80, zone="blind"),
           Facility("Z2", PH, A, existing=False, score=90, zone="blind;weak"),
           Facility("Z3", PH, A, existing=False, score=70, zone="demand"),
           Facility("Z4", PH, A, existing=False, score=85, zone="blind"),
           Facility("N1", PH, A, existing=False, score=95))
    cover = (Cover("g1", A, PH, 500, "gain", ("Z1", "Z2")), Cover("g2", A, PH, 300, "gain", ("Z1",)),
             Cover("g3", A, PH, 200, "gain", ("Z2", "N1")), Cover("g4", A, PH, 100, "gain", ("Z4",)))
    problem = SiteProblem(fac, (), (), cover=cover, years=(2025,))
    plan = pd.DataFrame({"facility_id": [f.id for f in fac],
                         "name": [f"机构{f.id}" for f in fac],
                         "2024": [1, 0, 0, 0, 0, 0], "2025": [1, 0, 0, 0, 1, 1]})
    return plan, problem


def test_ranked_by_the_blind_spots_each_adds():
    # At the end of 2025 N1 covers g3 and Z4 covers g4: the blind cells left are g1 and g2.
    # Alone: Z1 serves g1 + g2 = 800, Z2 g1 = 500 (g3 is covered), Z3 nothing. Greedy: Z1 first
    # (adds 800); then Z2 adds 0 (g1 is served) and Z3 0, Z2 ahead on its 500 alone. Z4 and N1
    # are admitted and N1 lies in no zone: neither is proposed.
    plan, problem = _case()
    got = zone_proposals(plan, problem)
    assert list(got.columns) == COLUMNS
    rows = got[["序号 rank", "机构编码 facility_id", "可填补盲区单元 cells", "盲区人口 alone",
                "按序新增 marginal", "评议得分 review"]].values.tolist()
    assert rows == [[1, "Z1", 2, 800, 800, 80], [2, "Z2", 1, 500, 0, 90], [3, "Z3", 0, 0, 0, 70]]
    assert got["机构名称 name"].tolist() == ["机构Z1", "机构Z2", "机构Z3"]
    assert got.loc[1, "特殊区域 zone"] == "服务覆盖盲区 blind spot；服务薄弱区域 weak area"
    assert (got["说明 note"] == NOTE).all()
    # recomputed: the marginal figures add up to the people of the blind cells they reach
    assert got["按序新增 marginal"].sum() == 500 + 300


def test_only_the_kinds_of_the_zones():
    # kinds = (clinic,): the pharmacy candidates are not proposed (张掖 五(二)2 is the pharmacy
    # section, zones.kinds [pharmacy]; the other way round here)
    plan, problem = _case()
    assert zone_proposals(plan, problem, ("clinic",)).empty
    assert len(zone_proposals(plan, problem, ("pharmacy",))) == 3


def test_nothing_to_propose():
    # every zone applicant admitted: an empty list with the same columns
    plan, problem = _case()
    plan["2025"] = 1
    got = zone_proposals(plan, problem)
    assert got.empty and list(got.columns) == COLUMNS


@pytest.mark.slow
def test_zhangye_books_no_override_and_proposes(tmp_path):
    # budget_per_year 0 (五(二)2: the expert review comes before an admission): no override
    # in plan.csv, the yearly limits hold as published, and zone_proposals.csv lists the zone
    # applicants left out, its marginal column adding up to summary.json's figure.
    import dingdian

    plan = dingdian.solve(Path(__file__).resolve().parents[1] / "scenarios" / "zhangye")
    out = plan.write(tmp_path / "out")
    p = pd.read_csv(out / "plan.csv", dtype=str, keep_default_na=False)
    assert (p["approval"] == "").all()
    props = pd.read_csv(out / "zone_proposals.csv", dtype={"机构编码 facility_id": str})
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    section = summary["allocation"]["special_zones"]
    assert section["overrides"] == [] and section["budget"] == 0
    assert section["proposals"]["candidates"] == len(props) > 0
    assert section["proposals"]["population"] == props["按序新增 marginal"].sum()
    assert props["类别 kind"].eq("药店 pharmacy").all()  # zones.kinds: [pharmacy]
    end = p.set_index("facility_id")["2030"]
    assert (end[props["机构编码 facility_id"]] == "0").all()
    assert props["按序新增 marginal"].is_monotonic_decreasing

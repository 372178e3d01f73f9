"""County basic set (dingdian.planners.basic_set, Zhangye 四(一)): 综合医院, 中医类, 妇幼保健机构 per county,
民族医 first in ethnic areas. A check, not a constraint: gaps are reported, never errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dingdian.cli.main import main
from dingdian.errors import ScenarioError
from dingdian.planners.basic_set import (
    MISSING,
    PRESENT,
    basic_set_extra,
    basic_set_frame,
    basic_set_summary,
    read_hospital_types,
)
from dingdian.scenario.loader import load_scenario

ZHANGYE = Path(__file__).resolve().parents[1] / "scenarios" / "zhangye"


def hospitals() -> pd.DataFrame:
    # 甲县: complete (中西医结合医院 fills 中医类). 乙县: no 妇幼保健院 (the violating twin).
    # 丙县, an ethnic county: 中医医院 fills 中医类 but no 民族医医院, which comes first there.
    rows = [("H1", "甲县", "综合医院"), ("H2", "甲县", "中西医结合医院"), ("H3", "甲县", "妇幼保健院"),
            ("H4", "甲县", "专科医院"),
            ("H5", "乙县", "综合医院"), ("H6", "乙县", "中医医院"), ("H7", "乙县", "乡镇卫生院"),
            ("H8", "丙县", "综合医院"), ("H9", "丙县", "中医医院"), ("H10", "丙县", "妇幼保健院")]
    return pd.DataFrame([{"hospital_id": i, "name": f"{c}医院{i}", "county": c, "type": t}
                         for i, c, t in rows])


def status(frame: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(r.county, r.key): r.status for r in frame.itertuples(index=False)}


def test_basic_set_by_hand():
    frame = basic_set_frame(hospitals(), ["甲县", "乙县", "丙县"], ethnic_counties=("丙县",))
    got = status(frame)
    assert got == {
        ("甲县", "general"): PRESENT, ("甲县", "tcm"): PRESENT, ("甲县", "maternal_child"): PRESENT,
        ("乙县", "general"): PRESENT, ("乙县", "tcm"): PRESENT, ("乙县", "maternal_child"): MISSING,
        ("丙县", "general"): PRESENT, ("丙县", "tcm"): PRESENT, ("丙县", "maternal_child"): PRESENT,
        ("丙县", "ethnic"): MISSING,
    }
    tcm = frame[(frame["county"] == "甲县") & (frame["key"] == "tcm")].iloc[0]
    assert tcm["count"] == 1 and tcm["institutions"] == "H2 甲县医院H2 (中西医结合医院)"
    summary = basic_set_summary(frame)
    assert summary["complete"] == ["甲县"]
    assert summary["missing"] == {"乙县": ["maternal_child"], "丙县": ["ethnic"]}
    assert summary["warnings"] == [
        "乙县: 妇幼保健机构 maternal and child missing — 原则上1家, but none is designated",
        "丙县: 民族医 ethnic medicine missing — 民族地区优先设立民族医保定点医疗机构, but none is "
        "designated"]
    # not an ethnic county: no 民族医 row, so 丙县 is complete
    plain = basic_set_summary(basic_set_frame(hospitals(), ["丙县"]))
    assert plain["complete"] == ["丙县"] and plain["warnings"] == []


def test_a_county_without_hospitals_misses_everything():
    frame = basic_set_frame(hospitals(), ["丁县"])
    assert frame["status"].tolist() == [MISSING] * 3 and (frame["count"] == 0).all()


def test_a_hospital_left_without_beds_no_longer_counts():
    # the beds plan's last year: H3 (甲县's only 妇幼保健院) has no bed left
    last = {"H1", "H2", "H4"}
    frame = basic_set_frame(hospitals(), ["甲县"], last=last)
    assert status(frame)[("甲县", "maternal_child")] == MISSING
    assert frame["count"].tolist() == [1, 1, 1] and frame["count_last"].tolist() == [1, 1, 0]
    assert basic_set_summary(frame, 2030)["warnings"] == [
        "甲县: 妇幼保健机构 maternal and child missing — none left with beds in 2030 (it had 1)"]


def test_hospital_types_are_read_and_checked(tmp_path):
    path = tmp_path / "hospitals.csv"
    hospitals().to_csv(path, index=False)
    assert read_hospital_types(path, ["甲县", "乙县", "丙县"]).equals(hospitals())
    bad = hospitals()
    bad.loc[1, "type"] = "医院"
    bad.to_csv(path, index=False)
    with pytest.raises(ScenarioError) as exc:
        read_hospital_types(path, ["甲县", "乙县", "丙县"])
    assert str(exc.value).startswith("hospitals.csv row 3, field 'type': unknown institution "
                                     "type '医院'")
    hospitals().drop(columns="type").to_csv(path, index=False)
    assert read_hospital_types(path, ["甲县"]) is None


def test_zhangye_basic_set_is_complete_with_yugur_ethnic_hospital():
    sc = load_scenario(ZHANGYE / "scenario.yaml")
    extra = basic_set_extra(sc)
    assert extra.summary["complete"] == ["甘州区", "临泽县", "高台县", "山丹县", "民乐县", "肃南县"]
    table = extra.files["basic_set.csv"]
    ethnic = table[table["类别 group"] == "民族医 ethnic medicine"]
    assert ethnic["县区 county"].tolist() == ["肃南县"]  # rules.ethnic_counties
    # recomputed from hospitals.csv in plain pandas
    h = pd.read_csv(ZHANGYE / "beds" / "hospitals.csv")
    for county, grp in h.groupby("county"):
        assert {"综合医院", "妇幼保健院"} <= set(grp["type"]), county
        assert set(grp["type"]) & {"中医医院", "中西医结合医院", "民族医医院"}, county
    assert "民族医医院" in set(h.loc[h["county"] == "肃南县", "type"])


def copy_scenario(tmp_path: Path) -> Path:
    dst = tmp_path / "zhangye"
    shutil.copytree(ZHANGYE, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return dst


def test_cli_warns_about_a_missing_institution_and_refuses_a_bad_type(tmp_path):
    scen = copy_scenario(tmp_path)
    path = scen / "beds" / "hospitals.csv"
    h = pd.read_csv(path, dtype=str, keep_default_na=False)
    h.loc[(h["county"] == "临泽县") & (h["type"] == "妇幼保健院"), "type"] = "专科医院"
    h.to_csv(path, index=False)
    r = CliRunner().invoke(main, ["validate", str(scen)])
    assert r.exit_code == 0, r.output
    assert "警告 warning: 临泽县: 妇幼保健机构 maternal and child missing" in r.output
    h.loc[3, "type"] = "hospital"
    h.to_csv(path, index=False)
    r = CliRunner().invoke(main, ["validate", str(scen)])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        "error: hospitals.csv row 5, field 'type': unknown institution type 'hospital' (known: "
        "综合医院, 中医医院, 中西医结合医院, 民族医医院, 妇幼保健院, 专科医院, 乡镇卫生院)"]


def test_unknown_ethnic_county_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"base: {ZHANGYE / 'scenario.yaml'}\nname: bad\n"
                   "rules: {ethnic_counties: [肃南县, 南山县]}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(bad)
    assert str(exc.value) == ("bad.yaml, field 'rules.ethnic_counties[1]': unknown county "
                              "'南山县' (line 3)")

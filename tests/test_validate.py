"""``dingdian validate`` on 示例市 (tests/tiny_city.py): every problem at once, in every form.

Each test damages the tiny city's files in a way a bureau's own lists do, and checks the exact
lines: the file, the row as Excel shows it (the heading is row 1, so the first facility, P1, is
row 2 and C2 row 7) and the field. Checks across files (a quota row for every county, kind and
year; the declared 2024 counts; street quotas within their county's; street labels against the
outlines; overlapping counties) are bad input, exit 2; targets the yearly limits cannot reach are
an impossible plan, exit 3, said before any solve.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_city import edit, run, write_tiny_city

import dingdian


@pytest.fixture()
def city(tmp_path) -> Path:
    return write_tiny_city(tmp_path / "city").parent


def drop_row(path: Path, starts: str) -> None:
    """Remove the one CSV line that starts with ``starts``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [x for x in lines if not x.startswith(starts)]
    assert len(kept) == len(lines) - 1, starts
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")


def errors(result) -> list[str]:
    return [line.removeprefix("error: ") for line in result.stderr.strip().splitlines()]


def test_the_tiny_city_is_valid(city):
    r = run("validate", city)
    assert r.exit_code == 0, r.output
    assert "情景有效 scenario is valid" in r.output


def test_every_problem_of_every_file_at_once(city):
    fac = city / "facilities.csv"
    edit(fac, "pharmacy,chain_pharmacy,甲县,,", "pharmacy,chain_pharmacy,乙县,,")  # P2, row 3
    edit(fac, ",existing,60", ",existing,sixty")  # P3, row 4
    edit(fac, "A1,甲县新开药店,pharmacy", "A1,甲县新开药店,hospital")  # row 5
    edit(city / "census.csv", "20000,0.5", "20000,1.5")
    edit(city / "targets.csv", "甲县,clinic,2,2,2", "甲县,clinic,2,-2,2")
    r = run("validate", city)
    assert r.exit_code == 2
    assert errors(r) == [
        "census.csv row 2, field 'urban_share': 1.5 is above 1.0",
        "targets.csv row 2, field 'target_2028': -2 is below 0",
        "facilities.csv row 3, field 'county': unknown county '乙县' (known: 甲县)",
        "facilities.csv row 4, field 'score': 'sixty' is not a number",
        "facilities.csv row 5, field 'kind': unknown kind 'hospital' (known: clinic 诊所, "
        "pharmacy 药店)",
    ]


def test_a_missing_quota_row_is_an_error_not_no_limit(city):
    drop_row(city / "quotas_county.csv", "甲县,pharmacy,2027,0,1")
    r = run("validate", city)
    assert r.exit_code == 2
    assert errors(r) == ["quotas_county.csv, field 'year': no row for 甲县 pharmacy in 2027: "
                         "without a row that year would have no limit; give the plan's figures"]


def test_declared_counts_must_match_the_list(city):
    edit(city / "targets.csv", "甲县,pharmacy,3,2,2", "甲县,pharmacy,4,2,2")
    r = run("validate", city)
    assert r.exit_code == 2
    assert errors(r) == ["targets.csv row 3, field 'existing_2024': 甲县 pharmacy: 4 designated "
                         "in 2024 here, but facilities.csv lists 3 existing (-1)"]


def test_streets_within_county_and_labels_against_outlines(city):
    """Split 甲县城区 into 西街 (west of a line about 27 m west of the centre) and 东街 (east
    of it): P1, P2, P3 and C1 stand in 东街, A1 and C2 in 西街; P2 (row 3) is labelled 西街.
    Street quotas: 东街 may exit 1 pharmacy a year, 西街 1 too, 2 in all against the
    county's 1."""
    areas = json.loads((city / "urban_areas.geojson").read_text(encoding="utf-8"))
    ring = areas["features"][0]["geometry"]["coordinates"][0]
    mid = (ring[0][0] + ring[1][0]) / 2 - 0.0003
    west = [[ring[0][0], ring[0][1]], [mid, ring[1][1]], [mid, ring[2][1]],
            [ring[3][0], ring[3][1]], [ring[0][0], ring[0][1]]]
    east = [[mid, ring[0][1]], [ring[1][0], ring[1][1]], [ring[2][0], ring[2][1]],
            [mid, ring[3][1]], [mid, ring[0][1]]]
    areas["features"] = [
        {"type": "Feature", "properties": {"county": "甲县", "street": s, "name": s},
         "geometry": {"type": "Polygon", "coordinates": [g]}}
        for s, g in (("西街街道", west), ("东街街道", east))]
    (city / "urban_areas.geojson").write_text(json.dumps(areas, ensure_ascii=False), "utf-8")
    fac = city / "facilities.csv"
    text = fac.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(text[1:], start=1):  # label every facility by where it stands
        fid = line.split(",")[0]
        street = "东街街道" if fid in ("P1", "P2", "P3", "C1") else "西街街道"
        parts = line.split(",")
        parts[5] = street
        text[i] = ",".join(parts)
    text[2] = text[2].replace("东街街道", "西街街道")  # P2 (row 3) mislabelled
    fac.write_text("\n".join(text) + "\n", encoding="utf-8")
    rows = ["county,street,kind,year,admit,exit"]
    rows += [f"甲县,{s},pharmacy,{y},0,1" for s in ("东街街道", "西街街道")
             for y in range(2025, 2031)]
    (city / "quotas_street.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    edit(city / "scenario.yaml", "  county_quotas: quotas_county.csv\n",
         "  county_quotas: quotas_county.csv\n  street_quotas: quotas_street.csv\n")
    r = run("validate", city)
    assert r.exit_code == 2
    lines = errors(r)
    assert lines[:6] == [f"quotas_street.csv, field 'exit': 甲县 pharmacy {y}: the streets' "
                         "exits add up to 2, more than the county's 1" for y in range(2025, 2031)]
    assert lines[6:] == ["facilities.csv row 3, field 'street': P2 lies in 东街街道's outline "
                         "but labelled '西街街道'"]


def test_overlapping_counties(city):
    data = json.loads((city / "counties.geojson").read_text(encoding="utf-8"))
    twin = json.loads(json.dumps(data["features"][0]))
    twin["properties"]["short_name"] = "乙县"
    data["features"].append(twin)
    (city / "counties.geojson").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    edit(city / "census.csv", "甲县,20000,0.5\n", "甲县,20000,0.5\n乙县,100,0\n")
    r = run("validate", city)
    assert r.exit_code == 2
    assert errors(r) == ["counties.geojson, field 'geometry': 甲县 and 乙县 overlap by "
                         "16.00 km² (each place must belong to one county)"]


def test_targets_out_of_reach_are_said_before_any_solve(tmp_path):
    """No pharmacy may exit: the 2028 target of 2 needs 1 exit of the 3, the limits allow 0 —
    the same sentence the elastic explanation gives after a solve."""
    city = write_tiny_city(tmp_path / "twin", exit_limit=0).parent
    r = run("validate", city)
    assert r.exit_code == 3
    said = [line.strip() for line in r.stderr.splitlines() if line.strip().startswith("- ")]
    sentence = ("甲县 定点零售药店 (pharmacies): the {y} target 2 needs 1 exits by {y} (3 "
                "designated in 2024), the yearly exit limits (the county quotas) allow at most 0 — 1 short")
    assert said == [f"- {sentence.format(y=y)}" for y in (2028, 2030)]
    plan = dingdian.solve(city)
    assert plan.explain() == [sentence.format(y=y) for y in (2028, 2030)]


def test_the_list_is_capped(city):
    fac = city / "facilities.csv"
    lines = fac.read_text(encoding="utf-8").splitlines()
    extra = [f"X{i},甲县药店{i},pharmacy,chain_pharmacy,甲县,,115.0,35.0,applicant,999"
             for i in range(25)]
    fac.write_text("\n".join(lines + extra) + "\n", encoding="utf-8")
    r = run("validate", city)
    assert r.exit_code == 2
    got = errors(r)
    assert len(got) == 21 and got[-1] == "… and 5 more problems"
    assert got[0] == "facilities.csv row 8, field 'score': 999 is above 100"
    r = run("validate", city, "--max-errors", "30")
    assert len(errors(r)) == 25


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_any_chinese_encoding(city, encoding):
    for name in ("facilities.csv", "census.csv", "targets.csv"):
        text = (city / name).read_text(encoding="utf-8")
        (city / name).write_bytes(text.encode(encoding))
    assert dingdian.load(city).facilities["name"].iloc[0] == "甲县大药房"


def test_an_undecodable_file_says_how_to_save_it(city):
    (city / "census.csv").write_bytes(b"county,population,urban_share\n\xff\xfe,1,0\n")
    with pytest.raises(dingdian.ScenarioError) as err:
        dingdian.load(city)
    assert str(err.value) == ("census.csv: cannot decode: not UTF-8 and not GBK/GB18030; save it "
                              "as UTF-8 (Excel: 'CSV UTF-8', or .xlsx)")


def test_a_yaml_saved_in_gbk_is_read(city):
    path = city / "scenario.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    assert dingdian.load(city).config.title.startswith("示例市")


def test_chinese_headings_and_values(city):
    fac = city / "facilities.csv"
    text = fac.read_text(encoding="utf-8")
    text = text.replace("facility_id,name,kind,category,county,street,lon,lat,status,score",
                        "机构编码,机构名称,机构类型,机构类别,县区,街道,经度,纬度,状态,考核得分（分）")
    text = text.replace(",pharmacy,single_pharmacy,", ",药店,单体药店,")
    text = text.replace(",clinic,clinic,", ",诊所,诊所,").replace(",applicant,", ",申请,")
    fac.write_text(text, encoding="utf-8")
    sc = dingdian.load(city)
    f = sc.facilities.set_index("facility_id")
    assert f.loc["P1", "kind"] == "pharmacy" and f.loc["P1", "category"] == "single_pharmacy"
    assert f.loc["A1", "status"] == "applicant" and f.loc["C1", "kind"] == "clinic"


def test_validate_lists_beds_and_nursing_problems_with_the_site_files(tmp_path):
    """Zhangye with a bad hospital (beds planner) and a bad nursing candidate: one run lists
    both, before any solve."""
    root = Path(__file__).resolve().parents[1] / "scenarios" / "zhangye"
    scen = tmp_path / "zhangye"
    shutil.copytree(root, scen, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    lines = (scen / "beds" / "hospitals.csv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    row[head.index("beds")] = "-3"
    lines[1] = ",".join(row)
    (scen / "beds" / "hospitals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = (scen / "nursing" / "candidates.csv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    row = lines[2].split(",")
    row[head.index("lon")] = "abc"
    lines[2] = ",".join(row)
    (scen / "nursing" / "candidates.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("validate", scen)
    assert r.exit_code == 2
    got = errors(r)
    assert any(x.startswith("hospitals.csv row 2, field 'beds': -3 is below 1") for x in got), got
    assert any(x == "candidates.csv row 3, field 'lon': 'abc' is not a number" for x in got), got


def test_total_rows_are_skipped(city):
    """The plan's own tables end with a 合计 or 全市 row: read, not refused, not counted."""
    edit(city / "census.csv", "甲县,20000,0.5\n", "甲县,20000,0.5\n合计,20000,0.5\n")
    edit(city / "targets.csv", "甲县,pharmacy,3,2,2\n", "甲县,pharmacy,3,2,2\n全市,pharmacy,3,2,2\n")
    sc = dingdian.load(city)
    assert list(sc.census["county"]) == ["甲县"] and list(sc.targets["county"]) == ["甲县"] * 2


def test_decimal_scores_are_rounded_and_said(city):
    """88.5 → 89 (half up), 60.4 → 60: the objective weighs whole points; validate says so."""
    edit(city / "facilities.csv", ",existing,60", ",existing,60.4")
    edit(city / "facilities.csv", ",existing,90", ",existing,88.5")
    sc = dingdian.load(city)
    assert sc.facilities.set_index("facility_id").loc[["P1", "P3"], "score"].tolist() == [89, 60]
    r = run("validate", city)
    assert r.exit_code == 0
    assert "注意 note: facilities.csv: 2 value(s) of score rounded to whole points" in r.output


def test_a_missing_street_year_is_an_error(tmp_path):
    """示例市 (scenarios/example) without 东街街道's 2027 clinic row."""
    src = Path(__file__).resolve().parents[1] / "scenarios" / "example"
    scen = tmp_path / "example"
    shutil.copytree(src, scen)
    drop_row(scen / "quotas_street.csv", "东城区,东街街道,clinic,2027,")
    r = run("validate", scen)
    assert r.exit_code == 2
    assert errors(r) == ["quotas_street.csv, field 'year': no row for 东城区 东街街道 clinic in "
                         "2027: the street has rows for other years; give every year's figures"]


def test_a_crs_of_another_zone_is_named(city):
    """示例市 lies at 115° E, in UTM 50N; UTM 47N (99° E) would stretch every distance."""
    edit(city / "scenario.yaml", "crs: EPSG:32650", "crs: EPSG:32647")
    r = run("validate", city)
    assert r.exit_code == 2
    assert errors(r) == ["scenario.yaml, field 'crs': EPSG:32647 is centred on 99° E but the "
                         "counties lie around 115.0° E: distances would be stretched; use "
                         "EPSG:32650 (UTM 50N) or the CGCS2000 Gauss-Krüger zone of 115° E"]


def test_a_heading_typo_is_pointed_at(city):
    edit(city / "census.csv", "county,population,urban_share", "县区,人口,城镇化律")
    r = run("validate", city)
    assert errors(r) == ["census.csv, field 'urban_share': missing column (城镇化率 or 城镇人口比例) "
                         "(columns are: 县区, 人口, 城镇化律); is '城镇化律' it?"]

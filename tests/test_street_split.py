"""Street split (dingdian.planners.street_split, Zhangye 五(一)3 and 五(二)3): 人口90% + 地理10% street quotas.

Hand-worked 3-street instance used throughout (streets 东, 西, 北 of 甲县):

    population 6,000 / 3,000 / 1,000   → shares 0.6 / 0.3 / 0.1
    area       1 / 1 / 2 km²           → shares 0.25 / 0.25 / 0.5
    weight 0.9·pop + 0.1·area          → 0.565 / 0.295 / 0.140   (Σ = 1)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from model_cases import (
    BACKENDS,
    OPTIMAL,
    PH,
    Quota,
    Target,
    assert_infeasible,
    exits,
    fac,
    make_problem,
    solve_verified,
)

from dingdian.cli.main import main
from dingdian.errors import ScenarioError
from dingdian.planners.street_split import HEADINGS, street_split_extra, street_split_table
from dingdian.scenario.cells import UrbanArea
from dingdian.scenario.loader import load_scenario
from dingdian.scenario.streets import (
    DERIVED,
    derive_street_quotas,
    split_quotas,
    street_inputs,
    street_weights,
)
from dingdian.scenario.variants import resolve_config
from dingdian.write.decisions import decisions_frame

ZHANGYE = Path(__file__).resolve().parents[1] / "scenarios" / "zhangye"
A = "甲县"
STREETS = ["东", "西", "北"]


def inputs() -> pd.DataFrame:
    return pd.DataFrame({"county": A, "street": STREETS, "population": [6000, 3000, 1000],
                         "area_km2": [1.0, 1.0, 2.0], "cells": [2, 1, 1]})


def county_rows(limits: dict[int, tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame([{"level": "county", "county": A, "area": A, "kind": PH, "year": y,
                          "admit": a, "exit": e} for y, (a, e) in limits.items()])


def test_weights_by_hand():
    w = street_weights(inputs())
    assert w["population_share"].tolist() == pytest.approx([0.6, 0.3, 0.1])
    assert w["geography_share"].tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert w["weight"].tolist() == pytest.approx([0.565, 0.295, 0.140])
    # cells instead of area: 2/1/1 cells → 0.5/0.25/0.25 → 0.54+0.05, 0.27+0.025, 0.09+0.025
    assert street_weights(inputs(), "cells")["weight"].tolist() == pytest.approx(
        [0.59, 0.295, 0.115])


def test_split_by_largest_remainder_over_the_running_share():
    # 2025 exits 5: raw 2.825 / 1.475 / 0.700 → floors 2/1/0, two units left to the largest
    #   fractions .825 (东) and .700 (北) → 3/1/1.
    # 2026 exits 5: running share of 10 = 5.65 / 2.95 / 1.40, less 3/1/1 already given →
    #   owed 2.65 / 1.95 / 0.40 → floors 2/1/0, two left to .95 (西) and .65 (东) → 3/2/0;
    #   running totals 6/3/1 = ⌈5.65⌉/⌈2.95⌉/⌊1.40⌋, each within one of its share.
    #   (Rounding each year alone would repeat 3/1/1: 北 2 against a share of 1.4.)
    # 2025 admissions 2: raw 1.13 / 0.59 / 0.28 → floors 1/0/0, one left to .59 (西) → 1/1/0.
    # 2026 admissions 1: running share of 3 = 1.695 / 0.885 / 0.42, less 1/1/0 → owed
    #   0.695 / −0.115 / 0.42; 西 was favoured, its negative amount counts 0 and the unit goes
    #   over 0.695 / 0 / 0.42 → 东: 1/0/0. Running totals 2/1/0.
    split = split_quotas(county_rows({2025: (2, 5), 2026: (1, 5)}), street_weights(inputs()))
    got = split.set_index(["year", "street"])
    assert [int(got.loc[(2025, s), "exit"]) for s in STREETS] == [3, 1, 1]
    assert [int(got.loc[(2026, s), "exit"]) for s in STREETS] == [3, 2, 0]
    assert [int(got.loc[(2025, s), "admit"]) for s in STREETS] == [1, 1, 0]
    assert [int(got.loc[(2026, s), "admit"]) for s in STREETS] == [1, 0, 0]
    assert got.loc[(2026, "东"), "exit_owed"] == pytest.approx(2.65)
    assert got.loc[(2026, "西"), "admit_owed"] == pytest.approx(-0.115)
    assert got.loc[(2025, "东"), "exit_raw"] == pytest.approx(2.825)
    # the rule, recomputed: streets add up to the county every year
    sums = split.groupby("year")[["admit", "exit", "county_admit", "county_exit"]].agg(
        {"admit": "sum", "exit": "sum", "county_admit": "first", "county_exit": "first"})
    assert (sums["admit"] == sums["county_admit"]).all()
    assert (sums["exit"] == sums["county_exit"]).all()


def test_running_totals_stay_within_one_of_the_share():
    # random streets and figures: never negative, the streets add up to the county every
    # year, and each street's running total stays within one of its share
    rng = np.random.default_rng(7)
    for _ in range(100):
        n = int(rng.integers(2, 7))
        streets = pd.DataFrame({"county": A, "street": [f"s{i}" for i in range(n)],
                                "population": rng.integers(0, 100_000, n),
                                "area_km2": rng.uniform(0, 30, n), "cells": 1})
        limits = {2025 + i: (int(rng.integers(0, 5)), int(rng.integers(0, 30)))
                  for i in range(6)}
        weights = street_weights(streets)
        split = split_quotas(county_rows(limits), weights)
        for j, flow in enumerate(("admit", "exit")):
            assert (split[flow] >= 0).all()
            yearly = split.groupby("year")[flow].sum()
            assert yearly.to_dict() == {y: v[j] for y, v in limits.items()}
            running = split.pivot(index="year", columns="street", values=flow).cumsum()
            total = yearly.cumsum().to_numpy()
            share = np.outer(total, weights.set_index("street").loc[running.columns, "weight"])
            assert (np.abs(running.to_numpy() - share) < 1).all()


# ------------------------------------------------------------------ the derived rows solved
def derived_problem(protect_north: bool, target: int = 4):
    """9 pharmacies of 甲县 in three streets, one year, county exits at most 5 → the split
    3/1/1 (东/西/北, see test_split_by_largest_remainder_over_the_running_share)."""
    split = split_quotas(county_rows({2025: (0, 5)}), street_weights(inputs()))
    quotas = [Quota("county", A, PH, 2025, 0, 5)] + [
        Quota("street", r.street, PH, 2025, int(r.admit), int(r.exit))
        for r in split.itertuples(index=False)]
    facilities = [fac("E1", 10, street="东"), fac("E2", 20, street="东"),
                  fac("E3", 30, street="东"), fac("E4", 40, street="东"),
                  fac("W1", 11, street="西"), fac("W2", 12, street="西"),
                  fac("W3", 13, street="西"),
                  fac("N1", 50, street="北", protected=protect_north),
                  fac("N2", 60, street="北", protected=protect_north)]
    return make_problem(facilities, targets=(Target(A, PH, 2025, target),), quotas=quotas,
                        years=(2025,)), split


@pytest.mark.parametrize("backend", BACKENDS)
def test_derived_street_quotas_bind(backend, tmp_path):
    # 9 → 4 needs 5 exits, each costing score + 5, plus 3 × 5 for the busiest year (8e).
    # Without street quotas the five lowest go: 10, 11, 12, 13, 20 → 66 + 25 + 15 = 106.
    # With the split 东 3 / 西 1 / 北 1: 西 only its lowest (11), 北 its lowest (50), 东 the
    # three lowest (10, 20, 30): 121 + 25 + 15 = 161.
    p, split = derived_problem(protect_north=False)
    r = solve_verified(p, backend, tmp_path)
    assert r.status == OPTIMAL and r.objective == 161
    assert set(exits(r)) == {"E1", "E2", "E3", "W1", "N1"}
    # recomputed in plain pandas: exits per street within the derived quota
    made = pd.Series({fid: fid[0] for fid in exits(r)}).value_counts()
    limit = split.set_index("street")["exit"]
    for street, prefix in (("东", "E"), ("西", "W"), ("北", "N")):
        assert made.get(prefix, 0) <= limit[street]


@pytest.mark.parametrize("backend", BACKENDS)
def test_derived_street_quotas_twin_infeasible(backend, tmp_path):
    # 北's two pharmacies are protected, so its derived exit is unusable: 东 3 + 西 1 = 4 exits
    # at most, one short of the 5 the target needs (the county's 5 alone would allow it).
    p, _ = derived_problem(protect_north=True)
    assert_infeasible(p, backend, tmp_path, "the 2025 target 4 needs 5 exits", "1 short")


# ------------------------------------------------------------------ loader: the switch
def cells_and_areas():
    cells = pd.DataFrame({"cell_id": ["c1", "c2", "c3", "c4", "c5"],
                          "county": A, "street": ["东", "东", "西", "北", ""],
                          "population": [4000, 2000, 3000, 1000, 500]})
    box = shapely.box(0, 0, 1000, 1000)  # 1 km² in a projected CRS
    areas = [UrbanArea(A, "东", "东街", box), UrbanArea(A, "西", "西街", box),
             UrbanArea(A, "北", "北街", shapely.box(0, 0, 2000, 1000)),
             UrbanArea(A, "", "县城", box)]
    return cells, areas


class Rules:
    def __init__(self, mode="auto", geography="area"):
        self.street_split, self.street_split_geography = mode, geography


def error(loc, field, message):
    return ScenarioError("scenario.yaml", None, field, message)


def test_street_inputs_from_cells_and_outlines():
    cells, areas = cells_and_areas()
    got = street_inputs(cells, areas)
    assert got.to_dict("list") == {"county": [A] * 3, "street": STREETS,
                                   "population": [6000, 3000, 1000],
                                   "area_km2": [1.0, 1.0, 2.0], "cells": [2, 1, 1]}


def test_auto_derives_without_street_rows_and_compares_with_them():
    cells, areas = cells_and_areas()
    quotas = county_rows({2025: (2, 5), 2026: (1, 5)})
    applied, split = derive_street_quotas(Rules(), quotas, cells, areas, error)
    street = applied[applied["level"] == "street"]
    assert len(street) == 6 and (street["source"] == DERIVED).all()
    assert street[street["year"] == 2026]["exit"].tolist() == [3, 2, 0]
    assert (split["applied"] == DERIVED).all() and split["exit_published"].isna().all()
    # given rows: auto keeps them and reports the difference; derive replaces them
    given = pd.DataFrame([{"level": "street", "county": A, "area": s, "kind": PH, "year": y,
                           "admit": 0, "exit": e} for y in (2025, 2026)
                          for s, e in zip(STREETS, (1, 2, 2), strict=True)])
    both = pd.concat([quotas, given], ignore_index=True)
    kept, split = derive_street_quotas(Rules(), both, cells, areas, error)
    assert kept.equals(both) and (split["applied"] == "published").all()
    assert split[split["year"] == 2025]["exit_difference"].tolist() == [3 - 1, 1 - 2, 1 - 2]
    replaced, _ = derive_street_quotas(Rules("derive"), both, cells, areas, error)
    assert replaced[replaced["level"] == "street"]["exit"].tolist() == [3, 1, 1, 3, 2, 0]
    assert derive_street_quotas(Rules("off"), quotas, cells, areas, error) == (quotas, None)
    table = street_split_table(split)
    assert table.columns[0] == "县区 county" and "公布退出 exit_published" in table.columns


def test_bad_switches_are_one_line_errors():
    cells, areas = cells_and_areas()
    quotas = county_rows({2025: (2, 5)})
    no_streets = cells.assign(street="")
    with pytest.raises(ScenarioError, match=r"^scenario.yaml, field 'rules.street_split': "
                                            "derive needs streets"):
        derive_street_quotas(Rules("derive"), quotas, no_streets, areas[3:], error)
    with pytest.raises(ScenarioError, match="overrides.street_quotas'.*has no effect"):
        derive_street_quotas(Rules("derive"), quotas, cells, areas, error, street_overrides=1)


def test_unknown_mode_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"base: {ZHANGYE / 'scenario.yaml'}\n"
                   "rules: {street_split: maybe}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        resolve_config(bad)
    assert str(exc.value).startswith("bad.yaml, field 'rules.street_split': ")
    assert "\n" not in str(exc.value)


def test_decisions_name_a_derived_limit():
    fac_frame = pd.DataFrame({"facility_id": ["E1", "E2"], "name": ["e1", "e2"],
                              "kind": PH, "county": A, "street": "东", "status": "existing",
                              "available_from": 2024, "score": [10, 20], "protected": False})
    designated = pd.DataFrame({2024: [1, 1], 2025: [0, 1]}, index=["E1", "E2"])
    quotas = pd.DataFrame([
        {"level": "county", "county": A, "area": A, "kind": PH, "year": 2025, "admit": 0,
         "exit": 1, "source": ""},
        {"level": "street", "county": A, "area": "东", "kind": PH, "year": 2025, "admit": 0,
         "exit": 1, "source": DERIVED}])
    cells = pd.DataFrame({"cell_id": [], "must_cover_clinic": [], "must_cover_pharmacy": []})
    d = decisions_frame(fac_frame, designated, quotas, {}, cells)
    assert d["quota"].tolist() == ["表9 东 2025 人口90%+地理10%推算"]
    assert d["quota_limit"].tolist() == [1] and d["rule_zh"].str.startswith("末位淘汰").all()


# ------------------------------------------------------------------ the Zhangye scenario
def zhangye_variant(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "variant.yaml"
    path.write_text(f"base: {ZHANGYE / 'scenario.yaml'}\nname: zhangye-test\n{body}",
                    encoding="utf-8")
    return path


def test_zhangye_without_street_file_derives_street_quotas(tmp_path):
    # county targets and quotas but no quotas_street.csv: auto derives 表8/表9
    sc = load_scenario(zhangye_variant(tmp_path, "files: {street_quotas: null}\n"))
    county = sc.quotas[sc.quotas["level"] == "county"].set_index(["county", "kind", "year"])
    street = sc.quotas[sc.quotas["level"] == "street"]
    assert len(street) == 6 * 2 * 6 and (street["source"] == DERIVED).all()
    sums = street.groupby(["county", "kind", "year"])[["admit", "exit"]].sum()
    assert sums.equals(county.loc[sums.index, ["admit", "exit"]])  # streets add up to 甘州区
    problem_rows = [q for q in sc.problem.quotas if q.level == "street"]
    assert len(problem_rows) == 72  # fed to constraint (4)
    # the weights, recomputed from cells.csv-like data: 90 % population + 10 % area share
    split = sc.street_split.drop_duplicates("street").set_index("street")
    pop = sc.cells[sc.cells["street"] != ""].groupby("street")["population"].sum()
    area = pd.Series({a.street: a.geom.area / 1e6 for a in sc.urban_areas if a.street})
    want = 0.9 * pop / pop.sum() + 0.1 * area / area.sum()
    assert split["weight"].to_numpy() == pytest.approx(want[split.index].to_numpy())
    assert sc.street_split["exit_published"].isna().all()
    extra = street_split_extra(sc)
    assert extra.summary["applied"] == {"甘州区": DERIVED} and extra.summary["comparison"] == {}
    # 火车站街道 holds 15 pharmacies but the rule gives it about a quarter of 150 exits
    assert any("火车站街道 pharmacy" in w for w in extra.summary["warnings"])


def test_zhangye_shipped_quotas_are_compared_not_replaced():
    sc = load_scenario(ZHANGYE / "scenario.yaml")
    assert "source" not in sc.quotas  # nothing derived: the model is unchanged
    extra = street_split_extra(sc)
    split = sc.street_split
    published = pd.read_csv(ZHANGYE / "quotas_street.csv").rename(columns={
        "admit": "admit_published", "exit": "exit_published"})
    merged = split.merge(published, on=["county", "street", "kind", "year"],
                         suffixes=("", "_file"))
    assert len(merged) == 72
    assert (merged["exit_published"] == merged["exit_published_file"]).all()
    assert (merged["exit_difference"] == merged["exit"] - merged["exit_published_file"]).all()
    by_kind = extra.summary["comparison"]["by_kind"]
    d = (merged["exit"] - merged["exit_published_file"]).abs()
    assert by_kind["pharmacy"]["exit"]["sum_abs_difference"] == int(
        d[merged["kind"] == "pharmacy"].sum())
    assert extra.summary["warnings"] == []  # published figures applied: nothing to warn
    table = extra.files["street_split.csv"]
    assert table.shape == (72, len(HEADINGS)) and list(table.columns) == list(HEADINGS.values())


@pytest.mark.slow
def test_zhangye_street_split_variant_is_infeasible_and_explained(tmp_path):
    r = CliRunner().invoke(main, ["solve", str(ZHANGYE / "variants" / "street_split.yaml"),
                                  "--out", str(tmp_path / "out")])
    assert r.exit_code == 3, r.output
    assert "street exit limits (表9)" in r.stderr and not (tmp_path / "out").exists()
    assert "警告 warning: 甘州区 火车站街道 pharmacy: the 90/10 split gives 39 exits" in r.stderr

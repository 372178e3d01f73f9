"""Smoke test of the benchmark generator (benchmarks/generate.py) at scale 2.

City 0 is seed 2024, i.e. the shipped Zhangye facilities byte for byte; city 1 is seed 2025,
another city with the same counts per county and kind. The province is the two cities side by
side, every name prefixed with its city, nothing shared.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye"


def _generate_module():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" /
                                                  "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _verdict(gen, seed: int, cache: Path, text: str) -> None:
    """Cache a feasibility verdict (the real check solves the city: see the last test)."""
    (gen.city_scenario(seed, cache).parent / "feasibility.txt").write_text(text + "\n")


def test_two_cities(tmp_path):
    gen = _generate_module()
    for seed in (2024, 2025):  # both solved to optimality by the benchmark's own check
        _verdict(gen, seed, tmp_path, "optimal")
    first = gen.city_scenario(2024, tmp_path)
    assert (first.parent / "facilities.csv").read_bytes() == \
        (ZHANGYE / "facilities.csv").read_bytes()
    province = gen.load_province(2, tmp_path)
    one = gen.load_province(1, tmp_path)
    assert len(province.facilities) == 2 * len(one.facilities) == 2 * 2067
    ids = [f.id for f in province.facilities]
    assert len(set(ids)) == len(ids)
    assert {i.split("·")[0] for i in ids} == {"市001", "市002"}
    # same counts per county and kind in both cities, different points and scores
    per_city = Counter((f.county.split("·")[1], f.kind, f.existing) for f in province.facilities)
    assert all(n % 2 == 0 for n in per_city.values())
    scores = [[f.score for f in province.facilities if f.id.startswith(c)]
              for c in ("市001", "市002")]
    assert scores[0] != scores[1]
    # targets and quotas are the real ones, once per city
    assert sum(t.count for t in province.targets) == 2 * sum(t.count for t in one.targets)
    assert len(province.quotas) == 2 * len(one.quotas)
    # the allocation rules' rows (zones, roles, exit plan) come once per city, prefixed: a
    # province built without them would be a smaller model than its cities
    for attr in ("zone_budget", "roles", "exit_plan"):
        rows = getattr(province, attr)
        assert len(rows) == 2 * len(getattr(one, attr))
        assert Counter(r.county.split("·")[0] for r in rows) == \
            Counter({"市001": len(rows) // 2, "市002": len(rows) // 2} if rows else {})
    # the shipped Zhangye scenario holds roles and exits first (its zone budget is 0: 五(二)2's
    # admissions wait for the expert review)
    assert one.roles and one.exit_plan and not one.zone_budget
    # every reach list stays inside its own city
    for cv in province.cover:
        city = cv.cell.split("·")[0]
        assert all(fid.startswith(city) for fid in cv.facilities)


def test_infeasible_seeds_are_skipped(tmp_path):
    gen = _generate_module()
    for seed, verdict in ((2024, "optimal"), (2025, "infeasible: test"), (2026, "optimal")):
        _verdict(gen, seed, tmp_path, verdict)
    assert gen.city_seeds(2, tmp_path) == [2024, 2026]


def test_feasibility_check_of_seed_2101(tmp_path):
    """Seed 2101 draws a 肃南县 whose covered cells need 4 pharmacies against a 2028 target of
    3: the check solves the city, finds it infeasible and keeps the planner's reason."""
    gen = _generate_module()
    assert not gen.city_feasible(2101, tmp_path)
    verdict = (gen.city_scenario(2101, tmp_path).parent / "feasibility.txt").read_text()
    assert verdict.startswith("infeasible") and "肃南县" in verdict and "1 short" in verdict

"""Explanations that are right: each line's shares add up to the shortfall, one tiny
instance per cause, worked out by hand (the other causes' instances are in test_model_*.py and
test_heze_rules.py: protection, yearly limits, street limits, the gate, the 800 m rule, moves).

A target line reads "<county kind>: the <year> target <n> needs <need> exits … (<start>)" then
either ", <the counted reason> — <amount> short" when counting explains it all, or "; <amount>
short: <counted reason> — <part>; <rule> — <part> …" where each rule's part is how much the
shortfall falls when that rule is left out of the elastic model.
"""

from __future__ import annotations

import pytest
from model_cases import (
    BACKENDS,
    PH,
    A,
    Cover,
    app,
    assert_infeasible,
    county_quotas,
    fac,
    make_problem,
)

from dingdian.run.shortfall import shortfalls


def _keep(cell: str, *ids: str) -> Cover:
    return Cover(cell=cell, county=A, kind=PH, population=100, mode="keep", facilities=ids)


@pytest.mark.parametrize("backend", BACKENDS)
def test_coverage_share(backend, tmp_path):
    # P1 alone reaches keep cell K1, P2 alone K2: they must stay. The 2025 target 1 needs
    # 3 − 1 = 2 exits; the limit (2) and protection (none) allow 2, so counting finds nothing;
    # only P3 can go, so 1 short — all of it keeping the covered cells covered.
    p = make_problem([fac("P1"), fac("P2"), fac("P3")], targets={2025: 1}, years=(2025,),
                     quotas=county_quotas({2025: (0, 2)}), cover=(_keep("K1", "P1"),
                                                                  _keep("K2", "P2")))
    lines = assert_infeasible(p, backend, tmp_path, "the 2025 target 1 needs 2 exits by 2025")
    assert lines == ["甲县 定点零售药店 (pharmacies): the 2025 target 1 needs 2 exits by 2025 (3 "
                     "designated in 2024); 1 short: keeping every covered cell covered (5) — 1"]
    assert shortfalls(p) == []  # counting alone cannot see it: validate lets it through


@pytest.mark.parametrize("backend", BACKENDS)
def test_protection_and_coverage_shares(backend, tmp_path):
    # The case: "needs 17 exits, only 15 not protected — 4 short" said 17 − 15 = 4.
    # Here: 5 designated, X protected, P1 and P2 each the only one reaching a keep cell. The
    # 2025 target 0 needs 5 exits; 4 are not protected (counted: 1 short); of those 4 only P3
    # and P4 may go (coverage: 2 more). 3 short = 1 + 2.
    p = make_problem([fac("X", protected=True), fac("P1"), fac("P2"), fac("P3"), fac("P4")],
                     targets={2025: 0}, years=(2025,), quotas=county_quotas({2025: (0, 9)}),
                     cover=(_keep("K1", "P1"), _keep("K2", "P2")))
    lines = assert_infeasible(p, backend, tmp_path, "the 2025 target 0 needs 5 exits")
    assert lines == ["甲县 定点零售药店 (pharmacies): the 2025 target 0 needs 5 exits by 2025 (5 "
                     "designated in 2024); 3 short: only 4 of them are not protected (村卫生室 and "
                     "other protected classes) — 1; keeping every covered cell covered (5) — 2"]
    assert shortfalls(p) == [
        "甲县 定点零售药店 (pharmacies): the 2025 target 0 needs 5 exits by 2025 (5 designated in "
        "2024), only 4 of them are not protected (村卫生室 and other protected classes) — 1 short"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_mid_term_target_share(backend, tmp_path):
    # The second case: a mid-term target met exactly and too few admissions after it.
    # 2 designated; targets 2026: 2 exactly, 2027: 5; applicants A1–A4; admissions at most
    # 1 (2025), 0 (2026), 2 (2027), exits at most 1 a year. From 2024 the 2027 target needs 3
    # admissions and 3 are allowed, but the 2026 count must be 2 again, so a 2025 admission
    # needs a 2025 exit: from the 2026 target 2, 2027 needs 3 and its limit is 2 — 1 short.
    # (Missing the 2026 target instead costs 2 a unit: the final target carries the shortfall.)
    p = make_problem([fac("E1"), fac("E2"), *(app(f"A{i}") for i in range(1, 5))],
                     targets={2026: 2, 2027: 5}, years=(2025, 2026, 2027),
                     quotas=county_quotas({2025: (1, 1), 2026: (0, 1), 2027: (2, 1)}))
    lines = assert_infeasible(p, backend, tmp_path, "the 2027 target 5")
    assert lines == ["甲县 定点零售药店 (pharmacies): the 2027 target 5 needs 3 net admissions in "
                     "2027 (after the 2026 target 2, which the plan meets exactly), the yearly "
                     "admission limits (表7) of 2027 allow at most 2 — 1 short"]
    assert shortfalls(p) == [lines[0]]


def test_shares_add_up_on_the_shipped_variant():
    """tight_exits (甘州区 may exit 20 pharmacies a year): each line's parts add up."""
    import re
    from pathlib import Path

    import dingdian

    root = Path(__file__).resolve().parents[1] / "scenarios" / "zhangye" / "variants"
    plan = dingdian.solve(root / "tight_exits.yaml", planners=False)
    assert plan.status == "infeasible"
    for line in plan.explain():
        m = re.search(r"needs (\d+) exits by \d+ \((\d+) designated.*?allow at most (\d+) — "
                      r"(\d+) short", line)
        assert m, line
        need, _start, most, short = map(int, m.groups())
        assert need - most == short, line

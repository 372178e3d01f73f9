"""(1a)–(1c) flow and admit-once, each worked out by hand before any solve.

Cost reminders (default weights, see tests/model_cases.py): exit = score + 5, admission =
5 − review, 3 per change in the busiest year of a county/kind.
"""

from __future__ import annotations

import pytest
from model_cases import (
    BACKENDS,
    OPTIMAL,
    Y3,
    Target,
    admissions,
    app,
    assert_infeasible,
    county_quotas,
    designated,
    exits,
    fac,
    make_problem,
    solve_verified,
)


def _readmit(with_applicant: bool):
    # 甲县 pharmacies E1 (50), E2 (90); applicant P (review 60, from 2025).
    # Exits exact: 1 in 2025, 0 in 2026; admissions at most 0 in 2025, 1 in 2026.
    # Targets: 1 at the end of 2025, 2 at the end of 2026.
    facs = [fac("E1", 50), fac("E2", 90)] + ([app("P", 60)] if with_applicant else [])
    return make_problem(facs, targets={2025: 1, 2026: 2},
                        quotas=county_quotas({2025: (0, 1), 2026: (1, 0)}), exit_mode="exact")


@pytest.mark.parametrize("backend", BACKENDS)
def test_existing_facility_cannot_be_readmitted(backend, tmp_path):
    # By hand. 2025: exactly one exit among {E1, E2}; no admission (limit 0).
    # 2026: no exit, count 1 -> 2, so exactly one admission; existing facilities have no
    # admission variable, so the exited one cannot come back: P must be admitted in 2026.
    #   E1 exits: (50+5) + (5-60) + spread 3·max(1,1) = 55 - 55 + 3 = 3   <- optimum
    #   E2 exits: (90+5) - 55 + 3                                         = 43
    r = solve_verified(_readmit(True), backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == 3
    assert exits(r) == {"E1": 2025}
    assert admissions(r) == {"P": 2026}


@pytest.mark.parametrize("backend", BACKENDS)
def test_existing_facility_cannot_be_readmitted_twin(backend, tmp_path):
    # Without P the 2026 count 2 would need E1 back: infeasible. Elastic form by hand:
    #   exit in 2025 (as published), 2026 count 1 vs 2: target slack 1             = 1
    #   no exit in 2025: exit slack 1 + 2025 count 2 vs 1: target slack 1          = 2
    # so the unique explanation is the 2026 target, 1 short. Counted from 2024 it needs no net
    # admission (2 − 2); counted from the 2025 target 1, met exactly, it needs 1 and no
    # applicant is left: the explanation says the latter.
    assert_infeasible(_readmit(False), backend, tmp_path,
                      "甲县 定点零售药店", "the 2026 target 2 needs 1 net admissions in 2026",
                      "after the 2025 target 1, which the plan meets exactly",
                      "only 0 applicants are available by 2026 — 1 short")


def _available(q_from: int):
    # E1 (50); applicants Q (review 60, from q_from), P (review 90, from 2026).
    # Limits 1 admission and 1 exit a year; targets 2 in 2025 and 2026.
    return make_problem([fac("E1", 50), app("Q", 60, available_from=q_from),
                         app("P", 90, available_from=2026)],
                        targets={2025: 2, 2026: 2},
                        quotas=county_quotas({2025: (1, 1), 2026: (1, 1)}))


@pytest.mark.parametrize("backend", BACKENDS)
def test_applicant_not_admitted_before_available_from(backend, tmp_path):
    # By hand. 2025 needs 2 designated and only E1, Q are possible: E1 stays, Q is admitted
    # (5-60 = -55, 1 change). 2026 keeps count 2; one admission + one exit or nothing:
    #   nothing                 : -55                    + 3·1 = -52
    #   P in, E1 out            : -55 + (5-90) + (50+5)  + 3·2 = -79   <- optimum
    #   P in, Q out             : -55 - 85 + (60+5)      + 3·2 = -69
    # (Were P allowed in 2025, admitting P then and nothing in 2026 would give -85 + 3 = -82.)
    r = solve_verified(_available(2025), backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == -79
    assert admissions(r) == {"Q": 2025, "P": 2026}
    assert exits(r) == {"E1": 2026}


@pytest.mark.parametrize("backend", BACKENDS)
def test_applicant_not_admitted_before_available_from_twin(backend, tmp_path):
    # Q also applies only from 2026: nobody can be admitted in 2025, count 1 vs 2.
    # Elastic: only the 2025 target slack (1) helps; the admission limit (1) is not binding.
    assert_infeasible(_available(2026), backend, tmp_path,
                      "甲县 定点零售药店", "the 2025 target 2 needs 1 net admissions",
                      "only 0 applicants are available by 2025", "1 short")


def _same_year(with_existing: bool):
    # E1 (95); P (review 10, from 2025). Exits exact 1 in 2025, 0 in 2026; admissions at most
    # 1 in 2025, 0 in 2026. No target.
    facs = ([fac("E1", 95)] if with_existing else []) + [app("P", 10)]
    return make_problem(facs, quotas=county_quotas({2025: (1, 1), 2026: (0, 0)}),
                        exit_mode="exact")


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_admission_and_exit_in_the_same_year(backend, tmp_path):
    # By hand. Only E1 is designated at the end of 2024, so the exact 2025 exit is E1 (100).
    #   admit P in 2025 : 100 + (5-10) + 3·2 = 101   <- optimum
    #   do not admit P  : 100          + 3·1 = 103
    # (Admitting and exiting P in 2025 while keeping E1 would cost (5-10)+(10+5)+6 = 16.)
    r = solve_verified(_same_year(True), backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == 101
    assert exits(r) == {"E1": 2025}
    assert admissions(r) == {"P": 2025}
    assert designated(r, "P") == {2024: 0, 2025: 1, 2026: 1}


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_admission_and_exit_in_the_same_year_twin(backend, tmp_path):
    # Without E1 nobody is designated at the end of 2024; P admitted in 2025 cannot exit in
    # 2025. Elastic: 2025 exit slack 1 is the only remedy.
    assert_infeasible(_same_year(False), backend, tmp_path,
                      "甲县 定点零售药店", "2025 can make only 0 exits",
                      "publishes exactly 1", "1 short")


SUNAN = "肃南县"


def _sunan(exit_2027: int):
    # 肃南县 pharmacies E1 (70), E2 (80); applicants P1 (60), P2 (90) from 2025.
    # Exact: 2025 admit 2 exit 0; 2026 admit 0 exit 2; 2027 admit 0 exit `exit_2027`.
    # Target 2 at the end of 2026. Published exits (2 + 1 = 3) exceed the 2 existing pharmacies.
    return make_problem(
        [fac("E1", 70, county=SUNAN), fac("E2", 80, county=SUNAN),
         app("P1", 60, county=SUNAN), app("P2", 90, county=SUNAN)],
        targets=(Target(SUNAN, "pharmacy", 2026, 2),),
        quotas=county_quotas({2025: (2, 0), 2026: (0, 2), 2027: (0, exit_2027)}, county=SUNAN),
        years=Y3, exit_mode="exact", admit_mode="exact")


@pytest.mark.parametrize("backend", BACKENDS)
def test_sunan_exact_exits_force_admitted_applicants_out(backend, tmp_path):
    # By hand. 2025: both applicants admitted: (5-60) + (5-90) = -140. 2026 + 2027 exit 3 of
    # the 4, so exactly one survives; exit costs E1 75, E2 85, P1 65, P2 95 (sum 320); the
    # cheapest three exits keep the dearest one, P2: 320 - 95 = 225. Changes per year 2, 2, 1:
    # spread 3·2 = 6. Total -140 + 225 + 6 = 91. Which two exit in 2026 does not matter.
    r = solve_verified(_sunan(1), backend, tmp_path)
    assert r.status == OPTIMAL
    assert r.objective == 91
    assert admissions(r) == {"P1": 2025, "P2": 2025}
    assert set(exits(r)) == {"E1", "E2", "P1"}
    assert sorted(exits(r).values()) == [2026, 2026, 2027]
    assert designated(r, "P2") == {2024: 0, 2025: 1, 2026: 1, 2027: 1}


@pytest.mark.parametrize("backend", BACKENDS)
def test_sunan_exact_exits_force_admitted_applicants_out_twin(backend, tmp_path):
    # 2027 publishes 3 exits but only 2 remain after 2026 (target 2). Elastic:
    #   2027 exits 2: exit slack 1                                                = 1
    #   3 exits in 2026: 2026 exit slack 1 + target slack 1 + 2027 short 2        = 4
    assert_infeasible(_sunan(3), backend, tmp_path,
                      "肃南县 定点零售药店", "2027 can make only 2 exits",
                      "publishes exactly 3", "1 short")

"""Golden LP rows of the allocation families (13)–(15) and the objective terms (8g)–(8k).

Like tests/test_golden_lp.py and tests/test_heze_golden_lp.py (whose goldens stay untouched),
one tiny instance exercises every new family; its LP file, written by PuLP, is cut by
constraint-name prefix and each family compared with ``tests/golden_allocation/<family>.lp``.

The instance (甲县, 2025–2026):

* f0 = E1 (pharmacy, 60, eligible for 双通道), f1 = E2 (pharmacy, 70), f2 = Z1 (pharmacy
  applicant, review 80, in a blind spot, tagged remote, eligible for 双通道), f3 = C1 (pharmacy
  applicant, 75, from 2026, chain), f4 = S1 (clinic applicant, 70, urgently needed speciality);
* 表7: 1 admission and 1 exit a year; one special-zone override in 2025 (Z1's only year with
  a budget); 1–2 双通道 holders in 2026; planned exits 1 a year, blind spots on the green
  channel (so Z1 gets no c15 row, C1 one in 2026).

To accept an intended change: ``DINGDIAN_UPDATE_GOLDEN=1 pytest tests/test_allocation_golden_lp.py``
and review the diff of ``tests/golden_allocation/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from model_cases import assert_golden, lp_sections, lp_text, stray_rows

from dingdian.models.data import ExitPlan, Facility, Quota, RoleNeed, SiteProblem, ZoneBudget

GOLDEN = Path(__file__).parent / "golden_allocation"
FAMILIES = ["c13_zone_override", "c13_zone_budget", "c14_role_x", "c14_role_low",
            "c14_role_high", "c15_exits_done", "c15_admit_after", "objective"]
BASE = ["c1_flow", "c1_exit_after", "c1_admit_once", "c3_county_admit", "c3_county_exit",
        "c7_protected", "c8_peak"]
PH, CL, A = "pharmacy", "clinic", "甲县"


def tiny() -> SiteProblem:
    facilities = (
        Facility("E1", PH, A, score=60, roles=("dual",)),
        Facility("E2", PH, A, score=70),
        Facility("Z1", PH, A, existing=False, score=80, available_from=2025, zone="blind",
                 roles=("dual",), favour=("remote",)),
        Facility("C1", PH, A, existing=False, score=75, available_from=2026, favour=("chain",)),
        Facility("S1", CL, A, existing=False, score=70, available_from=2025,
                 favour=("speciality",)),
    )
    quotas = (Quota("county", A, PH, 2025, 1, 1), Quota("county", A, PH, 2026, 1, 1))
    return SiteProblem(facilities, (), quotas, years=(2025, 2026),
                       zone_budget=(ZoneBudget(A, PH, 2025, 1),),
                       roles=(RoleNeed("dual", A, 2026, 1, 2),),
                       exit_plan=(ExitPlan(A, PH, 2025, 1), ExitPlan(A, PH, 2026, 1)),
                       green_channel=True)


def lp_families(tmp_path: Path) -> dict[str, str]:
    return lp_sections(lp_text(tiny(), tmp_path), FAMILIES[:-1], "[a-z0-9]")


@pytest.mark.parametrize("family", FAMILIES)
def test_lp_rows_match_golden(family, tmp_path):
    assert_golden(lp_families(tmp_path)[family], GOLDEN / f"{family}.lp")


def test_every_row_belongs_to_a_family(tmp_path):
    assert stray_rows(lp_text(tiny(), tmp_path), [*BASE, *FAMILIES[:-1]]) == []


def test_quota_rows_leave_the_override_out(tmp_path):
    # (3) 2025: a_Z1 − v_Z1 ≤ 1 (Z1 = f2); 2026 has no budget, so no override variable
    rows = lp_sections(lp_text(tiny(), tmp_path), ["c3_county_admit"], "[a-z0-9]")["c3_county_admit"]
    assert "v_f2_2025" in rows and "v_f2_2026" not in rows

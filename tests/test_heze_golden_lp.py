"""Golden LP rows of the Heze plan's constraint families (9)–(12) and the (8f) objective term.

Like tests/test_golden_lp.py (whose Zhangye goldens in tests/golden/ stay untouched), one tiny
instance exercises every new family; its LP file, written by PuLP, is cut by constraint-name
prefix and each family compared with ``tests/golden_heze/<family>.lp``.

The instance (2025–2026):

* f0 = E1 (甲县 pharmacy, 60), f1 = O (甲县 pharmacy, 70), f2 = A1 (甲县 pharmacy applicant,
  review 90, from 2025, within 800 m of E1 and A2), f3 = A2 (甲县 pharmacy applicant, 80, from
  2026, within 800 m of A1), f4 = X1 (甲县 pharmacy, exempt 二(三)2, 50, from 2026, within
  800 m of E1 — no row: exempt), f5 = N (乙县 pharmacy applicant, O's new address, 70, from
  2025), f6 = C1 (甲县 clinic applicant, 一体化村卫生室 priority class, 60, from 2025);
* the fund-risk gate is closed in 2026.

To accept an intended change: ``DINGDIAN_UPDATE_GOLDEN=1 pytest tests/test_heze_golden_lp.py``
and review the diff of ``tests/golden_heze/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from model_cases import assert_golden, lp_sections, lp_text, stray_rows

from dingdian.models.data import Facility, GateYear, Near, SiteProblem

GOLDEN = Path(__file__).parent / "golden_heze"
FAMILIES = ["c9_near", "c10_gate", "c11_move", "c12_exempt", "objective"]
#: the Zhangye families (tests/test_golden_lp.py) and the Heze ones
ALL_FAMILIES = ["c1_flow", "c1_exit_after", "c1_admit_once", "c2_target", "c3_county_admit",
                "c3_county_exit", "c4_street_admit", "c4_street_exit", "c4_rest_admit",
                "c4_rest_exit", "c5_cover", "c5_gain", "c6_crowd", "c7_protected", "c8_peak",
                *FAMILIES[:-1]]
PH, CL, A, B = "pharmacy", "clinic", "甲县", "乙县"


def tiny() -> SiteProblem:
    facilities = (
        Facility("E1", PH, A, score=60),
        Facility("O", PH, A, score=70),
        Facility("A1", PH, A, existing=False, score=90, available_from=2025),
        Facility("A2", PH, A, existing=False, score=80, available_from=2026),
        Facility("X1", PH, A, existing=False, score=50, available_from=2026,
                 exempt="二(三)2 重点建设项目"),
        Facility("N", PH, B, existing=False, score=70, available_from=2025, moves_from="O"),
        Facility("C1", CL, A, existing=False, score=60, available_from=2025,
                 priority="二(二) 一体化村卫生室"),
    )
    near = (Near("A1", ("E1", "A2")), Near("A2", ("A1",)), Near("X1", ("E1",)))
    return SiteProblem(facilities, (), (), years=(2025, 2026), near=near,
                       gate=(GateYear(2026, "收到基金运行风险预警函"),))


def lp_families(tmp_path: Path) -> dict[str, str]:
    return lp_sections(lp_text(tiny(), tmp_path), FAMILIES[:-1], "[a-z0-9]")


@pytest.mark.parametrize("family", FAMILIES)
def test_lp_rows_match_golden(family, tmp_path):
    assert_golden(lp_families(tmp_path)[family], GOLDEN / f"{family}.lp")


def test_every_row_belongs_to_a_family(tmp_path):
    assert stray_rows(lp_text(tiny(), tmp_path), ALL_FAMILIES) == []


def test_exempt_applicant_gets_no_near_row(tmp_path):
    # X1 (f4) is exempt: no 800 m row, no gate row term, its admission forced in 2026.
    families = lp_families(tmp_path)
    assert "f4" not in families["c9_near"] and "a_f4" not in families["c10_gate"]
    assert families["c12_exempt"].startswith("c12_exempt_f4: a_f4_2026 = 1")

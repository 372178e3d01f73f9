"""Golden LP rows, one file per constraint family (as Calliope keeps per-constraint LP files).

One tiny instance exercises every family of :mod:`dingdian.models.site`. Its LP file, written by PuLP, is
cut into families by constraint-name prefix (``c1_flow``, ``c2_target`` …) and each family is
compared with ``tests/golden/<family>.lp``: a readable record of exactly which rows the model
writes, so that a change to the formulation shows up as a reviewed text diff.

The instance (甲县 pharmacies, 2025–2026):

* f0 = E1 (东街, score 40), f1 = E2 (东街, 60, protected), f2 = R1 (no street, 50),
  f3 = P1 (applicant on 东街, review 90, from 2025), f4 = P2 (applicant, no street, review 70,
  from 2026); a0 = 东街, a1 = 甲县;
* 2026 target 2; county limits 1 admission and 1 exit a year; 东街 1/0 in 2025, 0/1 in 2026,
  so the rest of 甲县 (R1, P2) may exit 1 in 2025 and 0 in 2026, admit 0 then 1;
* keep cell i1 reached by E1 and R1; gain cell i0 (population 300) reached by P1; urban cell
  i2 holds E1, E2 and P1.

To accept an intended change: ``DINGDIAN_UPDATE_GOLDEN=1 pytest tests/test_golden_lp.py`` and
review the diff of ``tests/golden/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from model_cases import assert_golden, lp_sections, lp_text

from dingdian.models.data import Cover, Crowd, Facility, Quota, SiteProblem, Target
from dingdian.models.site import build_site_model

GOLDEN = Path(__file__).parent / "golden"
FAMILIES = ["c1_flow", "c1_exit_after", "c1_admit_once", "c2_target", "c3_county_admit",
            "c3_county_exit", "c4_street_admit", "c4_street_exit", "c4_rest_admit",
            "c4_rest_exit", "c5_cover", "c5_gain", "c6_crowd", "c7_protected", "c8_peak",
            "objective"]
PH, A = "pharmacy", "甲县"


def tiny() -> SiteProblem:
    facilities = (
        Facility("E1", PH, A, street="东街", score=40, cell="u1"),
        Facility("E2", PH, A, street="东街", score=60, protected=True, cell="u1"),
        Facility("R1", PH, A, score=50),
        Facility("P1", PH, A, street="东街", existing=False, score=90, available_from=2025,
                 cell="u1"),
        Facility("P2", PH, A, existing=False, score=70, available_from=2026),
    )
    quotas = (Quota("county", A, PH, 2025, 1, 1), Quota("county", A, PH, 2026, 1, 1),
              Quota("street", "东街", PH, 2025, 1, 0), Quota("street", "东街", PH, 2026, 0, 1))
    cover = (Cover("k1", A, PH, 500, "keep", ("E1", "R1")),
             Cover("g1", A, PH, 300, "gain", ("P1",)))
    return SiteProblem(facilities, (Target(A, PH, 2026, 2),), quotas, cover,
                       (Crowd("u1", PH, ("E1", "E2", "P1")),), years=(2025, 2026))


def lp_families(tmp_path: Path) -> dict[str, str]:
    return lp_sections(lp_text(tiny(), tmp_path), FAMILIES[:-1], r"[a-z]\d")


@pytest.mark.parametrize("family", FAMILIES)
def test_lp_rows_match_golden(family, tmp_path):
    assert_golden(lp_families(tmp_path)[family], GOLDEN / f"{family}.lp")


def test_every_row_belongs_to_a_family(tmp_path):
    path = tmp_path / "tiny.lp"
    build_site_model(tiny()).lp.writeLP(str(path))
    names = re.findall(r"^(\S+):", path.read_text(encoding="utf-8"), flags=re.M)
    strays = [n for n in names if n != "OBJ" and not any(
        re.match(rf"{f}_[a-z]\d", n) for f in FAMILIES[:-1])]
    assert strays == []

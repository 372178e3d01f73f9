r"""Hospital beds (住院定点床位): the need formula, Heze's decision rule, Zhangye's allocations.

Pure functions, no I/O. The integer bed-reduction model lives in :mod:`dingdian.models.beds_model` and is
re-exported here (:func:`build_bed_model`, :class:`BedProblem`, its tie-break (8)
:func:`tie_break` and certificate (9) :func:`certificate`, …).

Need per thousand insured (菏泽 术语解释, the NHSA 基本医保定点床位配置测算办法)
--------------------------------------------------------------------------
.. math::

   B = \frac{\sum_a r_a\,n_a \cdot d \cdot 1000}{u \cdot 365 \cdot N} \cdot k_p \cdot k_f

:math:`r_a` hospitalisation rate (住院率) and :math:`n_a` insured persons (参保人数) of age band
:math:`a`; :math:`d` average stay in days (平均住院日); :math:`u` bed occupancy (病床使用率, a
fraction); :math:`N` all insured (总参保人数); :math:`k_p` the patient coefficient and
:math:`k_f` the fund coefficient:

.. math::

   k_p = \frac{L_{LL} - L_{LE} + L_{EL}}{L_{LL}}, \qquad k_f = \frac{m}{m^*}

:math:`L_{LL}` discharges of local insured in local hospitals (本地参保人在本地出院人次),
:math:`L_{LE}` of local insured elsewhere (本地参保人在异地出院人次), :math:`L_{EL}` of insured
from elsewhere in local hospitals (异地参保人在本地出院人次) — the formula exactly as printed;
:math:`m` the months the fund can pay (基金可支付月数), :math:`m^*` the months the safety rule
requires (基金安全要求可支付月数).

Heze decision rule (菏泽 二(一))
-------------------------------
With target :math:`B^*` (目标值, 7.5 beds per thousand residents) and actual :math:`B^0` (实际值):

* ``pause``    :math:`B < B^*` and :math:`B < B^0` — 以优化存量为主, 暂停全市当年度医疗机构
  新增医保定点的受理和评估 (二(一)1);
* ``allocate`` :math:`B > B^*` and :math:`B > B^0` — 以优化增量为主, 分县区配置 (二(一)2);
* ``hold``     otherwise (:math:`B` between the two, or equal to one): the text gives no rule.
  We read it as "neither branch applies": no pause is ordered and no new beds are allocated.

The rule speaks of 当年度 (that year): it is evaluated every planning year :math:`t` from that
year's figures (:func:`heze_figures`), :math:`B_t` against :math:`B^*` and :math:`B^0_t`, and a
``pause`` year gets no new inpatient designation (no new designated beds). Whether the pause
reaches the outpatient clinics of the site model too is a scenario switch
(:mod:`dingdian.models.site` (17)): the sentence stands under 住院定点医疗机构.

Allocation (``allocate`` only). New designated beds
:math:`\lfloor (B - B^0)\,P/1000 \rfloor` (:math:`P` the resident population; rounded down so
that the need is never exceeded) go to the counties not marked outside the allocation
(牡丹区, 定陶区, 鲁西新区 "需结合实际情况确定") whose occupancy is at least a threshold
(床位使用率 is "the key reference"), in proportion to population × occupancy, split into
integers by the largest-remainder (Hamilton) method: floors first, the missing units to the
largest fractional parts, ties to the county listed first.

Zhangye (张掖 四(一)1, 表1/表4/表5)
-----------------------------------
* Planned total = affordable beds per thousand × population / 1000: 8.96 × 1,100,000 / 1000 =
  9,856, so the plan's population is :func:`implied_population` = 9,856 / 8.96 × 1000 =
  1,100,000 exactly (the 2020 census says 1,131,016); 11,762 / 1,100 = 10.69 is the plan's
  "现有床位数为10.69张/千人".
* County shares (表4) by population: :func:`population_share` (largest remainder).
* Levels 三:二:一 = 3:5:2 (:func:`ratio_split`): 9,856 → 2,957 / 4,928 / 1,971.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from dingdian.models.beds_model import (  # noqa: F401  (re-exported)
    BedModel,
    BedProblem,
    BedWeights,
    Hospital,
    build_bed_model,
    certificate,
    conversions,
    differing,
    optimum,
    plan_frame,
    settle_conversions,
    tie_break,
    tie_break_expression,
    tie_break_ranks,
    year_weights,
)

__all__ = [
    "BedModel", "BedProblem", "BedWeights", "Hospital", "build_bed_model", "plan_frame",
    "optimum", "tie_break", "tie_break_expression", "tie_break_ranks", "year_weights",
    "conversions", "settle_conversions", "certificate", "differing",
    "needed_beds_per_thousand", "patient_coefficient", "fund_coefficient", "heze_branch",
    "allocate_new_beds", "new_bed_total", "heze_figures", "largest_remainder", "population_share",
    "ratio_split", "implied_population", "PAUSE", "ALLOCATE", "HOLD",
]

PAUSE, ALLOCATE, HOLD = "pause", "allocate", "hold"


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


def _non_negative(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return value


def needed_beds_per_thousand(
    rates_by_age: Mapping[str, float] | Sequence[float],
    insured_by_age: Mapping[str, float] | Sequence[float],
    avg_stay_days: float,
    occupancy: float,
    total_insured: float,
    patient_coef: float = 1.0,
    fund_coef: float = 1.0,
) -> float:
    r"""Σ(住院率_a × 参保人数_a) × 平均住院日 × 1000 / (病床使用率 × 365 × 总参保人数)
    × 患者调节系数 × 基金调节系数 (see the module docstring).

    ``rates_by_age`` and ``insured_by_age`` are both mappings with the same age bands, or both
    sequences of the same length. ``occupancy`` is a fraction (0.8 for 80 %).
    """
    if isinstance(rates_by_age, Mapping) != isinstance(insured_by_age, Mapping):
        raise ValueError("rates_by_age and insured_by_age must both be mappings or both sequences")
    if isinstance(rates_by_age, Mapping):
        if set(rates_by_age) != set(insured_by_age):
            missing = sorted(set(rates_by_age) ^ set(insured_by_age))
            raise ValueError(f"age bands differ between rates and insured counts: {missing}")
        pairs = [(rates_by_age[a], insured_by_age[a]) for a in rates_by_age]
    else:
        if len(rates_by_age) != len(insured_by_age):
            raise ValueError("rates_by_age and insured_by_age have different lengths")
        pairs = list(zip(rates_by_age, insured_by_age, strict=True))
    if not pairs:
        raise ValueError("at least one age band is needed")
    admissions = sum(_non_negative("hospitalisation rate", r) * _non_negative("insured", n)
                     for r, n in pairs)
    stay = _positive("avg_stay_days", avg_stay_days)
    occ = _positive("occupancy", occupancy)
    total = _positive("total_insured", total_insured)
    kp = _non_negative("patient_coef", patient_coef)
    kf = _non_negative("fund_coef", fund_coef)
    return admissions * stay * 1000.0 / (occ * 365.0 * total) * kp * kf


def patient_coefficient(local_local: float, local_elsewhere: float, elsewhere_local: float) -> float:
    """(本地参保人在本地出院人次 − 本地参保人在异地出院人次 + 异地参保人在本地出院人次)
    ÷ 本地参保人在本地出院人次."""
    ll = _positive("local_local (本地参保人在本地出院人次)", local_local)
    le = _non_negative("local_elsewhere (本地参保人在异地出院人次)", local_elsewhere)
    el = _non_negative("elsewhere_local (异地参保人在本地出院人次)", elsewhere_local)
    return (ll - le + el) / ll


def fund_coefficient(months_payable: float, months_required: float) -> float:
    """基金可支付月数 ÷ 基金安全要求可支付月数."""
    return _non_negative("months_payable", months_payable) / _positive(
        "months_required", months_required)


def heze_branch(computed: float, target: float = 7.5, actual: float | None = None) -> str:
    """'pause' (B < target and B < actual), 'allocate' (B > both) or 'hold' (otherwise)."""
    if actual is None:
        raise ValueError("actual beds per thousand are needed")
    b = _non_negative("computed", computed)
    t, a = _non_negative("target", target), _non_negative("actual", actual)
    if b < t and b < a:
        return PAUSE
    if b > t and b > a:
        return ALLOCATE
    return HOLD


def heze_figures(rates_by_age: Sequence[float], insured_by_age: Sequence[float],
                 avg_stay_days: float, occupancy: float,
                 discharges: tuple[float, float, float], fund_months: tuple[float, float],
                 actual_beds: float, population: float, target: float = 7.5) -> dict:
    """One year's 二(一) figures: the coefficients, 测算值 :math:`B`, 实际值 :math:`B^0` (actual
    beds per thousand residents) and the branch. ``discharges`` are (本地→本地, 本地→异地,
    异地→本地), ``fund_months`` (可支付月数, 安全要求月数)."""
    kp = patient_coefficient(*discharges)
    kf = fund_coefficient(*fund_months)
    computed = needed_beds_per_thousand(list(rates_by_age), list(insured_by_age), avg_stay_days,
                                        occupancy, sum(insured_by_age), kp, kf)
    actual = _non_negative("actual_beds", actual_beds) * 1000 / _positive("population", population)
    return {"patient_coefficient": kp, "fund_coefficient": kf, "computed": computed,
            "target": target, "actual": actual, "branch": heze_branch(computed, target, actual)}


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers ∝ ``weights`` (Hamilton): floors, then the missing units
    to the largest fractional parts, ties to the earlier index. All-zero weights → all zero
    (nothing can be placed) unless ``total`` is 0."""
    total = int(total)
    if total < 0:
        raise ValueError(f"total must be non-negative, got {total}")
    w = [_non_negative("weight", x) for x in weights]
    s = sum(w)
    if s <= 0:
        if total and w:
            raise ValueError("cannot split a positive total over zero weights")
        return [0] * len(w)
    exact = [total * x / s for x in w]
    base = [math.floor(e + 1e-9) for e in exact]
    missing = total - sum(base)
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:missing]:
        base[i] += 1
    return base


def new_bed_total(computed: float, actual: float, population: float) -> int:
    """⌊(B − B⁰) × P / 1000⌋, never negative: the new designated beds the need allows."""
    gap = (float(computed) - float(actual)) * _positive("population", population) / 1000.0
    return max(0, math.floor(gap + 1e-9))


def allocate_new_beds(
    computed: float,
    actual: float,
    population: float,
    counties: Mapping[str, tuple[float, float]],
    *,
    target: float = 7.5,
    outside: Sequence[str] = (),
    min_occupancy: float = 0.0,
) -> dict[str, int]:
    """New designated beds per county under Heze's 二(一)2 (see the module docstring).

    ``counties`` maps a county to ``(population, occupancy)``. Returns every county with its
    beds: 0 unless the branch is 'allocate', 0 for the counties in ``outside`` and for those
    whose occupancy is below ``min_occupancy``. When every county is excluded nothing is
    placed (the caller reports the unplaced total).
    """
    out = dict.fromkeys(counties, 0)
    if heze_branch(computed, target, actual) != ALLOCATE:
        return out
    eligible = [c for c, (_pop, occ) in counties.items()
                if c not in outside and float(occ) >= min_occupancy]
    weights = [_non_negative("population", counties[c][0]) *
               _non_negative("occupancy", counties[c][1]) for c in eligible]
    if not eligible or sum(weights) <= 0:
        return out
    total = new_bed_total(computed, actual, population)
    for c, n in zip(eligible, largest_remainder(total, weights), strict=True):
        out[c] = n
    return out


def population_share(total: int, population: Mapping[str, float]) -> dict[str, int]:
    """``total`` beds split over counties ∝ population (largest remainder)."""
    names = list(population)
    return dict(zip(names, largest_remainder(total, [population[c] for c in names]), strict=True))


def ratio_split(total: int, ratio: Mapping[str, float]) -> dict[str, int]:
    """``total`` split by a ratio such as 三级:二级:一级 = 3:5:2 (largest remainder)."""
    names = list(ratio)
    return dict(zip(names, largest_remainder(total, [ratio[c] for c in names]), strict=True))


def implied_population(planned_beds: float, per_thousand: float) -> float:
    """The population for which ``per_thousand`` beds per 1000 give ``planned_beds``."""
    return _non_negative("planned_beds", planned_beds) * 1000.0 / _positive(
        "per_thousand", per_thousand)

"""Frozen problem data for the site model.

These classes are the *only* input of :func:`dingdian.models.site.build_site_model`. They carry no
geometry and no file names: the scenario loader (``dingdian.scenario.loader`` / ``dingdian.scenario.problem``)
turns YAML, CSV and outlines into one :class:`SiteProblem`, and the model never looks back at
the files. Everything is immutable (``frozen=True`` dataclasses of tuples) so that a problem
can be hashed, shared between backends and compared in tests.

Vocabulary (the plan's words in brackets):

* facility — a designated institution (定点医药机构) or an applicant (申请定点机构);
* kind — ``"clinic"`` (无住院服务定点医疗机构) or ``"pharmacy"`` (定点零售药店);
* area — a county (县区) or one of 甘州区's urban streets (街道);
* year — a planning year; ``base_year`` (2024) is the starting state, decisions are taken in
  ``years`` (2025 … 2030).

Rules of the Heze plan (《菏泽市医疗保障定点医药服务资源配置规划（2026-2030年）》), all optional
and empty by default, so that a problem without them (Zhangye) builds exactly the same model:

* :class:`Near` — the 800 m rule (二(二)): an applicant is not admitted while a designated
  facility of the same type lies within the radius (``SiteProblem.near_timing`` says when a
  neighbour counts as designated; which facilities are "of the same type" — the same kind or
  the same category — is decided by the loader when it builds the lists);
* ``Facility.priority`` — priority classes (二(二)), an objective bonus (8f);
* ``Facility.exempt`` — exempt from the plan (二(三)2, 二(三)3, closing paragraph): admitted in
  its application year, outside the quotas, the 800 m rule and the fund gate;
* :class:`GateYear` — the fund-risk gate (二(三)1): no non-exempt admission that year;
* :class:`BedPause` — the beds rule's pause (二(一)1) applied to outpatient clinics, a scenario
  switch: no non-exempt clinic admission that year;
* ``Facility.moves_from`` — an address moved across management areas (二(二)): the applicant row
  of the new site, linked to the exit of the old one.

The plans' remaining allocation rules (:mod:`dingdian.models.allocation`), equally optional and empty by
default: special zones with an override budget (:class:`ZoneBudget`, ``Facility.zone``, Zhangye
五(二)2), pharmacy roles (:class:`RoleNeed`, ``Facility.roles``, Zhangye 四(二), Heze 二(二)),
exits before admissions (:class:`ExitPlan`, Zhangye 五(一)4, 七(三)) and priorities
(``Facility.favour``, Zhangye 五(一)4, Heze 二(二)).

The quality rule, equally optional: ``SiteProblem.pass_mark`` (16, Zhangye 五(一)2 对考核不达标…
的终止医保服务协议) with the yearly scores ``Facility.scores`` (the scores table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["clinic", "pharmacy"]
KINDS: tuple[Kind, ...] = ("clinic", "pharmacy")


@dataclass(frozen=True)
class Facility:
    """One existing designated facility or one applicant.

    ``existing`` facilities are designated at the end of ``base_year``; applicants are not and
    may be admitted from ``available_from`` on. ``score`` is the assessment score (考核得分) of
    an existing facility or the public review score (公开评议) of an applicant, an integer 0–100.
    ``cell`` is the hexagon cell holding the facility ('' when outside every planning cell); it
    is used by the one-per-cell rule only.

    Heze rules (empty by default): ``priority`` names the priority class (二(二), e.g.
    ``"二(二) 一体化村卫生室"``), ``exempt`` the rule that exempts the facility from the plan
    (``"二(三)2 重点建设项目"``), ``moves_from`` the id of the existing facility whose address this
    applicant row takes over (a move across management areas).
    """

    id: str
    kind: Kind
    county: str
    street: str = ""
    existing: bool = True
    protected: bool = False
    score: int = 80
    available_from: int = 0
    cell: str = ""
    priority: str = ""
    exempt: str = ""
    moves_from: str = ""
    zone: str = ""
    roles: tuple[str, ...] = ()
    favour: tuple[str, ...] = ()
    #: ``(year, score)`` from the scores table (考核得分 by year, optional); a year not listed
    #: keeps ``score``. Feeds the pass mark (16) and the exit cost (8c) of that year
    scores: tuple[tuple[int, int], ...] = ()

    def score_in(self, year: int) -> int:
        """The score of ``year``: the scores table's, else ``score``."""
        for y, s in self.scores:
            if y == year:
                return s
        return self.score


@dataclass(frozen=True)
class Target:
    """Designated count of ``kind`` in ``county`` at the end of ``year`` (表2/表3)."""

    county: str
    kind: Kind
    year: int
    count: int


@dataclass(frozen=True)
class Quota:
    """Yearly admission and exit limits (表6–表9) for a county or a street.

    ``level`` is ``"county"`` or ``"street"``; ``area`` is the county or street name. The model
    derives ``"rest"`` rows itself (a county's facilities outside its planned streets).
    """

    level: Literal["county", "street", "rest"]
    area: str
    kind: Kind
    year: int
    admit: int
    exit: int


@dataclass(frozen=True)
class Cover:
    """A populated cell that must keep (or should gain) a facility of ``kind`` within reach.

    ``facilities`` are the ids of every existing or applicant facility of ``kind`` whose
    distance to the cell centre is at most the cell's radius. ``mode``:

    * ``"keep"`` — covered by an existing facility in the base year: a hard constraint (5) in
      every year;
    * ``"gain"`` — not covered in the base year but reachable by an applicant (a blind spot that
      can be filled, 服务盲区): a soft term in the objective (8a), weighted by population.

    Cells no facility can reach are blind spots that the model cannot help; the loader reports
    them and does not pass them here.
    """

    cell: str
    county: str
    kind: Kind
    population: int
    mode: Literal["keep", "gain"]
    facilities: tuple[str, ...]


@dataclass(frozen=True)
class Crowd:
    """Facilities of ``kind`` located in one urban cell, for the one-per-cell rule (6)."""

    cell: str
    kind: Kind
    facilities: tuple[str, ...]


@dataclass(frozen=True)
class Near:
    """The 800 m rule (9) for one applicant: ``others`` are the facilities of its kind (existing
    or applicants, itself excluded) whose distance to it is at most ``radius_m``.

    Only applicants subject to the plan get one (exempt ones do not); an applicant with nobody
    near has none.
    """

    facility: str
    others: tuple[str, ...]
    radius_m: float = 800.0


@dataclass(frozen=True)
class GateYear:
    """A year the fund-risk gate (10) is closed, with the failing conditions in words."""

    year: int
    reasons: str = ""


@dataclass(frozen=True)
class BedPause:
    """A year the needed-beds rule pauses new designations (二(一)1 暂停全市当年度医疗机构新增医保
    定点的受理和评估) and the scenario applies the pause to outpatient clinics too (17)."""

    year: int
    reasons: str = ""


@dataclass(frozen=True)
class ZoneBudget:
    """Special-zone overrides (13) of ``county`` and ``kind`` in ``year``: at most ``admit``
    admissions of zone applicants beyond the yearly limits (3)/(4), each needing expert approval
    (五(二)2 经市医保部门组织专家论证并批准，可适当突破规划限制)."""

    county: str
    kind: Kind
    year: int
    admit: int


@dataclass(frozen=True)
class RoleNeed:
    """How many designated pharmacies of ``county`` hold ``role`` (14) at the end of ``year``
    (the plan's target year, 四 规划目标): at least ``low``, at most ``high`` (None: no cap)."""

    role: str
    county: str
    year: int
    low: int
    high: int | None = None


@dataclass(frozen=True)
class ExitPlan:
    """Exits before admissions (15): in an over-configured county, ``kind`` admits in ``year``
    only once ``exits`` exits of that year are done (存量退出优先于新增准入)."""

    county: str
    kind: Kind
    year: int
    exits: int


@dataclass(frozen=True)
class Options:
    """Scenario switches.

    * ``target_mode`` — ``"equal"``: the 2028 and 2030 counts equal the plan's figures;
      ``"at_most"``: they may fall below.
    * ``exit_mode`` / ``admit_mode`` — ``"at_most"``: yearly exits (admissions) are limits;
      ``"exact"``: they equal the published figures, to reproduce 表6–表9.
    * ``street_quotas`` — apply the street rows (表8/表9) or not.
    """

    target_mode: Literal["equal", "at_most"] = "equal"
    exit_mode: Literal["at_most", "exact"] = "at_most"
    admit_mode: Literal["at_most", "exact"] = "at_most"
    street_quotas: bool = True


@dataclass(frozen=True)
class Weights:
    """Integer objective weights (8a–8k), documented in :mod:`dingdian.models.site` and
    :mod:`dingdian.models.allocation` (8g–8k).

    Integers keep every backend's objective exactly comparable (CP-SAT needs integers).
    """

    coverage: int = 10  # per person-year a fillable blind spot stays uncovered (8a)
    crowding: int = 2  # per facility-year beyond one in an urban cell (8b)
    exit_score: int = 1  # times the score of each exited facility (8c, 末位淘汰)
    admit_review: int = 1  # times the review score of each admitted applicant, a gain (8d)
    churn: int = 5  # per admission and per exit, so a swap must raise quality by > 2×churn
    spread: int = 3  # per unit of the busiest year's changes in a county and kind (8e)
    priority: int = 50  # per admission of a priority-class applicant, a gain (8f, 二(二) 优先纳入)
    override: int = 200  # per special-zone admission beyond the yearly limits (8g, 需专家论证)
    role: int = 1  # times (101 - score) per role holder in the target year (8h, best first)
    remote: int = 50  # per admission in a blind spot or a remote township, a gain (8i, 五(一)4)
    speciality: int = 20  # per admission of an urgently needed speciality, a gain (8j, 五(一)4)
    chain: int = 10  # per admission of a chain pharmacy, a gain (8k, 鼓励连锁化)


@dataclass(frozen=True)
class SiteProblem:
    """Everything the multi-year site model needs, validated and frozen."""

    facilities: tuple[Facility, ...]
    targets: tuple[Target, ...]
    quotas: tuple[Quota, ...]
    cover: tuple[Cover, ...] = ()
    crowd: tuple[Crowd, ...] = ()
    base_year: int = 2024
    years: tuple[int, ...] = (2025, 2026, 2027, 2028, 2029, 2030)
    options: Options = field(default_factory=Options)
    weights: Weights = field(default_factory=Weights)
    near: tuple[Near, ...] = ()
    #: (9) when a neighbour blocks an admission in year t: ``"start"`` — designated at the start
    #: of t (x[g,t-1]) or admitted in t; ``"end"`` — designated at the end of t (x[g,t])
    near_timing: Literal["start", "end"] = "start"
    gate: tuple[GateYear, ...] = ()
    #: (17) years the beds pause (二(一)1) also stops outpatient clinic admissions
    bed_pause: tuple[BedPause, ...] = ()
    zone_budget: tuple[ZoneBudget, ...] = ()
    roles: tuple[RoleNeed, ...] = ()
    exit_plan: tuple[ExitPlan, ...] = ()
    #: (15) leaves admissions in a blind spot (zone ``blind``) out of the rule (七(三) 绿色通道)
    green_channel: bool = False
    #: tie-break ranks (:func:`dingdian.models.tiebreak.tie_break_ranks`) given from outside, as
    #: ``(facility id, rank)``: a sub-problem of :mod:`dingdian.run.decompose` carries the whole
    #: problem's ranks, so its tie-break (L2) agrees with the monolithic one. Empty: the
    #: facilities are ranked within this problem.
    ranks: tuple[tuple[str, int], ...] = ()
    #: the scenario's own names of its yearly-limit tables, as ``(key, name)`` with keys
    #: ``county_clinic``, ``county_pharmacy``, ``street_clinic``, ``street_pharmacy`` (Zhangye:
    #: 表6–表9), for the explanation's words; empty: described, not named
    table_names: tuple[tuple[str, str], ...] = ()
    #: (16) the assessment pass mark (张掖 五(一)2 考核不达标…终止医保服务协议); None: off
    pass_mark: int | None = None
    #: (16) pass-mark exits count within the yearly exit limits (3)/(4) (True) or are left out
    #: of them (False, the default: a termination no yearly figure holds back)
    pass_mark_within_limits: bool = False

    @property
    def closed_years(self) -> tuple[int, ...]:
        """Years the fund-risk gate is closed (10)."""
        return tuple(sorted(g.year for g in self.gate))

    def fails_pass_mark(self, f: Facility, year: int) -> bool:
        """(16) ``f`` scores below the pass mark in ``year`` and must not be designated at its
        end: an existing facility by its score of that year, an applicant only in the years the
        scores table gives (its own score is a review, 公开评议); never a protected or exempt
        facility (they never exit, (7))."""
        if self.pass_mark is None or f.protected or f.exempt:
            return False
        if not f.existing and year not in {y for y, _s in f.scores}:
            return False
        return f.score_in(year) < self.pass_mark

    @property
    def paused_years(self) -> tuple[int, ...]:
        """Years the beds pause stops clinic admissions (17)."""
        return tuple(sorted(b.year for b in self.bed_pause))

    @property
    def counties(self) -> tuple[str, ...]:
        return tuple(sorted({f.county for f in self.facilities} | {t.county for t in self.targets}))

    def facility(self, fid: str) -> Facility:
        return self._by_id[fid]

    @property
    def _by_id(self) -> dict[str, Facility]:
        # cached on first use; object.__setattr__ because the dataclass is frozen
        cache = self.__dict__.get("_by_id_cache")
        if cache is None:
            cache = {f.id: f for f in self.facilities}
            object.__setattr__(self, "_by_id_cache", cache)
        return cache

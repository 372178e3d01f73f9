"""From loaded scenario tables to the frozen :class:`dingdian.models.data.SiteProblem`.

Coverage rules (五(一)3 and 四(二) of the Zhangye plan):

* a cell is *in scope* for a kind when it is populated (``population > 0``) and either urban
  (both kinds: the 15-minute circle) or rural and the kind is ``pharmacy`` (the 30-minute
  pharmacy circle) in a county not listed in ``grid.rural_pharmacy_exempt`` (肃南县除外);
  rural clinic coverage is not modelled (village clinics keep their layout and are protected);
* a facility *reaches* a cell when its distance to the cell centre is at most the cell's
  radius; the reach of an in-scope cell lists every existing or applicant facility of the kind;
* mode ``keep`` (``must_cover_<kind> = 1``) — an existing facility reaches the cell: the cell
  must stay covered in every year; mode ``gain`` (``gain_<kind> = 1``) — only applicants
  reach it: a fillable blind spot (服务盲区); otherwise ``blind_spot_<kind> = 1`` and the cell
  is not passed to the model. ``blind_spot`` = either kind is blind.
* crowding: for each urban cell and kind, the facilities (existing or applicant) located in
  the cell, when there are at least two (one facility per 15-minute hexagon, 五(一)3).

Rules of the Heze plan (when the scenario has their data and ``rules:`` leaves them on):

* the 800 m rule (二(二)): for every applicant not exempt from the plan, the facilities of its
  type (existing or applicants, itself excluded) within ``rules.near_radius_m`` of it, distances
  in the projected CRS — :class:`dingdian.models.data.Near`. The type is its kind, or with
  ``rules.near_type: category`` its category; ``rules.near_timing`` becomes
  ``SiteProblem.near_timing``;
* the fund-risk gate (二(三)1): every year the fund table closes — :class:`dingdian.models.data.GateYear`;
* the beds pause on outpatient clinics (二(一)1, ``rules.bed_pause_outpatient``): the years the
  needed-beds rule pauses — :class:`dingdian.models.data.BedPause`;
* ``exempt_rule``, ``priority_class``, ``moves_from`` become ``Facility.exempt``, ``.priority``,
  ``.moves_from``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from dingdian.geometry import within_radius
from dingdian.models.data import (
    KINDS,
    BedPause,
    Cover,
    Crowd,
    Facility,
    GateYear,
    Near,
    Quota,
    SiteProblem,
    Target,
)
from dingdian.scenario.quality import score_pairs

FLAG_COLUMNS = ["must_cover_clinic", "must_cover_pharmacy", "blind_spot", "blind_spot_clinic",
                "blind_spot_pharmacy", "gain_clinic", "gain_pharmacy"]


def in_scope(cells: pd.DataFrame, kind: str, exempt) -> np.ndarray:
    """Boolean mask of the cells that should have a facility of ``kind`` within reach."""
    populated = cells["population"].to_numpy() > 0
    urban = (cells["zone"] == "urban").to_numpy()
    if kind == "clinic":
        return populated & urban
    rural_ok = ~cells["county"].isin(list(exempt)).to_numpy()
    return populated & (urban | rural_ok)


def coverage(
    cells: pd.DataFrame, facilities: pd.DataFrame, exempt=()
) -> tuple[pd.DataFrame, dict[tuple[str, str], tuple[str, ...]]]:
    """Add the 0/1 flag columns to ``cells`` and return ``(cells, reach)``.

    ``reach[(cell_id, kind)]`` lists the ids (scenario order) of the facilities of ``kind`` within
    the radius of an in-scope cell; blind cells have an empty tuple.
    """
    cells = cells.copy()
    for col in FLAG_COLUMNS:
        cells[col] = 0
    reach: dict[tuple[str, str], tuple[str, ...]] = {}
    cxy = cells[["x", "y"]].to_numpy(float)
    ids = cells["cell_id"].to_numpy()
    for kind in KINDS:
        fac = facilities[facilities["kind"] == kind]
        fxy = fac[["x", "y"]].to_numpy(float)
        fid = fac["facility_id"].to_numpy()
        fexist = (fac["status"] == "existing").to_numpy()
        scope = in_scope(cells, kind, exempt)
        keep = np.zeros(len(cells), dtype=int)
        gain = np.zeros(len(cells), dtype=int)
        blind = np.zeros(len(cells), dtype=int)
        for radius in sorted(set(cells.loc[scope, "radius_m"])):
            rows = np.flatnonzero(scope & (cells["radius_m"].to_numpy() == radius))
            for r, near in zip(rows, within_radius(cxy[rows], fxy, radius), strict=True):
                reach[(ids[r], kind)] = tuple(fid[near])
                if fexist[near].any():
                    keep[r] = 1
                elif len(near):
                    gain[r] = 1
                else:
                    blind[r] = 1
        cells[f"must_cover_{kind}"] = keep
        cells[f"gain_{kind}"] = gain
        cells[f"blind_spot_{kind}"] = blind
    cells["blind_spot"] = (cells["blind_spot_clinic"] | cells["blind_spot_pharmacy"]).astype(int)
    return cells, dict(sorted(reach.items()))


def crowding(cells: pd.DataFrame, facilities: pd.DataFrame) -> list[Crowd]:
    """One :class:`Crowd` per urban cell and kind holding at least two facilities."""
    urban = set(cells.loc[cells["zone"] == "urban", "cell_id"])
    fac = facilities[facilities["cell_id"].isin(urban)]
    groups: dict[tuple, list] = {}  # (cell, kind) → facility ids in scenario order
    for cell, kind, fid in zip(fac["cell_id"], fac["kind"], fac["facility_id"], strict=True):
        if not (pd.isna(cell) or pd.isna(kind)):
            groups.setdefault((cell, kind), []).append(fid)
    return [Crowd(cell=cell, kind=kind, facilities=tuple(ids))
            for (cell, kind), ids in sorted(groups.items()) if len(ids) >= 2]


def near_pairs(facilities: pd.DataFrame, radius_m: float, by: str = "kind") -> tuple[Near, ...]:
    """The 800 m rule's lists: per non-exempt applicant, the same-type facilities within
    ``radius_m`` (ids in scenario order; applicants with nobody near are left out). ``by`` is
    the column that says what "same type" means: ``kind`` or ``category``."""
    out = []
    exempt = facilities["exempt_rule"].astype(str) != "" if "exempt_rule" in facilities \
        else pd.Series(False, index=facilities.index)
    for kind in sorted(set(facilities[by].astype(str))):
        fac = facilities[facilities[by].astype(str) == kind]
        ids = fac["facility_id"].astype(str).to_numpy()
        sub = (fac["status"] == "applicant") & ~exempt[fac.index]
        apps = fac[sub]
        near = within_radius(apps[["x", "y"]].to_numpy(float), fac[["x", "y"]].to_numpy(float),
                             radius_m)
        for fid, idx in zip(apps["facility_id"].astype(str), near, strict=True):
            others = tuple(g for g in ids[idx] if g != fid)
            if others:
                out.append((fid, others))
    order = {fid: i for i, fid in enumerate(facilities["facility_id"].astype(str))}
    out.sort(key=lambda pair: order[pair[0]])
    return tuple(Near(fid, others, float(radius_m)) for fid, others in out)


def gate_years(gate: pd.DataFrame | None) -> tuple[GateYear, ...]:
    """The closed years of a fund-gate table (``year, open, reasons``)."""
    if gate is None:
        return ()
    return tuple(GateYear(int(r.year), str(r.reasons)) for r in gate.itertuples(index=False)
                 if not int(r.open))


def target_years(targets: pd.DataFrame) -> dict[int, str]:
    """``{year: column}`` for the ``target_YYYY`` columns of the targets table."""
    out = {}
    for col in targets.columns:
        m = re.fullmatch(r"target_(\d{4})", str(col))
        if m:
            out[int(m.group(1))] = col
    return dict(sorted(out.items()))


def compile_problem(
    config,
    facilities: pd.DataFrame,
    targets: pd.DataFrame,
    quotas: pd.DataFrame,
    cells: pd.DataFrame,
    reach: dict[tuple[str, str], tuple[str, ...]],
    gate: pd.DataFrame | None = None,
    allocation=None,
    scores: pd.DataFrame | None = None,
    bed_pause: tuple[BedPause, ...] = (),
) -> SiteProblem:
    """Build the :class:`SiteProblem` from validated scenario tables (see module docstring).

    ``config`` is the :class:`dingdian.scenario.schema.ScenarioConfig`; street quota rows are kept
    only when ``options.street_quotas`` is true. ``gate`` is the fund-gate table
    (:attr:`dingdian.scenario.loader.Scenario.gate`), None for no gate. ``allocation`` is the
    :class:`dingdian.scenario.allocation.Allocation` (special zones, roles, sequencing,
    priorities), None when the scenario has none. ``scores`` is the scores table
    (:mod:`dingdian.scenario.quality`: ``Facility.scores``), None without one; the pass mark
    comes from ``config.rules``. ``bed_pause``: the years the beds pause stops clinic
    admissions (17), empty unless ``rules.bed_pause_outpatient``.
    """
    al = allocation
    yearly = score_pairs(scores)

    def rule(r, col: str) -> str:
        value = getattr(r, col, "")
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)

    facs = tuple(
        Facility(id=str(r.facility_id), kind=r.kind, county=r.county, street=r.street,
                 existing=r.status == "existing", protected=bool(r.protected),
                 score=int(r.score), available_from=int(r.available_from), cell=str(r.cell_id),
                 priority=rule(r, "priority_class"), exempt=rule(r, "exempt_rule"),
                 moves_from=rule(r, "moves_from"), scores=yearly.get(str(r.facility_id), ()),
                 **({} if al is None else {"zone": al.zone.get(str(r.facility_id), ""),
                                           "roles": al.roles.get(str(r.facility_id), ()),
                                           "favour": al.favour.get(str(r.facility_id), ())}))
        for r in facilities.itertuples(index=False)
    )
    rules = getattr(config, "rules", None)
    radius = getattr(rules, "near_radius_m", None)
    pass_mark = getattr(rules, "pass_mark", None)
    near = near_pairs(facilities, radius, getattr(rules, "near_type", "kind")) if radius else ()
    tgts = tuple(
        Target(county=r["county"], kind=r["kind"], year=year, count=int(r[col]))
        for r in targets.to_dict("records") for year, col in target_years(targets).items()
    )
    options = config.to_options()
    q = quotas if options.street_quotas else quotas[quotas["level"] == "county"]
    quota_rows = tuple(
        Quota(level=r.level, area=r.area, kind=r.kind, year=int(r.year), admit=int(r.admit),
              exit=int(r.exit))
        for r in q.itertuples(index=False)
    )
    cover = []
    for r in cells.itertuples(index=False):
        for kind in KINDS:
            keep, gain = getattr(r, f"must_cover_{kind}"), getattr(r, f"gain_{kind}")
            if keep or gain:
                cover.append(Cover(cell=r.cell_id, county=r.county, kind=kind,
                                   population=int(r.population), mode="keep" if keep else "gain",
                                   facilities=reach[(r.cell_id, kind)]))
    return SiteProblem(
        facilities=facs,
        targets=tgts,
        quotas=quota_rows,
        cover=tuple(cover),
        crowd=tuple(crowding(cells, facilities)),
        base_year=int(config.base_year),
        years=tuple(int(y) for y in config.years),
        options=options,
        weights=config.to_weights(),
        near=near,
        near_timing=getattr(rules, "near_timing", "start"),
        gate=gate_years(gate),
        bed_pause=tuple(bed_pause),
        table_names=tuple(sorted(getattr(config, "table_names", {}).items())),
        pass_mark=pass_mark,
        pass_mark_within_limits=getattr(rules, "pass_mark_exits", "outside") == "within",
        **({} if al is None else {"zone_budget": al.zone_budget, "roles": al.needs,
                                  "exit_plan": al.exit_plan, "green_channel": al.green_channel}),
    )

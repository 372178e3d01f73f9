"""The yearly re-plan (每年年初公布年度准入退出计划): what actually happened fixes the past, the
remaining years are solved again against the same targets.

``dingdian replan SCENARIO --actual ACTUAL --from YEAR --out OUT`` (:func:`replan`). ACTUAL is
a facility list in the form of ``plan.csv`` or ``facilities.csv`` (CSV in UTF-8 or GBK, or a
workbook's sheet; Chinese headings read through the alias table) that says, for the years
before YEAR:

* ``facility_id`` and, for what happened, ``admitted_year`` (准入年份) and ``exited_year``
  (退出年份); a facility of the scenario not listed, or listed with both empty, did what the
  scenario's base year says (designated stays designated, an applicant was not admitted);
  years from YEAR on are ignored, so last year's ``plan.csv`` edited where reality differed is
  an ACTUAL (unedited: everything went as planned);
* ``withdrawn`` (撤回, 是/否): an applicant that withdrew its application;
* ``score`` (得分): a new assessment or review score, for the years ahead;
* a row whose id the scenario does not know is a new applicant, with every column of
  ``facilities.csv`` (name, kind, category, county, street, lon, lat in the scenario's
  ``coordinates:``, ``available_from`` ≥ YEAR, default YEAR).

The re-plan is the same scenario (a variant of it) with the base year moved to YEAR − 1: the designated facilities
at its end are the existing ones (their count replaces ``existing_<base year>`` of the targets),
the applicants not admitted, not withdrawn and not exited are the applicants, the targets, the
yearly quotas, the fund figures and the allocation rows of the years from YEAR on are kept. It is
loaded, checked and solved by the usual pipeline (:func:`dingdian.solve`), so every rule holds
and an impossible remainder is explained in the usual words, counted from YEAR − 1.

The output is the plan of the remaining years (the files of ``dingdian solve``), plus
``replan/changes.csv`` — every facility whose plan differs from the previous plan (``--previous
OUT`` or, without it, the scenario solved as it stands), with why: a planned exit that did not
happen, an exit or an admission that was not planned, a withdrawal, a new applicant, a new score,
or the remaining plan re-optimised around them — ``replan/history.csv`` (what happened before
YEAR) and the derived scenario in ``replan/inputs/`` to repeat the run.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from dingdian.coords import to_wgs84
from dingdian.errors import ScenarioError, ScenarioErrors
from dingdian.pipeline.plan import Plan
from dingdian.pipeline.solving import load, solve
from dingdian.result import ExtraResult
from dingdian.scenario.aliases import BOOLEANS
from dingdian.scenario.files import Table
from dingdian.scenario.loader import Scenario
from dingdian.scenario.schema import EXEMPT_RULES, PRIORITY_CLASSES
from dingdian.write.compare_runs import load_plan

FACILITY = ["facility_id", "name", "kind", "category", "county", "street", "lon", "lat",
            "status", "score", "available_from", "protected"]
CHANGE_COLUMNS = ["facility_id", "name", "county", "kind", "previous", "replanned", "why"]
ENC = "utf-8-sig"  # the derived scenario's CSV files, with a BOM as every output


@dataclass(frozen=True)
class Replan:
    """A re-plan: the plan of the remaining years, what changed from the previous plan and why,
    and what happened before ``from_year``."""

    plan: Plan
    from_year: int
    changes: pd.DataFrame
    history: pd.DataFrame

    def write(self, out_dir: str | Path) -> Path:
        """The plan's files and ``replan/`` (changes, history, inputs), atomically."""
        return self.plan.write(out_dir)


def _actual(path: Path, sc: Scenario, from_year: int) -> pd.DataFrame:
    """ACTUAL read and checked: one row per facility named, with ``admitted``/``exited`` years
    (0: none), ``withdrawn`` and a new ``score`` (-1: unchanged); new applicants' columns."""
    known = set(sc.facilities["facility_id"])
    base = sc.config.base_year
    with Table(path, ["facility_id"], optional=["admitted_year", "exited_year", "withdrawn",
                                                "score", *FACILITY[1:]], key="facilities") as t:
        t.unique(["facility_id"], "facility_id")
        # years from the re-plan on are the old plan's future (a plan.csv passed as it is):
        # not what happened, so left out
        admitted = t.integer("admitted_year", blank=0)
        exited = t.integer("exited_year", blank=0)
        admitted = admitted.where(admitted < from_year, 0)
        exited = exited.where(exited < from_year, 0)
        for col, years in (("admitted_year", admitted), ("exited_year", exited)):
            t.flag((years != 0) & (years <= base), col,
                   lambda v: f"{v} is not a year of the plan (after {base})")
        withdrawn = t.boolean("withdrawn")
        given = t.df["score"] != ""
        score = pd.to_numeric(t.df["score"], errors="coerce")
        t.flag(given & ~score.between(0, 100), "score", lambda v: f"{v!r} is not a score 0–100")
        score = score.where(given & score.between(0, 100), -1)
        status = sc.facilities.set_index("facility_id")["status"]
        for i, fid in enumerate(t.df["facility_id"]):
            new = fid not in known
            existing = not new and status[fid] == "existing"
            if new and (admitted[i] or exited[i]):
                t.add(i, "facility_id", f"{fid!r} is not in the scenario: a new applicant has "
                                        "no admission or exit before the re-plan")
            if new and any(t.df[c].iloc[i] == "" for c in FACILITY[1:8]):
                t.add(i, "facility_id", f"{fid!r} is not in the scenario: a new applicant needs "
                                        "name, kind, category, county, street (may be empty), "
                                        "lon, lat")
            if existing and admitted[i]:
                t.add(i, "admitted_year", f"{fid} was designated in {base}: it cannot be admitted")
            if not existing and exited[i] and not (admitted[i] and admitted[i] < exited[i]):
                t.add(i, "exited_year", f"{fid} was not designated before {exited[i]}: it cannot "
                                        "exit then")
            if withdrawn[i] and (existing or admitted[i]):
                t.add(i, "withdrawn", f"{fid} is designated: only an applicant withdraws")
    frame = t.df.copy()
    frame["admitted"], frame["exited"] = admitted.to_numpy(), exited.to_numpy()
    frame["withdrawn"], frame["new_score"] = withdrawn.to_numpy(), score.to_numpy()
    frame["new"] = ~frame["facility_id"].isin(known)
    return frame


def _facilities(sc: Scenario, act: pd.DataFrame, from_year: int) -> tuple[pd.DataFrame,
                                                                          pd.DataFrame]:
    """The facility list at the end of ``from_year − 1`` (WGS-84), and the history."""
    fac = sc.facilities.copy()
    a = act[~act["new"]].set_index("facility_id")
    rows, history = [], []
    for f in fac.itertuples(index=False):
        r = a.loc[f.facility_id] if f.facility_id in a.index else None
        admitted = int(r["admitted"]) if r is not None else 0
        exited = int(r["exited"]) if r is not None else 0
        if admitted:
            history.append((f.facility_id, admitted, "准入 admitted"))
        if exited:
            history.append((f.facility_id, exited, "退出 exited"))
        if exited or (r is not None and r["withdrawn"]):
            continue  # gone: an exited facility never comes back
        row = {c: getattr(f, c) for c in FACILITY if hasattr(f, c)}
        row["status"] = "existing" if f.status == "existing" or admitted else "applicant"
        row["available_from"] = from_year - 1 if row["status"] == "existing" \
            else max(int(f.available_from), from_year)
        if r is not None and r["new_score"] >= 0:
            row["score"] = int(round(float(r["new_score"])))
        for col, codes in (("exempt_rule", EXEMPT_RULES), ("priority_class", PRIORITY_CLASSES)):
            if col in fac.columns:
                back = {v: k for k, v in codes.items()}
                row[{"exempt_rule": "exempt", "priority_class": "priority"}[col]] = \
                    back.get(getattr(f, col), "")
        for col in ("moves_from", "compliant", "speciality"):
            if col in fac.columns:
                row[col] = getattr(f, col)
        rows.append(row)
    standing = {r["facility_id"] for r in rows if r["status"] == "existing"}
    for row in rows:  # a move done (the new site admitted) or void (the old site gone) is history
        if row.get("moves_from") and (row["status"] != "applicant"
                                      or row["moves_from"] not in standing):
            row["moves_from"] = ""
    new = act[act["new"]]
    if len(new):
        lon, lat = to_wgs84(new["lon"].astype(float).to_numpy(),
                            new["lat"].astype(float).to_numpy(), sc.config.coordinates)
        for i, r in enumerate(new.itertuples(index=False)):
            avail = int(r.available_from) if str(r.available_from).strip() else from_year
            rows.append({"facility_id": r.facility_id, "name": r.name, "kind": r.kind,
                         "category": r.category, "county": r.county, "street": r.street,
                         "lon": lon[i], "lat": lat[i], "status": "applicant",
                         "score": int(round(float(r.new_score))) if r.new_score >= 0 else 0,
                         "available_from": max(avail, from_year),
                         "protected": BOOLEANS.get(str(r.protected).lower(), False)})
            history.append((r.facility_id, from_year, "新申请 new applicant"))
    out = pd.DataFrame(rows)
    out["protected"] = out["protected"].astype(bool).astype(int)
    hist = pd.DataFrame(history, columns=["facility_id", "year", "event"])
    return out, hist.sort_values(["year", "facility_id"], ignore_index=True)


def _derived(sc: Scenario, facilities: pd.DataFrame, from_year: int, folder: Path) -> Path:
    """Write the re-plan's scenario (base year ``from_year − 1``) into ``folder``."""
    years = [y for y in sc.config.years if y >= from_year]
    if not years:
        raise ScenarioError("--from", None, None, f"{from_year} leaves no planning year "
                            f"(the plan ends in {sc.config.years[-1]})")
    base = from_year - 1
    cfg = sc.config.model_dump(mode="json", exclude_none=True)
    files: dict[str, str | None] = {}  # the tables written here; the outlines stay the base's
    facilities.to_csv(folder / "facilities.csv", index=False, encoding=ENC)
    files["facilities"] = "facilities.csv"
    have = facilities[facilities["status"] == "existing"].groupby(["county", "kind"]).size()
    targets = sc.targets[["county", "kind"]].copy()
    targets[f"existing_{base}"] = [int(have.get((c, k), 0))
                                   for c, k in zip(targets["county"], targets["kind"], strict=True)]
    kept = [c for c in sc.targets.columns if c.startswith("target_") and int(c[-4:]) >= from_year]
    if not kept:
        raise ScenarioError("--from", None, None, f"no target is left from {from_year} on")
    for c in kept:
        targets[c] = sc.targets[c]
    targets.to_csv(folder / "targets.csv", index=False, encoding=ENC)
    files["targets"] = "targets.csv"
    q = sc.quotas[sc.quotas["year"] >= from_year]
    county = q[q["level"] == "county"]
    county[["county", "kind", "year", "admit", "exit"]].to_csv(folder / "quotas_county.csv",
                                                               index=False, encoding=ENC)
    files["county_quotas"] = "quotas_county.csv"
    street = q[q["level"] == "street"].rename(columns={"area": "street"})
    files["street_quotas"] = None
    if len(street):
        street[["county", "street", "kind", "year", "admit", "exit"]].to_csv(
            folder / "quotas_street.csv", index=False, encoding=ENC)
        files["street_quotas"] = "quotas_street.csv"
    if sc.gate is not None:
        fund = sc.gate[sc.gate["year"] >= from_year].drop(columns=["open", "reasons"])
        fund.to_csv(folder / "fund.csv", index=False, encoding=ENC)
        files["fund"] = "fund.csv"
    scores = getattr(sc, "scores", None)
    if scores is not None:  # the scores of the remaining years, of the facilities kept
        ids = set(facilities["facility_id"].astype(str))
        scores[(scores["year"] >= from_year) & scores["facility_id"].isin(ids)].to_csv(
            folder / "scores.csv", index=False, encoding=ENC)
        files["scores"] = "scores.csv"
    alloc = cfg.get("allocation") or {}
    for section, key in (("zones", "budget"), ("sequencing", "planned")):
        rows = (alloc.get(section) or {}).get(key)
        if rows:
            alloc[section][key] = [r for r in rows if int(r["year"]) >= from_year]
    # a variant of the scenario: its outlines and census are read where they are, inside its
    # folder, and the tables written here are the variant's own (dingdian.scenario.paths)
    keep_beds = sc.config.beds and sc.config.rules.bed_pause_outpatient
    data = {"base": str(Path(sc.source).resolve()), "name": f"{sc.config.name}-replan-{from_year}",
            "base_year": base, "years": years, "files": files, "coordinates": "wgs84",
            "allocation": alloc, "nursing": None,
            # (17) the needed-beds pause of the remaining years needs the beds figures
            **({} if keep_beds else {"beds": None}),
            "overrides": {k: [] for k in ("targets", "county_quotas", "street_quotas",
                                          "facilities")}}  # applied to the tables already
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _path_words(row: pd.Series | None, years: list[int]) -> str:
    """'准入 admitted 2027', '退出 exited 2026', '保持 stays', '未定点 not designated' from a 0/1
    path over ``years`` (the re-plan's base year first); a facility not in the plan (gone before
    the re-plan) is not designated."""
    if row is None:
        return "未定点 not designated"
    vals = [int(row[str(y)]) for y in years]
    for y, before, now in zip(years[1:], vals[:-1], vals[1:], strict=True):
        if now > before:
            return f"准入 admitted {y}"
        if now < before:
            return f"退出 exited {y}"
    return "保持 stays" if vals[0] else "未定点 not designated"


def _planned(prev: pd.DataFrame, fid: str, col: str) -> int:
    """The previous plan's admission or exit year of ``fid`` (0: none)."""
    if fid not in prev.index or col not in prev.columns:
        return 0
    value = prev.loc[fid, col]
    return 0 if pd.isna(value) or str(value) == "" else int(float(value))


def _deviations(r, prev: pd.DataFrame, fid: str, old_score, from_year: int) -> list[str]:
    """What happened to ``fid`` before ``from_year`` that the previous plan did not say."""
    why = []
    if r is not None and r["new"]:
        why.append("新申请 a new applicant")
    if r is not None and r["withdrawn"]:
        why.append("撤回 withdrew its application")
    for col, event, words in (("admitted_year", "admitted", "准入 admitted"),
                              ("exited_year", "exited", "退出 exited")):
        planned = _planned(prev, fid, col)
        planned = planned if planned < from_year else 0
        done = int(r[event]) if r is not None else 0
        if done and done != planned:
            why.append(f"{words} in {done}, not as planned")
        if planned and not done and not (r is not None and r["withdrawn"]):
            why.append(f"the {event[:-2]} planned for {planned} did not happen")
    if r is not None and r["new_score"] >= 0 and old_score is not None \
            and round(float(r["new_score"])) != int(old_score):
        why.append(f"得分 score {int(old_score)} → {r['new_score']:g}")
    return why


def _changes(previous: pd.DataFrame, new: pd.DataFrame, act: pd.DataFrame, sc: Scenario,
             from_year: int) -> pd.DataFrame:
    """Facilities whose remaining plan differs, or whose past differs from the plan, and why."""
    years = [from_year - 1] + [y for y in sc.config.years if y >= from_year]
    prev = previous.set_index(previous["facility_id"].astype(str))
    now = new.set_index(new["facility_id"].astype(str))
    a = act.set_index("facility_id")
    scores = sc.facilities.set_index("facility_id")["score"]
    rows = []
    for fid in dict.fromkeys([*prev.index, *now.index]):
        p = _path_words(prev.loc[fid] if fid in prev.index else None, years)
        n = _path_words(now.loc[fid] if fid in now.index else None, years)
        why = _deviations(a.loc[fid] if fid in a.index else None, prev, fid,
                          scores.get(fid), from_year)
        if p == n and not why:
            continue
        if not why:
            why.append("re-optimised: the remaining years are planned around what happened")
        source = now if fid in now.index else prev
        rows.append({"facility_id": fid, "name": source.loc[fid, "name"],
                     "county": source.loc[fid, "county"], "kind": source.loc[fid, "kind"],
                     "previous": p, "replanned": n, "why": "; ".join(why)})
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def replan(scenario: Scenario | str | Path, actual: str | Path, from_year: int, *,
           previous: str | Path | None = None, solver: str = "highs",
           allow_outside: bool = False, **kwargs) -> Replan:
    """Re-plan ``scenario`` from ``from_year`` on, the years before fixed to ``actual``
    (module docstring). ``previous`` is the folder of the plan being revised (default: the
    scenario solved as it stands). ``allow_outside`` as :func:`dingdian.load` (the derived
    scenario is a variant of ``scenario`` in a temporary folder). ``kwargs`` go to
    :func:`dingdian.solve`. Bad input raises
    :class:`~dingdian.errors.ScenarioError`; the plan may be infeasible (``plan.explain()``).
    """
    sc = scenario if isinstance(scenario, Scenario) \
        else load(scenario, allow_outside=allow_outside)
    if not sc.config.years[0] < from_year <= sc.config.years[-1]:
        raise ScenarioError("--from", None, None, f"{from_year} is not a planning year after "
                            f"the first ({sc.config.years[1]}–{sc.config.years[-1]})")
    act = _actual(Path(actual), sc, from_year)
    facilities, history = _facilities(sc, act, from_year)
    # the derived scenario lives in a temporary folder removed when the re-plan is made:
    # everything the plan reports is read from it by then (and summary.json names the
    # base scenario, whose outlines the report draws)
    with tempfile.TemporaryDirectory(prefix="dingdian-replan-") as tmp:
        folder = Path(tmp)
        derived = load(_derived(sc, facilities, from_year, folder), allow_outside=allow_outside)
        if previous is not None:
            before = load_plan(previous).plan
        else:
            first = solve(sc, solver=solver, planners=False, explain=False)
            if not first.has_plan:
                raise ScenarioErrors([ScenarioError(str(sc.path), None, None, "the scenario as it "
                                                    f"stands has no plan ({first.status}) to revise")])
            before = first.facilities
        plan = solve(derived, solver=solver, planners=False, **kwargs)
        changes = _changes(before, plan.facilities, act, sc, from_year) if plan.has_plan \
            else pd.DataFrame(columns=CHANGE_COLUMNS)
        inputs = {f"replan/inputs/{p.name}": pd.read_csv(p, dtype=str, keep_default_na=False)
                  for p in sorted(folder.glob("*.csv"))}
    extra = ExtraResult(name="replan", files={"replan/changes.csv": changes,
                                              "replan/history.csv": history, **inputs},
                        sheets={"调整 changes": changes},
                        summary={"from": from_year, "source": str(sc.source),
                                 "actual": str(actual), "changed": len(changes),
                                 "headline": f"重新规划 re-plan from {from_year}: {len(changes)} "
                                             "facilities change plan (replan/changes.csv)"})
    plan = Plan(scenario=plan.scenario, result=plan.result, solver=plan.solver,
                extras=(*plan.extras, extra), verification=plan.verification,
                explanation=plan.explanation, decomposition=plan.decomposition,
                fallback_from=plan.fallback_from, time_limit=plan.time_limit,
                time_limit_reached=plan.time_limit_reached)
    return Replan(plan=plan, from_year=from_year, changes=changes, history=history)

"""Why each admission and exit: the rule and the figures behind it (``OUT/decisions.csv``).

A bureau must answer "why did my pharmacy exit and not the one next door?". For every
admission (准入) and exit (退出) of a plan this module writes one row with the facts the plan's
rules rest on, recomputed from the plan and the scenario (not from the solver):

* its score (考核得分 for an existing facility, 公开评议 for an applicant) and its rank among the
  comparable facilities that year: for an exit, among the unprotected facilities of the same
  kind designated in its street (else county) at the start of the year, 1 = the lowest score
  (末位淘汰); for an admission,
  among the applicants of the same kind and area available that year and not yet admitted,
  1 = the best review (择优准入);
* the yearly limit it used (表6/表7 county, 表8/表9 street; a street limit derived by
  :mod:`dingdian.planners.street_split` says so: ``表9 东街街道 2025 人口90%+地理10%推算``) and how much of
  it the plan used;
* coverage: for an admission, the populated cells it is the first designated facility to reach
  (服务盲区 filled); for an exit, the keep cells within its reach, and that each of them keeps
  another designated facility (so the exit breaks no coverage);
* the Heze rules when they apply: the exemption (exempt_rule), the priority class, the move;
* the one-per-cell rule: how many designated facilities of its kind its urban cell held at the
  start of the year (``cell_count``; empty outside urban cells, where the rule does not apply);
* "why mine and not the one next door?" (``passed_over_zh``/``passed_over_en``): for an exit,
  the peers ranked below it (lower score, or the same score and a later id — the tie-break of
  :mod:`dingdian.models.tiebreak`) that stay designated that year, each with the reason it stays: it
  exits in a later year, it is the only designated facility reaching a keep cell (its exit
  would have broken coverage), or the county's totals and yearly spread; for an admission, the
  better-ranked applicants not admitted that year, each with its reason (admitted later, its
  cell already holds a designated facility, or the quota).

The rule named in ``rule_zh``/``rule_en`` is the first that applies, in this order: exempt,
move, 考核不达标 (an exit in a year the facility scores below the pass mark, 张掖 五(一)2; with
``rules.pass_mark_exits: outside`` it says the exit is not counted in the yearly limit, and
``quota_used`` leaves it out), blind spot filled, priority class, 末位淘汰/择优准入 by rank. With
a scores table (``files.scores``) an exit's score and rank are that year's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from dingdian.result import plan_flows
from dingdian.scenario.streets import DERIVED
from dingdian.scenario.streets import LABEL as SPLIT_LABEL

TABLE = {("county", "clinic"): "表6", ("county", "pharmacy"): "表7",
         ("street", "clinic"): "表8", ("street", "pharmacy"): "表9"}
COLUMNS = ["facility_id", "name", "kind", "county", "street", "year", "decision_zh", "decision_en",
           "score", "rank", "rank_of", "rank_area", "quota", "quota_used", "quota_limit",
           "cells_filled", "cells_kept", "rule_zh", "rule_en", "cell_count", "passed_over_zh",
           "passed_over_en"]
#: at most this many passed-over peers are named per row (the closest in rank first)
PASSED_OVER_SHOWN = 5


def _quota_rows(quotas: pd.DataFrame) -> dict[tuple, dict]:
    """The first quota row of each (level, area, kind, year)."""
    rows: dict[tuple, dict] = {}
    for row in quotas.to_dict("records"):
        rows.setdefault((row["level"], row["area"], row["kind"], row["year"]), row)
    return rows


def _limit_text(quotas: dict[tuple, dict], level: str, area: str, kind: str, year: int,
                what: str, used: int, names: dict | None = None) -> tuple[str, int | None]:
    row = quotas.get((level, area, kind, year))
    if row is None:
        return "", None
    limit = int(row[what])
    derived = f" {SPLIT_LABEL}" if row.get("source", "") == DERIVED else ""
    name = (names or {}).get(f"{level}_{kind}") or TABLE[level, kind]
    return f"{name} {area} {year}{derived}", limit


def decisions_frame(facilities: pd.DataFrame, designated: pd.DataFrame, quotas: pd.DataFrame,
                    reach: dict[tuple[str, str], tuple[str, ...]],
                    cells: pd.DataFrame, problem=None) -> pd.DataFrame:
    """One row per admission and exit of ``designated`` (facility × year 0/1).

    ``problem`` (the scenario's :class:`~dingdian.models.data.SiteProblem`, optional) gives the
    pass mark and the scores by year."""
    fac = facilities.set_index(facilities["facility_id"].astype(str))
    flows = plan_flows(designated)
    flows = flows.merge(fac[["kind", "county", "street"]], left_on="facility_id",
                        right_index=True)
    failing = _failing(problem)
    names = dict(problem.table_names) if problem is not None else {}  # table_names: 表6…
    outside = set() if problem is None or problem.pass_mark_within_limits else failing
    counted = flows.copy()  # the exits the yearly limits count
    counted["exited"] = [0 if (fid, int(y)) in outside else int(x) for fid, y, x in
                         zip(counted["facility_id"], counted["year"], counted["exited"],
                             strict=True)]
    d = designated
    years = sorted(int(c) for c in d.columns)
    # who reaches which populated cell, by kind
    reach_of: dict[str, list[tuple[str, str]]] = {}
    for (cell, kind), ids in reach.items():
        for fid in ids:
            reach_of.setdefault(str(fid), []).append((cell, kind))
    must = {(r.cell_id, k) for r in cells.itertuples(index=False) for k in ("clinic", "pharmacy")
            if int(getattr(r, f"must_cover_{k}", 0))}
    urban = set(cells.loc[cells["zone"] == "urban", "cell_id"]) if "zone" in cells else set()
    used = counted.groupby(["county", "kind", "year"])[["admitted", "exited"]].sum() \
        .to_dict("index")
    used_street = counted[counted["street"] != ""].groupby(["street", "kind", "year"])[
        ["admitted", "exited"]].sum().to_dict("index")

    # plain dictionaries: a few hundred rows look up thousands of peers (pandas per lookup was
    # ~20 s on Zhangye)
    rec = fac.to_dict("index")
    state = {str(fid): dict(zip(years, map(int, row), strict=True))
             for fid, row in zip(d.index, d[years].to_numpy(), strict=True)}
    by_area: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    by_cell: dict[tuple[str, str], list[str]] = defaultdict(list)
    for fid, g in rec.items():
        by_area[g["kind"], "county", g["county"]].append(fid)
        if g.get("street"):
            by_area[g["kind"], "street", g["street"]].append(fid)
        if str(g.get("cell_id", "") or "") in urban:
            by_cell[g["kind"], g["cell_id"]].append(fid)
    yearly = {f.id: dict(f.scores) for f in problem.facilities if f.scores} \
        if problem is not None else {}
    ctx = _Context(state, rec, reach_of, reach, must, by_cell, yearly)
    quota_rows = _quota_rows(quotas)

    rows = []
    for r in flows[(flows["admitted"] == 1) | (flows["exited"] == 1)].itertuples(index=False):
        f = rec[r.facility_id]
        year, kind = int(r.year), r.kind
        prev = years[years.index(year) - 1]
        area_col = "street" if r.street else "county"
        area = r.street or r.county
        peers = by_area[kind, area_col, area]
        admitted = r.admitted == 1
        if admitted:
            pool = [g for g in peers if rec[g]["status"] == "applicant"
                    and int(rec[g]["available_from"]) <= year and state[g][prev] == 0]
            rank = sum(rec[g]["score"] > f["score"] for g in pool) + 1
        else:  # among those that may exit: designated, not protected; that year's scores
            pool = [g for g in peers if state[g][prev] == 1 and not rec[g]["protected"]]
            rank = sum(ctx.score(g, year) < ctx.score(r.facility_id, year) for g in pool) + 1
        score = f["score"] if admitted else ctx.score(r.facility_id, year)
        what, col = ("admit", "admitted") if admitted else ("exit", "exited")
        level = "street" if r.street and (r.street, kind, year) in used_street else "county"
        key = (r.street, kind, year) if level == "street" else (r.county, kind, year)
        n_used = int((used_street if level == "street" else used)[key][col])
        quota, limit = _limit_text(quota_rows, level, area if level == "street" else r.county,
                                   kind, year, what, n_used, names)
        mine = [c for c, k in reach_of.get(r.facility_id, []) if k == kind]
        filled, kept = [], []
        for cell in mine:
            others = [g for g in reach.get((cell, kind), ()) if g != r.facility_id
                      and g in state]
            covered_by_others = sum(state[g][year] for g in others) > 0
            if admitted and not sum(state[g][prev] for g in others):
                filled.append(cell)
            if not admitted and (cell, kind) in must and covered_by_others:
                kept.append(cell)
        cell = str(f.get("cell_id", "") or "")
        cell_count = (sum(state[g][prev] for g in by_cell[kind, cell]) if cell in urban
                      else None)
        over_zh, over_en = _passed_over(ctx, r.facility_id, pool, year, admitted, kind)
        exempt = str(f.get("exempt_rule", "") or "")
        priority = str(f.get("priority_class", "") or "")
        moves = str(f.get("moves_from", "") or "")
        if exempt:
            zh, en = f"不受规划限制 {exempt}", f"exempt from the plan ({exempt})"
        elif moves:
            zh, en = f"跨区域变更地址 (原 {moves})", f"address move from {moves}"
        elif not admitted and (r.facility_id, year) in failing:
            zh, en = (f"考核不达标: 考核 {score} 分, 低于合格线 {problem.pass_mark} 分 (五(一)2)",
                      f"failed the assessment: score {score} below the pass mark "
                      f"{problem.pass_mark} (五(一)2)")
            if (r.facility_id, year) in outside:
                zh, en = zh + ", 不计入年度退出计划", en + ", outside the yearly exit limits"
        elif admitted and filled:
            zh, en = (f"优先受理服务盲区: 新覆盖 {len(filled)} 个网格",
                      f"fills a blind spot: first to reach {len(filled)} populated cell(s)")
        elif admitted and priority:
            zh, en = f"优先纳入 {priority}", f"priority class {priority}"
        elif admitted:
            zh, en = (f"择优准入: 评议 {f['score']} 分, 第 {rank}/{len(pool)} 名",
                      f"best reviewed: review {f['score']}, rank {rank} of {len(pool)}")
        else:
            zh, en = (f"末位淘汰: 考核 {score} 分, 倒数第 {rank}/{len(pool)} 名",
                      f"lowest scores exit: score {score}, rank {rank} of {len(pool)} "
                      "from the bottom")
        rows.append({
            "facility_id": r.facility_id, "name": f.get("name", ""), "kind": kind,
            "county": r.county, "street": r.street, "year": year,
            "decision_zh": "准入" if admitted else "退出",
            "decision_en": "admitted" if admitted else "exited",
            "score": int(score), "rank": rank, "rank_of": len(pool),
            "rank_area": f"{area} {kind}", "quota": quota, "quota_used": n_used,
            "quota_limit": limit, "cells_filled": ";".join(filled),
            "cells_kept": ";".join(kept), "rule_zh": zh, "rule_en": en,
            "cell_count": cell_count, "passed_over_zh": over_zh, "passed_over_en": over_en,
        })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["cell_count"] = frame["cell_count"].astype("Int64")
    return frame.sort_values(["year", "county", "kind", "decision_en", "rank"],
                             kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class _Context:
    """Lookups shared by every row: designations by facility and year, facility records,
    reach (cells by facility, facilities by cell), keep cells and urban-cell members."""

    state: dict[str, dict[int, int]]
    rec: dict[str, dict]
    reach_of: dict[str, list[tuple[str, str]]]
    reach: dict[tuple[str, str], tuple[str, ...]]
    must: set[tuple[str, str]]
    by_cell: dict[tuple[str, str], list[str]]
    #: scores by year from the scores table (facility → year → score)
    yearly: dict[str, dict[int, int]] = field(default_factory=dict)

    def score(self, fid: str, year: int) -> int:
        """The score of ``year``: the scores table's, else facilities.csv's."""
        return self.yearly.get(fid, {}).get(year, self.rec[fid]["score"])


def _failing(problem) -> set[tuple[str, int]]:
    """(16) the ``(facility, year)`` pairs below the pass mark."""
    if problem is None or getattr(problem, "pass_mark", None) is None:
        return set()
    return {(f.id, t) for f in problem.facilities for t in problem.years
            if problem.fails_pass_mark(f, t)}


def _passed_over(ctx: _Context, fid: str, pool: list[str], year: int, admitted: bool,
                 kind: str) -> tuple[str, str]:
    """The peers the rank order would have chosen before ``fid``, and why the plan did not.

    Rank order (末位淘汰 / 择优准入, ties by id as in :mod:`dingdian.models.tiebreak`): an exit should
    take the lowest score first, an admission the best review first.
    """
    state, rec = ctx.state, ctx.rec
    score = rec[fid]["score"] if admitted else ctx.score(fid, year)
    if admitted:  # better-ranked applicants left out this year
        ahead = [g for g in pool if (rec[g]["score"] > score
                                     or (rec[g]["score"] == score and g < fid))
                 and state[g][year] == 0]
        ahead.sort(key=lambda g: (-rec[g]["score"], g))  # the tie-break's order
    else:  # lower-ranked peers that stay designated this year (that year's scores)
        ahead = [g for g in pool if (ctx.score(g, year) < score
                                     or (ctx.score(g, year) == score and g > fid))
                 and state[g][year] == 1]
        ahead.sort(reverse=True)  # worst first: lowest score, then the later id
        ahead.sort(key=lambda g: ctx.score(g, year))
    zh, en = [], []
    for gid in ahead[:PASSED_OVER_SHOWN]:
        g_score = rec[gid]["score"] if admitted else ctx.score(gid, year)
        later = [t for t, v in state[gid].items() if t > year and v != state[gid][year]]
        sole = [cell for cell, k in ctx.reach_of.get(gid, []) if k == kind
                and (cell, k) in ctx.must
                and sum(state[h][year] for h in ctx.reach.get((cell, k), ()) if h in state) == 1]
        cell = str(rec[gid].get("cell_id", "") or "")
        crowded = sum(state[h][year] for h in ctx.by_cell.get((kind, cell), ())) >= 1
        if later:
            zh.append(f"{gid}({g_score}): {later[0]} 年{'准入' if admitted else '退出'}")
            en.append(f"{gid} ({g_score}): {'admitted' if admitted else 'exits'} in {later[0]}")
        elif not admitted and sole:
            zh.append(f"{gid}({g_score}): 唯一覆盖 {len(sole)} 个网格, 退出将产生盲区")
            en.append(f"{gid} ({g_score}): only designated facility reaching {len(sole)} "
                      "keep cell(s), its exit would break coverage")
        elif admitted and crowded:
            zh.append(f"{gid}({g_score}): 所在服务圈已有定点机构 (原则上配置1家)")
            en.append(f"{gid} ({g_score}): its cell already holds a designated facility "
                      "(one per cell)")
        elif admitted:
            zh.append(f"{gid}({g_score}): 名额已用于填补盲区、优先类别或年度均衡")
            en.append(f"{gid} ({g_score}): the quota went to blind spots, priority classes "
                      "or the yearly spread")
        else:
            zh.append(f"{gid}({g_score}): 县区总量与年度均衡")
            en.append(f"{gid} ({g_score}): county totals and yearly spread")
    more = len(ahead) - PASSED_OVER_SHOWN
    if more > 0:
        zh.append(f"另 {more} 家")
        en.append(f"{more} more")
    return "; ".join(zh), "; ".join(en)

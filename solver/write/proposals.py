"""Special-zone proposals for expert review (张掖 五(二)2), written beside the plan.

五(二)2: in a blind spot, a weak area or a high-demand area, "经专家论证并批准，可适当突破规划
限制". The review and the approval come *before* an admission, so by default the plan books none
(``allocation.zones.budget_per_year: 0``): the yearly tables hold only what 表6–表9 allow. What
the planner takes to the experts is this list instead — the zone applicants the plan leaves out,
each with the blind-spot population it would serve in the last planning year:

* ``盲区人口 alone`` — the people of the service cells it reaches that no designated facility of
  its kind reaches at the end of the plan (the cells of (5)'s gain rows it is listed in);
* ``按序新增 marginal`` — the same, less what the candidates ranked above it already serve. The
  list is ranked greedily by this figure (then by the applicant's review score, then its id), so
  the first k rows are the k candidates that close the most of the remaining blind spots
  together, the order an expert panel would want to hear them in.

Nothing here enters the model or the yearly tables: a candidate the experts approve is put into
the next run as a ``zones.budget`` row (or admitted through ``dingdian replan``).
"""

from __future__ import annotations

import pandas as pd

from dingdian.models.data import SiteProblem
from dingdian.scenario.allocation import ZONE_LABELS

COLUMNS = ["序号 rank", "县区 county", "类别 kind", "机构编码 facility_id", "机构名称 name",
           "特殊区域 zone", "评议得分 review", "可填补盲区单元 cells", "盲区人口 alone",
           "按序新增 marginal", "说明 note"]
KIND_ZH = {"clinic": "诊所 clinic", "pharmacy": "药店 pharmacy"}
NOTE = "需专家论证并批准后方可准入（五(二)2），未列入年度准入计划"


def zone_proposals(plan: pd.DataFrame, problem: SiteProblem,
                   kinds: tuple[str, ...] = ("clinic", "pharmacy")) -> pd.DataFrame:
    """The ranked candidates of ``kinds`` (``allocation.zones.kinds``: 张掖 五(二)2 is the
    pharmacy section) — see the module docstring; empty when no zone applicant is out."""
    last = str(problem.years[-1])
    at_end = dict(zip(plan["facility_id"].astype(str), plan[last].astype(int), strict=True))
    candidates = [f for f in problem.facilities
                  if f.zone and f.kind in kinds and not f.existing and not f.exempt and not at_end.get(f.id, 0)]
    blind: dict[str, tuple[int, set[str]]] = {}  # cell → (population, candidates reaching it)
    for c in problem.cover:
        if c.mode != "gain" or any(at_end.get(f, 0) for f in c.facilities):
            continue
        reach = {f.id for f in candidates if f.kind == c.kind and f.id in c.facilities}
        if reach:
            blind[f"{c.kind}:{c.cell}"] = (c.population, reach)
    cells = {f.id: {k for k, (_p, who) in blind.items() if f.id in who} for f in candidates}
    alone = {fid: sum(blind[k][0] for k in ks) for fid, ks in cells.items()}
    rows, served = [], set()
    todo = sorted(candidates, key=lambda f: f.id)
    while todo:
        def gain(f, served=served):
            return sum(blind[k][0] for k in cells[f.id] - served)
        best = min(todo, key=lambda f: (-gain(f), -alone[f.id], -f.score, f.id))
        rows.append([len(rows) + 1, best.county, KIND_ZH[best.kind], best.id, "",
                     "；".join(ZONE_LABELS[z] for z in best.zone.split(";") if z), best.score,
                     len(cells[best.id]), alone[best.id], gain(best), NOTE])
        served |= cells[best.id]
        todo.remove(best)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    names = plan.set_index(plan["facility_id"].astype(str))["name"] if "name" in plan else None
    if names is not None and len(frame):
        frame["机构名称 name"] = frame["机构编码 facility_id"].map(names).fillna("").astype(str)
    return frame


def proposal_summary(frame: pd.DataFrame) -> dict:
    """summary.json ``allocation.special_zones.proposals``."""
    return {"candidates": len(frame),
            "population": int(frame["按序新增 marginal"].sum()) if len(frame) else 0,
            "file": "zone_proposals.csv"}

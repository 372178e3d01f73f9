"""The quality rule's inputs: the pass mark (``rules.pass_mark``) and the scores by year
(``files.scores``).

Seed, 张掖 五(一)2: "强化日常监管和年度考核，采取末位淘汰制，对考核不达标和考核排名末位的终止医保
服务协议"; 七: "对年度考核不合格的解除协议，排名靠后的实施末位淘汰". Neither plan gives the pass
mark, so the rule is off unless ``rules.pass_mark`` sets one (:mod:`dingdian.models.site` (16)).

The scores table (optional, long form; CSV or a workbook's sheet, read by
:class:`~dingdian.scenario.files.Table`, Chinese headings through
:mod:`dingdian.scenario.aliases`):

* ``facility_id`` (机构编码) — a facility of the facility list;
* ``year`` (年度, 年份) — a planning year;
* ``score`` (考核得分, 得分) — 0–100, decimals rounded half up to whole points (as facilities.csv);
* ``source`` (来源), optional.

One row per facility and year at most. A year not given keeps facilities.csv's ``score``. The
score of a year feeds the pass mark of that year and the exit cost (8c) of that year (末位淘汰
by that year's score). For an applicant, facilities.csv's score is its public review (公开评议):
only the years the table gives count for the pass mark.

Protected and exempt facilities are outside the pass mark (they never exit, (7): 村卫生室原则上不做
调控); those that score below it are named in a warning, not hidden.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dingdian.scenario.files import Table

SCORE_COLUMNS = ["facility_id", "year", "score"]


def read_scores(path: Path, cfg, facilities: pd.DataFrame) -> pd.DataFrame:
    """The scores table, every cell checked: ``facility_id, year, score`` (int), one row per
    facility and year; ``attrs['notes']`` holds the rounding note, if any."""
    known = set(facilities["facility_id"].astype(str))
    with Table(path, SCORE_COLUMNS, optional=["source"], key="scores") as t:
        ids = t.text("facility_id")
        t.flag((ids != "") & ~ids.isin(known), "facility_id",
               lambda v: f"unknown facility {v!r} (not in the facility list)")
        year = t.integer("year")
        span = f"{cfg.years[0]}–{cfg.years[-1]}"
        t.flag(~t.bad("year") & ~year.isin(cfg.years), "year",
               lambda v: f"{v} is not a planning year ({span})")
        score = t.whole("score", 0, 100)
        t.unique(["facility_id", "year"], "facility and year")
    frame = pd.DataFrame({"facility_id": ids.to_numpy(), "year": year.to_numpy(),
                          "score": score.to_numpy()}).reset_index(drop=True)
    frame.attrs["file"] = t.name
    frame.attrs["notes"] = tuple(t.notes)
    return frame


def score_pairs(scores: pd.DataFrame | None) -> dict[str, tuple[tuple[int, int], ...]]:
    """``{facility id: ((year, score), …)}`` in year order, for ``Facility.scores``."""
    if scores is None or scores.empty:
        return {}
    out: dict[str, list[tuple[int, int]]] = {}
    for r in scores.sort_values(["facility_id", "year"]).itertuples(index=False):
        out.setdefault(str(r.facility_id), []).append((int(r.year), int(r.score)))
    return {k: tuple(v) for k, v in out.items()}


def pass_mark_notes(cfg, facilities: pd.DataFrame, scores: pd.DataFrame | None) -> list[str]:
    """Warnings: the facilities the pass mark leaves alone because they are protected or
    exempt, though they score below it in some year."""
    mark = cfg.rules.pass_mark
    if mark is None:
        return []
    pairs = score_pairs(scores)
    low = []
    for r in facilities.itertuples(index=False):
        fid = str(r.facility_id)
        exempt = str(getattr(r, "exempt_rule", "") or "")
        if not (bool(r.protected) or exempt):
            continue
        given = dict(pairs.get(fid, ()))
        years = cfg.years if r.status == "existing" else sorted(given)
        if any(given.get(y, int(r.score)) < mark for y in years):
            low.append(fid)
    if not low:
        return []
    shown = ", ".join(low[:5]) + (f" and {len(low) - 5} more" if len(low) > 5 else "")
    return [f"rules.pass_mark {mark}: {len(low)} protected or exempt facilit"
            f"{'y scores' if len(low) == 1 else 'ies score'} below it and stay (they never "
            f"exit, 村卫生室原则上不做调控): {shown}"]

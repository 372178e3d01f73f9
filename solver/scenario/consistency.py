"""Checks across the scenario's files: what each file alone cannot tell.

Each check returns the problems it finds (never raises), one
:class:`~dingdian.errors.ScenarioError` each, naming the file, the row as Excel shows it and the
field, so that ``dingdian validate`` lists them all:

* :func:`quotas_complete` — a county quota row (表6/表7) for every county × kind of the targets
  and every planning year: a missing row would silently mean "no limit";
* :func:`street_quotas_complete` — a street with street quota rows (表8/表9) has one for every
  planning year;
* :func:`existing_counts` — the targets' declared base-year counts (``existing_2024``, 表2/表3)
  equal the designated facilities listed;
* :func:`streets_within_county` — a county's street quotas (表8/表9) add up to at most its own
  figure, per kind, year and flow;
* :func:`street_labels` — a facility's street label agrees with the street outline it lies in;
* :func:`overlapping_counties` — no two county outlines overlap (more than a sliver).

Whether each county can reach its targets within the yearly limits is not bad input but an
impossible plan: :func:`dingdian.run.explain.shortfalls` says so before any solve.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import shapely

from dingdian.errors import ScenarioError

#: two county outlines may share this much area (of the smaller) before it is an error:
#: published outlines meet along borders with slivers of 1e-8
OVERLAP_TOLERANCE = 1e-3


class SourceRows(tuple):
    """The rows of a table's records in its file, as Excel numbers them (``attrs["rows"]`` of
    the facilities, targets and quotas frames): a tuple that deep-copies as itself, being
    immutable. pandas deep-copies a frame's ``attrs`` on every operation on it, element by
    element: Zhangye's 2,067 facility rows cost ~0.4 s of CPU a solve that way."""

    __slots__ = ()

    def __deepcopy__(self, memo) -> SourceRows:
        return self


def _row(frame: pd.DataFrame, i: int) -> int | None:
    rows = frame.attrs.get("rows")
    return int(rows[i]) if rows is not None and i < len(rows) else None


def quotas_complete(targets: pd.DataFrame, quotas: pd.DataFrame, years, file: str
                    ) -> list[ScenarioError]:
    """A county quota row for every county and kind of the targets, every planning year."""
    have = set(zip(quotas["county"], quotas["kind"], quotas["year"].astype(int), strict=True))
    out = []
    for r in targets.itertuples(index=False):
        missing = [y for y in years if (r.county, r.kind, int(y)) not in have]
        if missing:
            out.append(ScenarioError(
                file, None, "year",
                f"no row for {r.county} {r.kind} in {', '.join(map(str, missing))}: without "
                "a row that year would have no limit; give the plan's figures"))
    return out


def street_quotas_complete(street_q: pd.DataFrame, years, file: str) -> list[ScenarioError]:
    """Each street, kind that has street quota rows (表8/表9) has one for every planning year:
    a street-year without a row would silently fall to the county's remainder."""
    if street_q is None or street_q.empty:
        return []
    out = []
    for (county, street, kind), grp in street_q.groupby(["county", "area", "kind"], sort=False):
        missing = [y for y in years if int(y) not in set(grp["year"].astype(int))]
        if missing:
            out.append(ScenarioError(
                file, None, "year",
                f"no row for {county} {street} {kind} in {', '.join(map(str, missing))}: the "
                "street has rows for other years; give every year's figures"))
    return out


def existing_counts(targets: pd.DataFrame, facilities: pd.DataFrame, base_year: int,
                    targets_file: str, facilities_file: str) -> list[ScenarioError]:
    """The declared base-year counts against the designated facilities listed."""
    col = f"existing_{base_year}"
    if col not in targets:
        return []
    have = facilities[facilities["status"] == "existing"].groupby(["county", "kind"]).size()
    out = []
    for i, r in enumerate(targets.itertuples(index=False)):
        n = int(have.get((r.county, r.kind), 0))
        declared = int(getattr(r, col))
        if n != declared:
            out.append(ScenarioError(
                targets_file, _row(targets, i), col,
                f"{r.county} {r.kind}: {declared} designated in {base_year} here, but "
                f"{facilities_file} lists {n} existing ({n - declared:+d})"))
    return out


def streets_within_county(county_q: pd.DataFrame, street_q: pd.DataFrame, file: str
                          ) -> list[ScenarioError]:
    """Each county's street rows add up to at most its county row, per kind, year and flow."""
    if street_q is None or street_q.empty:
        return []
    county = county_q.set_index(["county", "kind", "year"])[["admit", "exit"]]
    sums = street_q.groupby(["county", "kind", "year"], sort=False)[["admit", "exit"]].sum()
    out = []
    for (c, k, y), s in sums.iterrows():
        if (c, k, y) not in county.index:
            continue
        for flow, word in (("admit", "admissions"), ("exit", "exits")):
            limit = int(county.loc[(c, k, y), flow])
            if int(s[flow]) > limit:
                out.append(ScenarioError(
                    file, None, flow,
                    f"{c} {k} {y}: the streets' {word} add up to {int(s[flow])}, more than "
                    f"the county's {limit}"))
    return out


def street_labels(facilities: pd.DataFrame, urban_areas, file: str) -> list[ScenarioError]:
    """A facility inside a street's outline carries that street's label (and a label names
    the outline the facility lies in). ``urban_areas`` are projected, like ``x``/``y``."""
    streets = [a for a in urban_areas if a.street]
    if not streets:
        return []
    xy = facilities[["x", "y"]].to_numpy(float)
    lies = np.full(len(facilities), "", dtype=object)
    for a in streets:
        inside = shapely.intersects_xy(a.geom, xy[:, 0], xy[:, 1]) \
            & (facilities["county"] == a.county).to_numpy()
        lies[inside] = a.street
    labelled = {(a.county, a.street) for a in streets}
    out = []
    for i, (county, label, where) in enumerate(zip(facilities["county"], facilities["street"],
                                                   lies, strict=True)):
        if where and label != where:
            said = f"labelled {label!r}" if label else "has no street label"
            out.append(ScenarioError(file, _row(facilities, i), "street",
                                     f"{facilities['facility_id'].iloc[i]} lies in {where}'s "
                                     f"outline but {said}"))
        elif not where and label and (county, label) in labelled:
            out.append(ScenarioError(file, _row(facilities, i), "street",
                                     f"{facilities['facility_id'].iloc[i]} is labelled "
                                     f"{label!r} but lies outside its outline"))
    return out


def overlapping_counties(counties_xy: dict, file: str) -> list[ScenarioError]:
    """Pairs of projected county outlines that overlap beyond :data:`OVERLAP_TOLERANCE`."""
    out = []
    for (a, ga), (b, gb) in itertools.combinations(counties_xy.items(), 2):
        if not ga.intersects(gb):
            continue
        shared = ga.intersection(gb).area
        if shared > OVERLAP_TOLERANCE * min(ga.area, gb.area):
            out.append(ScenarioError(file, None, "geometry",
                                     f"{a} and {b} overlap by {shared / 1e6:.2f} km² (each "
                                     "place must belong to one county)"))
    return out

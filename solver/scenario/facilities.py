"""Reading the facility list (``facilities.csv`` or its sheet): every cell checked, the points
converted to WGS-84 and placed in their county.

Columns: ``facility_id, name, kind, category, county, street, lon, lat, status, score``, then
optionally ``available_from`` (the first year an applicant may be admitted; blank: the first
planning year; existing: the base year), ``protected`` (1/0, also set for every category in
``protected_categories``), the Heze rule columns ``exempt``, ``priority``, ``moves_from`` and the
allocation columns ``compliant``, ``speciality``. ``kind`` clinic|pharmacy; ``category``
clinic|village_clinic|community_health_centre|community_health_station|institution_clinic
(clinics) or chain_pharmacy|single_pharmacy; ``status`` existing|applicant; ``score`` 0–100.
Chinese headings and values are read through :mod:`dingdian.scenario.aliases`. The frame gains
``protected_class``: why a protected facility never exits (its category with the plan's
sentence from ``protected_basis``, the ``protected`` column, or its exemption).

``coordinates:`` in scenario.yaml says the points' datum; GCJ-02 (高德, 腾讯) and BD-09 (百度)
points are converted to WGS-84 (:mod:`dingdian.coords`). A point outside its county is a
problem of its row; when many lie just outside, the problems end with a hint at the datum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from dingdian.coords import datum_hint, to_wgs84
from dingdian.errors import clip
from dingdian.geometry import lonlat_to_xy
from dingdian.models.data import KINDS
from dingdian.scenario.aliases import BOOLEANS
from dingdian.scenario.allocation import facility_columns
from dingdian.scenario.consistency import SourceRows
from dingdian.scenario.files import Table
from dingdian.scenario.schema import (
    ALL_CATEGORIES,
    CATEGORIES,
    CATEGORY_ZH,
    EXEMPT_RULES,
    PRIORITY_CLASSES,
)

FACILITY_COLUMNS = ["facility_id", "name", "kind", "category", "county", "street", "lon", "lat",
                    "status", "score", "available_from", "protected"]
RULE_COLUMNS = ["exempt", "priority", "moves_from"]
STATUSES = ("existing", "applicant")
#: categories each priority class may have (二(二))
PRIORITY_CATEGORIES = {
    "community_health": ("community_health_centre", "community_health_station"),
    "integrated_village_clinic": ("village_clinic",),
    "university_clinic": ("institution_clinic",),
    "elderly_care_clinic": ("institution_clinic",),
}
#: the exemptions of 二(三)2 and 二(三)3 are for medical institutions (clinic kind) only
EXEMPT_CLINIC_ONLY = ("key_project", "public_health")


def read_facilities(path: Path, cfg, counties, streets) -> pd.DataFrame:
    """The facility list, every cell checked (see the module docstring); the points in WGS-84
    and projected (``x``, ``y``), each in its county's outline. ``counties`` are the outlines
    by name, ``streets`` each county's street names."""
    with Table(path, FACILITY_COLUMNS[:10], optional=["available_from", "protected"],
               key="facilities") as t:
        t.require_rows("the designated facilities and the applicants")
        has_rules = [c for c in RULE_COLUMNS if c in t.df.columns]
        for col in RULE_COLUMNS:
            if col not in t.df.columns:
                t.df[col] = ""
        ids = t.text("facility_id")
        t.unique(["facility_id"], "facility_id")
        kind = t.choice("kind", KINDS, "kind")
        cat = t.choice("category", ALL_CATEGORIES, "category")
        ok = [k not in CATEGORIES or c in CATEGORIES[k] for k, c in zip(kind, cat, strict=True)]
        t.flag(~np.array(ok, dtype=bool), "category",
               lambda v: f"category {v!r} does not match the kind")
        county = t.choice("county", counties, "county")
        for i, (c, s) in enumerate(zip(county, t.df["street"], strict=True)):
            if s and streets is not None and c in counties and s not in streets.get(c, set()):
                known = ", ".join(sorted(streets.get(c, ()))) or "none"
                t.add(i, "street", f"unknown street {clip(s)!r} (known in {c}: {known})")
        lon = t.number("lon", -180, 180)
        lat = t.number("lat", -90, 90)
        status = t.choice("status", STATUSES, "status")
        score = t.whole("score", 0, 100)
        existing = (status == "existing").to_numpy()
        avail = t.integer("available_from", blank=0)
        avail = pd.Series(np.where(avail == 0, np.where(existing, cfg.base_year, cfg.years[0]),
                                   avail))
        t.flag(existing & (avail > cfg.base_year), "available_from",
               lambda v: f"existing facility available from {v}, after the base year "
                         f"{cfg.base_year}")
        t.flag(~existing & (status == "applicant").to_numpy()
               & ((avail <= cfg.base_year) | (avail > cfg.years[-1])), "available_from",
               lambda v: f"applicant available from {v}, outside the planning years")
        protected = t.boolean("protected") | cat.isin(cfg.protected_categories)
        exempt, priority, moves = _rule_columns(t, cfg, ids, kind, cat, status)
        allocation = facility_columns(t, kind)  # compliant, speciality (optional)
        protected = protected | (exempt != "")
        lon, lat, raw = _to_wgs84(lon, lat, cfg.coordinates)
        _inside_counties(t, county, lon, lat, raw, counties, cfg.coordinates)
    x, y = lonlat_to_xy(lon.to_numpy(), lat.to_numpy(), cfg.crs)
    frame = pd.DataFrame({
        "facility_id": ids, "name": t.df["name"], "kind": kind, "category": cat,
        "county": county, "street": t.df["street"], "lon": lon, "lat": lat, "status": status,
        "score": score, "available_from": avail.astype(np.int64).to_numpy(),
        "protected": protected.astype(bool), "x": x, "y": y,
        **{k: v.to_numpy() for k, v in allocation.items()},
    }).reset_index(drop=True)
    if has_rules:  # Heze: which rule exempted each facility, its priority class, its move
        rules = cfg.rules
        frame["exempt_rule"] = exempt.map(EXEMPT_RULES).fillna("").to_numpy() \
            if rules.exempt else ""
        frame["priority_class"] = priority.map(PRIORITY_CLASSES).fillna("").to_numpy() \
            if rules.priority else ""
        frame["moves_from"] = moves.to_numpy() if rules.moves else ""
        if not rules.exempt:  # switched off: exempt rows are ordinary applicants again
            frame["protected"] = (t.df["protected"].str.lower().map(BOOLEANS).fillna(False)
                                  | cat.isin(cfg.protected_categories)).to_numpy()
    frame["protected_class"] = protected_classes(frame, t.df["protected"], cfg)
    frame.attrs["rows"] = SourceRows(int(r) for r in t.rows)
    frame.attrs["file"] = t.name
    frame.attrs["notes"] = tuple(t.notes)
    return frame


def protected_classes(frame: pd.DataFrame, column: pd.Series, cfg) -> list[str]:
    """Why each protected facility never exits ('' for the others): its category with the
    plan's sentence (``protected_basis``), the facilities.csv ``protected`` column, or the rule
    that exempts it."""
    flagged = column.str.lower().map(BOOLEANS).fillna(False).to_numpy()
    rules = frame["exempt_rule"] if "exempt_rule" in frame else pd.Series("", index=frame.index)
    out = []
    for cat, mark, rule, on in zip(frame["category"], flagged, rules, frame["protected"],
                                   strict=True):
        why = []
        if cat in cfg.protected_categories:
            basis = cfg.protected_basis.get(cat, "情景设定 protected_categories")
            why.append(f"{CATEGORY_ZH.get(cat, cat)}：{basis}")
        if mark:
            why.append("名单标注保护 facilities protected")
        if rule:
            why.append(f"豁免 {rule}")
        out.append("；".join(why) if on else "")
    return out


def _to_wgs84(lon: pd.Series, lat: pd.Series, datum: str):
    """The points in WGS-84 (converted from GCJ-02 or BD-09 when ``coordinates:`` says so), and
    the points as written."""
    if datum == "wgs84":
        return lon, lat, (lon, lat)
    x, y = to_wgs84(lon.to_numpy(), lat.to_numpy(), datum)
    return pd.Series(x, index=lon.index), pd.Series(y, index=lat.index), (lon, lat)


def _inside_counties(t: Table, county, lon, lat, raw, counties, datum: str) -> None:
    """Every point in its county's outline (the message gives the point as written); many just
    outside → a hint at the datum (:func:`dingdian.coords.datum_hint`)."""
    checked = ~t.bad("county", "lon", "lat")
    outside = []
    for name, geom in counties.items():
        m = ((county == name).to_numpy() & checked)
        idx = np.flatnonzero(m)
        inside = shapely.intersects_xy(geom, lon.to_numpy()[idx], lat.to_numpy()[idx])
        outside += [int(i) for i in idx[~inside]]
    said = "" if datum == "wgs84" else f" (read as {datum})"
    for i in sorted(outside):
        t.add(i, "lon", f"point ({raw[0].iloc[i]}, {raw[1].iloc[i]}){said} lies outside "
                        f"{county.iloc[i]}")
    if outside:
        hint = datum_hint(raw[0].to_numpy()[outside], raw[1].to_numpy()[outside],
                          [counties[county.iloc[i]] for i in outside],
                          [county.iloc[i] for i in outside], declared=datum)
        if hint:
            t.add(None, "lon", hint)


def _rule_columns(t: Table, cfg, ids, kind, cat, status):
    """The optional ``exempt``, ``priority`` and ``moves_from`` columns, checked (codes)."""
    exempt = t.choice("exempt", EXEMPT_RULES, "exemption code", blank=True)
    t.flag(exempt.isin(EXEMPT_CLINIC_ONLY) & (kind != "clinic"), "exempt",
                 lambda v: f"{v!r} exempts medical institutions only (kind clinic), "
                           "not pharmacies")
    priority = t.choice("priority", PRIORITY_CLASSES, "priority class", blank=True)
    t.flag((priority != "") & (kind != "clinic"), "priority",
                 lambda v: f"priority class {v!r} is for clinics (门诊定点医疗机构) only")
    ok = [p not in PRIORITY_CATEGORIES or c in PRIORITY_CATEGORIES[p]
          for p, c in zip(priority, cat, strict=True)]
    t.flag(~np.array(ok, dtype=bool), "priority",
                 lambda v: f"priority class {v!r} does not match the category "
                           f"(allowed: {', '.join(PRIORITY_CATEGORIES[v])})")
    moves = t.df["moves_from"]
    row_of = {fid: i for i, fid in enumerate(ids)}
    for i, old in enumerate(moves):
        if not old:
            continue
        j = row_of.get(old)
        why = None
        if status.iloc[i] != "applicant":
            why = "only an applicant row (the new address) can move from a facility"
        elif j is None:
            why = f"unknown facility {clip(old)!r}"
        elif j == i:
            why = "a facility cannot move from itself"
        elif status.iloc[j] != "existing":
            why = f"{old!r} is not an existing designated facility"
        elif kind.iloc[j] != kind.iloc[i]:
            why = f"{old!r} is a {kind.iloc[j]}, this row a {kind.iloc[i]}"
        elif exempt.iloc[i]:
            why = "a move is subject to the plan: the new address cannot be exempt"
        elif exempt.iloc[j] or cat.iloc[j] in cfg.protected_categories \
                or BOOLEANS.get(t.df["protected"].iloc[j].lower(), False):
            why = f"{old!r} is protected (never exits), so it cannot move"
        if why:
            t.add(i, "moves_from", why)
    dup = moves.ne("") & moves.duplicated(keep="first")
    t.flag(dup, "moves_from", lambda v: f"a second move from {v!r}")
    return exempt, priority, moves

"""The county basic set of hospitals (Zhangye 四(一)), a documented check beside the model.

Seed, 四(一)(1): "各县区原则上设置1家综合医院、1家中医类医保定点医疗机构（含中医医院、中西医结合医院、
少数民族医院等）以及1家妇幼保健机构，民族地区优先设立民族医保定点医疗机构。"

Rule
----
For every county of the scenario, among the designated hospitals (the beds planner's
``hospitals.csv``, column ``type``):

* ``general`` 综合医院 — at least one hospital of type 综合医院;
* ``tcm`` 中医类 — at least one of 中医医院, 中西医结合医院, 民族医医院;
* ``maternal_child`` 妇幼保健机构 — at least one 妇幼保健院;
* ``ethnic`` 民族医 — in a county listed in ``rules.ethnic_counties`` (民族地区, Zhangye:
  肃南裕固族自治县), at least one 民族医医院 as well (优先设立).

"原则上" (in principle): a missing one is reported — a row of ``OUT/basic_set.csv`` with status
缺 missing, the ``basic_set`` section of ``summary.json`` and a warning line of ``dingdian
solve`` — never an error and never a constraint. When the beds plan ran, the check is repeated
on its last year (``beds.csv``): a hospital left with no bed no longer counts.

Known types (``TYPES``): 综合医院, 中医医院, 中西医结合医院, 民族医医院, 妇幼保健院, 专科医院, 乡镇卫生院;
any other value is a one-line error naming ``hospitals.csv``, the row and ``type``. Scenarios
whose beds file has no hospital list (Heze) are not checked; a hospital list without a
``type`` column is reported as not checked. Switch: ``rules.basic_set: false``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dingdian.result import ExtraResult
from dingdian.scenario.files import Table

#: group → (label, types that fill it)
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "general": ("综合医院 general hospital", ("综合医院",)),
    "tcm": ("中医类 TCM-type", ("中医医院", "中西医结合医院", "民族医医院")),
    "maternal_child": ("妇幼保健机构 maternal and child", ("妇幼保健院",)),
    "ethnic": ("民族医 ethnic medicine", ("民族医医院",)),
}
TYPES = ("综合医院", "中医医院", "中西医结合医院", "民族医医院", "妇幼保健院", "专科医院", "乡镇卫生院")
PRESENT, MISSING = "有 present", "缺 missing"
HEADINGS = {"county": "县区 county", "group": "类别 group", "required": "要求 required",
            "count": "机构数 count", "count_last": "规划末年机构数 count_last",
            "institutions": "机构 institutions", "status": "状态 status"}


def read_hospital_types(path: Path, counties) -> pd.DataFrame | None:
    """``hospital_id, name, county, type`` of a hospitals.csv; None without a ``type`` column."""
    with Table(path, ["hospital_id", "name", "county"]) as t:
        if "type" not in t.df.columns:
            return None
        t.choice("county", counties, "county")
        t.text("type")
        t.choice("type", TYPES, "institution type")
    return t.df[["hospital_id", "name", "county", "type"]].reset_index(drop=True)


def basic_set_frame(hospitals: pd.DataFrame, counties, ethnic_counties=(),
                    last: set[str] | None = None) -> pd.DataFrame:
    """One row per county and group (``ethnic`` only for ethnic counties): the hospitals that
    fill it, their count, the count among ``last`` (ids still designated at the end of the
    plan; None: not known) and the status."""
    rows = []
    for county in counties:
        here = hospitals[hospitals["county"] == county]
        for group, (label, types) in GROUPS.items():
            if group == "ethnic" and county not in ethnic_counties:
                continue
            hit = here[here["type"].isin(types)]
            n = len(hit)
            n_last = None if last is None else int(hit["hospital_id"].isin(last).sum())
            ok = n > 0 and (n_last is None or n_last > 0)
            rows.append({
                "county": county, "group": label,
                "required": "民族地区优先 first in ethnic areas" if group == "ethnic"
                else "原则上1家 one in principle",
                "count": n, "count_last": n_last,
                "institutions": "; ".join(f"{r.hospital_id} {r.name} ({r.type})"
                                          for r in hit.itertuples(index=False)),
                "status": PRESENT if ok else MISSING, "key": group})
    return pd.DataFrame(rows, columns=[*HEADINGS, "key"])


def basic_set_summary(frame: pd.DataFrame, last_year: int | None = None) -> dict:
    """Complete counties, what each other county lacks, and one warning per gap."""
    missing: dict[str, list[str]] = {}
    warnings = []
    for r in frame[frame["status"] == MISSING].itertuples(index=False):
        missing.setdefault(r.county, []).append(r.key)
        if r.count and r.count_last == 0:
            why = f"none left with beds in {last_year} (it had {r.count})"
        elif r.key == "ethnic":
            why = "民族地区优先设立民族医保定点医疗机构, but none is designated"
        else:
            why = "原则上1家, but none is designated"
        warnings.append(f"{r.county}: {r.group} missing — {why}")
    counties = list(dict.fromkeys(frame["county"]))
    complete = [c for c in counties if c not in missing]
    head = (f"basic set complete in {len(complete)} of {len(counties)} counties"
            + (": missing " + "; ".join(f"{c} {', '.join(g)}" for c, g in missing.items())
               if missing else ""))
    return {"source": "Zhangye 四(一)(1) 综合医院、中医类、妇幼保健机构各1家，民族地区优先民族医",
            "checked": True, "complete": complete, "missing": missing,
            "warnings": warnings, "headline": head}


def _hospitals_path(sc) -> Path | None:
    from dingdian.scenario.beds import read_beds_config

    if not getattr(sc.config, "beds", None):
        return None
    beds_yaml = Path(sc.root) / sc.config.beds
    cfg = read_beds_config(beds_yaml)
    files = getattr(cfg, "files", None)
    hospitals = getattr(files, "hospitals", None)
    return beds_yaml.parent / hospitals if hospitals else None


def basic_set_extra(sc, extras=()) -> ExtraResult | None:
    """``OUT/basic_set.csv``, a 基本配置 sheet and the ``basic_set`` summary section; None when
    the rule is off or the scenario has no hospital list. ``extras`` may hold the beds plan,
    whose last year is checked too."""
    rules = sc.config.rules
    if not rules.basic_set:
        return None
    path = _hospitals_path(sc)
    if path is None:
        return None
    counties = list(dict.fromkeys(sc.targets["county"]))
    hospitals = read_hospital_types(path, counties)
    if hospitals is None:
        note = f"{path.name} has no type column: the basic set (四(一)) is not checked"
        return ExtraResult(name="basic_set", summary={"checked": False, "warnings": [note],
                                                      "headline": note})
    beds = next((e.files.get("beds.csv") for e in extras if e.name == "beds"), None)
    last, last_year = None, None
    if beds is not None and {"hospital_id", "year", "beds"} <= set(beds.columns):
        last_year = int(beds["year"].max())
        end = beds[beds["year"] == last_year]
        last = set(end.loc[end["beds"] > 0, "hospital_id"].astype(str))
    frame = basic_set_frame(hospitals, counties, rules.ethnic_counties, last)
    summary = basic_set_summary(frame, last_year)
    table = frame.drop(columns="key").rename(columns=HEADINGS)
    if last is None:
        table = table.drop(columns=HEADINGS["count_last"])
    return ExtraResult(name="basic_set", files={"basic_set.csv": table},
                       sheets={"基本配置 basic set": table}, summary=summary)

"""The plan folders of a comparison: reading one into a :class:`PlanRun`, and the runs' labels.

:func:`load_plan` reads one output folder of ``dingdian solve`` (plan.csv, counts.csv,
summary.json, and cells.csv when present) into a frozen :class:`PlanRun`; a folder that is not a
plan raises :class:`NotAPlan`, whose ``str()`` is one line. :func:`default_labels` names the
runs after their folders and :func:`check_labels` refuses labels that would clash with a column
of the comparison frames (:mod:`dingdian.write.compare`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dingdian.write.manifest import ManifestError
from dingdian.write.manifest import check as check_manifest
from dingdian.write.outputs import CSV_ENCODING
from dingdian.write.tables import COUNT_COLUMNS

REQUIRED = ("plan.csv", "summary.json", "counts.csv")
COUNT_MEASURES = ("designated", "admitted", "exited")
DELTA = "delta"
FACILITY_FIRST = ["facility_id", "name", "kind", "county", "street", "status",
                  "first_year_differs"]
#: labels may not shadow a key column of the frames
RESERVED = {"county", "street", "kind", "year", "measure", DELTA, *FACILITY_FIRST}
_YEAR = re.compile(r"\d{4}")


class NotAPlan(ValueError):
    """A folder is not a readable ``dingdian solve`` output, its files differ from its
    manifest, or the plans cannot be compared; ``str()`` is one line (``message`` when given)."""

    def __init__(self, folder, reason: str, message: str | None = None) -> None:
        self.folder = str(folder)
        self.reason = " ".join(str(reason).split())
        super().__init__(message or f"{self.folder}: not a dingdian plan ({self.reason})")


@dataclass(frozen=True, eq=False)
class PlanRun:
    """One plan folder: its label, path and the frames of its output files."""

    label: str
    path: Path
    plan: pd.DataFrame  # plan.csv (facility_id as str, street '' when empty)
    counts: pd.DataFrame  # counts.csv (street '' on county and city rows)
    summary: dict  # summary.json
    cells: pd.DataFrame | None = None  # cells.csv, None when the folder has none

    @property
    def years(self) -> list[int]:
        """The plan's years, base year first (plan.csv's year columns)."""
        return [int(c) for c in self.plan.columns if _YEAR.fullmatch(str(c))]


# --------------------------------------------------------------------------------- loading


def _read_csv(folder: Path, name: str, shown: str, text_cols: Sequence[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(folder / name, dtype={c: str for c in text_cols},
                            encoding=CSV_ENCODING)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise NotAPlan(shown, f"unreadable {name}: {exc}") from exc
    for col in text_cols:
        if col in frame:
            frame[col] = frame[col].fillna("").astype(str)
    return frame


def _need_columns(frame: pd.DataFrame, cols: Sequence[str], name: str, shown: str) -> None:
    missing = [c for c in cols if c not in frame]
    if missing:
        raise NotAPlan(shown, f"{name} lacks column {', '.join(map(repr, missing))}")


def _need_01(frame: pd.DataFrame, cols: Sequence[str], name: str, shown: str) -> None:
    for col in cols:
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.isna().any() or not values.isin([0, 1]).all():
            raise NotAPlan(shown, f"{name} column '{col}' is not 0/1")
        frame[col] = values.astype(int)


def load_plan(folder, label: str | None = None) -> PlanRun:
    """Read a ``dingdian solve`` output folder; raise :class:`NotAPlan` if it is not one.

    plan.csv, summary.json and counts.csv are required; cells.csv is read when present.
    The files are checked against summary.json's manifest (:mod:`dingdian.write.manifest`).
    ``label`` defaults to the folder's name.
    """
    shown = str(folder)
    path = Path(folder)
    if not path.is_dir():
        raise NotAPlan(shown, "no such folder" if not path.exists() else "not a folder")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise NotAPlan(shown, f"missing {', '.join(missing)}")
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotAPlan(shown, f"unreadable summary.json: {exc}") from exc
    if not isinstance(summary, dict):
        raise NotAPlan(shown, "unreadable summary.json: not a JSON object")
    try:
        check_manifest(path, summary)
    except ManifestError as exc:
        raise NotAPlan(shown, exc.problem, message=str(exc)) from None

    plan = _read_csv(path, "plan.csv", shown,
                     ["facility_id", "name", "kind", "category", "county", "street", "status"])
    _need_columns(plan, ["facility_id", "kind", "county"], "plan.csv", shown)
    years = [c for c in plan.columns if _YEAR.fullmatch(str(c))]
    if not years:
        raise NotAPlan(shown, "plan.csv has no year columns")
    _need_01(plan, years, "plan.csv", shown)
    if plan["facility_id"].duplicated().any():
        dup = plan.loc[plan["facility_id"].duplicated(), "facility_id"].iloc[0]
        raise NotAPlan(shown, f"plan.csv lists facility {dup} twice")

    counts = _read_csv(path, "counts.csv", shown, ["county", "street", "kind"])
    _need_columns(counts, COUNT_COLUMNS, "counts.csv", shown)
    for col in ("year", *COUNT_MEASURES):
        values = pd.to_numeric(counts[col], errors="coerce")
        if values.isna().any():
            raise NotAPlan(shown, f"counts.csv column '{col}' is not a whole number")
        counts[col] = values.astype(int)

    cells = None
    if (path / "cells.csv").is_file():
        cells = _read_csv(path, "cells.csv", shown, ["cell_id", "county", "street", "zone"])
        _need_columns(cells, ["cell_id", "county", "population"], "cells.csv", shown)
    return PlanRun(label=label or path.absolute().name, path=path, plan=plan, counts=counts,
                   summary=summary, cells=cells)


def default_labels(folders: Sequence) -> list[str]:
    """Folder names; where two folders share a name, as many parent folders as tell them
    apart (``a/out``, ``b/out``); the same folder twice gets ``#2``."""
    parts = [Path(f).absolute().parts[1:] for f in folders]  # without the root
    distinct = list(dict.fromkeys(parts))
    labels = []
    for p in parts:
        depth = 1
        while depth < len(p) and any(q != p and q[-depth:] == p[-depth:] for q in distinct):
            depth += 1
        labels.append("/".join(p[-depth:]))
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab}#{seen[lab]}")
    return out


def check_labels(labels: Sequence[str]) -> None:
    """Raise ``ValueError`` for an empty, repeated or reserved label."""
    for lab in labels:
        if not str(lab).strip():
            raise ValueError("a label is empty")
        if lab in RESERVED or lab.endswith("_path"):
            raise ValueError(f"label {lab!r} clashes with a column name")
    dup = {lab for lab in labels if list(labels).count(lab) > 1}
    if dup:
        raise ValueError(f"label {sorted(dup)[0]!r} is given twice")



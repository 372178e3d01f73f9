"""summary.json's ``manifest``: what each file of a plan folder held when dingdian wrote it.

When a plan folder is written (:func:`dingdian.write.outputs.write_plan_files`: ``dingdian
solve``, ``replan``, each run of ``sweep``), every file in it but summary.json is read back
from the disk and listed under ``summary.json["manifest"]``::

    "manifest": {"version": 1, "files": {
        "plan.csv":  {"bytes": 2152, "sha256": "9f2c…", "rows": 24},
        "tables/表6_….csv": {…}, "replan/changes.csv": {…},
        "plan.xlsx": {"bytes": 27418, "sha256": "…"}, "plan.gpkg": {…}}}

``rows`` (CSV files only) counts the records after the heading, as pandas reads them (blank lines
skipped, a quoted line break inside a record). Files written into the folder later are not listed
and not checked: ``dingdian report``'s report.xlsx, report.html and maps/.

:func:`check` is called on every read of a plan folder (``report``, ``compare``, ``replan
--previous``, ``audit`` of an OUT folder). Each listed CSV file must be there with the same
bytes; otherwise :class:`ManifestError`, one line naming the file::

    out/plan.csv: truncated since dingdian wrote it (expected 1253 rows, found 800)
    out/counts.csv: edited since dingdian wrote it (sha256 differs from summary.json's manifest)
    out/decisions.csv: truncated since dingdian wrote it (expected 1504 bytes, found 1200)
    out/cells.csv: missing (summary.json's manifest lists it)

plan.xlsx and plan.gpkg are listed (sha256, bytes) but not checked: no command reads them, and
QGIS re-saves a GeoPackage when it merely opens it. A folder written before the manifest existed
(no ``manifest`` key) is read with an :class:`UncheckedPlan` warning, not refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import warnings
from pathlib import Path, PurePosixPath

KEY = "manifest"
VERSION = 1
#: not listed: summary.json holds the manifest
EXCLUDED = ("summary.json",)


class ManifestError(ValueError):
    """A file of a plan folder is missing or differs from the manifest; ``str()`` is one line
    ``<folder>/<file>: <problem>``."""

    def __init__(self, file, problem: str) -> None:
        self.file, self.problem = str(file), problem
        super().__init__(f"{self.file}: {problem}")


class UncheckedPlan(UserWarning):
    """A plan folder without a manifest (written by an older dingdian): read unchecked."""


def count_rows(data: bytes) -> int:
    """The CSV records of ``data`` after the heading (blank lines skipped)."""
    text = data.decode("utf-8-sig", errors="replace")
    try:
        records = sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row)
    except csv.Error:  # a quoted field cut off by the end of the file
        records = sum(1 for line in text.splitlines() if line.strip())
    return max(records - 1, 0)


def _entry(path: Path) -> dict:
    data = path.read_bytes()
    entry = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if path.suffix.lower() == ".csv":
        entry["rows"] = count_rows(data)
    return entry


def build(folder) -> dict:
    """The manifest of every file under ``folder`` (summary.json excluded), read from disk."""
    folder = Path(folder)
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in EXCLUDED:
            files[rel] = _entry(path)
    return {"version": VERSION, "files": files}


def with_manifest(summary: dict, folder) -> dict:
    """``summary`` with the manifest of ``folder``'s files as its last key."""
    return {**{k: v for k, v in summary.items() if k != KEY}, KEY: build(folder)}


def check(folder, summary: dict) -> None:
    """Raise :class:`ManifestError` when a CSV file the manifest of ``summary`` lists is missing,
    truncated or edited in ``folder`` (module docstring); warn :class:`UncheckedPlan` when
    ``summary`` has no manifest."""
    manifest = summary.get(KEY)
    if manifest is None:
        warnings.warn(f"{folder}: summary.json has no manifest (written by an older dingdian), "
                      "so its files are read unchecked", UncheckedPlan, stacklevel=2)
        return
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise ManifestError(Path(folder) / "summary.json", "its manifest is not readable")
    for rel, want in files.items():
        if not isinstance(want, dict) or "rows" not in want:
            continue  # a workbook or the GeoPackage: listed, not checked
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise ManifestError(Path(folder) / "summary.json",
                                f"its manifest lists {rel!r}, not a file of the folder")
        shown = Path(folder, *parts)
        try:
            data = shown.read_bytes()
        except FileNotFoundError:
            raise ManifestError(shown, "missing (summary.json's manifest lists it)") from None
        except OSError as exc:
            raise ManifestError(shown, f"unreadable ({exc.strerror or exc})") from None
        if hashlib.sha256(data).hexdigest() == want.get("sha256"):
            continue
        found, expected = count_rows(data), want["rows"]
        if found != expected:
            what = "truncated" if found < expected else "edited"
            raise ManifestError(shown, f"{what} since dingdian wrote it (expected {expected} "
                                       f"rows, found {found})")
        if len(data) < want.get("bytes", 0):
            raise ManifestError(shown, f"truncated since dingdian wrote it (expected "
                                       f"{want['bytes']} bytes, found {len(data)})")
        raise ManifestError(shown, "edited since dingdian wrote it (sha256 differs from "
                                   "summary.json's manifest)")

"""The library's tools around a plan: audit a published plan, compare written plans, report.

Each is a thin composition of the subpackages behind one public function of :mod:`dingdian`:

* :func:`audit` reads a plan's yearly tables (:mod:`dingdian.check.audit_load`; a ``dingdian
  solve`` folder's files checked against its manifest first, :mod:`dingdian.write.manifest`)
  and runs every check (:mod:`dingdian.check.audit`);
* :func:`compare` reads plan folders written by ``dingdian solve`` and puts them side by side
  (:mod:`dingdian.write.compare`);
* :func:`report` writes maps, report.xlsx and report.html for a plan folder
  (:mod:`dingdian.write.report`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from dingdian.check.audit import Audit
from dingdian.check.audit import audit as run_checks
from dingdian.check.audit_load import load_tables
from dingdian.errors import ScenarioError
from dingdian.write.compare import Comparison, compare_plans
from dingdian.write.compare_runs import check_labels, default_labels, load_plan
from dingdian.write.manifest import ManifestError
from dingdian.write.manifest import check as check_manifest
from dingdian.write.report import write_report


def audit(source: str | Path, *, scenario: str | Path | None = None,
          text_figures: str | Path | None = None, allow_outside: bool = False) -> Audit:
    """Check a published or hand-made plan's yearly tables against its own targets, stock,
    totals and bed tables, without solving.

    ``source`` is an audit.yaml, a folder (with an audit.yaml, a ``dingdian solve`` output, or
    files named 表6….csv/.xlsx) or a workbook with sheets 表6, 表7…; ``scenario`` gives the
    existing counts and targets when the tables do not (表2/表3); ``text_figures`` a YAML list
    of figures quoted in the plan's text. The files an audit.yaml or the scenario names stay
    inside its folder unless ``allow_outside`` (:mod:`dingdian.scenario.paths`). Unreadable
    input raises :class:`~dingdian.errors.ScenarioError` (or ``OSError``).
    """
    _check_plan_folder(Path(source))
    inp = load_tables(Path(source), scenario=Path(scenario) if scenario is not None else None,
                      text_figures=Path(text_figures) if text_figures is not None else None,
                      allow_outside=allow_outside)
    return Audit(input=inp, findings=run_checks(inp))


def _check_plan_folder(source: Path) -> None:
    """A ``dingdian solve`` output folder (it has summary.json) has its files checked against
    summary.json's manifest before its tables are audited; a folder of 表N files is not."""
    if not (source.is_dir() and (source / "summary.json").is_file()):
        return
    try:
        summary = json.loads((source / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScenarioError(str(source / "summary.json"), None, None,
                            f"not valid JSON ({exc})") from None
    try:
        check_manifest(source, summary if isinstance(summary, dict) else {})
    except ManifestError as exc:
        raise ScenarioError(exc.file, None, None, exc.problem) from None


def compare(folders: Sequence[str | Path], labels: Sequence[str] | None = None) -> Comparison:
    """Put two or more plan folders written by ``dingdian solve`` side by side.

    ``labels`` name the runs, one per folder (default: the folder names, made distinct). A bad
    label raises ``ValueError``; a folder that is not a plan raises
    :class:`~dingdian.write.compare_runs.NotAPlan` (a ``ValueError`` too), one line each.
    ``.write(out_dir)`` on the result writes the comparison's CSV files and compare.xlsx.
    """
    if len(folders) < 2:
        raise ValueError("compare needs at least two plan folders")
    names = list(labels) if labels else default_labels(folders)
    if len(names) != len(folders):
        raise ValueError(f"{len(names)} labels for {len(folders)} folders")
    check_labels(names)
    return compare_plans([load_plan(f, lab) for f, lab in zip(folders, names, strict=True)])


def report(out: str | Path, scenario: str | Path | None = None,
           all_years: bool = False, allow_outside: bool = False) -> dict[str, Path]:
    """Write ``out/report.xlsx``, ``out/report.html`` and the maps in ``out/maps/`` for a plan
    folder; return the written paths by name. ``scenario`` gives the county outlines when
    summary.json's scenario path does not; ``all_years`` draws every year's coverage map;
    ``allow_outside`` lets the scenario's files lie outside its folder.
    A folder that is not a plan raises :class:`~dingdian.write.report.ReportError`."""
    return write_report(out, scenario, all_years=all_years, allow_outside=allow_outside)

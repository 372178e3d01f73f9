"""Writing a solved plan: the output files, the plan's tables, workbooks, maps and reports.

Owns the output-file contract of ``OUT/``: what each file holds (:mod:`.frames`: plan.csv,
cells.csv, counts.csv, decisions.csv, summary.json…) and writing it atomically, every CSV with a
BOM (:mod:`.outputs`), one run at a time per folder (:mod:`.lock`), with summary.json's manifest
of what was written, checked on every read (:mod:`.manifest`), the GeoPackage plan.gpkg
(:mod:`.gis`), the yearly admission/exit tables in the layout of 表6–表9 (:mod:`.tables`), the
reasons behind each decision (:mod:`.decisions`), the allocation rules' columns and sections
(:mod:`.allocation`), print-ready workbooks (:mod:`.xlsx_style`, styled cheaply by
:mod:`.xlsx_cells`, the Chinese headings :mod:`.xlsx_labels`), maps on the service cells
(:mod:`.maps`, :mod:`.map_data`, :mod:`.map_frame`, :mod:`.map_figures`, :mod:`.map_html`, the
CJK font :mod:`.fonts`), the
report (:mod:`.report`; its content :mod:`.report_brief` for a director, :mod:`.report_rules`
from the scenario, :mod:`.report_content`; its formats :mod:`.report_xlsx` and
:mod:`.report_html` with the Jinja2 template in ``templates/``) and the side-by-side comparison
of plan folders (:mod:`.compare`, :mod:`.compare_runs`, :mod:`.compare_frames`).

May import: :mod:`dingdian.models`, :mod:`dingdian.scenario`, :mod:`dingdian.planners` (for their
labels) and the shared leaves; never a solver.
"""

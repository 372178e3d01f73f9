"""Writing a solved plan: the output files, the plan's tables, workbooks, maps and reports.

Owns the output-file contract of ``OUT/``: what each file holds (:mod:`.frames`: plan.csv,
cells.csv, counts.csv, decisions.csv, summary.json…) and writing it atomically
(:mod:`.outputs`), the yearly admission/exit tables in the layout of 表6–表9 (:mod:`.tables`),
the reasons behind each decision (:mod:`.decisions`), the allocation rules' columns and sections
(:mod:`.allocation`), maps (:mod:`.maps`, :mod:`.map_html`, the CJK font :mod:`.fonts`), the
report (:mod:`.report`, :mod:`.report_content`, :mod:`.report_xlsx`, :mod:`.report_html`) and
the side-by-side comparison of plan folders (:mod:`.compare`, :mod:`.compare_runs`,
:mod:`.compare_frames`).

May import: :mod:`dingdian.models`, :mod:`dingdian.scenario`, :mod:`dingdian.planners` (for their
labels) and the shared leaves; never a solver.
"""

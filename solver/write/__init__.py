"""Writing a solved plan: the output files, the plan's tables, workbooks, maps and reports.

Owns the output-file contract of ``OUT/`` (:mod:`.outputs`: plan.csv, cells.csv, counts.csv,
summary.json, plan.xlsx, written atomically), the yearly admission/exit tables in the layout of
表6–表9 (:mod:`.tables`), the reasons behind each decision (:mod:`.decisions`), the allocation
rules' columns and sections (:mod:`.allocation`), maps (:mod:`.maps`), the report
(:mod:`.report`) and the side-by-side comparison of plan folders (:mod:`.compare`).

May import: :mod:`dingdian.models`, :mod:`dingdian.scenario`, :mod:`dingdian.planners` (for their
labels) and the shared leaves; never a solver.
"""

"""Checking plans without trusting the solver.

Owns the residual check of a solved plan, every rule recomputed from ``plan.csv`` in plain
pandas (:mod:`.verify`), and the audit of a published or hand-made yearly plan against its own
targets, stock and bed tables (:mod:`.audit`, which reads with :mod:`.audit_read` and
:mod:`.audit_load` and checks with :mod:`.audit_checks` and :mod:`.audit_beds`).

May import: :mod:`dingdian.models`, :mod:`dingdian.scenario`, :mod:`dingdian.planners` and
:mod:`dingdian.write` (for the table layouts it reads back); never a solver.
"""

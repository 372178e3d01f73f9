"""The whole job, composed: load → solve → fall back → explain → verify → plan beside → write.

Owns the solve pipeline behind :func:`dingdian.solve` (:mod:`.solving`) and its frozen result
(:mod:`.plan`), sweeps of many variants solved in parallel (:mod:`.sweep`, the runs set up in
:mod:`.sweep_setup`) and the tools around written plans: audit, compare, report (:mod:`.tools`).

May import every subpackage but :mod:`dingdian.cli`.
"""

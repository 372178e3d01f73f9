"""The whole job, composed: load → solve → fall back → explain → verify → plan beside → write.

Owns the solve pipeline behind ``dingdian.solve`` and its frozen result (:mod:`.plan`) and
sweeps of many variants solved in parallel (:mod:`.sweep`).

May import every subpackage but :mod:`dingdian.cli`.
"""

"""The plans computed beside the site model, each an :class:`dingdian.result.ExtraResult`.

Owns the hospital-beds planner and its residual checks (:mod:`.beds`, :mod:`.beds_check`), the
long-term-care nursing planner (:mod:`.nursing`), the reports of the allocation rules that need
no solve (the street split :mod:`.street_split`, the county basic set :mod:`.basic_set`, the
agglomeration and density indices :mod:`.indices`, gathered by :mod:`.extras`) and a planner's
greedy plan used as a baseline (:mod:`.greedy`).

May import: :mod:`dingdian.models`, :mod:`dingdian.scenario`, :mod:`dingdian.run` and the
shared leaves; nothing that writes files.
"""

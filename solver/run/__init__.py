"""Running the models: backends, parallel engines, decomposition, infeasibility explained.

Owns the one-formulation, three-solver bridge (:mod:`.backends`: HiGHS, CBC and CP-SAT on the
same PuLP model; the lexicographic tie-break stages and one solver's run in :mod:`.stages`;
each solver's own call in :mod:`.solvers`, the
model handed to HiGHS in arrays in :mod:`.highs_model`), the process-pool and Dask engines
(:mod:`.engine`), the split of a problem into independent county groups (:mod:`.decompose`), a built model's
independent blocks (:mod:`.blocks`) and their solves side by side in forked workers
(:mod:`.forked`),
the elastic-form explanation of an infeasible plan in planners' words (:mod:`.explain`) and
the run's one scratch folder for solver files (:mod:`.scratch`).

May import: :mod:`dingdian.models`, :mod:`dingdian.scenario` and the shared leaves
(:mod:`dingdian.errors`, :mod:`dingdian.result`, :mod:`dingdian.geometry`).
"""

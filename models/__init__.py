"""Formulations: pure functions from frozen, validated data to one linear model.

* :mod:`dingdian.models.data` — the frozen problem data (:class:`~dingdian.models.data.SiteProblem`);
* :mod:`dingdian.models.site` — the multi-year site model, one ``define_*`` function per constraint family.
"""

"""Formulations: pure functions from frozen, validated data to one linear model.

* :mod:`models.data` — the frozen problem data (:class:`~models.data.SiteProblem`);
* :mod:`models.site` — the multi-year site model, one ``define_*`` function per constraint family.
"""

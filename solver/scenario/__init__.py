"""Reading a scenario: its YAML, CSV and GeoJSON files, checked and compiled into frozen data.

Owns the ``scenario.yaml`` schema (:mod:`.schema`), variants and overrides (:mod:`.variants`),
the catalogue of scenarios under a folder (:mod:`.catalogue`), the table and outline readers
(:mod:`.files`), the planning cells (:mod:`.cells`), the allocation-rule inputs
(:mod:`.allocation`), the street split applied before the solve (:mod:`.streets`), the beds and
nursing planners' inputs (:mod:`.beds`, :mod:`.nursing`) and the compilation into :class:`dingdian.models.data.SiteProblem`
(:mod:`.problem`); :func:`dingdian.scenario.loader.load_scenario` ties them together. A new
scenario's skeleton for a city's own data is written by :mod:`.templates` (``dingdian init``). Every
problem is one :class:`dingdian.errors.ScenarioError` naming the file, row and field.

May import: :mod:`dingdian.models`, :mod:`dingdian.errors`, :mod:`dingdian.result` and
:mod:`dingdian.geometry`; nothing that solves, checks or writes.
"""

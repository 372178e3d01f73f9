"""Reading a scenario: its YAML, tables and outlines, checked and compiled into frozen data.

Owns the ``scenario.yaml`` schema (:mod:`.schema`), variants and overrides (:mod:`.variants`),
the catalogue of scenarios under a folder (:mod:`.catalogue`); the tables as bureaus have them,
CSV in UTF-8 or GBK or a workbook's sheet, every problem collected (:mod:`.files`), through the
one alias table of Chinese headings and values (:mod:`.aliases`); outlines in any format and
CRS (:mod:`.outlines`); the facility list (:mod:`.facilities`); the checks across files
(:mod:`.consistency`); the planning cells (:mod:`.cells`), the allocation-rule inputs
(:mod:`.allocation`), the street split applied before the solve (:mod:`.streets`), the beds and
nursing planners' inputs (:mod:`.beds`, :mod:`.nursing`) and the compilation into
:class:`dingdian.models.data.SiteProblem` (:mod:`.problem`);
:func:`dingdian.scenario.loader.load_scenario` ties them together. A new scenario's skeleton
for a city's own data is written by :mod:`.templates` (``dingdian init``). Every problem is a
:class:`dingdian.errors.ScenarioError` naming the file, the Excel row and the field.

May import: :mod:`dingdian.models` and the shared leaves (:mod:`dingdian.errors`,
:mod:`dingdian.result`, :mod:`dingdian.geometry`, :mod:`dingdian.coords`); nothing that solves,
checks a plan or writes one.
"""

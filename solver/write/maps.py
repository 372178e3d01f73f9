"""Maps of a written plan: the static maps a director reads and a planner prints.

Everything is drawn from a plan folder's own files (``plan.csv``, ``cells.csv``,
``summary.json``) plus the scenario's county outlines and urban areas (streets), projected to
the scenario CRS (metres), on the plan's own service cells: the hexagons of ``cells.csv``
(centre ``lon/lat``, circumradius ``radius_m``, :func:`dingdian.geometry.hexagon`).

:func:`write_pngs` writes, per kind, in report order (key → file stem in ``OUT/maps/``):

* ``density_<kind>`` — designated facilities per service cell, base year beside the last
  plan year on one classed scale, plus the change (:func:`~dingdian.write.map_figures.density_map`);
* ``changes_<kind>_<last>`` — where admissions and exits happen, by year
  (:func:`~dingdian.write.map_figures.changes_map`);
* ``blindspots_<kind>_<last>`` — the base year's blind spots by the last year: 已填补, 仍为盲区,
  无法覆盖 (:func:`~dingdian.write.map_figures.blind_map`);
* ``coverage_<kind>_<year>`` — one year's coverage per service cell, for the base and the last
  year (every year on request) (:func:`~dingdian.write.map_figures.coverage_map`).

Each is an A4-landscape page with county outlines and names, streets, a north arrow, a scale
bar, a legend, a title, a source line and a zoom on the central district
(:mod:`dingdian.write.map_frame`), written as a 300-dpi PNG and an SVG with the same stem.
:func:`map_caption` gives each key's Chinese caption. The numbers on the maps come from
:mod:`dingdian.write.map_data`; the offline interactive map is :mod:`dingdian.write.map_html`.
"""

from __future__ import annotations

from pathlib import Path

from dingdian.models.data import KINDS
from dingdian.write.map_data import (
    BLIND_CLASSES,
    COVER_BOUNDS,
    COVER_COLOURS,
    COVER_LABELS,
    KIND_ZH,
    OUT_OF_SCOPE,
    MapData,
    blind_classes,
    cell_index,
    central_county,
    designated_per_cell,
    flow_counts,
    hex_vertices,
    in_scope,
    load_map_data,
    load_outlines,
    outline_bounds,
    plan_years,
    rings,
)
from dingdian.write.map_figures import blind_map, changes_map, coverage_map, density_map
from dingdian.write.map_frame import DPI, PAGE

#: every map is one A4-landscape page (inches)
FIGSIZE = PAGE
DENSITY_FIGSIZE = PAGE

CAPTIONS = {
    "density": "{kind}：每个服务圈内的定点机构数，规划基年与规划末年对比及变化",
    "changes": "{kind}：历年准入（绿）与退出（红）的位置，至{year}年",
    "blindspots": "{kind}服务盲区：规划基年的盲区至{year}年已填补、仍为盲区或无法覆盖",
    "coverage": "{year}年{kind}服务圈覆盖与服务盲区",
}


def map_caption(key: str, labels: dict[str, str] | None = None) -> str:
    """The Chinese caption of a map key of :func:`write_pngs` (``density_pharmacy`` →
    ``定点零售药店：每个服务圈内的定点机构数，…``)."""
    what, _, rest = key.partition("_")
    kind, _, year = rest.partition("_")
    template = CAPTIONS.get(what)
    if template is None:
        return key
    return template.format(kind=(labels or KIND_ZH).get(kind, kind), year=year)


def map_keys(data: MapData, years: list[int] | None = None) -> list[str]:
    """The keys :func:`write_pngs` writes, in report order."""
    keys = []
    for kind in KINDS:
        keys += [f"density_{kind}", f"changes_{kind}_{data.last}",
                 f"blindspots_{kind}_{data.last}"]
        keys += [f"coverage_{kind}_{y}" for y in (years or [data.first, data.last])]
    return keys


def write_pngs(data: MapData, folder: str | Path, years: list[int] | None = None) -> dict[str, Path]:
    """Every map into ``folder`` as ``<key>.png`` (300 dpi) and ``<key>.svg``; returns key →
    PNG path in report order (:func:`map_keys`).

    ``years`` are the coverage maps' years, by default the first and the last year (pass
    ``data.years`` for every year).
    """
    folder = Path(folder)
    out: dict[str, Path] = {}
    for key in map_keys(data, years):
        what, kind, *year = key.split("_")
        if what == "density":
            out[key] = density_map(data, kind, folder, key)
        elif what == "changes":
            out[key] = changes_map(data, kind, folder, key)
        elif what == "blindspots":
            out[key] = blind_map(data, kind, folder, key)
        else:
            out[key] = coverage_map(data, kind, int(year[0]), folder, key)
    return out


__all__ = [
    "BLIND_CLASSES", "COVER_BOUNDS", "COVER_COLOURS", "COVER_LABELS", "DENSITY_FIGSIZE", "DPI",
    "FIGSIZE", "KIND_ZH", "OUT_OF_SCOPE", "MapData", "blind_classes", "cell_index",
    "central_county", "designated_per_cell", "flow_counts", "hex_vertices", "in_scope",
    "load_map_data", "load_outlines", "map_caption", "map_keys", "outline_bounds", "plan_years",
    "rings", "write_pngs",
]

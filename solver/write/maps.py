"""Maps of a written plan: the map data (outlines, plan, cells) and the PNG figures (matplotlib).

Everything is drawn from a plan folder's own files (``plan.csv``, ``cells.csv``) plus the
scenario's county outlines, projected to the scenario CRS (metres), so hexagons are drawn with
their real circumradius (:func:`dingdian.geometry.hexagon`).

* :func:`density_png` — 附件8-style 热点分布图: hexbin density of the designated facilities of
  one kind, 2024 (before) beside the last plan year (after), on a shared colour scale.
* :func:`coverage_png` — one year's coverage per service cell: designated facilities of the kind
  within reach (``cells.csv`` ``<kind>_<year>``); in-scope populated cells with none are blind
  spots (服务盲区, red), with a zoom on the county with the most urban cells.

The offline interactive HTML map is :mod:`dingdian.write.map_html`; the Chinese font, registered
with matplotlib from the ``noto-cjk-sans-otc`` package, is :mod:`dingdian.write.fonts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from dingdian.geometry import hexagon, lonlat_to_xy, project
from dingdian.models.data import KINDS
from dingdian.write.fonts import cjk_font
from dingdian.write.outputs import atomic_file

KIND_ZH = {"clinic": "无住院服务定点医疗机构（诊所）", "pharmacy": "定点零售药店"}
FIGSIZE = (12.0, 7.0)
DENSITY_FIGSIZE = (12.0, 5.5)
DPI = 110
#: coverage classes: facilities within reach 0 | 1 | 2–3 | 4–7 | 8+
COVER_BOUNDS = [0, 1, 2, 4, 8, 10_000]
COVER_COLOURS = ["#d7301f", "#c7e9c0", "#74c476", "#31a354", "#006d2c"]
COVER_LABELS = ["0 盲区", "1", "2–3", "4–7", "≥8"]
OUT_OF_SCOPE = "#d9d9d9"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    family = cjk_font()
    plt.rcParams["font.family"] = [family, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


# --------------------------------------------------------------------------- inputs
@dataclass
class MapData:
    """What the maps need: projected outlines, plan and cells with x/y in the scenario CRS."""

    crs: str
    outlines: dict[str, BaseGeometry]
    plan: pd.DataFrame
    cells: pd.DataFrame
    years: list[int]
    title: str = ""
    exempt: tuple[str, ...] = field(default=())

    @property
    def first(self) -> int:
        return self.years[0]

    @property
    def last(self) -> int:
        return self.years[-1]


def load_outlines(scenario: str | Path) -> tuple[str, dict[str, BaseGeometry], tuple[str, ...]]:
    """``(crs, county outlines projected to it, rural-pharmacy-exempt counties)`` of a scenario.

    Reads only the scenario's config and its counties file (no cells or model are built).
    """
    from dingdian.scenario.loader import read_counties, scenario_files
    from dingdian.scenario.variants import resolve_config

    cfg, res = resolve_config(Path(scenario))
    files = scenario_files(cfg, res)
    counties = read_counties(files["counties"], cfg.grid.county_property)
    outlines = {name: project(g, cfg.crs) for name, g in counties.items()}
    return cfg.crs, outlines, tuple(cfg.grid.rural_pharmacy_exempt)


def plan_years(df: pd.DataFrame) -> list[int]:
    return sorted(int(c) for c in df.columns if str(c).isdigit())


def load_map_data(out: str | Path, scenario: str | Path, title: str = "") -> MapData:
    """Read ``OUT/plan.csv`` and ``OUT/cells.csv`` and the scenario's outlines."""
    out = Path(out)
    crs, outlines, exempt = load_outlines(scenario)
    plan = pd.read_csv(out / "plan.csv", dtype={"facility_id": str, "street": str})
    cells = pd.read_csv(out / "cells.csv", dtype={"cell_id": str, "street": str})
    for df in (plan, cells):
        df["x"], df["y"] = lonlat_to_xy(df["lon"].to_numpy(), df["lat"].to_numpy(), crs)
    plan.columns = [int(c) if str(c).isdigit() else c for c in plan.columns]
    return MapData(crs=crs, outlines=outlines, plan=plan, cells=cells,
                   years=plan_years(plan), title=title, exempt=exempt)


def in_scope(cells: pd.DataFrame, kind: str, exempt=()) -> np.ndarray:
    """Cells that should have a facility of ``kind`` within reach (as dingdian.scenario.problem.in_scope)."""
    populated = cells["population"].fillna(0).to_numpy() > 0
    urban = (cells["zone"] == "urban").to_numpy()
    if kind == "clinic":
        return populated & urban
    return populated & (urban | ~cells["county"].isin(list(exempt)).to_numpy())


# --------------------------------------------------------------------------- drawing helpers
def rings(geom: BaseGeometry):
    """The exterior and interior rings of a (multi)polygon, as coordinate arrays."""
    polys = getattr(geom, "geoms", [geom])
    for p in polys:
        yield np.asarray(p.exterior.coords)
        for r in p.interiors:
            yield np.asarray(r.coords)


def _draw_outlines(ax, outlines, labels: bool = True, fontsize: float = 9) -> None:
    for name, geom in outlines.items():
        for ring in rings(geom):
            ax.plot(ring[:, 0], ring[:, 1], color="#444444", lw=0.8, zorder=3)
        if labels:
            p = geom.representative_point()
            ax.text(p.x, p.y, name, ha="center", va="center", fontsize=fontsize, zorder=5,
                    color="#222222",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.6})


def _frame(ax, bounds, pad: float = 0.02) -> None:
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    ax.set_xlim(x0 - dx, x1 + dx)
    ax.set_ylim(y0 - dy, y1 + dy)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def outline_bounds(outlines) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` of all the outlines together."""
    b = np.array([g.bounds for g in outlines.values()])
    return b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()


def _scalebar(ax, bounds) -> None:
    x0, y0, x1, y1 = bounds
    km = max(1, int(round((x1 - x0) / 5000.0 / 10.0)) * 10) if x1 - x0 > 50_000 else max(
        1, int((x1 - x0) / 5000.0))
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([bx, bx + km * 1000], [by, by], color="black", lw=2.5, zorder=6)
    ax.text(bx + km * 500, by + (y1 - y0) * 0.012, f"{km} 公里", ha="center", va="bottom",
            fontsize=8, zorder=6)


def _save(fig, path: Path) -> Path:
    """Write ``fig`` as PNG atomically."""
    return atomic_file(path, lambda tmp: fig.savefig(tmp, dpi=DPI, format="png"))


# --------------------------------------------------------------------------- PNG maps
def density_png(data: MapData, kind: str, path: str | Path, gridsize: int = 45) -> Path:
    """热点分布图: hexbin density of ``kind``'s designated facilities, first vs last year."""
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    bounds = outline_bounds(data.outlines)
    fac = data.plan[data.plan["kind"] == kind]
    fig, axes = plt.subplots(1, 2, figsize=DENSITY_FIGSIZE, layout="constrained")
    counts = {y: int(fac[y].sum()) for y in (data.first, data.last)}
    extent = (bounds[0], bounds[2], bounds[1], bounds[3])
    # a shared colour scale: the larger of the two years' densest bins
    vmax = 1
    for y in (data.first, data.last):
        sel = fac[fac[y] == 1]
        if len(sel):
            h, _, _ = np.histogram2d(sel["x"], sel["y"], bins=gridsize,
                                     range=[[extent[0], extent[1]], [extent[2], extent[3]]])
            vmax = max(vmax, int(h.max()))
    hb = None
    for ax, y in zip(axes, (data.first, data.last), strict=True):
        sel = fac[fac[y] == 1]
        hb = ax.hexbin(sel["x"], sel["y"], gridsize=gridsize, extent=extent, mincnt=1,
                       cmap="YlOrRd", norm=LogNorm(vmin=1, vmax=max(vmax, 2)), linewidths=0.2,
                       edgecolors="#999999", zorder=2)
        _draw_outlines(ax, data.outlines)
        _frame(ax, bounds)
        _scalebar(ax, bounds)
        label = "规划前" if y == data.first else "规划末"
        ax.set_title(f"{y}年（{label}）：{counts[y]:,} 家", fontsize=12)
    if hb is not None:
        cb = fig.colorbar(hb, ax=axes, shrink=0.7, pad=0.01)
        cb.set_label("每个六边形内的定点机构数（对数色阶）")
    fig.suptitle(f"{KIND_ZH[kind]}热点分布图 {data.first} vs {data.last}", fontsize=14)
    try:
        return _save(fig, Path(path))
    finally:
        plt.close(fig)


def _hex_collection(cells: pd.DataFrame, colours, edge="none", lw=0.0, zorder=2):
    from matplotlib.collections import PolyCollection

    verts = [np.asarray(hexagon(x, y, r).exterior.coords)
             for x, y, r in zip(cells["x"], cells["y"], cells["radius_m"], strict=True)]
    return PolyCollection(verts, facecolors=colours, edgecolors=edge, linewidths=lw,
                          zorder=zorder)


def cover_colour(n: np.ndarray) -> np.ndarray:
    """The colour class of each count (see :data:`COVER_BOUNDS`)."""
    idx = np.searchsorted(COVER_BOUNDS, np.asarray(n), side="right") - 1
    return np.asarray(COVER_COLOURS, dtype=object)[np.clip(idx, 0, len(COVER_COLOURS) - 1)]


def zoom_bounds(data: MapData, pad_m: float = 2500.0):
    """The box around the urban cells of the county with the most of them (None: no urban)."""
    urban = data.cells[data.cells["zone"] == "urban"]
    if urban.empty:
        return None, None
    county = urban["county"].value_counts().index[0]
    u = urban[urban["county"] == county]
    r = float(u["radius_m"].max())
    return county, (u["x"].min() - r - pad_m, u["y"].min() - r - pad_m,
                    u["x"].max() + r + pad_m, u["y"].max() + r + pad_m)


def coverage_png(data: MapData, kind: str, year: int, path: str | Path) -> Path:
    """Coverage of ``kind`` per service cell in ``year``; blind spots in red."""
    from matplotlib.patches import Patch

    plt = _pyplot()
    cells = data.cells
    pop = cells["population"].fillna(0).to_numpy() > 0
    scope = in_scope(cells, kind, data.exempt)
    col = f"{kind}_{year}"
    n = cells[col].fillna(0).to_numpy()
    colours = np.where(scope, cover_colour(n), OUT_OF_SCOPE)
    shown = pop
    blind = scope & (n == 0)
    county, zoom = zoom_bounds(data)
    ncols = 2 if zoom else 1
    fig, axes = plt.subplots(1, ncols, figsize=FIGSIZE, layout="constrained",
                             gridspec_kw={"width_ratios": [1.4, 1]} if zoom else None)
    axes = np.atleast_1d(axes)
    bounds = outline_bounds(data.outlines)
    for i, ax in enumerate(axes):
        ax.add_collection(_hex_collection(cells[shown], list(colours[shown]), edge="#666666",
                                          lw=0.15))
        if blind.any():  # blind spots outlined on top, so even small urban cells show
            ax.add_collection(_hex_collection(cells[blind], "none", edge="#a50f15",
                                              lw=1.2 if i else 0.6, zorder=4))
        _draw_outlines(ax, data.outlines, labels=(i == 0), fontsize=8)
        if i == 0:
            _frame(ax, bounds)
            _scalebar(ax, bounds)
            ax.set_title("全市", fontsize=11)
            if zoom:
                x0, y0, x1, y1 = zoom
                ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="#3182bd", lw=1.2,
                        zorder=6)
        else:
            _frame(ax, zoom, pad=0.0)
            _scalebar(ax, zoom)
            urb = cells[(cells["zone"] == "urban") & (cells["county"] == county)]
            radius = float(urb["radius_m"].max())
            ax.set_title(f"{county}城区（服务圈外接圆半径 {radius:,.2f} 米）", fontsize=11)
            for _, r in urb.iterrows():
                if r["population"] > 0 and scope[r.name]:
                    ax.text(r["x"], r["y"], str(int(r[col])), ha="center", va="center",
                            fontsize=6.5, zorder=7)
    handles = [Patch(fc=c, ec="#666666", label=lab)
               for c, lab in zip(COVER_COLOURS, COVER_LABELS, strict=True)]
    handles.append(Patch(fc=OUT_OF_SCOPE, ec="#666666", label="不在服务圈模型内"))
    handles.append(Patch(fc="none", ec="#a50f15", lw=1.2, label="服务盲区（有人口、无覆盖）"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8,
               title="服务圈内可达的定点机构数", title_fontsize=9, frameon=False)
    in_pop = int(cells.loc[scope, "population"].sum())
    cov_pop = int(cells.loc[scope & (n > 0), "population"].sum())
    share = f"{cov_pop / in_pop:.1%}" if in_pop else "-"
    fig.suptitle(f"{year}年{KIND_ZH[kind]}服务圈覆盖：覆盖人口 {cov_pop:,} / {in_pop:,}"
                 f"（{share}），盲区 {int(blind.sum())} 个", fontsize=13)
    try:
        return _save(fig, Path(path))
    finally:
        plt.close(fig)


def write_pngs(data: MapData, folder: str | Path, years: list[int] | None = None) -> dict[str, Path]:
    """All PNGs into ``folder``: ``density_<kind>.png`` and ``coverage_<kind>_<year>.png``.

    ``years`` defaults to the first and last year (pass ``data.years`` for every year).
    """
    folder = Path(folder)
    out: dict[str, Path] = {}
    for kind in KINDS:
        out[f"density_{kind}"] = density_png(data, kind, folder / f"density_{kind}.png")
    for kind in KINDS:
        for y in years or [data.first, data.last]:
            out[f"coverage_{kind}_{y}"] = coverage_png(data, kind, y,
                                                       folder / f"coverage_{kind}_{y}.png")
    return out


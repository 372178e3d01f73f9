"""The static maps of a plan, each a :class:`~dingdian.write.map_frame.Sheet` (A4 landscape,
PNG + SVG), all drawn on the plan's own service cells:

* :func:`density_map` — designated facilities of a kind per service cell, the base year beside
  the last plan year on one classed scale, and the change per cell (counties labelled with
  their net change); the whole city on top, the central district below;
* :func:`changes_map` — where admissions (green ▲) and exits (red ▼) happen, one shade per
  year, counts per year in the legend;
* :func:`blind_map` — the base year's blind spots by the last year: 已填补, 仍为盲区, 无法覆盖
  (no facility or applicant can reach the cell), and any new one;
* :func:`coverage_map` — one year's coverage per service cell (designated facilities within
  reach, ``cells.csv`` ``<kind>_<year>``), blind spots outlined.

Maps with one theme show the whole city with the zoom on the central district
(:func:`dingdian.write.map_data.central_county`) beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dingdian.write.map_data import (
    BLIND_CLASSES,
    COVER_BOUNDS,
    COVER_COLOURS,
    COVER_LABELS,
    OUT_OF_SCOPE,
    MapData,
    blind_classes,
    flow_counts,
    in_scope,
    outside_cells,
)
from dingdian.write.map_frame import (
    GRID_EDGE,
    PAGE,
    Sheet,
    city_bounds,
    save,
    zoom_bounds,
)

#: designated facilities per cell: lower bounds of the classes (the last is open)
COUNT_BOUNDS = [1, 2, 3, 5, 10, 20, 50, 100]
#: change per cell: ≤−10 | −9…−5 | −4…−2 | −1 | 0 | +1 | +2…+4 | +5…+9 | ≥+10
CHANGE_BOUNDS = [-10_000, -9, -4, -1, 0, 1, 2, 5, 10]
CHANGE_LABELS = ["≤−10", "−9…−5", "−4…−2", "−1", "0", "+1", "+2…+4", "+5…+9", "≥+10"]
CHANGE_COLOURS = ["#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#eeeeee", "#d1e5f0", "#92c5de",
                  "#4393c3", "#2166ac"]
ADMIT_CMAP, EXIT_CMAP = "Greens", "Reds"
EDGE = "#8c8c8c"


def signed(n: int) -> str:
    return f"{n:+,d}".replace("-", "−") if n else "±0"


def classify(values, bounds) -> np.ndarray:
    """The class index of each value: ``bounds`` are the classes' lower bounds."""
    return np.clip(np.searchsorted(bounds, np.asarray(values), side="right") - 1, 0,
                   len(bounds) - 1)


def count_classes(vmax: int) -> tuple[list[int], list[str], list]:
    """``(lower bounds, labels, colours)`` of the count classes needed up to ``vmax``."""
    from matplotlib import colormaps

    bounds = [b for b in COUNT_BOUNDS if b <= max(vmax, 1)]
    labels = []
    for i, b in enumerate(bounds):
        if i + 1 == len(bounds):
            labels.append(str(b) if b >= vmax else f"≥{b}")
        else:
            top = bounds[i + 1] - 1
            labels.append(str(b) if top == b else f"{b}–{top}")
    cmap = colormaps["YlOrRd"]
    colours = [cmap(v) for v in np.linspace(0.12, 0.95, len(bounds))]
    return bounds, labels, colours


def _patch(colour, label, edge="#777777", lw=0.5, hatch=None):
    from matplotlib.patches import Patch

    return Patch(fc=colour, ec=edge, lw=lw, label=label, hatch=hatch)


def _two_panels(sheet: Sheet, draw, zoom_title: str, city_share: float = 0.6):
    """The whole city (left) and the zoom on the central district (right); ``draw(ax, lim,
    zoomed)`` draws the theme. Returns the central county."""
    data = sheet.data
    x0, y0, x1, y1 = sheet.area
    county = data.central()
    zoom = zoom_bounds(data, county)
    city_w = (x1 - x0) * (city_share if zoom else 1.0)
    ax, lim = sheet.panel(x0, y0, city_w, y1 - y0, city_bounds(data), title="全市")
    draw(ax, lim, False)
    sheet.outlines(ax, lim)
    sheet.streets(ax, lim)
    zlim = None
    if zoom:
        zx = x0 + city_w + 0.25
        zax, zlim = sheet.panel(zx, y0, x1 - zx, y1 - y0, zoom, expand=1.6,
                                title=zoom_title.format(county=county))
        draw(zax, zlim, True)
        sheet.outlines(zax, zlim, fontsize=10, skip={county})
        sheet.streets(zax, zlim, labels=True)
        sheet.furniture(zax, zlim, arrow=False)
        sheet.zoom_frame(ax, zlim)
    sheet.furniture(ax, lim, avoid=zlim)
    return county


# --------------------------------------------------------------------------- 1 density
def density_map(data: MapData, kind: str, folder: Path, stem: str) -> Path:
    """Designated facilities of ``kind`` per service cell: base year | last year | change."""
    first, last = data.first, data.last
    n0, n1 = data.per_cell(kind, first), data.per_cell(kind, last)
    delta = n1 - n0
    bounds, labels, colours = count_classes(int(max(n0.max(initial=0), n1.max(initial=0))))
    plan = data.plan[data.plan["kind"] == kind]
    total = {y: int((plan[y] == 1).sum()) for y in (first, last)}
    outside = {y: outside_cells(data.plan, kind, y, data.facility_cell) for y in (first, last)}
    by_county = plan.groupby("county")[[first, last]].sum()
    texts = {c: f"{c}\n{signed(int(r[last] - r[first]))}" for c, r in by_county.iterrows()}
    sheet = Sheet(data, f"{data.kind_zh[kind]}：每个服务圈内的定点机构数（{first}年与{last}年）",
                  legend_h=1.05)
    x0, y0, x1, y1 = sheet.area
    gap = 0.15
    col_w = (x1 - x0 - 2 * gap) / 3
    cb = city_bounds(data)
    aspect = (cb[2] - cb[0]) / max(cb[3] - cb[1], 1.0)
    county = data.central()
    zoom = zoom_bounds(data, county)
    city_h = min(col_w / aspect + 0.35, 0.56 * (y1 - y0)) if zoom else y1 - y0
    grid = np.ones(len(data.cells), bool)

    def note(y):
        return f"（服务圈外 {outside[y]} 家）" if outside[y] else ""

    panels = [
        (n0, f"{first}年（规划基年）：{total[first]:,} 家{note(first)}", "count"),
        (n1, f"{last}年（规划末年）：{total[last]:,} 家{note(last)}", "count"),
        (delta, f"变化 {first}→{last}：{signed(total[last] - total[first])} 家", "change"),
    ]
    for i, (values, title, what) in enumerate(panels):
        px = x0 + i * (col_w + gap)
        ax, lim = sheet.panel(px, y1 - city_h, col_w, city_h, cb, title=title)
        axes = [(ax, lim, False)]
        zlim = None
        if zoom:
            zt = f"{county}城区 " + (f"{first}→{last}" if what == "change"
                                   else f"{first if i == 0 else last}年")
            zax, zlim = sheet.panel(px, y0, col_w, y1 - city_h - y0 - 0.1, zoom, expand=1.6,
                                    title=zt)
            axes.append((zax, zlim, True))
            sheet.zoom_frame(ax, zlim)
        for a, lm, zoomed in axes:
            sheet.hexes(a, grid, "none", edgecolor=GRID_EDGE, lw=0.12, zorder=1, lim=lm)
            if what == "count":
                shown = values > 0
                cols = np.asarray(colours, dtype=object)[classify(values[shown], bounds)]
                sheet.hexes(a, shown, list(cols), edgecolor=EDGE, lw=0.15, zorder=2, lim=lm)
                labels_of = [str(v) for v in values]
            else:
                shown = (n0 > 0) | (n1 > 0)
                cols = np.asarray(CHANGE_COLOURS, dtype=object)[
                    classify(values[shown], CHANGE_BOUNDS)]
                sheet.hexes(a, shown, list(cols), edgecolor=EDGE, lw=0.15, zorder=2, lim=lm)
                labels_of = [signed(int(v)) for v in values]
                shown = shown & (values != 0)
            if zoomed:
                sheet.labels(a, lm, shown, labels_of, fontsize=6.3)
            sheet.outlines(a, lm, fontsize=8.5 if not zoomed else 9.5,
                           texts=texts if what == "change" and not zoomed else None,
                           skip={county} if zoomed else ())
            sheet.streets(a, lm, labels=zoomed)
            sheet.furniture(a, lm, arrow=(i == 0 and not zoomed),
                            avoid=None if zoomed else zlim)
    W = x1 - x0
    sheet.legend([_patch(c, lab) for c, lab in zip(colours, labels, strict=True)],
                 x0, W * 0.6, "每个服务圈（六边形）内的定点机构数（家）", ncols=len(labels))
    sheet.legend([_patch(c, lab) for c, lab in zip(CHANGE_COLOURS, CHANGE_LABELS, strict=True)],
                 x0 + W * 0.6, W * 0.4, "每个服务圈的变化（家；县区名下为县区净变化）",
                 ncols=5)
    return _save(sheet, folder, stem)


# --------------------------------------------------------------------------- 2 changes
def changes_map(data: MapData, kind: str, folder: Path, stem: str) -> Path:
    """Admissions (▲, greens) and exits (▼, reds) of ``kind``, one shade per year."""
    from matplotlib import colormaps
    from matplotlib.lines import Line2D

    first, last = data.first, data.last
    plan = data.plan[data.plan["kind"] == kind]
    flows = flow_counts(data.plan, kind, data.years)
    years = list(flows["year"])
    shade = np.linspace(0.45, 0.95, max(len(years), 1))
    green = {y: colormaps[ADMIT_CMAP](s) for y, s in zip(years, shade, strict=True)}
    red = {y: colormaps[EXIT_CMAP](s) for y, s in zip(years, shade, strict=True)}
    adm_y = plan["admitted_year"] if "admitted_year" in plan else None
    ext_y = plan["exited_year"] if "exited_year" in plan else None
    kept = plan[(plan[first] == 1) & (plan[last] == 1)]
    grid = np.ones(len(data.cells), bool)

    def draw(ax, lim, zoomed):
        k = 3.2 if zoomed else 1.0
        sheet.hexes(ax, grid, "none", edgecolor=GRID_EDGE, lw=0.12, zorder=1, lim=lim)
        ax.scatter(kept["x"], kept["y"], s=2.5 * k, c="#9a9a9a", lw=0, zorder=3,
                   rasterized=len(kept) > 300)
        for y in years:
            for col, colour, marker in ((adm_y, green[y], "^"), (ext_y, red[y], "v")):
                if col is None:
                    continue
                sel = plan[col == y]
                if len(sel):
                    ax.scatter(sel["x"], sel["y"], s=11 * k, c=[colour], marker=marker,
                               edgecolors="#222222", linewidths=0.25, zorder=4)

    n_adm, n_ext = int(flows["admitted"].sum()), int(flows["exited"].sum())
    sheet = Sheet(data, f"{data.kind_zh[kind]}：准入与退出的位置（{years[0] if years else last}—"
                        f"{last}年）  准入 {n_adm:,} 家，退出 {n_ext:,} 家", legend_h=1.0)
    _two_panels(sheet, draw, "{county}城区")
    handles = []
    for row in flows.itertuples(index=False):
        handles.append(Line2D([], [], ls="none", marker="^", ms=7, mfc=green[row.year],
                              mec="#222222", mew=0.4, label=f"{row.year}年准入 {row.admitted} 家"))
        handles.append(Line2D([], [], ls="none", marker="v", ms=7, mfc=red[row.year],
                              mec="#222222", mew=0.4, label=f"{row.year}年退出 {row.exited} 家"))
    x0, _, x1, _ = sheet.area
    W = x1 - x0
    sheet.legend(handles, x0, W * 0.78, "▲ 准入（绿）  ▼ 退出（红）：颜色越深年份越晚",
                 ncols=max(len(years), 1))
    extra = [Line2D([], [], ls="none", marker="o", ms=4, mfc="#9a9a9a", mec="none",
                    label=f"{first}—{last}年始终定点 {len(kept):,} 家"),
             _patch("none", "服务圈（六边形）", edge=GRID_EDGE)]
    sheet.legend(extra, x0 + W * 0.78, W * 0.22, "底图", ncols=1)
    return _save(sheet, folder, stem)


# --------------------------------------------------------------------------- 3 blind spots
def blind_map(data: MapData, kind: str, folder: Path, stem: str) -> Path:
    """The base year's blind spots by the last year (:func:`blind_classes`)."""
    first, last = data.first, data.last
    cls = blind_classes(data.cells, kind, first, last, data.exempt)
    pop = data.cells["population"].fillna(0).to_numpy()
    colour = {k: c for k, (_, c) in BLIND_CLASSES.items()}
    count = {k: int((cls == k).sum()) for k in BLIND_CLASSES}
    people = {k: int(pop[cls == k].sum()) for k in BLIND_CLASSES}
    base = count["filled"] + count["still"] + count["unreachable"]
    grid = np.ones(len(data.cells), bool)
    scope = cls != ""

    def draw(ax, lim, zoomed):
        sheet.hexes(ax, grid, "none", edgecolor=GRID_EDGE, lw=0.12, zorder=1, lim=lim)
        cols = [colour[c] for c in cls[scope]]
        sheet.hexes(ax, scope, cols, edgecolor=EDGE, lw=0.15, zorder=2, lim=lim)

    head = (f"{first}年 {base} 个盲区：已填补 {count['filled']}，仍为盲区 {count['still']}，"
            f"无法覆盖 {count['unreachable']}" if base else f"{first}年无服务盲区")
    sheet = Sheet(data, f"{data.kind_zh[kind]}服务盲区 {first}→{last}年（{head}）", legend_h=0.8)
    _two_panels(sheet, draw, "{county}城区")
    handles = [_patch(colour[k], f"{BLIND_CLASSES[k][0]} {count[k]:,} 个（人口 {people[k]:,}）")
               for k in BLIND_CLASSES]
    x0, _, x1, _ = sheet.area
    sheet.legend(handles, x0, x1 - x0, f"有人口、在服务圈规则内的服务圈：{first}年盲区到{last}年"
                 "（无填充 = 无人口或不在规则内）", ncols=3)
    return _save(sheet, folder, stem)


# --------------------------------------------------------------------------- 4 coverage
def coverage_map(data: MapData, kind: str, year: int, folder: Path, stem: str) -> Path:
    """Coverage of ``kind`` per service cell in ``year``; blind spots outlined in red."""
    cells = data.cells
    pop = cells["population"].fillna(0).to_numpy() > 0
    scope = in_scope(cells, kind, data.exempt)
    n = cells[f"{kind}_{year}"].fillna(0).to_numpy().astype(int)
    colours = np.where(scope, np.asarray(COVER_COLOURS, dtype=object)[
        classify(n, COVER_BOUNDS[:-1])], OUT_OF_SCOPE)
    blind = scope & (n == 0)
    grid = np.ones(len(cells), bool)

    def draw(ax, lim, zoomed):
        sheet.hexes(ax, grid, "none", edgecolor=GRID_EDGE, lw=0.12, zorder=1, lim=lim)
        sheet.hexes(ax, pop, list(colours[pop]), edgecolor=EDGE, lw=0.15, zorder=2, lim=lim)
        if blind.any():
            sheet.hexes(ax, blind, "none", edgecolor="#a50f15", lw=1.0 if zoomed else 0.5,
                        zorder=3, lim=lim)
        if zoomed:
            sheet.labels(ax, lim, scope, [str(v) for v in n])

    in_pop = int(cells.loc[scope, "population"].sum())
    cov_pop = int(cells.loc[scope & (n > 0), "population"].sum())
    share = f"{cov_pop / in_pop:.1%}" if in_pop else "-"
    sheet = Sheet(data, f"{year}年{data.kind_zh[kind]}服务圈覆盖：覆盖人口 {cov_pop:,} / {in_pop:,}"
                        f"（{share}），盲区 {int(blind.sum())} 个", legend_h=0.8)
    county = _two_panels(sheet, draw, "{county}城区（数字 = 服务圈内可达的定点机构数）")
    radius = cells.loc[cells["county"] == county, "radius_m"].min() if county else None
    handles = [_patch(c, lab) for c, lab in zip(COVER_COLOURS, COVER_LABELS, strict=True)]
    handles.append(_patch(OUT_OF_SCOPE, "不在服务圈规则内"))
    handles.append(_patch("none", "服务盲区（有人口、无覆盖）", edge="#a50f15", lw=1.2))
    x0, _, x1, _ = sheet.area
    title = "服务圈内可达的定点机构数（家）"
    if radius:
        title += f"；城区服务圈外接圆半径 {radius:,.2f} 米"
    sheet.legend(handles, x0, x1 - x0, title, ncols=len(handles))
    return _save(sheet, folder, stem)


def _save(sheet: Sheet, folder: Path, stem: str) -> Path:
    try:
        return save(sheet.fig, folder, stem)
    finally:
        sheet.plt.close(sheet.fig)


__all__ = ["PAGE", "blind_map", "changes_map", "count_classes", "coverage_map", "density_map"]

"""The furniture every static map shares: the page, panels, outlines, north arrow, scale bar,
source line, the zoom on the central district, and writing PNG + SVG.

A map is an A4-landscape page (:data:`PAGE`, inches) laid out by hand (:class:`Sheet`): the title
and the plan's title on top, the map panels in the middle, the legend band and the source line
(数据来源…, with 机构位置为合成数据 when ``summary.json`` says ``synthetic_data``) at the bottom,
so no legend ever covers data. Each panel is sized to its content's aspect and framed exactly
(:meth:`Sheet.panel`), so the scale bar is true. County outlines carry Chinese labels; the
urban areas (streets, 街道) are drawn thin, and labelled in the zoom. Written at :data:`DPI` as
PNG and as SVG with the same stem (:func:`save`); dense hexagon layers are rasterized in the
SVG (at the same DPI) to keep it small.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import shapely
from shapely.ops import polylabel

from dingdian.write.fonts import cjk_font
from dingdian.write.map_data import MapData, outline_bounds, rings
from dingdian.write.outputs import atomic_file

PAGE = (11.69, 8.27)  # A4 landscape, inches
DPI = 300
MARGIN = 0.3
TITLE_H = 0.9  # the title band on top, inches
SOURCE_H = 0.42  # the source lines at the bottom, inches
PANEL_TITLE_H = 0.3
HALO = 2.2
ZOOM_EDGE = "#2166ac"
GRID_EDGE = "#cfcfcf"
#: hexagon layers with more cells than this are rasterized in the SVG
RASTER_ABOVE = 400


def pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    family = cjk_font()
    plt.rcParams["font.family"] = [family, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["svg.fonttype"] = "path"
    return plt


def halo(width: float = HALO):
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


def source_lines(data: MapData) -> list[str]:
    """The source line (and the synthetic-data note) of every map."""
    s = data.summary
    ver = s.get("dingdian_version")
    date = str(s.get("created_utc") or "")[:10]
    made = f"dingdian {ver} " if ver else "dingdian "
    files = data.files
    bits = [f"{made}规划结果 plan.csv、cells.csv" + (f"（{date}）" if date else "")]
    if files.get("counties"):
        bits.append(f"县区界 {files['counties']}")
    if files.get("urban_areas"):
        bits.append(f"城区与街道界 {files['urban_areas']}")
    bits.append(f"投影 {data.crs}")
    lines = ["数据来源：" + "；".join(bits) + "。"]
    if data.synthetic:
        lines.append("注：机构位置为合成数据（示意规划方法，不代表真实机构）；"
                     "服务圈为规划的六边形服务单元。")
    else:
        lines.append("注：服务圈为规划的六边形服务单元。")
    return lines


def fit(bounds, w: float, h: float, pad: float = 0.03, expand: float = 1.0):
    """``(limits, (w, h))``: ``bounds`` padded, the limits widened toward the panel's aspect
    by at most the factor ``expand`` (surroundings shown), then the panel shrunk to the
    limits' aspect."""
    x0, y0, x1, y1 = bounds
    dx, dy = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    x0, x1, y0, y1 = x0 - pad * dx, x1 + pad * dx, y0 - pad * dy, y1 + pad * dy
    dx, dy = x1 - x0, y1 - y0
    if dx / dy < w / h:
        grow = (min(dy * w / h, dx * expand) - dx) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = (min(dx * h / w, dy * expand) - dy) / 2
        y0, y1 = y0 - grow, y1 + grow
    dx, dy = x1 - x0, y1 - y0
    scale = min(w / dx, h / dy)
    return (x0, y0, x1, y1), (dx * scale, dy * scale)


class Sheet:
    """One map page: title band, panels placed in inches, legend band, source line."""

    def __init__(self, data: MapData, title: str, legend_h: float = 0.85):
        self.plt = pyplot()
        self.data = data
        self.fig = self.plt.figure(figsize=PAGE, dpi=100)
        self.legend_h = legend_h
        w, h = PAGE
        self.fig.text(0.5, 1 - 0.34 / h, title, ha="center", va="center", fontsize=15)
        if data.title:
            self.fig.text(0.5, 1 - 0.66 / h, data.title, ha="center", va="center",
                          fontsize=9.5, color="#333333")
        for i, line in enumerate(source_lines(data)):
            self.fig.text(MARGIN / w, (0.3 - 0.15 * i) / h, line, ha="left", va="center",
                          fontsize=6.8, color="#444444")
        self._land = None
        self._numbers: dict[int, np.ndarray] = {}  # id(ax) -> where numbers were written

    # the free area for panels, inches: (x0, y0, x1, y1)
    @property
    def area(self):
        w, h = PAGE
        return MARGIN, SOURCE_H + self.legend_h, w - MARGIN, h - TITLE_H

    @property
    def land(self):
        if self._land is None:
            self._land = shapely.union_all(list(self.data.outlines.values()))
        return self._land

    def panel(self, x: float, y: float, w: float, h: float, bounds, title: str = "",
              expand: float = 1.0, center: bool = True):
        """A map axes in the slot ``(x, y, w, h)`` inches (title above, inside the slot),
        framing ``bounds`` exactly; returns ``(ax, limits)``."""
        lim, (aw, ah) = fit(bounds, w, h - PANEL_TITLE_H, expand=expand)
        ax_x = x + (w - aw) / 2 if center else x
        ax_y = y + (h - PANEL_TITLE_H - ah) / 2 if center else y + (h - PANEL_TITLE_H - ah)
        W, H = PAGE
        ax = self.fig.add_axes((ax_x / W, ax_y / H, aw / W, ah / H))
        ax.set_xlim(lim[0], lim[2])
        ax.set_ylim(lim[1], lim[3])
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_linewidth(0.6)
            s.set_color("#555555")
        if title:
            ax.set_title(title, fontsize=10.5, pad=4)
        ax._dd_size = (aw, ah)  # inches, for the scale bar and the arrow
        return ax, lim

    def legend(self, handles, x: float, w: float, title: str, ncols: int, **kw):
        """A legend centred in the band ``x .. x + w`` (inches) under the panels."""
        W, H = PAGE
        return self.fig.legend(handles=handles, loc="upper center", ncols=ncols,
                               bbox_to_anchor=((x + w / 2) / W, (SOURCE_H + self.legend_h) / H),
                               frameon=False, fontsize=8.2, title=title, title_fontsize=8.8,
                               handlelength=1.6, columnspacing=1.4, **kw)

    # ---------------------------------------------------------------- layers
    def outlines(self, ax, lim, labels: bool = True, fontsize: float = 9.0, texts=None,
                 skip=()):
        """County outlines, with their names (``texts`` overrides a county's label; the
        counties in ``skip`` stay unlabelled)."""
        for geom in self.data.outlines.values():
            for ring in rings(geom):
                ax.plot(ring[:, 0], ring[:, 1], color="#333333", lw=0.7, zorder=5)
        if not labels:
            return
        for name, geom in self.data.outlines.items():
            if name in skip:
                continue
            p = label_point(geom)
            if not (lim[0] < p[0] < lim[2] and lim[1] < p[1] < lim[3]):
                continue
            text = (texts or {}).get(name, name)
            ax.text(p[0], p[1], text, ha="center", va="center", fontsize=fontsize, zorder=9,
                    color="#111111", path_effects=halo(), linespacing=1.1)

    def streets(self, ax, lim, labels: bool = False):
        """The urban areas: streets (街道) thin, county seats dashed; labelled when asked."""
        for a in self.data.urban:
            for ring in rings(a.geom):
                ax.plot(ring[:, 0], ring[:, 1], color="#5b6b7b", lw=0.8 if labels else 0.35,
                        ls="-" if a.street else (0, (3, 2)), zorder=6)
        if not labels:
            return
        per_inch = (lim[2] - lim[0]) / ax._dd_size[0]
        numbers = self._numbers.get(id(ax), np.zeros((0, 2)))
        for a in self.data.urban:
            name = a.street or re.sub(r"[（(].*?[）)]", "", a.name) or "城区"
            size = (len(name) * 7.2 / 72 * per_inch, 7.2 / 72 * per_inch)
            p = place_label(a.geom, size, numbers, 0.07 * per_inch)
            if not (lim[0] < p[0] - size[0] / 2 and p[0] + size[0] / 2 < lim[2]
                    and lim[1] < p[1] - size[1] and p[1] + size[1] < lim[3]):
                continue
            ax.text(p[0], p[1], name, ha="center", va="center", fontsize=7.2, zorder=9,
                    color="#1f3a5f", style="italic", path_effects=halo(2.0), clip_on=True)

    def hexes(self, ax, mask, facecolors, edgecolor=GRID_EDGE, lw=0.15, zorder=2, lim=None):
        """The cells of ``mask`` as one collection (only those reaching into ``lim``)."""
        from matplotlib.collections import PolyCollection

        mask = np.asarray(mask)
        if lim is not None:
            x, y = self.data.cells["x"].to_numpy(), self.data.cells["y"].to_numpy()
            r = self.data.cells["radius_m"].to_numpy()
            near = (x + r > lim[0]) & (x - r < lim[2]) & (y + r > lim[1]) & (y - r < lim[3])
            if not isinstance(facecolors, str):
                facecolors = list(np.asarray(facecolors, dtype=object)[near[mask]])
            mask = mask & near
        verts = self.data.verts[mask]
        pc = PolyCollection(verts, facecolors=facecolors, edgecolors=edgecolor, linewidths=lw,
                            zorder=zorder, rasterized=len(verts) > RASTER_ABOVE)
        ax.add_collection(pc)
        return pc

    def furniture(self, ax, lim, arrow: bool = True, avoid=None):
        """Scale bar (and north arrow) in the emptiest corners of the panel, away from the
        box ``avoid`` (the zoom's frame)."""
        corners = self._corners(lim, avoid)
        scale_bar(ax, lim, left=corners["low"] == "left")
        if arrow:
            north_arrow(self.fig, ax, left=corners["high"] == "left")

    def _corners(self, lim, avoid=None):
        x0, y0, x1, y1 = lim
        dx, dy = x1 - x0, y1 - y0
        frame = shapely.box(*avoid).boundary if avoid is not None else None
        out = {}
        for where, (ya, yb) in {"low": (y0, y0 + 0.14 * dy), "high": (y1 - 0.22 * dy, y1)}.items():
            filled = {}
            for side, (xa, xb) in {"left": (x0, x0 + 0.3 * dx), "right": (x1 - 0.3 * dx, x1)}.items():
                box = shapely.box(xa, ya, xb, yb)
                filled[side] = self.land.intersection(box).area / box.area
                if frame is not None and frame.intersects(box):
                    filled[side] += 1.0
            out[where] = min(filled, key=lambda s: (filled[s], s != "left"))
        return out

    def zoom_frame(self, ax, zoom):
        x0, y0, x1, y1 = zoom
        ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color=ZOOM_EDGE, lw=1.2, zorder=8)

    def labels(self, ax, lim, mask, values, fontsize: float = 6.5, min_inch: float = 0.16):
        """Numbers in the cells of ``mask`` inside ``lim`` (skipped when cells are too small)."""
        cells = self.data.cells
        r = cells["radius_m"].to_numpy()
        aw = ax._dd_size[0]
        inch = 1.7 * r / (lim[2] - lim[0]) * aw
        x, y = cells["x"].to_numpy(), cells["y"].to_numpy()
        inside = (x > lim[0]) & (x < lim[2]) & (y > lim[1]) & (y < lim[3])
        shown = np.flatnonzero(np.asarray(mask) & inside & (inch >= min_inch))
        for i in shown:
            ax.text(x[i], y[i], values[i], ha="center", va="center", fontsize=fontsize,
                    zorder=7, color="#111111", path_effects=halo(1.6), clip_on=True)
        self._numbers[id(ax)] = np.column_stack([x[shown], y[shown]])


def label_point(geom) -> tuple[float, float]:
    """Where a polygon's name goes: the pole of inaccessibility of its largest part."""
    polys = sorted(getattr(geom, "geoms", [geom]), key=lambda p: p.area)
    big = polys[-1]
    try:
        p = polylabel(big, tolerance=max(1.0, np.sqrt(big.area) / 100))
    except Exception:  # noqa: BLE001 - a degenerate outline: any interior point will do
        p = big.representative_point()
    return p.x, p.y


def place_label(geom, size, avoid: np.ndarray, margin: float) -> tuple[float, float]:
    """A point inside ``geom`` for a label of ``size`` (w, h, data units) that covers as few
    of the ``avoid`` points (numbers already written) as it can, near the polygon's middle."""
    pole = np.array(label_point(geom))
    if len(avoid) == 0:
        return tuple(pole)
    x0, y0, x1, y1 = geom.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 13)[1:-1], np.linspace(y0, y1, 13)[1:-1])
    cand = np.column_stack([gx.ravel(), gy.ravel()])
    inner = geom.buffer(-0.3 * size[1])
    cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])] if not inner.is_empty \
        else cand[:0]
    cand = np.vstack([pole[None, :], cand])
    hw, hh = size[0] / 2 + margin, size[1] / 2 + margin
    dx = np.abs(cand[:, None, 0] - avoid[None, :, 0])
    dy = np.abs(cand[:, None, 1] - avoid[None, :, 1])
    hits = ((dx < hw) & (dy < hh)).sum(axis=1)
    far = np.hypot(*(cand - pole).T) / max(x1 - x0, y1 - y0, 1.0)
    best = int(np.argmin(hits + far))
    return float(cand[best, 0]), float(cand[best, 1])


def nice_km(span_m: float) -> float:
    """A round scale-bar length (km) of at most about a quarter of ``span_m``."""
    target = span_m / 4000.0
    steps = (0.2, 0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000)
    return float(max([s for s in steps if s <= target] or [steps[0]]))


def scale_bar(ax, lim, left: bool = True) -> None:
    """A two-segment black/white scale bar in km, lower corner, on a white plate."""
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = lim
    km = nice_km(x1 - x0)
    length = km * 1000
    h = (y1 - y0) * 0.012
    bx = x0 + (x1 - x0) * 0.04 if left else x1 - (x1 - x0) * 0.04 - length
    by = y0 + (y1 - y0) * 0.045
    ax.add_patch(Rectangle((bx - length * 0.08, by - h * 2.2), length * 1.16, h * 7.2,
                           fc="white", ec="none", alpha=0.8, zorder=10))
    for i in range(2):
        ax.add_patch(Rectangle((bx + i * length / 2, by), length / 2, h,
                               fc="black" if i == 0 else "white", ec="black", lw=0.6, zorder=11))
    label = f"{km:g} 公里"
    ax.text(bx, by + h * 1.6, "0", ha="center", va="bottom", fontsize=7, zorder=11)
    ax.text(bx + length, by + h * 1.6, label, ha="center", va="bottom", fontsize=7, zorder=11)


def north_arrow(fig, ax, left: bool = False) -> None:
    """指北针: a half-black arrow with 北 above it, in an upper corner of ``ax``."""
    from matplotlib.patches import Polygon
    from matplotlib.transforms import ScaledTranslation

    ax_x = 0.06 if left else 0.94
    anchor = ScaledTranslation(ax_x, 0.8, ax.transAxes)
    trans = fig.dpi_scale_trans + anchor
    s = 0.22  # inches
    tip, notch, bl, br = (0, s), (0, -0.35 * s), (-0.4 * s, -0.75 * s), (0.4 * s, -0.75 * s)
    ax.add_patch(Polygon([tip, bl, notch], closed=True, fc="black", ec="black", lw=0.6,
                         transform=trans, zorder=12, clip_on=False))
    ax.add_patch(Polygon([tip, notch, br], closed=True, fc="white", ec="black", lw=0.6,
                         transform=trans, zorder=12, clip_on=False))
    ax.text(0, s + 0.03, "北", transform=trans, ha="center", va="bottom", fontsize=10,
            zorder=12, path_effects=halo())


def zoom_bounds(data: MapData, county: str | None, pad_m: float = 1500.0):
    """The box around ``county``'s urban cells and urban areas (its outline when it has
    neither), padded by ``pad_m`` (less in a small city); None without a county."""
    if county is None:
        return None
    cx0, cy0, cx1, cy1 = outline_bounds(data.outlines)
    pad_m = min(pad_m, 0.04 * max(cx1 - cx0, cy1 - cy0))
    cells = data.cells
    u = cells[(cells["zone"] == "urban") & (cells["county"] == county)]
    boxes = [g.geom.bounds for g in data.urban if g.county == county]
    if len(u):
        r = float(u["radius_m"].max())
        boxes.append((u["x"].min() - r, u["y"].min() - r, u["x"].max() + r, u["y"].max() + r))
    if not boxes:
        if county not in data.outlines:
            return None
        return data.outlines[county].bounds
    b = np.array(boxes)
    return (b[:, 0].min() - pad_m, b[:, 1].min() - pad_m, b[:, 2].max() + pad_m,
            b[:, 3].max() + pad_m)


def city_bounds(data: MapData):
    """The county outlines and every populated cell's hexagon together."""
    x0, y0, x1, y1 = outline_bounds(data.outlines)
    pop = data.cells["population"].fillna(0).to_numpy() > 0
    if pop.any():
        v = data.verts[pop].reshape(-1, 2)
        x0, y0 = min(x0, v[:, 0].min()), min(y0, v[:, 1].min())
        x1, y1 = max(x1, v[:, 0].max()), max(y1, v[:, 1].max())
    return x0, y0, x1, y1


def save(fig, folder: Path, stem: str) -> Path:
    """``folder/stem.png`` (:data:`DPI`) and ``folder/stem.svg``, each written atomically;
    returns the PNG's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png = atomic_file(folder / f"{stem}.png", lambda tmp: fig.savefig(
        tmp, dpi=DPI, format="png", pil_kwargs={"compress_level": 3}))
    atomic_file(folder / f"{stem}.svg",
                lambda tmp: fig.savefig(tmp, dpi=DPI, format="svg", metadata={"Date": None}))
    return png

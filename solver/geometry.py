r"""Planar geometry for the hexagon grid (pure functions; shapely 2, pyproj, numpy).

All distances are metres in a projected CRS (Zhangye: UTM zone 47N, EPSG:32647). Outlines are
stored in WGS84 lon/lat and projected with :func:`project`.

Pointy-top hexagon lattice
--------------------------
A regular hexagon with circumradius :math:`R` (centre to vertex) has inradius
:math:`r = \tfrac{\sqrt3}{2}R`, width :math:`\sqrt3 R` (flat sides left and right), height
:math:`2R` and area :math:`\tfrac{3\sqrt3}{2}R^2`. Pointy-top hexagons tile the plane when their
centres are

.. math::  x = o_x + \sqrt3 R\,(c + \tfrac12 [\,r \text{ odd}\,]), \qquad y = o_y + \tfrac32 R\, r

for integer column :math:`c` and row :math:`r` ("odd-r" offset layout): neighbours in a row are
:math:`\sqrt3R` apart, rows are :math:`1.5R` apart and odd rows are shifted by half a spacing, so
every centre has six neighbours at distance :math:`\sqrt3R = 2r`. The hexagon holding a point is
the Voronoi cell of its nearest centre; :func:`lattice_index` finds it exactly by converting to
axial coordinates

.. math::  q = \frac{\tfrac{\sqrt3}{3}\,\Delta x - \tfrac13\,\Delta y}{R}, \qquad
           s = \frac{\tfrac23\,\Delta y}{R}

and rounding in cube coordinates :math:`(q, -q-s, s)` (round each, then fix the component with
the largest rounding error so the three still sum to zero). Then :math:`r = s` and
:math:`c = q + (s - (s \bmod 2))/2`.

The lattice is fully determined by ``(R, origin)``; two lattices with the same origin (the fine
urban and the coarse rural grid) are independent but reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

SQRT3 = math.sqrt(3.0)
WGS84 = "EPSG:4326"


# --------------------------------------------------------------------------- projection
@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def lonlat_to_xy(lon, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitudes/latitudes (degrees) to ``crs`` x/y (metres)."""
    x, y = _transformer(WGS84, crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def xy_to_lonlat(x, y, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`lonlat_to_xy`."""
    lon, lat = _transformer(crs, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def project(geom: BaseGeometry, crs: str) -> BaseGeometry:
    """A lon/lat geometry expressed in ``crs`` (vertex by vertex; fine at county scale)."""
    tr = _transformer(WGS84, crs)
    return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def unproject(geom: BaseGeometry, crs: str) -> BaseGeometry:
    """A ``crs`` geometry expressed in WGS84 lon/lat."""
    tr = _transformer(crs, WGS84)
    return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def check_crs(crs: str) -> str:
    """Raise ``ValueError`` unless ``crs`` is a projected CRS pyproj knows; return it."""
    c = CRS.from_user_input(crs)
    if not c.is_projected:
        raise ValueError(f"{crs} is not a projected CRS (distances must be in metres)")
    return crs


#: how far (degrees of longitude) from a transverse Mercator CRS's central meridian the city may
#: lie: UTM zones are 6° wide (±3°), Gauss-Krüger 3° zones ±1.5°; beyond ±4.5° the scale error
#: passes 0.3 %, and service circles of 1,060.82 m are off by several metres
CRS_REACH_DEG = 4.5


def crs_mismatch(crs: str, lon: float) -> str | None:
    """A sentence when ``crs`` is a transverse Mercator projection centred far from ``lon``
    (the city's longitude), else None: the UTM or Gauss-Krüger zone to use instead."""
    c = CRS.from_user_input(crs)
    op = c.coordinate_operation
    if op is None or "Transverse Mercator" not in (op.method_name or ""):
        return None
    cm = next((p.value for p in op.params if p.name == "Longitude of natural origin"), None)
    if cm is None or abs(lon - cm) <= CRS_REACH_DEG:
        return None
    zone = int(math.floor((lon + 180) / 6) + 1)
    return (f"{crs} is centred on {cm:g}° E but the counties lie around {lon:.1f}° E: distances "
            f"would be stretched; use EPSG:{32600 + zone} (UTM {zone}N) or the CGCS2000 "
            f"Gauss-Krüger zone of {lon:.0f}° E")


# --------------------------------------------------------------------------- lattice
def lattice_origin(bounds: Sequence[float], step: float = 1000.0) -> tuple[float, float]:
    """A lattice origin: the lower-left corner of ``bounds`` rounded down to ``step`` metres."""
    return (math.floor(bounds[0] / step) * step, math.floor(bounds[1] / step) * step)


def lattice_centre(col, row, radius_m: float, origin: Sequence[float]) -> np.ndarray:
    """Centres ``(n, 2)`` of lattice cells ``(col, row)`` (see the module docstring)."""
    col = np.asarray(col, dtype=np.int64)
    row = np.asarray(row, dtype=np.int64)
    x = origin[0] + SQRT3 * radius_m * (col + 0.5 * (row % 2))
    y = origin[1] + 1.5 * radius_m * row
    return np.column_stack([x, y]).astype(float)


def lattice_index(points_xy, radius_m: float, origin: Sequence[float]) -> np.ndarray:
    """``(n, 2)`` integer ``(col, row)`` of the lattice cell holding each point.

    The cell is the one whose centre is nearest (cube rounding of axial coordinates, exact up to
    ties on a shared edge).
    """
    p = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    dx = p[:, 0] - origin[0]
    dy = p[:, 1] - origin[1]
    q = (SQRT3 / 3.0 * dx - dy / 3.0) / radius_m
    s = (2.0 / 3.0 * dy) / radius_m
    t = -q - s
    rq, rs, rt = np.round(q), np.round(s), np.round(t)
    eq, es, et = np.abs(rq - q), np.abs(rs - s), np.abs(rt - t)
    fix_q = (eq > es) & (eq > et)
    fix_s = ~fix_q & (es > et)
    rq = np.where(fix_q, -rs - rt, rq)
    rs = np.where(fix_s, -rq - rt, rs)
    row = rs.astype(np.int64)
    col = rq.astype(np.int64) + (row - (row % 2)) // 2
    return np.column_stack([col, row])


def containing_cell(points_xy, radius_m: float, origin: Sequence[float]) -> np.ndarray:
    """Centre ``(n, 2)`` of the lattice cell (hexagon) holding each point."""
    idx = lattice_index(points_xy, radius_m, origin)
    return lattice_centre(idx[:, 0], idx[:, 1], radius_m, origin)


def hex_centres(polygon: BaseGeometry, radius_m: float, origin: Sequence[float]) -> np.ndarray:
    """Centres ``(n, 2)`` of the lattice cells whose centre lies inside ``polygon``.

    Ordered by row then column (south to north, west to east). ``polygon`` must be in the same
    projected CRS as ``origin``; points on the boundary are outside (``shapely.contains_xy``).
    """
    if polygon is None or polygon.is_empty:
        return np.zeros((0, 2))
    minx, miny, maxx, maxy = polygon.bounds
    r0 = math.floor((miny - origin[1]) / (1.5 * radius_m)) - 1
    r1 = math.ceil((maxy - origin[1]) / (1.5 * radius_m)) + 1
    c0 = math.floor((minx - origin[0]) / (SQRT3 * radius_m)) - 1
    c1 = math.ceil((maxx - origin[0]) / (SQRT3 * radius_m)) + 1
    rows, cols = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
    xy = lattice_centre(cols.ravel(), rows.ravel(), radius_m, origin)
    inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
    return xy[inside]


def hexagon(x: float, y: float, radius_m: float) -> Polygon:
    """Pointy-top regular hexagon centred at ``(x, y)`` with circumradius ``radius_m``.

    Vertices at angles 30° + 60°k, k = 0…5 (so one vertex points north).
    """
    ang = np.deg2rad(30.0 + 60.0 * np.arange(6))
    return Polygon(np.column_stack([x + radius_m * np.cos(ang), y + radius_m * np.sin(ang)]))


# --------------------------------------------------------------------------- distances
def within_radius(cells_xy, facilities_xy, radius_m: float) -> list[np.ndarray]:
    """For each cell centre, the sorted indices of the facilities at distance ≤ ``radius_m``.

    Candidate pairs come from an STRtree ``dwithin`` query (padded by a micrometre); the exact
    Euclidean test ``hypot(dx, dy) <= radius_m`` then decides, so the result does not depend on
    GEOS tolerances.
    """
    cells = np.asarray(cells_xy, dtype=float).reshape(-1, 2)
    facs = np.asarray(facilities_xy, dtype=float).reshape(-1, 2)
    empty = np.zeros(0, dtype=np.int64)
    if len(cells) == 0:
        return []
    if len(facs) == 0:
        return [empty for _ in range(len(cells))]
    tree = shapely.STRtree(shapely.points(facs))
    ci, fi = tree.query(shapely.points(cells), predicate="dwithin", distance=radius_m + 1e-6)
    d = np.hypot(cells[ci, 0] - facs[fi, 0], cells[ci, 1] - facs[fi, 1])
    keep = d <= radius_m
    ci, fi = ci[keep], fi[keep]
    order = np.lexsort((fi, ci))
    ci, fi = ci[order], fi[order]
    bounds = np.searchsorted(ci, np.arange(len(cells) + 1))
    return [fi[bounds[k] : bounds[k + 1]].astype(np.int64) for k in range(len(cells))]


def largest_remainder(total: int, weights) -> np.ndarray:
    """Split the integer ``total`` into integers proportional to ``weights`` (Hamilton's method).

    Each part gets ``floor(total * w / Σw)``; the units still missing go to the largest
    fractional parts (ties to the earlier index). Parts add up to ``total`` exactly. All-zero
    weights split uniformly.
    """
    w = np.asarray(weights, dtype=float)
    if len(w) == 0:
        if total:
            raise ValueError("cannot split a non-zero total over no parts")
        return np.zeros(0, dtype=np.int64)
    if (w < 0).any():
        raise ValueError("weights must be non-negative")
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    missing = int(total - base.sum())
    order = np.lexsort((np.arange(len(w)), -(exact - base)))
    base[order[:missing]] += 1
    return base

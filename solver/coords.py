r"""Chinese map datums: GCJ-02 (高德, 腾讯) and BD-09 (百度) to WGS-84, and a hint when points look shifted.

Coordinates picked from Chinese web maps are not WGS-84. By law (测绘法) maps published in
China use **GCJ-02** ("火星坐标", 国测局 2002), an obfuscated datum offset 100–600 m from WGS-84:
高德/Amap, 腾讯/Tencent and Google Maps' China tiles. 百度/Baidu adds its own offset on top:
**BD-09**. A scenario says ``coordinates: wgs84 | gcj02 | bd09`` and the loader calls
:func:`to_wgs84` on the facility points. Neither transform is published officially; the formulas
below are the public reverse-engineered ones every open implementation uses (e.g.
googollee/eviltransform, MIT), and they reproduce the maps to centimetres.

GCJ-02 (forward, WGS-84 → GCJ-02)
---------------------------------
With :math:`x = \lambda - 105`, :math:`y = \varphi - 35` (degrees) two trigonometric
polynomials give a shift in *metres*:

.. math::
   T_\varphi &= -100 + 2x + 3y + 0.2y^2 + 0.1xy + 0.2\sqrt{|x|}
      + \tfrac23\,[20\sin 6\pi x + 20\sin 2\pi x + 20\sin\pi y + 40\sin\tfrac{\pi y}{3}
      + 160\sin\tfrac{\pi y}{12} + 320\sin\tfrac{\pi y}{30}] \\
   T_\lambda &= 300 + x + 2y + 0.1x^2 + 0.1xy + 0.1\sqrt{|x|}
      + \tfrac23\,[20\sin 6\pi x + 20\sin 2\pi x + 20\sin\pi x + 40\sin\tfrac{\pi x}{3}
      + 150\sin\tfrac{\pi x}{12} + 300\sin\tfrac{\pi x}{30}]

converted to degrees with the Krasovsky-1940 ellipsoid (:math:`a = 6378245` m,
:math:`e^2 = 0.00669342162296594323`): with :math:`W = 1 - e^2\sin^2\varphi`, the meridian
radius :math:`M = a(1-e^2)/W^{3/2}` and the prime-vertical radius :math:`N = a/W^{1/2}`,

.. math::  \Delta\varphi = \frac{180\,T_\varphi}{\pi M}, \qquad
           \Delta\lambda = \frac{180\,T_\lambda}{\pi N\cos\varphi}, \qquad
           (\lambda, \varphi)_{GCJ} = (\lambda + \Delta\lambda, \varphi + \Delta\varphi).

Outside the rectangle :math:`72.004 \le \lambda \le 137.8347`,
:math:`0.8293 \le \varphi \le 55.8271` (the published implementations' "out of China" test)
nothing is shifted.

GCJ-02 → WGS-84 has no closed form. The shift :math:`\Delta(p)` changes slowly with position
(its Jacobian is below :math:`10^{-2}`), so the map :math:`w \mapsto g - \Delta(w)` is a
contraction and its fixed point :math:`w = g - \Delta(w)` (i.e. ``forward(w) == g``) is found by
iterating :math:`w_{k+1} = w_k - (\mathrm{forward}(w_k) - g)` from :math:`w_0 = g`. Each step
gains about two digits; a point stops when its residual :math:`|\mathrm{forward}(w) - g|` is
below :math:`10^{-10}` degrees in both coordinates (4–5 steps; the :math:`\sqrt{|x|}` term is
not Lipschitz at :math:`\lambda = 105°` but still converges there), so the round trip is exact
to :math:`\sim10^{-10}°` (0.01 mm). The often-copied one-step inverse :math:`g - \Delta(g)` is
only good to 1–2 m.

BD-09
-----
Baidu's forward transform from GCJ-02 :math:`(x, y) = (\lambda, \varphi)`, with
:math:`x_\pi = \pi \cdot 3000/180`:

.. math::
   z = \sqrt{x^2+y^2} + 0.00002\sin(y\,x_\pi), \quad
   \theta = \operatorname{atan2}(y, x) + 0.000003\cos(x\,x_\pi), \\
   (\lambda, \varphi)_{BD} = (z\cos\theta + 0.0065,\; z\sin\theta + 0.006)

and the closed-form inverse used everywhere, with :math:`(x, y) = (\lambda_{BD} - 0.0065,
\varphi_{BD} - 0.006)`, subtracts the same two perturbations evaluated at :math:`(x, y)`:
:math:`z = \sqrt{x^2+y^2} - 0.00002\sin(y\,x_\pi)`,
:math:`\theta = \operatorname{atan2}(y, x) - 0.000003\cos(x\,x_\pi)`, GCJ-02 :math:`= (z\cos\theta,
z\sin\theta)`. Because the perturbations are evaluated at :math:`(x, y)` rather than at the
GCJ-02 point (which the angle term moves by up to :math:`4\cdot10^{-4}` degrees), the closed
form misses the exact inverse by typically :math:`5\cdot10^{-7}` degrees (5 cm) and at most
:math:`2\cdot10^{-6}` (20 cm, in the rectangle's far north-east); then GCJ-02 → WGS-84 as
above. The BD-09 offset applies everywhere (as in the reference implementations' ``bd2gcj``);
only its GCJ-02 part stops at China's rectangle.

A hint when points look shifted
-------------------------------
A bureau that forgets to say ``coordinates: gcj02`` gives points that are all a few hundred
metres off, in the same direction. The facilities near a county's border then fall just outside
it. :func:`datum_hint` looks at the points that lie outside the county they claim: when there
are at least 2 and at least 80 % of them are within 1.5 km of that county's border (distances in
metres in the points' UTM zone), it reads them as GCJ-02 and as BD-09; a datum that puts at
least 80 % of them inside their county is named (the one putting more inside; on a tie GCJ-02,
the smaller correction). Otherwise the sentence only asks which datum the points are in.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

DATUMS = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940, the ellipsoid GCJ-02 is defined on
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0
BD_DLON, BD_DLAT = 0.0065, 0.006
# the published "out of China" rectangle: no GCJ-02 shift outside it
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)

INVERSE_TOL_DEG = 1e-10  # residual |forward(w) - g| at which the GCJ-02 inverse stops
INVERSE_MAX_ITER = 30

HINT_MIN_POINTS = 2  # two points off the same way; one alone is more likely a typo
HINT_SHARE = 0.8  # ... this share of them near the border, and this share explained
HINT_NEAR_M = 1500.0  # BD-09 shifts 1.0–1.3 km: a border within this reach

_LABEL = {"gcj02": "GCJ-02 (高德/腾讯 coordinates)", "bd09": "BD-09 (百度 coordinates)",
          "wgs84": "WGS-84 (GPS, 天地图 coordinates)"}
#: the other datums to try, in order of preference on a tie, for each declared datum
_TRY = {"wgs84": ("gcj02", "bd09"), "gcj02": ("bd09", "wgs84"), "bd09": ("gcj02", "wgs84")}


# --------------------------------------------------------------------------- transforms
def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Float copies of ``lon``/``lat`` broadcast to one shape (scalars become 0-d arrays)."""
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon.copy(), lat.copy()


def _out(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Results as float arrays (numpy turns 0-d arithmetic into scalars)."""
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return ((lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1])
            & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1]))


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 (degrees) at WGS-84 ``lon``/``lat``, ignoring the China test."""
    x, y = lon - 105.0, lat - 35.0
    common = 20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)
    t_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
             + (common + 20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)
                + 160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0)
    t_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
             + (common + 20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)
                + 150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0)
    rad = np.radians(lat)
    w = 1.0 - KRASOVSKY_EE * np.sin(rad) ** 2
    m = KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (w * np.sqrt(w))  # meridian radius of curvature
    n = KRASOVSKY_A / np.sqrt(w)  # prime-vertical radius of curvature
    return t_lon * 180.0 / (np.pi * n * np.cos(rad)), t_lat * 180.0 / (np.pi * m)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → GCJ-02 (the forward transform; unchanged outside China's rectangle)."""
    lon, lat = _arrays(lon, lat)
    inside = _in_china(lon, lat)
    dlon, dlat = _gcj_delta(lon, lat)
    return _out(np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat))


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS-84 by fixed-point iteration on the forward transform (see the module
    docstring); residual below ``INVERSE_TOL_DEG``. Unchanged outside China's rectangle.

    Each point stops on its own residual, so a result never depends on the rest of the batch.
    """
    g_lon, g_lat = _arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()  # the results, iterated in place
    flat_lon, flat_lat = w_lon.reshape(-1), w_lat.reshape(-1)  # (views: the copies are contiguous)
    idx = np.flatnonzero(_in_china(g_lon, g_lat))  # the points still iterating
    g_lo, g_la = g_lon.reshape(-1)[idx], g_lat.reshape(-1)[idx]
    for _ in range(INVERSE_MAX_ITER):
        lo, la = flat_lon[idx], flat_lat[idx]
        dlon, dlat = _gcj_delta(lo, la)
        r_lon, r_lat = lo + dlon - g_lo, la + dlat - g_la  # forward(w) - g
        todo = (np.abs(r_lon) >= INVERSE_TOL_DEG) | (np.abs(r_lat) >= INVERSE_TOL_DEG)
        if not todo.any():
            break
        idx, g_lo, g_la = idx[todo], g_lo[todo], g_la[todo]
        flat_lon[idx], flat_lat[idx] = lo[todo] - r_lon[todo], la[todo] - r_lat[todo]
    return w_lon, w_lat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's forward transform)."""
    x, y = _arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    return _out(z * np.cos(theta) + BD_DLON, z * np.sin(theta) + BD_DLAT)


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02, the closed-form inverse (good to 2e-6 degrees, see the docstring)."""
    lon, lat = _arrays(lon, lat)
    x, y = lon - BD_DLON, lat - BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    return _out(z * np.cos(theta), z * np.sin(theta))


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → BD-09 (GCJ-02, then Baidu's offset)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS-84 (closed-form BD-09 → GCJ-02, then the iterative GCJ-02 inverse)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes/latitudes in ``datum`` (``wgs84``, ``gcj02`` or ``bd09``) as WGS-84 arrays.

    Vectorised over arrays, lists or scalars (a scalar gives 0-d arrays); always new arrays.
    """
    if datum == "wgs84":
        return _arrays(lon, lat)
    if datum == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if datum == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown coordinate datum {datum!r}: use one of {', '.join(DATUMS)}")


# --------------------------------------------------------------------------- the hint
@lru_cache(maxsize=16)
def _to_utm(zone: int, north: bool) -> Transformer:
    return Transformer.from_crs("EPSG:4326", f"EPSG:{32600 + zone if north else 32700 + zone}",
                                always_xy=True)


def _utm_zone(lon: float) -> int:
    return int(min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60))


def _border_distances(lon: np.ndarray, lat: np.ndarray,
                      outlines: Sequence[BaseGeometry]) -> np.ndarray:
    """Metres from each point to its outline, both projected to the point's UTM zone (each
    outline projected once per zone)."""
    projected: dict[tuple[int, int, bool], BaseGeometry] = {}
    out = np.empty(len(lon))
    for i, (x, y, outline) in enumerate(zip(lon, lat, outlines, strict=True)):
        key = (id(outline), _utm_zone(x), bool(y >= 0))
        tr = _to_utm(*key[1:])
        if key not in projected:
            projected[key] = shapely.transform(
                outline, lambda c, tr=tr: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
        out[i] = shapely.distance(projected[key], shapely.points(*tr.transform(x, y)))
    return out


def _count_inside(lon: np.ndarray, lat: np.ndarray, outlines: Sequence[BaseGeometry]) -> int:
    return int(sum(bool(shapely.covers(g, shapely.points(x, y)))
                   for x, y, g in zip(lon, lat, outlines, strict=True)))


def datum_hint(lon, lat, outlines: Sequence[BaseGeometry], names: Sequence[str],
               declared: str = "wgs84") -> str | None:
    """One sentence when the points outside their county look like a datum mix-up, else None.

    ``lon``/``lat`` are the points as written, in the ``declared`` datum (``coordinates:`` of
    scenario.yaml), ``outlines`` the lon/lat (WGS-84) outline of the county each point claims
    and ``names`` that county's name (same length). Points that are in fact inside their
    outline (or have no finite coordinates or no outline) are ignored, so passing all points
    works too. The rule is in the module docstring; the datums tried are the other two.
    """
    raw_lon, raw_lat = (np.atleast_1d(a) for a in _arrays(lon, lat))
    if not len(raw_lon) == len(raw_lat) == len(outlines) == len(names):
        raise ValueError("datum_hint: lon, lat, outlines and names must have the same length")
    lon, lat = (np.atleast_1d(a) for a in to_wgs84(raw_lon, raw_lat, declared))
    keep = [i for i in range(len(lon))
            if np.isfinite(lon[i]) and np.isfinite(lat[i]) and outlines[i] is not None
            and not outlines[i].is_empty
            and not shapely.covers(outlines[i], shapely.points(lon[i], lat[i]))]
    n = len(keep)
    if n < HINT_MIN_POINTS:
        return None
    geoms = [outlines[i] for i in keep]
    near = int((_border_distances(lon[keep], lat[keep], geoms) <= HINT_NEAR_M).sum())
    if near < HINT_SHARE * n:
        return None
    tries = _TRY[declared]
    counts = {d: _count_inside(*to_wgs84(raw_lon[keep], raw_lat[keep], d), geoms) for d in tries}
    best = max(tries, key=lambda d: (counts[d], -tries.index(d)))
    counties = Counter(str(names[i]) for i in keep)
    top = [name for name, _ in counties.most_common(2)]
    where = (f" ({'in' if len(counties) <= 2 else 'mostly in'} {'、'.join(top)})"
             if len("".join(top)) <= 40 else "")
    within = "all" if near == n else f"{near} of them"
    head = (f"{n} facilities{where} lie just outside their county "
            f"({within} within {HINT_NEAR_M / 1000:g} km of its border)")
    if counts[best] >= HINT_SHARE * n:
        return (f"{head}; read as {_LABEL[best]} {counts[best]} of them fall inside: "
                f"set `coordinates: {best}` in scenario.yaml")
    if declared == "wgs84":
        return (f"{head}: are the coordinates GCJ-02 (高德/腾讯) or BD-09 (百度)? "
                "Then set `coordinates: gcj02` or `bd09` in scenario.yaml")
    return (f"{head}: scenario.yaml says `coordinates: {declared}`; are they in another "
            "datum (wgs84, gcj02 or bd09)?")

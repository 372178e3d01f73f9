"""Reading outlines (counties, urban areas, streets) from GeoJSON, Shapefile or GeoPackage, in any CRS.

:func:`read_features` reads any vector file GDAL can open (through pyogrio, without geopandas):
GeoJSON, a Shapefile (``.shp`` with its ``.dbf``/``.shx``/``.prj``, or zipped), a GeoPackage,
FlatGeobuf, a File Geodatabase... The outlines come back as shapely polygons in lon/lat WGS-84
(EPSG:4326, x = lon), reprojected from whatever CRS the file declares, e.g. CGCS2000 /
3-degree Gauss-Kruger (EPSG:4534-4554) or UTM. Every problem is one :class:`ScenarioError`
naming the file, the 1-based feature number and the property::

    counties.shp, field 'short_name': missing property (the file's properties are: NAME, CODE)

A file without a CRS (a Shapefile without its ``.prj``) is taken as lon/lat when every coordinate
lies within lon/lat bounds, and refused otherwise. A Shapefile whose ``.dbf`` has no ``.cpg`` is
read as GDAL decides (ISO-8859-1) unless its text only makes sense as UTF-8 or GB18030/GBK (the
usual case for Chinese bureaus' files), which is then used.

An invalid outline (a ring that crosses or touches itself, a hole outside its shell, parts
that overlap) is repaired with :func:`shapely.make_valid` when the repair changes its area by at
most :data:`REPAIR_TOLERANCE` (a vertex touching the ring, a sliver of a crossing: a GIS export's
usual slips), and the repair is noted for the scenario's warnings. Otherwise it is refused,
naming the file, the feature and its name, with GEOS's reason and where
(``Self-intersection[100.45 38.93]``): a ring drawn in the wrong order (a bow tie) has no
repair that is the county, and planning on a guess would put people and facilities in the
wrong county.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from dingdian.errors import ScenarioError, clip
from dingdian.scenario.paths import refuse_special

_POLYGON, _MULTIPOLYGON = 3, 6  # shapely.get_type_id
_WGS84 = ("EPSG:4326", "OGC:CRS84")
_GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
#: the largest change of area (a share of the outline's area) a repair of an invalid outline may
#: make; a larger one (a bow tie: half the county, or all of it, changes) is refused
REPAIR_TOLERANCE = 0.01


def read_features(
    path: Path, properties: Sequence[str], *, layer: str | None = None,
    notes: list[str] | None = None,
) -> list[tuple[dict, BaseGeometry]]:
    """The features of ``path`` as ``(properties, geometry)``, geometry a polygon in WGS-84.

    ``properties`` are the properties every feature must have (not null); the returned dicts hold
    all of the layer's properties as ``str``/``int``/``float``/``bool`` (``None`` for nulls).
    ``layer`` picks a layer of a multi-layer file (a GeoPackage); without it the only layer, or
    else the only polygon layer, is read. An invalid polygon is repaired when that hardly
    changes it (noted in ``notes``), else refused (module docstring). ``row`` in errors is the
    1-based feature number.
    """
    path = Path(path)
    name = path.name
    if not path.exists():
        raise ScenarioError(name, None, None, f"file not found: {path}")
    refuse_special(path)
    chosen = _choose_layer(path, layer)
    meta, wkb, fields = _read(path, chosen)
    if meta["geometry_type"] is None or wkb is None:
        raise ScenarioError(name, None, "geometry", "no geometry: expected polygon outlines")
    if (
        str(meta.get("encoding") or "").upper() == "ISO-8859-1"
        and path.suffix.lower() in (".shp", ".dbf")
        and not any(path.with_suffix(s).exists() for s in (".cpg", ".CPG"))
    ):
        encoding = _guess_encoding(meta, fields)
        if encoding:
            meta, wkb, fields = _read(path, chosen, encoding)
    n = len(wkb)
    if n == 0:
        raise ScenarioError(name, None, None, "no features")

    names = [str(f) for f in meta["fields"]]
    columns = {f: _values(col, str(dt)) for f, col, dt in zip(names, fields, meta["dtypes"], strict=True)}
    for p in properties:
        if p not in columns:
            raise ScenarioError(name, None, p, _missing(p, names))
        nulls = [i for i, v in enumerate(columns[p]) if v is None]
        if nulls:
            raise ScenarioError(name, nulls[0] + 1, p, "missing property (null)")

    geoms = _polygons(name, wkb)
    geoms = _to_wgs84(name, geoms, meta["crs"])
    rows = zip(*columns.values(), strict=True) if names else [()] * n
    props = [dict(zip(names, values, strict=True)) for values in rows]
    label = next((p for p in (*properties, "name", "county", "名称", "县区") if p in columns),
                 None)
    for i in np.flatnonzero(~shapely.is_valid(geoms)):
        what = clip(props[i][label]) if label and props[i][label] is not None else ""
        geoms[i] = _repair(name, int(i) + 1, geoms[i], what, notes)
    return list(zip(props, geoms.tolist(), strict=True))


def _gdal_message(exc: Exception) -> str:
    """GDAL's message on one line, without its hint to prefix the path with a driver name."""
    text = " ".join(str(exc).split())
    return text.split("; It might help to specify the correct driver")[0].rstrip(".; ")


def _choose_layer(path: Path, layer: str | None) -> str:
    name = path.name
    try:
        layers = [(str(n), None if t is None else str(t)) for n, t in pyogrio.list_layers(path)]
    except _GDAL_ERRORS as exc:
        raise ScenarioError(name, None, None, f"cannot read: {clip(_gdal_message(exc), 160)}") \
            from None
    if not layers:
        raise ScenarioError(name, None, None, "no layers")
    listing = ", ".join(f"{clip(n)} ({t or 'no geometry'})" for n, t in layers[:12])
    if layer is not None:
        if layer not in [n for n, _ in layers]:
            raise ScenarioError(name, None, "layer",
                                f"no layer {clip(layer)!r} (layers: {listing})")
        return layer
    if len(layers) == 1:
        return layers[0][0]
    polygons = [n for n, t in layers if t and ("Polygon" in t or "Surface" in t)]
    if not polygons:  # a generic geometry column may still hold polygons
        polygons = [n for n, t in layers if t in ("Unknown", "Geometry", "GeometryCollection")]
    if len(polygons) == 1:
        return polygons[0]
    what = "several polygon layers, choose one" if polygons else "no polygon layer"
    raise ScenarioError(name, None, "layer", f"{what} (layers: {listing})")


def _read(path: Path, layer: str, encoding: str | None = None):
    try:
        meta, _, wkb, fields = pyogrio.raw.read(
            path, layer=layer, encoding=encoding, force_2d=True, datetime_as_string=True
        )
    except _GDAL_ERRORS as exc:
        raise ScenarioError(path.name, None, None,
                            f"cannot read: {clip(_gdal_message(exc), 160)}") from None
    return meta, wkb, fields


def _guess_encoding(meta, fields) -> str | None:
    """UTF-8 or GB18030 when GDAL decoded a .dbf without .cpg as ISO-8859-1 and that is wrong."""
    texts = [str(f) for f in meta["fields"]]
    texts += [v for col in fields if col.dtype == object for v in col if isinstance(v, str)]
    try:
        data = "\n".join(texts).encode("latin-1")  # back to the file's bytes
    except UnicodeEncodeError:
        return None
    if data.isascii():
        return None
    for encoding in ("UTF-8", "GB18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _values(col: np.ndarray, dtype: str) -> list:
    """A pyogrio field array as Python values, ``None`` for nulls (NaN in numeric arrays)."""
    values = col.tolist()
    if col.dtype.kind == "f":
        cast = int if dtype.startswith(("int", "uint")) else bool if dtype == "bool" else float
        return [None if math.isnan(v) else cast(v) for v in values]
    if col.dtype.kind == "O":
        return [v.tolist() if isinstance(v, np.ndarray) else v for v in values]
    return values


def _missing(prop: str, names: list[str]) -> str:
    shown = ", ".join(map(clip, names[:12])) + (", …" if len(names) > 12 else "")
    text = f"missing property (the file's properties are: {shown or 'none'})"
    near = [n for n in names if n.lower() == prop.lower()]
    near += [n for n in names if len(n) == 10 and prop.startswith(n) and n not in near]
    if near:
        text += f"; did you mean {clip(near[0])!r}?"
        if len(near[0]) == 10 and len(prop) > 10:
            text += " (Shapefiles cut property names to 10 characters)"
    return text


def _polygons(name: str, wkb: np.ndarray) -> np.ndarray:
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    for i in np.flatnonzero(shapely.is_missing(geoms)):
        if wkb[i] is None:
            raise ScenarioError(name, int(i) + 1, "geometry", "invalid geometry: none (null)")
        try:
            shapely.from_wkb(wkb[i])
        except Exception as exc:  # noqa: BLE001 - GEOS says what is wrong
            raise ScenarioError(name, int(i) + 1, "geometry",
                                f"invalid geometry: {clip(exc, 120)}") from None
        raise ScenarioError(name, int(i) + 1, "geometry", "invalid geometry")
    types = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(types, (_POLYGON, _MULTIPOLYGON)) | shapely.is_empty(geoms))
    if len(bad):
        g = geoms[bad[0]]
        got = f"an empty {g.geom_type}" if g.is_empty else g.geom_type
        raise ScenarioError(name, int(bad[0]) + 1, "geometry", f"expected a polygon, got {got}")
    return geoms


@lru_cache(maxsize=32)
def _transformer(crs: str) -> pyproj.Transformer | None:
    """``None`` when ``crs`` is lon/lat WGS-84 already (any axis order)."""
    source = pyproj.CRS.from_user_input(crs)
    if source.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    return pyproj.Transformer.from_crs(source, 4326, always_xy=True)


def _outside_lonlat(bounds: np.ndarray) -> np.ndarray:
    """Rows of ``shapely.bounds`` not within lon/lat bounds (or not finite)."""
    with np.errstate(invalid="ignore"):
        ok = (
            np.isfinite(bounds).all(axis=1)
            & (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
            & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
        )
    return np.flatnonzero(~ok)


def _to_wgs84(name: str, geoms: np.ndarray, crs: str | None) -> np.ndarray:
    if crs is None:  # GDAL gives GeoJSON EPSG:4326 by definition, so a Shapefile without .prj
        bad = _outside_lonlat(shapely.bounds(geoms))
        if len(bad):
            x, y = shapely.get_coordinates(geoms[bad[0]])[0]
            raise ScenarioError(
                name, None, None,
                f"no CRS (.prj missing?): coordinates such as ({x:.10g}, {y:.10g}) of feature "
                f"{bad[0] + 1} are not lon/lat; give the file its CRS (a .prj: CGCS2000 / "
                "3-degree Gauss-Kruger is EPSG:4534-4554)",
            )
        return geoms
    if crs not in _WGS84:
        try:
            transformer = _transformer(crs)
        except pyproj.exceptions.CRSError as exc:
            raise ScenarioError(name, None, None, f"unknown CRS {crs!r}: {exc}") from None
        if transformer is not None:

            def to_lonlat(xy: np.ndarray) -> np.ndarray:
                lon, lat = transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)
                return np.column_stack([lon, lat])

            geoms = shapely.transform(geoms, to_lonlat)
    bad = _outside_lonlat(shapely.bounds(geoms))
    if len(bad):
        x, y = shapely.get_coordinates(geoms[bad[0]])[0]
        raise ScenarioError(
            name, int(bad[0]) + 1, "geometry",
            f"not lon/lat after reading it in {_crs_name(crs)}: coordinates such as "
            f"({x:.10g}, {y:.10g}); is the file's CRS right?",
        )
    return geoms


def _crs_name(crs: str) -> str:
    try:
        return pyproj.CRS.from_user_input(crs).name
    except pyproj.exceptions.CRSError:
        return crs


def _repair(name: str, row: int, geom: BaseGeometry, what: str = "",
            notes: list[str] | None = None) -> BaseGeometry:
    """:func:`shapely.make_valid`, keeping only the polygonal parts of what it returns, when
    that changes the area as drawn by at most :data:`REPAIR_TOLERANCE` (noted in ``notes``);
    otherwise a :class:`ScenarioError` with GEOS's reason (module docstring)."""
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    if fixed.geom_type == "GeometryCollection":
        parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
        fixed = shapely.union_all(parts) if parts else fixed
    if fixed.is_empty or fixed.geom_type not in ("Polygon", "MultiPolygon"):
        raise ScenarioError(name, row, "geometry", f"invalid outline ({reason}): no area left "
                            "once repaired")
    change = abs(fixed.area - geom.area) / max(fixed.area, geom.area)
    if change > REPAIR_TOLERANCE:
        raise ScenarioError(name, row, "geometry",
                            f"invalid outline{f' of {what}' if what else ''}: {reason}; a repair "
                            f"would change its area by {change:.0%}, so fix it in a GIS (QGIS: "
                            "Fix geometries) and save it again")
    if notes is not None:
        notes.append(f"{name} feature {row}{f' ({what})' if what else ''}: invalid outline "
                     f"({reason}) repaired, its area changed by {change:.2%}")
    return fixed

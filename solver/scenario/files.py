"""Reading and checking the scenario's CSV and GeoJSON files.

Every reader returns plain pandas / shapely objects and raises :class:`ScenarioError` naming the
file, the 1-based data row (header excluded) and the column for the first problem it finds.
CSV files are read as text (UTF-8, BOM tolerated) and converted column by column, so that
``'abc'`` in a count is reported instead of silently becoming NaN.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from dingdian.errors import ScenarioError


class Table:
    """A CSV file read as strings, with typed column accessors that report bad cells."""

    def __init__(self, path: Path, columns: Sequence[str], optional: Sequence[str] = ()):
        self.path = path
        self.name = path.name
        try:
            df = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True
            )
        except FileNotFoundError:
            raise ScenarioError(self.name, None, None, f"file not found: {path}") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ScenarioError(self.name, None, None, f"cannot parse CSV: {exc}") from None
        df.columns = [str(c).strip() for c in df.columns]
        for col in columns:
            if col not in df.columns:
                raise ScenarioError(
                    self.name, None, col, f"missing column (columns are: {', '.join(df.columns)})"
                )
        for col in optional:
            if col not in df.columns:
                df[col] = ""
        self.df = df.apply(lambda s: s.str.strip())

    def __len__(self) -> int:
        return len(self.df)

    def error(self, index: int, field: str | None, message: str) -> ScenarioError:
        """An error at positional ``index`` (0-based) of the table, i.e. data row index+1."""
        return ScenarioError(self.name, int(index) + 1, field, message)

    def fail_first(self, mask, field: str, message) -> None:
        bad = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(bad):
            i = int(bad[0])
            text = message(self.df[field].iloc[i]) if callable(message) else message
            raise self.error(i, field, text)

    def text(self, col: str, required: bool = True) -> pd.Series:
        s = self.df[col]
        if required:
            self.fail_first(s == "", col, "empty value")
        return s

    def integer(
        self, col: str, minimum: int | None = None, maximum: int | None = None, blank=None
    ) -> pd.Series:
        """Integer column; ``blank`` (if not None) replaces empty cells."""
        s = self.df[col]
        if blank is not None:
            s = s.where(s != "", str(blank))
        num = pd.to_numeric(s, errors="coerce")
        ok = num.notna() & np.isfinite(num) & (num == np.round(num))
        self.fail_first(~ok, col, lambda v: f"{v!r} is not an integer")
        num = num.astype(np.int64)
        if minimum is not None:
            self.fail_first(num < minimum, col, lambda v: f"{v} is below {minimum}")
        if maximum is not None:
            self.fail_first(num > maximum, col, lambda v: f"{v} is above {maximum}")
        return num

    def number(self, col: str, minimum: float | None = None, maximum: float | None = None):
        num = pd.to_numeric(self.df[col], errors="coerce")
        ok = num.notna() & np.isfinite(num)
        self.fail_first(~ok, col, lambda v: f"{v!r} is not a number")
        if minimum is not None:
            self.fail_first(num < minimum, col, lambda v: f"{v} is below {minimum}")
        if maximum is not None:
            self.fail_first(num > maximum, col, lambda v: f"{v} is above {maximum}")
        return num.astype(float)

    def boolean(self, col: str) -> pd.Series:
        truth = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}
        low = self.df[col].str.lower()
        self.fail_first(~low.isin(truth), col, lambda v: f"{v!r} is not a boolean (use 1 or 0)")
        return low.map(truth).astype(bool)

    def choice(self, col: str, allowed: Iterable[str], what: str,
               blank: bool = False) -> pd.Series:
        """A column of codes from ``allowed``; with ``blank``, an empty cell means none."""
        allowed = list(allowed)
        s = self.df[col]
        empty = "; empty when none" if blank else ""
        self.fail_first(
            ~s.isin([*([""] if blank else []), *allowed]), col,
            lambda v: f"unknown {what} {v!r} (known: {', '.join(allowed)}{empty})"
        )
        return s

    def unique(self, cols: Sequence[str], what: str) -> None:
        dup = self.df.duplicated(list(cols), keep="first")
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            key = ", ".join(self.df[c].iloc[i] for c in cols)
            first = int(np.flatnonzero((self.df[list(cols)] == self.df[list(cols)].iloc[i]).all(axis=1))[0])
            raise self.error(i, cols[-1], f"duplicate {what} {key!r} (first at row {first + 1})")


def read_features(path: Path, properties: Sequence[str]) -> list[tuple[dict, BaseGeometry]]:
    """GeoJSON features as ``(properties, geometry)``; ``row`` in errors is the feature number."""
    name = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(name, None, None, f"file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(name, None, None, f"cannot parse GeoJSON: {exc}") from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list) or not feats:
        raise ScenarioError(name, None, "features", "expected a FeatureCollection with features")
    out = []
    for i, feat in enumerate(feats, start=1):
        props = feat.get("properties") or {}
        for p in properties:
            if p not in props or props[p] is None:
                raise ScenarioError(name, i, p, "missing property")
        try:
            geom = shape(feat["geometry"])
        except Exception as exc:  # noqa: BLE001 - any malformed geometry
            raise ScenarioError(name, i, "geometry", f"invalid geometry: {exc}") from None
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise ScenarioError(name, i, "geometry", f"expected a polygon, got {geom.geom_type}")
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        out.append((props, geom))
    return out

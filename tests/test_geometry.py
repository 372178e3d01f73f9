"""Hexagon lattice, distances and projections (dingdian.geometry)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import box

from dingdian.geometry import (
    containing_cell,
    hex_centres,
    hexagon,
    largest_remainder,
    lattice_centre,
    lattice_index,
    lonlat_to_xy,
    within_radius,
    xy_to_lonlat,
)

R = 1060.82
ORIGIN = (361000.0, 4168000.0)


def test_lattice_spacing_and_offset():
    c = lattice_centre([0, 1, 0, 0], [0, 0, 1, 2], R, ORIGIN)
    assert c[1, 0] - c[0, 0] == pytest.approx(math.sqrt(3) * R, abs=1e-9)  # along a row
    assert c[2, 1] - c[0, 1] == pytest.approx(1.5 * R, abs=1e-9)  # row to row
    assert c[2, 0] - c[0, 0] == pytest.approx(math.sqrt(3) * R / 2, abs=1e-9)  # odd row offset
    assert c[3, 0] == pytest.approx(c[0, 0], abs=1e-9)  # even rows aligned
    # all six neighbours at sqrt(3) R
    centre = lattice_centre([5], [4], R, ORIGIN)[0]
    nb = lattice_centre([4, 6, 4, 5, 4, 5], [4, 4, 3, 3, 5, 5], R, ORIGIN)
    assert np.hypot(*(nb - centre).T) == pytest.approx([math.sqrt(3) * R] * 6, abs=1e-6)


def test_hexagon_exact_circumradius_and_tiling():
    h = hexagon(100.0, 200.0, R)
    v = np.asarray(h.exterior.coords)[:-1]
    assert np.hypot(v[:, 0] - 100.0, v[:, 1] - 200.0) == pytest.approx([R] * 6, abs=1e-9)
    assert v[:, 1].max() == pytest.approx(200.0 + R)  # pointy top
    assert h.area == pytest.approx(1.5 * math.sqrt(3) * R * R, rel=1e-12)
    a, b = lattice_centre([0, 1], [0, 0], R, ORIGIN)
    ha, hb = hexagon(*a, R), hexagon(*b, R)
    assert ha.intersection(hb).area == pytest.approx(0.0, abs=1e-3)
    assert ha.distance(hb) == pytest.approx(0.0, abs=1e-6)


def test_hex_centres_inside_and_count():
    square = box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + 50_000, ORIGIN[1] + 40_000)
    xy = hex_centres(square, R, ORIGIN)
    assert len(xy) == pytest.approx(square.area / (1.5 * math.sqrt(3) * R * R), rel=0.03)
    assert (xy[:, 0] > square.bounds[0]).all() and (xy[:, 1] < square.bounds[3]).all()
    idx = lattice_index(xy, R, ORIGIN)  # centres map back to themselves
    assert np.allclose(lattice_centre(idx[:, 0], idx[:, 1], R, ORIGIN), xy)
    assert len({tuple(i) for i in idx}) == len(xy)


def test_containing_cell_is_nearest_centre():
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 30_000, size=(5000, 2)) + np.array(ORIGIN)
    cc = containing_cell(pts, R, ORIGIN)
    d = np.hypot(*(pts - cc).T)
    assert d.max() <= R + 1e-9
    idx = lattice_index(pts, R, ORIGIN)
    for dc in (-1, 0, 1):
        for dr in (-1, 0, 1):
            other = lattice_centre(idx[:, 0] + dc, idx[:, 1] + dr, R, ORIGIN)
            assert (np.hypot(*(pts - other).T) >= d - 1e-9).all()


def test_within_radius_hand_made():
    cells = [(0.0, 0.0), (10.0, 0.0), (100.0, 100.0)]
    facs = [(3.0, 4.0), (0.0, 5.000001), (10.0, 5.0)]
    got = within_radius(cells, facs, 5.0)
    assert [g.tolist() for g in got] == [[0], [2], []]  # distance exactly 5 counts
    assert [g.tolist() for g in within_radius(cells, facs, 9.0)] == [[0, 1], [0, 2], []]
    assert within_radius(cells, [], 5.0)[0].tolist() == []


def test_largest_remainder_exact():
    parts = largest_remainder(289, [318, 50, 78, 67, 95, 6])
    assert parts.sum() == 289 and parts.tolist() == [150, 23, 37, 31, 45, 3]
    assert largest_remainder(10, [1, 1, 1]).tolist() == [4, 3, 3]
    assert largest_remainder(5, [0, 0]).tolist() == [3, 2]


def test_projection_roundtrip():
    x, y = lonlat_to_xy([100.455], [38.932], "EPSG:32647")
    assert 600_000 < x[0] < 650_000 and 4_300_000 < y[0] < 4_320_000
    lon, lat = xy_to_lonlat(x, y, "EPSG:32647")
    assert lon[0] == pytest.approx(100.455, abs=1e-9) and lat[0] == pytest.approx(38.932, abs=1e-9)

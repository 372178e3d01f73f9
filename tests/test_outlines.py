"""dingdian.scenario.outlines: outlines from GeoJSON, Shapefile or GeoPackage, in any CRS.

Zhangye's county outlines are written out in CGCS2000 / 3-degree Gauss-Kruger CM 99E
(EPSG:4542, the zone of Zhangye, about 100.5 deg E) and UTM 47N (EPSG:32647) and read back.
"""

from __future__ import annotations

import json
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon, box, shape

from dingdian.errors import ScenarioError
from dingdian.scenario import files, outlines
from dingdian.scenario.outlines import read_features

ZHANGYE = Path(__file__).resolve().parent.parent / "scenarios" / "zhangye"
COUNTIES = ZHANGYE / "counties.geojson"
GK99 = "EPSG:4542"  # CGCS2000 / 3-degree Gauss-Kruger CM 99E
UTM47 = "EPSG:32647"  # WGS 84 / UTM zone 47N


def json_features(path: Path, properties):
    """The hand-written GeoJSON reader that outlines.read_features replaces (json + shape)."""
    out = []
    for feat in json.loads(path.read_text(encoding="utf-8"))["features"]:
        props = feat.get("properties") or {}
        assert all(props.get(p) is not None for p in properties)
        geom = shape(feat["geometry"])
        out.append((props, geom if geom.is_valid else shapely.make_valid(geom)))
    return out


# today's reader while files.py still has it, else the same logic above
old_read_features = getattr(files, "read_features", outlines.read_features)
if old_read_features is outlines.read_features:
    old_read_features = json_features


def project(geoms, crs: str):
    tr = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1]))
    )


def write(path: Path, geoms, props: list[dict], crs: str | None, *, layer=None, geometry_type=None):
    """Features written with pyogrio; properties typed from their values (None is null)."""
    keys = list(dict.fromkeys(k for p in props for k in p))
    arrays, masks = [], []
    for k in keys:
        values = [p.get(k) for p in props]
        given = [v for v in values if v is not None]
        if all(isinstance(v, bool) for v in given):
            dtype, fill = bool, False
        elif all(isinstance(v, int) for v in given):
            dtype, fill = np.int64, 0
        elif all(isinstance(v, int | float) for v in given):
            dtype, fill = np.float64, 0.0
        else:
            dtype, fill = object, None
        arrays.append(np.array([fill if v is None else v for v in values], dtype=dtype))
        masks.append(np.array([v is None for v in values]))
    geoms = np.asarray(geoms, dtype=object)
    if geometry_type is None:
        geometry_type = "MultiPolygon" if any(g.geom_type == "MultiPolygon" for g in geoms) else geoms[0].geom_type
    with warnings.catch_warnings():  # Shapefile names cut to 10 characters; no CRS on purpose
        warnings.filterwarnings("ignore", "Normalized/laundered field name", RuntimeWarning)
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        pyogrio.raw.write(
            path, shapely.to_wkb(geoms), arrays, keys, field_mask=masks, layer=layer,
            geometry_type=geometry_type, crs=crs, promote_to_multi=geometry_type == "MultiPolygon",
        )
    return path


@pytest.fixture(scope="module")
def counties():
    """Zhangye's six counties as read by today's GeoJSON reader: (properties, lon/lat outline)."""
    return json_features(COUNTIES, ["short_name"])


def assert_same_outlines(got, want, crs: str):
    """Outlines equal to within 0.01 m, compared in the projected ``crs``."""
    assert len(got) == len(want)
    a, b = project(got, crs), project(want, crs)
    assert np.all(shapely.hausdorff_distance(a, b) < 0.01)
    assert np.allclose(shapely.area(a), shapely.area(b), rtol=0, atol=0.01)
    assert np.all(shapely.area(shapely.symmetric_difference(a, b)) < 0.01)


# --- Zhangye's GeoJSON files: the same as today's reader, and fast --------------------------


@pytest.mark.parametrize(
    "file, props",
    [("counties.geojson", ["short_name"]), ("urban_areas.geojson", ["county", "street", "name"])],
)
def test_zhangye_geojson_as_before(file, props):
    path = ZHANGYE / file
    old = old_read_features(path, props)
    start = time.perf_counter()
    new = read_features(path, props)
    assert time.perf_counter() - start < 1.0
    assert len(new) == len(old)
    for (po, go), (pn, gn) in zip(old, new, strict=True):
        assert {k: pn[k] for k in props} == {k: po[k] for k in props}
        assert {k: v for k, v in pn.items() if v is not None} == po  # all of them, typed alike
        assert gn.geom_type in ("Polygon", "MultiPolygon")
        assert shapely.equals_exact(go, gn, tolerance=1e-9)


# --- Shapefile and GeoPackage in CGCS2000 / Gauss-Kruger ------------------------------------


@pytest.mark.parametrize("suffix", [".shp", ".gpkg"])
def test_projected_shapefile_and_geopackage(tmp_path, counties, suffix):
    props = [p for p, _ in counties]
    path = write(tmp_path / f"counties{suffix}", project([g for _, g in counties], GK99), props, GK99)
    if suffix == ".shp":
        assert "Gauss" in (tmp_path / "counties.prj").read_text()
    got = read_features(path, ["short_name"])
    assert [p["short_name"] for p, _ in got] == [p["short_name"] for p in props]
    assert all(isinstance(p["lon"], float) for p, _ in got)
    assert all(g.geom_type in ("Polygon", "MultiPolygon") for _, g in got)
    assert all(99 < g.centroid.x < 102 and 37 < g.centroid.y < 40 for _, g in got)  # lon/lat
    assert_same_outlines([g for _, g in got], [g for _, g in counties], GK99)


def test_zipped_shapefile(tmp_path, counties):
    """A Shapefile as bureaus e-mail it: its .shp, .shx, .dbf, .prj and .cpg in one .zip."""
    write(tmp_path / "counties.shp", project([g for _, g in counties], GK99),
          [p for p, _ in counties], GK99)
    path = tmp_path / "counties.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for part in tmp_path.glob("counties.*"):
            if part != path:
                zf.write(part, part.name)
    got = read_features(path, ["short_name"])
    assert [p["short_name"] for p, _ in got] == [p["short_name"] for p, _ in counties]
    assert_same_outlines([g for _, g in got], [g for _, g in counties], GK99)


def test_shapefile_property_types_and_nulls(tmp_path):
    props = [
        {"name": "甘州区", "code": 620702, "share": 0.5, "flag": True},
        {"name": "临泽县", "code": None, "share": None, "flag": None},
    ]
    path = write(tmp_path / "t.shp", [box(100, 38, 100.1, 38.1), box(100.2, 38, 100.3, 38.1)],
                 props, "EPSG:4326")
    got = [p for p, _ in read_features(path, ["name"])]
    assert got[0] == {"name": "甘州区", "code": 620702, "share": 0.5, "flag": True}
    assert type(got[0]["code"]) is int and type(got[0]["share"]) is float
    assert got[1] == {"name": "临泽县", "code": None, "share": None, "flag": None}


def test_shapefile_in_gbk_without_cpg(tmp_path):
    """Chinese bureaus' .dbf files are often GBK, and the .cpg that says so is often lost."""
    path = tmp_path / "gbk.shp"
    pyogrio.raw.write(path, shapely.to_wkb(np.array([box(100, 38, 100.1, 38.1)])),
                      [np.array(["甘州区"], dtype=object)], ["名称"], geometry_type="Polygon",
                      crs="EPSG:4326", encoding="GBK")
    (tmp_path / "gbk.cpg").unlink()
    [(props, _)] = read_features(path, ["名称"])
    assert props == {"名称": "甘州区"}


def test_geopackage_layers(tmp_path, counties):
    path = tmp_path / "layers.gpkg"
    write(path, [Point(100.45, 38.93)], [{"name": "a"}], "EPSG:4326", layer="sites")
    write(path, project([g for _, g in counties], GK99), [p for p, _ in counties], GK99,
          layer="counties")
    got = read_features(path, ["short_name"])  # the only polygon layer
    assert_same_outlines([g for _, g in got], [g for _, g in counties], GK99)
    write(path, project([g for _, g in counties], UTM47), [p for p, _ in counties], UTM47,
          layer="counties_utm")
    with pytest.raises(ScenarioError) as err:
        read_features(path, ["short_name"])
    assert err.value.field == "layer"
    assert "several polygon layers" in str(err.value)
    for name in ("sites", "counties", "counties_utm"):
        assert name in str(err.value)
    got = read_features(path, ["short_name"], layer="counties_utm")
    assert_same_outlines([g for _, g in got], [g for _, g in counties], UTM47)
    with pytest.raises(ScenarioError, match="no layer 'streets' .*counties_utm"):
        read_features(path, ["short_name"], layer="streets")
    with pytest.raises(ScenarioError, match=r"layers.gpkg.*expected a polygon, got Point"):
        read_features(path, ["name"], layer="sites")


# --- GeoJSON in a projected CRS --------------------------------------------------------------


def test_geojson_written_in_utm(tmp_path, counties):
    path = write(tmp_path / "utm.geojson", project([g for _, g in counties], UTM47),
                 [p for p, _ in counties], UTM47)
    assert "32647" in json.loads(path.read_text())["crs"]["properties"]["name"]
    got = read_features(path, ["short_name"])
    assert_same_outlines([g for _, g in got], [g for _, g in counties], UTM47)


def test_geojson_with_crs_member(tmp_path, counties):
    props, geom = counties[0]
    utm = project([geom], UTM47)[0]
    data = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32647"}},
        "features": [{"type": "Feature", "properties": props, "geometry": utm.__geo_interface__}],
    }
    path = tmp_path / "member.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    [(p, g)] = read_features(path, ["short_name"])
    assert p["short_name"] == props["short_name"]
    assert_same_outlines([g], [geom], UTM47)


def test_geojson_projected_without_crs_is_refused(tmp_path, counties):
    """Without a "crs" member GeoJSON is lon/lat: metres there are an error, not garbage."""
    _, geom = counties[0]
    feature = {"type": "Feature", "properties": {"n": 1},
               "geometry": project([geom], UTM47)[0].__geo_interface__}
    path = tmp_path / "bare.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(ScenarioError, match=r"bare.geojson row 1, field 'geometry': not lon/lat"):
        read_features(path, ["n"])


# --- errors ----------------------------------------------------------------------------------


def test_missing_property_lists_the_properties(tmp_path, counties):
    with pytest.raises(ScenarioError) as err:
        read_features(COUNTIES, ["county"])
    text = str(err.value)
    assert text.startswith("counties.geojson, field 'county': missing property")
    for name in ("short_name", "district_name", "province_adcode"):
        assert name in text
    path = write(tmp_path / "cut.shp", [g for _, g in counties], [p for p, _ in counties],
                 "EPSG:4326")
    with pytest.raises(ScenarioError, match=r"did you mean 'district_n'\?.*10 characters"):
        read_features(path, ["district_name"])


def test_null_property_names_the_feature(tmp_path):
    path = write(tmp_path / "n.gpkg", [box(100, 38, 101, 39)] * 3,
                 [{"name": "a"}, {"name": "b"}, {"name": None}], "EPSG:4326")
    with pytest.raises(ScenarioError, match=r"n.gpkg row 3, field 'name': missing property"):
        read_features(path, ["name"])


@pytest.mark.parametrize("content", ["hello, world\n", "{\"type\": bad", ""])
def test_not_a_geo_file(tmp_path, content):
    path = tmp_path / "notes.geojson"
    path.write_text(content)
    with pytest.raises(ScenarioError) as err:
        read_features(path, ["name"])
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("notes.geojson: cannot read:")
    assert "It might help" not in text


def test_table_without_geometry(tmp_path):
    path = tmp_path / "counties.csv"
    path.write_text("name,lon,lat\n甘州区,100.4,38.9\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"counties.csv, field 'geometry': no geometry"):
        read_features(path, ["name"])


def test_file_not_found(tmp_path):
    with pytest.raises(ScenarioError, match=r"^missing.shp: file not found"):
        read_features(tmp_path / "missing.shp", ["name"])


def test_no_features(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ScenarioError, match=r"^empty.geojson: no features$"):
        read_features(path, ["name"])


def test_point_layer(tmp_path):
    path = write(tmp_path / "sites.shp", [Point(100.4, 38.9), Point(100.5, 39.0)],
                 [{"name": "a"}, {"name": "b"}], "EPSG:4326")
    with pytest.raises(ScenarioError, match=r"sites.shp row 1, field 'geometry': expected a polygon, got Point"):
        read_features(path, ["name"])


def test_shapefile_without_prj(tmp_path, counties):
    path = write(tmp_path / "gk.shp", project([g for _, g in counties], GK99),
                 [p for p, _ in counties], None)
    assert not (tmp_path / "gk.prj").exists()
    with pytest.raises(ScenarioError, match=r"^gk.shp: no CRS \(.prj missing\?\): "):
        read_features(path, ["short_name"])
    # in lon/lat, a file without CRS is taken as WGS-84
    path = write(tmp_path / "ll.shp", [g for _, g in counties], [p for p, _ in counties], None)
    got = read_features(path, ["short_name"])
    assert_same_outlines([g for _, g in got], [g for _, g in counties], GK99)


def test_invalid_polygon_is_repaired_only_when_that_hardly_changes_it(tmp_path):
    """A sliver crossing at a corner is repaired and noted; a bow tie (the ring drawn in the
    wrong order) is refused with GEOS's reason: no repair of it is the county."""
    sliver = Polygon([(100, 38), (101, 38), (101, 39.001), (101.001, 39), (100, 39), (100, 38)])
    assert not sliver.is_valid
    path = write(tmp_path / "sliver.gpkg", [sliver], [{"name": "x"}], "EPSG:4326")
    notes: list[str] = []
    [(_, geom)] = read_features(path, ["name"], notes=notes)
    assert geom.is_valid and geom.area == pytest.approx(1.0, rel=1e-3)
    assert len(notes) == 1 and notes[0].startswith("sliver.gpkg feature 1 (x): invalid outline")
    bowtie = Polygon([(100, 38), (101, 39), (101, 38), (100, 39), (100, 38)])
    path = write(tmp_path / "bowtie.gpkg", [bowtie], [{"name": "x"}], "EPSG:4326")
    with pytest.raises(ScenarioError, match=r"^bowtie.gpkg row 1, field 'geometry': invalid "
                                            r"outline of x: Self-intersection\["):
        read_features(path, ["name"])

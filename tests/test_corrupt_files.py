"""Every kind of scenario file, corrupted at random: exit 2, one line naming the file, no
traceback, nothing written (issue 15, the property test).

Hypothesis draws a file of a scenario and one damage that no reading can accept:

* CSV (facilities, targets, census, county and street quotas): a numeric cell replaced by text,
  a negative, a fraction where a count is meant, an overflowing or implausibly large number,
  ``nan`` or ``inf``; a required column dropped; every row dropped; the file replaced by bytes
  that are no table;
* YAML (the scenario, a variant, the beds and nursing files): a syntax error, a key given twice,
  an unknown key, a year that is text, a list where a mapping is meant, nothing at all, binary
  bytes;
* GeoJSON (county outlines, urban areas): cut short, coordinates that are text, a county whose
  outline crosses itself, a county without its name, binary bytes;
* xlsx (the facility list as a bureau sends it): cut short, binary bytes, a required column
  dropped, a coordinate that is text.

``dingdian solve SCENARIO --out OUT`` must then exit 2 with ``error:`` lines only, the first
naming the damaged file, each short (a file's contents are never echoed), and must not create OUT
or leave anything beside it. The base scenarios are 示例市 (scenarios/example, fictional, with its
facility list also as .xlsx and one variant) and, for the beds and nursing YAML, 张掖市 (whose
planner files are read before the site model is solved). About a minute in all.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dingdian.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE, ZHANGYE = ROOT / "scenarios" / "example", ROOT / "scenarios" / "zhangye"

#: numeric fields by file, with the junk no reading may accept there
COUNT_JUNK = ["abc", "-3", "2.5", "1e300", "1" + "0" * 22, "nan", "inf"]
NUMERIC = {
    "facilities.csv": {"lon": ["abc", "1e300", "nan", "999", "inf"],
                       "lat": ["abc", "1e300", "nan", "-999", "inf"]},
    "targets.csv": {"target_2028": COUNT_JUNK, "target_2030": COUNT_JUNK,
                    "existing_2024": COUNT_JUNK},
    "census.csv": {"population": ["abc", "-3", "1e300", "1e15", "nan", "inf"],
                   "urban_share": ["abc", "-0.5", "1.5", "nan", "inf"]},
    "quotas_county.csv": {"admit": COUNT_JUNK, "exit": COUNT_JUNK},
    "quotas_street.csv": {"admit": COUNT_JUNK, "exit": COUNT_JUNK},
}
REQUIRED = {
    "facilities.csv": ["facility_id", "kind", "county", "lon", "lat", "status"],
    "targets.csv": ["county", "kind"],
    "census.csv": ["county", "population"],
    "quotas_county.csv": ["county", "kind", "year"],
    "quotas_street.csv": ["county", "street", "kind", "year"],
}
BINARY = st.binary(min_size=1, max_size=200).map(lambda b: b"\x00\xff\xfe" + b)
VARIANT = """base: ../scenario.yaml
name: example-variant
title: 示例市 — 变体
overrides:
  county_quotas:
    - {county: 东城区, kind: pharmacy, year: 2025, exit: 1}
"""


def _bureau_copy(folder: Path, source: Path, xlsx: bool) -> Path:
    """A copy of ``source``; with ``xlsx`` its facility list as facilities.xlsx and a variant."""
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    if xlsx:
        frame = pd.read_csv(folder / "facilities.csv", dtype=str, keep_default_na=False)
        frame.to_excel(folder / "facilities.xlsx", index=False)
        (folder / "facilities.csv").unlink()
        yaml_text = (folder / "scenario.yaml").read_text(encoding="utf-8")
        (folder / "scenario.yaml").write_text(
            yaml_text.replace("facilities: facilities.csv", "facilities: facilities.xlsx"),
            encoding="utf-8")
        (folder / "variants").mkdir()
        (folder / "variants" / "v.yaml").write_text(VARIANT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def bases():
    """The two scenario copies, made once; each example damages one file and restores it."""
    with tempfile.TemporaryDirectory() as tmp:
        yield {"example": _bureau_copy(Path(tmp) / "example", EXAMPLE, xlsx=False),
               "bureau": _bureau_copy(Path(tmp) / "bureau", EXAMPLE, xlsx=True),
               "zhangye": _bureau_copy(Path(tmp) / "zhangye", ZHANGYE, xlsx=False)}


# ----------------------------------------------------------------------------- damages
def _csv_damage(draw, name: str, text: str) -> bytes:
    frame = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
    how = draw(st.sampled_from(["cell", "cell", "cell", "drop", "empty", "binary"]))
    if how == "cell":
        column = draw(st.sampled_from(sorted(NUMERIC[name])))
        row = draw(st.integers(0, len(frame) - 1))
        frame.loc[row, column] = draw(st.sampled_from(NUMERIC[name][column]))
    elif how == "drop":
        frame = frame.drop(columns=[draw(st.sampled_from(REQUIRED[name]))])
    elif how == "empty":
        frame = frame.iloc[0:0]
    else:
        return draw(BINARY)
    return frame.to_csv(index=False).encode("utf-8")


def _yaml_damage(draw, text: str, first_key: str) -> bytes:
    how = draw(st.sampled_from(["syntax", "twice", "unknown", "type", "list", "empty", "binary"]))
    if how == "binary":
        return draw(BINARY)
    damaged = {
        "syntax": text + "\nbroken: [unclosed\n",
        "twice": text + f"\n{first_key}: again\n",
        "unknown": text + "\nno_such_key_anywhere: 1\n",
        "type": text.replace("base_year: 2024", "base_year: 二〇二四年", 1)
        if "base_year: 2024" in text else text + "\nyears: many\n",
        "list": "- " + "\n- ".join(text.splitlines()[:3]) + "\n",
        "empty": "",
    }[how]
    return damaged.encode("utf-8")


def _geojson_damage(draw, name: str, text: str) -> bytes:
    how = draw(st.sampled_from(["cut", "text", "nameless", "bowtie", "binary"]
                               if name == "counties.geojson" else ["cut", "text", "binary"]))
    if how == "binary":
        return draw(BINARY)
    if how == "cut":
        return text.encode("utf-8")[: draw(st.integers(1, len(text.encode("utf-8")) - 2))]
    data = json.loads(text)
    feature = data["features"][draw(st.integers(0, len(data["features"]) - 1))]
    if how == "text":
        feature["geometry"]["coordinates"] = [[["东经", "北纬"]] * 4]
    elif how == "nameless":
        feature["properties"].pop("short_name")
    else:  # a bow tie: the ring crosses itself
        ring = feature["geometry"]["coordinates"][0]
        (x0, y0), (x1, y1) = ring[0], ring[2]
        feature["geometry"]["coordinates"] = [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _xlsx_damage(draw, path: Path) -> bytes:
    how = draw(st.sampled_from(["cut", "binary", "drop", "cell"]))
    raw = path.read_bytes()
    if how == "cut":
        return raw[: draw(st.integers(1, len(raw) - 1))]
    if how == "binary":
        return draw(BINARY)
    frame = pd.read_excel(path, dtype=str).fillna("")
    if how == "drop":
        frame = frame.drop(columns=[draw(st.sampled_from(REQUIRED["facilities.csv"]))])
    else:
        frame.loc[draw(st.integers(0, len(frame) - 1)), "lon"] = "东经"
    with tempfile.TemporaryDirectory() as tmp:
        frame.to_excel(Path(tmp) / "f.xlsx", index=False)
        return (Path(tmp) / "f.xlsx").read_bytes()


#: (base, file to damage, file to solve) — every kind of file a scenario names
TARGETS = [
    *[("example", f, "scenario.yaml") for f in NUMERIC],
    ("example", "scenario.yaml", "scenario.yaml"),
    ("example", "counties.geojson", "scenario.yaml"),
    ("example", "urban_areas.geojson", "scenario.yaml"),
    ("bureau", "facilities.xlsx", "scenario.yaml"),
    ("bureau", "variants/v.yaml", "variants/v.yaml"),
    ("zhangye", "beds/beds.yaml", "scenario.yaml"),
    ("zhangye", "nursing/nursing.yaml", "scenario.yaml"),
]


def _damaged(draw_random, base: Path, file: str) -> bytes:
    """The damaged bytes of ``base/file`` (drawn with hypothesis' ``data`` strategy)."""
    path = base / file
    text = path.read_text(encoding="utf-8") if path.suffix != ".xlsx" else ""
    if path.suffix == ".csv":
        return _csv_damage(draw_random, path.name, text)
    if path.suffix == ".yaml":
        return _yaml_damage(draw_random, text, next(iter(yaml.safe_load(text))))
    if path.suffix == ".geojson":
        return _geojson_damage(draw_random, path.name, text)
    return _xlsx_damage(draw_random, path)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), data=st.data())
def test_a_corrupted_file_is_one_line_exit_2_and_nothing_written(bases, target, data):
    base_name, file, solve = target
    base = bases[base_name]
    path = base / file
    original = path.read_bytes()
    damaged = _damaged(data.draw, base, file)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "OUT"
        try:
            path.write_bytes(damaged)
            r = CliRunner().invoke(main, ["solve", str(base / solve), "--out", str(out)])
        finally:
            path.write_bytes(original)
        leftovers = sorted(p.name for p in Path(tmp).iterdir())
    assert isinstance(r.exception, SystemExit), (file, repr(r.exception), r.output)
    assert r.exit_code == 2, (file, damaged[:300], r.output)
    lines = r.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), (file, r.stderr)
    assert Path(file).name in lines[0], (file, r.stderr)
    assert all(len(line) <= 300 for line in lines), (file, r.stderr)
    assert "Traceback" not in r.output
    assert leftovers == [], (file, leftovers)

"""``dingdian report``: maps, report.xlsx and report.html from a real Zhangye plan folder.

Zhangye is solved once per module with the real CLI; the report is written once with the real
``report`` command (scenario taken from summary.json) and then checked from its files alone.
"""

from __future__ import annotations

import io
import re
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dingdian.cli.main import main
from dingdian.cli.report import report
from dingdian.write import fonts as F
from dingdian.write import maps as M
from dingdian.write.report import ReportError, find_scenario

ROOT = Path(__file__).resolve().parents[1]
ZHANGYE = ROOT / "scenarios" / "zhangye" / "scenario.yaml"
CHROMIUM = Path("/usr/bin/chromium")
PNGS = ["density_clinic", "density_pharmacy", "changes_clinic_2030", "changes_pharmacy_2030",
        "blindspots_clinic_2030", "blindspots_pharmacy_2030", "coverage_clinic_2024",
        "coverage_clinic_2030", "coverage_pharmacy_2024", "coverage_pharmacy_2030"]
URL = re.compile(r"https?://")
XMLNS = re.compile(r"""xmlns(:\w+)?\s*=\s*["']https?://[^"']*["']""")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    r = CliRunner().invoke(main, ["solve", str(ZHANGYE), "--out", str(out), "--solver", "highs"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(report, [str(out)])  # scenario from summary.json
    assert r.exit_code == 0, r.output
    assert "report.xlsx" in r.output and "report.html" in r.output
    return out


def table6(out: Path) -> pd.DataFrame:
    (f,) = (out / "tables").glob("表6_*.csv")
    return pd.read_csv(f, encoding="utf-8-sig")


# --------------------------------------------------------------------------- font
def test_cjk_font_comes_from_the_package_and_has_the_glyphs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    path = F.cjk_font_path()
    assert path.is_file() and path.stat().st_size > 10_000_000
    assert "site-packages" in str(path) or "noto_cjk_sans_otc" in str(path)
    family = F.cjk_font()
    found = font_manager.findfont(font_manager.FontProperties(family=family),
                                  fallback_to_default=False)
    assert Path(found) == path
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("甘州区", fontfamily=family)
        ax.text(0.5, 0.5, "甘州区 定点零售药店 服务盲区", fontfamily=family)
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
    glyph = [str(w.message) for w in caught if "glyph" in str(w.message).lower()
             or "missing from" in str(w.message).lower()]
    assert glyph == []


# --------------------------------------------------------------------------- PNG maps
@pytest.mark.parametrize("name", PNGS)
def test_png_maps_are_real_images(out, name):
    from PIL import Image

    png = out / "maps" / f"{name}.png"
    assert png.is_file() and png.stat().st_size > 30_000
    figsize = M.DENSITY_FIGSIZE if name.startswith("density") else M.FIGSIZE
    with Image.open(png) as im:
        assert im.format == "PNG"
        assert im.size == (round(figsize[0] * M.DPI), round(figsize[1] * M.DPI))
        small = im.convert("RGB").resize((200, 120))
        colours = small.getcolors(maxcolors=200 * 120)
    assert len(colours) > 50  # outlines, hexagons, text: not a blank canvas
    white = max(n for n, c in colours if c == (255, 255, 255)) if any(
        c == (255, 255, 255) for _, c in colours) else 0
    assert white < 0.9 * 200 * 120


def test_nothing_half_written_is_left(out):
    assert not list(out.glob(".tmp-*")) and not list((out / "maps").glob(".tmp-*"))


# --------------------------------------------------------------------------- HTML
@pytest.mark.parametrize("name", ["report.html", "maps/map.html"])
def test_html_is_offline(out, name):
    text = (out / name).read_text(encoding="utf-8")
    assert URL.findall(XMLNS.sub("", text)) == []
    assert "<link" not in text and "@import" not in text and " src=\"//" not in text
    assert "<svg" in text and 'id="dd-year"' in text


def test_report_html_holds_table6_and_the_status(out):
    import json

    text = (out / "report.html").read_text(encoding="utf-8")
    t6 = table6(out)
    for row in t6.itertuples(index=False):
        cells = f"<td>{row[0]}</td>" + "".join(f"<td>{int(v):,}</td>" for v in row[1:])
        assert cells in text, row[0]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal" and "已求得最优方案，并经逐条复核全部规则通过" in text
    assert text.count("data:image/png;base64,") == len(PNGS)
    assert "甘州区" in text and "服务盲区" in text


# --------------------------------------------------------------------------- Excel
def test_report_xlsx_has_the_sheets_tables_and_images(out):
    from openpyxl import load_workbook

    wb = load_workbook(out / "report.xlsx")
    names = wb.sheetnames
    assert names[0] == "规划要点" and {"县区", "规划依据与规则", "技术说明", "地图"} <= set(names)
    brief = [c for r in wb["规划要点"].iter_rows(values_only=True) for c in r if c]
    assert any(str(c).startswith("至2030年末，全市定点零售药店由2024年末的") for c in brief)
    assert "需审定事项" in brief and "分年度安排（家）" in brief
    for n in ("表6", "表7", "表8", "表9"):
        assert any(s.startswith(n + " ") for s in names), n  # no underscore in sheet names
    assert len(wb["地图"]._images) == len(PNGS)
    summary = {r[0]: r[1] for r in wb["技术说明"].iter_rows(values_only=True) if r[0]}
    assert summary["求解状态"] == "最优解（已证明）" and summary["相对间隙"] == 0
    (s6,) = (s for s in names if s.startswith("表6 "))
    body = [r for r in wb[s6].iter_rows(min_row=5, values_only=True) if r[0]]
    t6 = table6(out)
    assert [list(r) for r in body] == t6.astype(object).values.tolist()
    counties = [r for r in wb["县区"].iter_rows(values_only=True) if r[0] == "全市"]
    assert len(counties) == 2  # one 全市 row per kind


# --------------------------------------------------------------------------- CLI
def test_report_help_and_bad_folder(tmp_path):
    r = CliRunner().invoke(report, ["--help"])
    assert r.exit_code == 0 and "Example" in r.output
    r = CliRunner().invoke(report, [str(tmp_path)])
    assert r.exit_code == 2 and r.output.startswith("error:") and "plan.csv" in r.output


def test_scenario_path_resolution(tmp_path, monkeypatch):
    rel = {"scenario": {"path": "scenarios/zhangye/scenario.yaml"}}
    monkeypatch.chdir(ROOT)
    assert find_scenario(tmp_path, rel).resolve() == ZHANGYE
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ReportError):
        find_scenario(tmp_path, rel)
    assert find_scenario(tmp_path, rel, ZHANGYE) == ZHANGYE


# --------------------------------------------------------------------------- browser
def test_report_renders_in_headless_chromium(out, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    from PIL import Image

    shot = tmp_path / "shot.png"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           f"--screenshot={shot}", "--window-size=1400,2000",
           (out / "report.html").resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    assert shot.is_file(), "chromium wrote no screenshot"
    with Image.open(shot) as im:
        assert im.size == (1400, 2000)
        small = im.convert("RGB").resize((140, 200))
        colours = small.getcolors(maxcolors=140 * 200)
    non_white = sum(n for n, c in colours if c != (255, 255, 255))
    assert len(colours) > 20 and non_white > 0.05 * 140 * 200

"""A rendered report.html says what its own scenario contains, and prints on A4.

Two plans are solved for real with the CLI: a small city of our own (the example city,
copied with a 900 m service radius, a county-quota override and another name, so nothing in the
report can come from a shipped scenario) and Heze (800 m, fund gate, exemptions, caps). The
browser checks run headless Chromium when it is installed (CI installs it): the page at A4
width (794 px) has nothing wider than the page, and the printed PDF is A4.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dingdian.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
A4_PX = 794  # 210 mm at 96 px per inch


def _solve_and_report(scenario: Path, out: Path) -> str:
    r = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["report", str(out)])
    assert r.exit_code == 0, r.output
    return (out / "report.html").read_text(encoding="utf-8")


def visible(html: str) -> str:
    """The page's text without styles, scripts, navigation, images and the interactive map."""
    html = re.sub(r"<style>.*?</style>|<script.*?</script>|<nav>.*?</nav>", "", html, flags=re.S)
    html = re.sub(r'<div class="screen-only">.*?</div>\s*</body>', "</body>", html, flags=re.S)
    html = re.sub(r"data:[^\"']+", "", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> tuple[Path, str]:
    """The example city renamed 测试市, with a 900 m / 1,800 m grid and one override."""
    folder = tmp_path_factory.mktemp("city") / "city"
    shutil.copytree(ROOT / "scenarios" / "example", folder)
    path = folder / "scenario.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["city"] = "测试市"
    cfg["title"] = "测试市基本医保定点医药机构资源配置规划（2025—2030年）"
    cfg["grid"].update(urban_radius_m=900, rural_radius_m=1800)
    q = (folder / "quotas_county.csv").read_text(encoding="utf-8-sig").splitlines()[1].split(",")
    cfg["overrides"] = {"county_quotas": [{"county": q[0], "kind": q[1], "year": int(q[2]),
                                           "exit": 9}]}
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = folder.parent / "out"
    return out, _solve_and_report(path, out)


@pytest.fixture(scope="module")
def heze(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("heze") / "out"
    return out, _solve_and_report(ROOT / "scenarios" / "heze" / "scenario.yaml", out)


def test_small_city_report_says_its_own_radius_name_and_override(city):
    out, html = city
    text = visible(html)
    assert "外接圆半径900米" in text and "农村1800米" in text and "1060.82" not in text
    assert "测试市无住院服务定点医疗机构每年配置增减数量" in text  # 表6 carries the city's name
    assert "情景调整" in text and "退出9家" in text
    assert "张掖" not in text and "甘州区" not in text and "菏泽" not in text
    order = [text.index(h) for h in ("一、规划要点", "二、分年度安排", "三、分县区安排",
                                     "四、年度准入退出计划表", "五、地图", "六、规划依据与规则",
                                     "附录")]
    assert order == sorted(order)  # the director's part first, the appendix last


def test_heze_report_says_its_radius_gate_exemptions_and_tables(heze):
    out, html = heze
    text = visible(html)
    assert "外接圆半径800米" in text and "800米规则" in text
    assert "基金风险" in text and "2027年暂停新增" in text and "2029年暂停新增" in text
    assert "不受规划限制" in text and "优先纳入" in text
    assert "附表1　菏泽市门诊定点医疗机构年度受理计划与退出数量" in text
    assert "2030年上限" in text and "2030年目标" not in text
    assert "无住院服务" not in text and "1060.82" not in text and "甘州区" not in text
    assert (out / "tables" / "附表1_门诊定点医疗机构年度受理计划与退出数量.csv").is_file()


@pytest.mark.parametrize("which", ["city", "heze"])
def test_no_path_no_objective_term_keys(which, request):
    out, html = request.getfixturevalue(which)
    text = visible(html)
    assert str(out.parent) not in text and "/scenario.yaml" not in text
    assert not re.search(r"\b8[a-k]_[a-z]+", text)  # 8a_coverage and the like
    assert "objective" not in text and "bound" not in text


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


#: appended to a copy of the page: the widest element's right edge, written into the DOM
PROBE = """<script>
window.addEventListener('load', () => {
  let worst = 0, who = '';
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > worst) { worst = r.right; who = el.tagName + ' ' + (el.textContent || '').slice(0, 30); }
  }
  const p = document.createElement('pre'); p.id = 'probe';
  p.textContent = JSON.stringify({width: window.innerWidth, right: worst, who: who,
                                  scroll: document.documentElement.scrollWidth});
  document.body.appendChild(p);
});
</script></body>"""


@pytest.mark.parametrize("which", ["city", "heze"])
def test_a4_width_shows_no_overflow(which, request, tmp_path):
    if not CHROMIUM:
        pytest.skip("no chromium")
    import json

    out, html = request.getfixturevalue(which)
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", PROBE, 1), encoding="utf-8")
    r = _chromium([f"--window-size={A4_PX},1123", "--virtual-time-budget=5000", "--dump-dom",
                   page.as_uri()], tmp_path)
    m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, flags=re.S)
    assert m, r.stderr[-500:]
    got = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert got["scroll"] <= got["width"], got
    assert got["right"] <= got["width"] + 1, got


@pytest.mark.parametrize("which", ["city", "heze"])
def test_prints_on_a4(which, request, tmp_path):
    if not CHROMIUM:
        pytest.skip("no chromium")
    out, _ = request.getfixturevalue(which)
    pdf = tmp_path / "report.pdf"
    _chromium(["--no-pdf-header-footer", f"--print-to-pdf={pdf}",
               (out / "report.html").as_uri()], tmp_path)
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes and all(abs(float(w) - 595.0) < 1.5 and abs(float(h) - 842.0) < 1.5
                         for w, h in boxes), boxes[:3]
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert 3 <= pages <= 30, pages

"""``OUT/report.html``: the report as one self-contained page, rendered from a Jinja2 template.

The page is ``templates/report.html.j2`` with ``templates/report.css``; :func:`context` builds
everything it shows from the plan folder and its scenario (:class:`ReportInput`): first the
director's part (规划要点, 分年度安排, 分县区安排: :mod:`dingdian.write.report_brief`), then the
plan's tables, the maps and the rules the plan was solved under
(:mod:`dingdian.write.report_rules`), and a technical appendix. Images are base64 ``data:``
URIs (the 300-dpi maps scaled to screen size), the interactive map is inline (hidden in print)
and the CJK font is subset to the page's characters (:func:`dingdian.write.fonts.font_face_css`):
no external resource of any kind. Printed, the page is A4 portrait.
"""

from __future__ import annotations

import base64
import io
from importlib import resources
from pathlib import Path

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write import report_brief as B
from dingdian.write.fonts import font_face_css
from dingdian.write.report_content import (
    ReportInput,
    assumption_rows,
    blind_frame,
    cell,
    county_frame,
    coverage_frame,
    fmt,
    map_caption,
)
from dingdian.write.report_rules import KIND_SHORT, override_rows

#: columns shown as written (no thousands separator): years and identifiers
RAW_COLUMNS = {"年份", "year", "年度", "county", "县区", "facility_id", "区域", "网格划分"}
#: the widest image embedded in the page, in pixels (the PNG files keep their 300 dpi)
IMAGE_WIDTH = 1600
def _table(frame: pd.DataFrame, caption: str = "") -> dict:
    """A frame as the template's table: caption, column headings and formatted rows."""
    raw = [str(c) in RAW_COLUMNS for c in frame.columns]
    rows = [[str(v) if r else fmt(cell(v)) for v, r in zip(row, raw, strict=True)]
            for row in frame.itertuples(index=False)]
    return {"caption": caption, "columns": [str(c) for c in frame.columns], "rows": rows}


def _kv(rows, head=("项目", "说明")) -> dict:
    return {"caption": "", "columns": list(head),
            "rows": [[k, fmt(cell(v)) if not isinstance(v, str) else v] for k, v in rows]}


def _plan_table(stem: str, frame: pd.DataFrame, city: str) -> dict:
    """One of 表6–表9 with the plan's two heading rows: each year over 准入 | 退出."""
    number, _, body = stem.partition("_")
    cols = list(frame.columns[1:])
    yearly = bool(cols) and all(c.endswith(("准入", "退出")) for c in cols)
    place = city if yearly and frame.columns[0] == "区域" else ""  # county tables name the city
    t = _table(frame, f"{number}　{place}{body}")
    if yearly:
        years = list(dict.fromkeys(c[:-2] for c in cols))
        t["groups"] = [(y, sum(c.startswith(y) for c in cols)) for y in years]
        t["columns"] = [str(frame.columns[0]), *(c[-2:] for c in cols)]
    return t


def _image_uri(path: Path) -> str:
    """The PNG at ``path`` as a data URI, scaled down to :data:`IMAGE_WIDTH` for the page."""
    from PIL import Image

    with Image.open(path) as im:
        if im.width > IMAGE_WIDTH:
            im = im.resize((IMAGE_WIDTH, round(im.height * IMAGE_WIDTH / im.width)),
                           Image.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _date(created: str | None) -> str:
    c = str(created or "")
    return f"{c[:4]}年{c[5:7]}月{c[8:10]}日" if len(c) >= 10 else "-"


def _status_sentence(s: dict) -> tuple[bool, str]:
    ver = s.get("verification") or {}
    optimal = s.get("status") == "optimal"
    passed = bool(ver.get("passed"))
    if optimal and passed:
        return True, "已求得最优方案，并经逐条复核全部规则通过。"
    status = B.STATUS_ZH.get(s.get("status"), s.get("status"))
    check = "复核通过" if passed else ("复核未通过" if ver.get("checked") else "未复核")
    return False, f"求解状态：{status}；{check}。"


def context(inp: ReportInput) -> dict:
    """Everything the template shows, computed from the plan folder and its scenario."""
    s = inp.summary
    word = inp.word
    years = sorted(int(y) for y in inp.counts["year"].unique())
    cfg = inp.config
    city = (cfg.city if cfg is not None and cfg.city else "") or ""
    ok, sentence = _status_sentence(s)
    tables = [_plan_table(stem, frame, city) for stem, frame in inp.tables.items()]
    yearly = [t for t in tables if t.get("groups")]
    numbers = [t["caption"].split("　")[0] for t in yearly]
    by_county = [_table(B.changes_by_county(inp.counts, s, kind, word), f"{KIND_SHORT[kind]}（家）")
                 for kind in KINDS if (inp.counts["kind"] == kind).any()]
    studies = B.study_rows(s)
    return {
        "title": (s.get("scenario") or {}).get("title") or "定点医药机构资源配置规划",
        "period": f"{years[0]}—{years[-1]}年" if years else "",
        "created": _date(s.get("created_utc")),
        "ok": ok, "status_sentence": sentence, "word": word,
        "headline": B.headline(inp.counts),
        "coverage": B.coverage_sentences(s),
        "where": B.where_sentences(inp.counts),
        "approvals": B.approvals(s, word, numbers),
        "synthetic": ("机构位置、考核与评审分、申请机构名单为合成的示范数据；县区边界、人口和规划数量为"
                      "公开数据，来源见情景目录 SOURCES.md。") if s.get("synthetic_data") else "",
        "by_year": _table(B.changes_by_year(inp.counts)),
        "has_mid": 2028 in years[1:-1],
        "by_county": by_county,
        "plan_tables": yearly,
        "other_tables": [t for t in tables if not t.get("groups")],
        "maps": [{"caption": map_caption(k, inp.kind_zh), "uri": _image_uri(p)}
                 for k, p in inp.maps.items()],
        "interactive": inp.map_fragment,
        "scenario_name": (s.get("scenario") or {}).get("name", "-"),
        "rules": _kv(assumption_rows(inp), ("规则", "说明")),
        "overrides": _kv(override_rows(cfg) if cfg is not None else [], ("对象", "调整")),
        "appendix": _kv(B.appendix_rows(s)),
        "studies": _kv(studies),
        "coverage_table": _table(coverage_frame(s, inp.kind_zh)),
        "blind_table": _table(blind_frame(s, inp.kind_zh)),
        "county_detail": [_table(county_frame(inp.counts, s, kind, word), KIND_SHORT[kind])
                          for kind in KINDS if (inp.counts["kind"] == kind).any()],
    }


def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("dingdian.write", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)


def render_html(inp: ReportInput) -> str:
    """report.html's text: the template rendered with :func:`context`, the font subset to the
    page's own characters (the base64 images add only ASCII)."""
    css = resources.files("dingdian.write").joinpath("templates/report.css").read_text("utf-8")
    doc = _environment().get_template("report.html.j2").render(css=css, **context(inp))
    return doc.replace("@FONT@", font_face_css(doc), 1)

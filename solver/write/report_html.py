"""``OUT/report.html``: the report as one self-contained page (CSS, images, map and font inline).

CSS inline, images as base64 ``data:`` URIs, the interactive map
(:func:`dingdian.write.map_html.map_fragment`) inline and the CJK font subset to the page's
characters (:func:`dingdian.write.fonts.font_face_css`); no external resource of any kind.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write.fonts import font_face_css
from dingdian.write.maps import KIND_ZH
from dingdian.write.report_content import (
    ReportInput,
    assumption_rows,
    blind_frame,
    cell,
    county_frame,
    coverage_frame,
    fmt,
    map_caption,
    summary_rows,
)

_CSS = """
body{font-family:"DD Noto Sans CJK SC","Noto Sans CJK SC","Microsoft YaHei","PingFang SC","Hiragino Sans GB",
 sans-serif;margin:24px auto;max-width:1400px;color:#222;line-height:1.45;padding:0 16px}
h1{font-size:24px;border-bottom:3px solid #2b6cb0;padding-bottom:6px}
h2{font-size:19px;margin-top:32px;border-left:5px solid #2b6cb0;padding-left:8px}
h3{font-size:15px;margin-top:18px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}
th{background:#edf2f7}
td:first-child,th:first-child{text-align:left}
tr:last-child td{font-weight:600}
table.kv tr:last-child td{font-weight:normal}
table.kv td{text-align:left}
.status-optimal{color:#2f855a;font-weight:700}.status-other{color:#c05621;font-weight:700}
figure{margin:12px 0 24px}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:13px;color:#555}
nav a{margin-right:12px}
"""


#: columns shown as written (no thousands separator): years and identifiers
RAW_COLUMNS = {"年份", "year", "年度", "county", "县区", "facility_id"}


def _table_html(frame: pd.DataFrame, cls: str = "") -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in frame.columns)
    raw = [str(c) in RAW_COLUMNS for c in frame.columns]
    body = "".join("<tr>" + "".join(f"<td>{e(str(v) if r else fmt(cell(v)))}</td>"
                                    for v, r in zip(row, raw, strict=True)) + "</tr>"
                   for row in frame.itertuples(index=False))
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(inp: ReportInput) -> str:
    e = html.escape
    s = inp.summary
    title = (s.get("scenario") or {}).get("title") or "定点机构规划"
    status = str(s.get("status"))
    cls = "status-optimal" if status == "optimal" else "status-other"
    out = [f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width,initial-scale=1">'
           f"<title>{e(title)} — 规划报告</title><style>@FONT@{_CSS}</style></head><body>",
           f"<h1>{e(title)}<br><small>规划报告 plan report</small></h1>",
           '<nav><a href="#summary">摘要</a><a href="#tables">表6–表9</a>'
           '<a href="#counties">县区</a><a href="#maps">地图</a>'
           '<a href="#interactive">交互地图</a><a href="#assumptions">假设</a></nav>',
           '<h2 id="summary">摘要 summary</h2>',
           f'<p>求解状态 <span class="{cls}">{e(status)}</span>，间隙 gap {e(fmt(s.get("gap")))}'
           f'，校验 {"通过" if (s.get("verification") or {}).get("passed") else "未通过"}。</p>']
    out.append(_table_html(pd.DataFrame(summary_rows(s), columns=["项目", "值"]), "kv"))
    out.append("<h3>服务圈覆盖 coverage</h3>" + _table_html(coverage_frame(s), "kv"))
    out.append("<h3>服务盲区 blind spots</h3>" + _table_html(blind_frame(s), "kv"))
    out.append('<h2 id="tables">规划表 tables</h2>')
    for stem, frame in inp.tables.items():
        number, _, rest = stem.partition("_")
        out.append(f"<h3>{e(number)} {e(rest)}</h3>" + _table_html(frame))
    out.append('<h2 id="counties">各县区定点数与目标 county tables</h2>')
    for kind in KINDS:
        out.append(f"<h3>{e(KIND_ZH[kind])}</h3>"
                   + _table_html(county_frame(inp.counts, s, kind)))
    out.append('<h2 id="maps">地图 maps</h2>')
    for key, png in inp.maps.items():
        out.append(f'<figure><img alt="{e(map_caption(key))}" src="{_png_uri(png)}">'
                   f"<figcaption>{e(map_caption(key))}</figcaption></figure>")
    if inp.map_fragment:
        out.append('<h2 id="interactive">交互地图 interactive map</h2>' + inp.map_fragment)
    out.append('<h2 id="assumptions">模型假设 assumptions</h2>')
    out.append(_table_html(pd.DataFrame(assumption_rows(inp), columns=["规则", "说明"]), "kv"))
    out.append("</body></html>")
    doc = "".join(out)
    # the font is cut to the page's own characters (the base64 images add only ASCII)
    return doc.replace("@FONT@", font_face_css(doc), 1)

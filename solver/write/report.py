"""``OUT/report.xlsx`` and ``OUT/report.html``: a written plan as a report a planner can paste.

Reads only a plan folder's own files (``plan.csv``, ``cells.csv``, ``counts.csv``,
``summary.json``, ``tables/*.csv``) plus the scenario, for the county outlines; the scenario is
``summary.json["scenario"]["path"]`` unless one is given. Writes the maps of :mod:`dingdian.write.maps`
into ``OUT/maps/`` (``density_<kind>.png``, ``coverage_<kind>_<year>.png``, ``map.html``), then

* ``report.xlsx`` — sheets 摘要 (summary: solver, status, gap, coverage), 表6–表9 in the plan's
  merged layout, any other ``tables/*.csv``, 县区 (per-county counts against the targets),
  假设 (the model's assumptions) and 地图 (the PNG maps, embedded);
* ``report.html`` — the same content in one self-contained page: CSS inline, images as base64
  ``data:`` URIs, the interactive map inline; no external resource of any kind.

Every file is written to a temporary file in its folder and swapped in with ``os.replace``.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dingdian.models.data import KINDS
from dingdian.write import maps as M
from dingdian.write.outputs import atomic_file

KIND_ZH = M.KIND_ZH
REQUIRED = ("plan.csv", "cells.csv", "counts.csv", "summary.json")
CITY = "全市"

#: the model's assumptions, as a planner reads them (README "The model in brief")
ASSUMPTIONS = [
    ("流量 Flow", "每年定点 = 上年定点 + 准入 − 退出；已有机构起始为定点，申请机构起始为非定点；"
     "退出的机构不再准入。"),
    ("目标 Targets (表2/表3)", "各县区每类机构2028年末、2030年末定点数等于规划数（或按情景设为“不超过”）。"),
    ("县区限额 County quotas (表6/表7)", "每年准入、退出不超过公布数（可设为恰好等于）。"),
    ("街道限额 Street quotas (表8/表9)", "甘州区各街道同样适用；街道外机构分享县区剩余额度。"),
    ("服务圈 Coverage", "城区六边形外接圆半径1060.82米（15分钟步行），诊所与药店均需覆盖；农村2121.64米"
     "（30分钟），需覆盖药店，肃南县除外。2024年已覆盖的有人口服务圈每年都保持覆盖。"),
    ("服务盲区 Blind spots", "仅申请机构可达的服务圈为可填补盲区，计入目标函数；无人可达的服务圈报告为盲区，"
     "不导致无解。"),
    ("一圈一家 One per cell", "城区服务圈内第一家以外的机构计罚分，而非禁止。"),
    ("保护 Protected", "村卫生室、社区卫生服务中心及情景标注机构不退出。"),
    ("目标函数 Objective", "加权和：填补盲区（每人每年10分）优先；退出按考核分末位淘汰；准入按评审分择优；"
     "每次变动5分的稳定成本；最繁忙年份每次变动3分，使变动在年度间均衡。"),
    ("校验 Verification", "求解后仅凭 plan.csv 重新核算全部规则（路径、目标、限额、保护、覆盖）。"),
]


@dataclass
class ReportInput:
    """A plan folder, read."""

    out: Path
    summary: dict
    counts: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    scenario: Path | None
    maps: dict[str, Path] = field(default_factory=dict)
    map_fragment: str = ""


class ReportError(Exception):
    """The folder is not a plan, or the scenario cannot be found."""


# --------------------------------------------------------------------------- reading
def find_scenario(out: Path, summary: dict, scenario: str | Path | None = None) -> Path:
    """``scenario`` if given, else summary.json's scenario path (absolute, or relative to the
    current directory, the plan folder or one of its parents)."""
    if scenario is not None:
        p = Path(scenario)
        if not p.is_file():
            raise ReportError(f"scenario not found: {p}")
        return p
    raw = (summary.get("scenario") or {}).get("path")
    if not raw:
        raise ReportError(f"{out / 'summary.json'} names no scenario path; pass --scenario")
    p = Path(raw)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, *(d / p for d in out.resolve().parents)]
    for c in candidates:
        if c.is_file():
            return c
    raise ReportError(f"scenario {raw} (from summary.json) not found; pass --scenario")


def read_output(out: str | Path, scenario: str | Path | None = None) -> ReportInput:
    out = Path(out)
    missing = [f for f in REQUIRED if not (out / f).is_file()]
    if missing:
        raise ReportError(f"{out} is not a plan folder: missing {', '.join(missing)}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    counts = pd.read_csv(out / "counts.csv", dtype={"street": str}, keep_default_na=False)
    for c in ("year", "designated", "admitted", "exited"):
        counts[c] = pd.to_numeric(counts[c])
    tables = {}
    tdir = out / "tables"
    if tdir.is_dir():
        for f in sorted(tdir.glob("*.csv"), key=_table_order):
            tables[f.stem] = pd.read_csv(f, encoding="utf-8-sig", dtype=str,
                                         keep_default_na=False)
    return ReportInput(out=out, summary=summary, counts=counts, tables=tables,
                       scenario=find_scenario(out, summary, scenario))


def _table_order(f: Path):
    head = f.stem.split("_")[0]
    num = head[1:] if head.startswith("表") else ""
    return (0, int(num), f.stem) if num.isdigit() else (1, 0, f.stem)


# --------------------------------------------------------------------------- content
def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v == int(v) and abs(v) >= 1:
            return f"{int(v):,}"
        return f"{v:.4g}" if abs(v) < 1 else f"{v:,.2f}"
    return str(v)


def summary_rows(s: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of the 摘要 section."""
    sc = s.get("scenario") or {}
    ver = s.get("verification") or {}
    size = s.get("model_size") or {}
    rows = [
        ("规划 plan", sc.get("title") or sc.get("name") or "-"),
        ("情景 scenario", f"{sc.get('name', '-')} ({sc.get('path', '-')})"),
        ("求解器 solver", s.get("solver")),
        ("状态 status", s.get("status")),
        ("目标值 objective", s.get("objective")),
        ("界 bound", s.get("bound")),
        ("间隙 gap", s.get("gap")),
        ("建模/求解秒 build/solve s", f"{_fmt(s.get('build_seconds'))} / "
                                       f"{_fmt(s.get('solve_seconds'))}"),
        ("变量/约束 variables/constraints", f"{_fmt(size.get('variables'))} / "
                                            f"{_fmt(size.get('constraints'))}"),
        ("校验 verified", ver.get("passed")),
        ("违规数 violations", len(ver.get("violations") or [])),
    ]
    for k, v in (s.get("objective_terms") or {}).items():
        rows.append((f"目标分项 {k}", v))
    for sec in ("beds", "nursing", "street_split", "basic_set", "indices"):
        if isinstance(s.get(sec), dict) and s[sec].get("headline"):
            rows.append((f"{sec}", s[sec]["headline"]))
    if s.get("synthetic_data"):
        rows.append(("数据说明 note", s.get("note") or "含合成数据 synthetic data"))
    rows.append(("生成 created", f"{s.get('created_utc', '-')} dingdian {s.get('dingdian_version', '')}"))
    return [(k, _fmt(v)) for k, v in rows]


def coverage_frame(s: dict) -> pd.DataFrame:
    rows = []
    for kind, per_year in (s.get("coverage") or {}).items():
        for y, c in per_year.items():
            share = c.get("population_covered_share")
            rows.append({"类别": KIND_ZH.get(kind, kind), "年份": str(y),
                         "覆盖人口": c.get("population_covered"),
                         "服务圈内人口": c.get("population_in_scope"),
                         "覆盖率": f"{share:.1%}" if share is not None else "-",
                         "必保服务圈": c.get("must_cover_cells"),
                         "已覆盖必保服务圈": c.get("must_cover_covered"),
                         "可填补盲区": c.get("gain_cells"),
                         "已填补盲区": c.get("gain_cells_filled")})
    return pd.DataFrame(rows)


def county_frame(counts: pd.DataFrame, summary: dict, kind: str) -> pd.DataFrame:
    """Per county: designated per year, the 2028/2030 targets, admissions and exits."""
    c = counts[(counts["kind"] == kind) & (counts["street"] == "")]
    years = sorted(c["year"].unique())
    piv = c.pivot_table(index="county", columns="year", values="designated", aggfunc="sum",
                        sort=False)
    order = list(dict.fromkeys(c["county"]))
    piv = piv.reindex(order)
    out = pd.DataFrame({"县区": order})
    for y in years:
        out[f"{y}年定点"] = piv[y].astype(int).to_numpy()
    targets = {(t.get("county"), t.get("kind")): t for t in summary.get("targets") or []}
    for ty in (2028, 2030):
        if any(f"target_{ty}" in t for t in targets.values()):
            vals = []
            for county in order:
                t = targets.get((county, kind))
                if t is None and county == CITY:
                    ts = [v.get(f"target_{ty}") for (_, k), v in targets.items() if k == kind]
                    vals.append(sum(int(x) for x in ts if x is not None) if ts else None)
                else:
                    vals.append(None if t is None else t.get(f"target_{ty}"))
            out[f"{ty}年目标"] = vals
    sums = c.groupby("county", sort=False)[["admitted", "exited"]].sum().reindex(order)
    out["准入合计"] = sums["admitted"].astype(int).to_numpy()
    out["退出合计"] = sums["exited"].astype(int).to_numpy()
    return out


def blind_frame(s: dict) -> pd.DataFrame:
    rows = []
    for kind, b in (s.get("blind_spots") or {}).items():
        rows.append({"类别": KIND_ZH.get(kind, kind), "无人可达盲区(个)": b.get("cells"),
                     "盲区人口": b.get("population"),
                     "末年未覆盖服务圈(个)": b.get("uncovered_cells_2030"),
                     "末年未覆盖人口": b.get("uncovered_population_2030")})
    return pd.DataFrame(rows)


MAP_CAPTIONS = {
    "density": "{kind}热点分布图（附件8）：规划前后定点机构密度",
    "coverage": "{year}年{kind}服务圈覆盖与服务盲区",
}


def map_caption(key: str) -> str:
    parts = key.split("_")
    kind = KIND_ZH.get(parts[1], parts[1])
    if parts[0] == "density":
        return MAP_CAPTIONS["density"].format(kind=kind)
    return MAP_CAPTIONS["coverage"].format(kind=kind, year=parts[2])


# --------------------------------------------------------------------------- writers


def _plan_spec(stem: str, frame: pd.DataFrame):
    from dingdian.write.tables import TableSpec

    number, _, title = stem.partition("_")
    group = title.split("各街道")[-1]
    group = group[:-1] if group.endswith("数量") else group
    return TableSpec(number=number, title=title, kind="", level="", first_column=frame.columns[0],
                     group_heading=group, total_label="", file_stem=stem)


def _is_plan_table(stem: str, frame: pd.DataFrame) -> bool:
    return stem.split("_")[0] in {"表6", "表7", "表8", "表9"} and all(
        c.endswith(("准入", "退出")) for c in frame.columns[1:])


def _sheet_frame(ws, frame: pd.DataFrame, title: str | None = None, start_row: int = 1) -> int:
    from openpyxl.styles import Font

    r = start_row
    if title:
        ws.cell(r, 1, title).font = Font(bold=True)
        r += 1
    for j, col in enumerate(frame.columns, 1):
        ws.cell(r, j, str(col)).font = Font(bold=True)
    for row in frame.itertuples(index=False):
        r += 1
        for j, v in enumerate(row, 1):
            ws.cell(r, j, _cell(v))
    return r + 2


def _cell(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, str):
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            try:
                return float(s) if s and s.lower() not in ("nan", "inf", "-inf") else v
            except ValueError:
                return v
    return v


def write_xlsx(inp: ReportInput, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XLImage
    from openpyxl.styles import Font

    from dingdian.write.tables import write_table_sheet

    wb = Workbook()
    ws = wb.active
    ws.title = "摘要"
    ws.cell(1, 1, "摘要 summary").font = Font(bold=True, size=13)
    for i, (k, v) in enumerate(summary_rows(inp.summary), 2):
        ws.cell(i, 1, k)
        ws.cell(i, 2, v)
    r = len(summary_rows(inp.summary)) + 3
    r = _sheet_frame(ws, coverage_frame(inp.summary), "服务圈覆盖 coverage", r)
    _sheet_frame(ws, blind_frame(inp.summary), "服务盲区 blind spots", r)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 60
    for stem, frame in inp.tables.items():
        sheet = wb.create_sheet(stem[:31])
        if _is_plan_table(stem, frame):
            typed = frame.copy()
            for c in typed.columns[1:]:
                typed[c] = pd.to_numeric(typed[c])
            write_table_sheet(sheet, _plan_spec(stem, frame), typed)
        else:
            _sheet_frame(sheet, frame, stem)
    ws = wb.create_sheet("县区")
    r = 1
    for kind in KINDS:
        r = _sheet_frame(ws, county_frame(inp.counts, inp.summary, kind),
                         f"{KIND_ZH[kind]}：各县区定点数与目标", r)
    ws.column_dimensions["A"].width = 12
    ws = wb.create_sheet("假设")
    ws.cell(1, 1, "模型假设 the model's assumptions").font = Font(bold=True, size=13)
    for i, (k, v) in enumerate(ASSUMPTIONS, 2):
        ws.cell(i, 1, k)
        ws.cell(i, 2, v)
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 110
    ws = wb.create_sheet("地图")
    row = 1
    for key, png in inp.maps.items():
        ws.cell(row, 1, map_caption(key)).font = Font(bold=True)
        img = XLImage(str(png))
        img.width, img.height = img.width * 0.75, img.height * 0.75
        ws.add_image(img, f"A{row + 1}")
        row += int(img.height / 20) + 4
    return atomic_file(path, wb.save)


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
    body = "".join("<tr>" + "".join(f"<td>{e(str(v) if r else _fmt(_cell(v)))}</td>"
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
           f'<p>求解状态 <span class="{cls}">{e(status)}</span>，间隙 gap {e(_fmt(s.get("gap")))}'
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
    out.append(_table_html(pd.DataFrame(ASSUMPTIONS, columns=["规则", "说明"]), "kv"))
    out.append("</body></html>")
    doc = "".join(out)
    # the font is cut to the page's own characters (the base64 images add only ASCII)
    return doc.replace("@FONT@", M.font_face_css(doc), 1)


def write_report(out: str | Path, scenario: str | Path | None = None,
                 all_years: bool = False) -> dict[str, Path]:
    """Maps, ``report.xlsx`` and ``report.html`` for the plan folder ``out``.

    ``all_years`` draws a coverage PNG for every year (default: first and last year).
    Returns the written paths by name.
    """
    inp = read_output(out, scenario)
    title = (inp.summary.get("scenario") or {}).get("title") or ""
    data = M.load_map_data(inp.out, inp.scenario, title)
    maps_dir = inp.out / "maps"
    inp.maps = M.write_pngs(data, maps_dir, data.years if all_years else None)
    written = dict(inp.maps)
    written["map_html"] = M.map_html(data, maps_dir / "map.html")
    inp.map_fragment = M.map_fragment(data)
    # report.html embeds the first and last year only, whatever was drawn
    shown = {k: v for k, v in inp.maps.items()
             if k.startswith("density") or k.endswith((f"_{data.first}", f"_{data.last}"))}
    inp.maps = shown
    written["report_xlsx"] = write_xlsx(inp, inp.out / "report.xlsx")
    buf = io.StringIO(render_html(inp))
    written["report_html"] = M.atomic_write_text(inp.out / "report.html", buf.getvalue())
    return written

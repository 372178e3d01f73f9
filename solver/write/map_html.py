"""The offline interactive map of a written plan: one self-contained SVG-in-HTML page.

:func:`map_html` writes ``maps/map.html`` (no scripts or tiles from anywhere): county outlines,
hexagons coloured by coverage, facilities as dots with a tooltip, year/kind selectors.
:func:`map_fragment` is the same map as a fragment, for ``report.html``. Also owns the atomic
text writers of the HTML pages (:func:`atomic_write_text`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from dingdian.geometry import hexagon
from dingdian.models.data import KINDS
from dingdian.write.fonts import CSS_FAMILY, font_face_css
from dingdian.write.maps import (
    COVER_BOUNDS,
    COVER_COLOURS,
    COVER_LABELS,
    OUT_OF_SCOPE,
    MapData,
    in_scope,
    outline_bounds,
    rings,
)
from dingdian.write.outputs import atomic_file

KIND_SHORT = {"clinic": "诊所", "pharmacy": "药店"}

_MAP_CSS = """
.dd-map{font-family:"DD Noto Sans CJK SC","Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif}
.dd-map select{font-family:inherit;font-size:14px}
.dd-map svg{width:100%;height:auto;max-height:80vh;border:1px solid #bbb;background:#fbfbf8;
 cursor:grab}
.dd-map .county{fill:none;stroke:#444;stroke-width:1.2;vector-effect:non-scaling-stroke}
.dd-map .hex{stroke:#666;stroke-width:0.3;vector-effect:non-scaling-stroke}
.dd-map .hex.blind{stroke:#a50f15;stroke-width:1.5}
.dd-map .fac{stroke:#fff;stroke-width:0.5;vector-effect:non-scaling-stroke}
.dd-map .fac.clinic{fill:#2b6cb0}.dd-map .fac.pharmacy{fill:#8e44ad}
.dd-map .lbl{font-size:9px;fill:#222;paint-order:stroke;stroke:#fff;stroke-width:3px;
 pointer-events:none}
.dd-map .legend span{display:inline-block;width:14px;height:14px;vertical-align:middle;
 margin:0 4px 0 10px;border:1px solid #666}
"""

_MAP_JS = """
(function(){
const D=JSON.parse(document.getElementById('dd-data').textContent);
const svg=document.getElementById('dd-svg');
const ys=document.getElementById('dd-year'), ks=document.getElementById('dd-kind');
const hexes=svg.querySelectorAll('.hex'), facs=svg.querySelectorAll('.fac');
function colour(n){for(let i=D.bounds.length-2;i>=0;i--){if(n>=D.bounds[i])return D.colours[i];}
 return D.colours[0];}
function draw(){const yi=D.years.indexOf(+ys.value), k=ks.value; let blind=0, shown=0;
 hexes.forEach(h=>{const c=D.cells[h.dataset.i]; const n=c[k][yi]; const sc=c.scope[k];
  h.style.fill=sc?colour(n):D.outside; const b=sc&&n===0; h.classList.toggle('blind',b);
  if(b)blind++;
  h.querySelector('title').textContent=c.name+'\\n'+D.kindzh[k]+' '+D.years[yi]+'年: '+n+
   ' 家可达'+(sc?'':'（不在服务圈模型内）')+'\\n人口 '+c.pop;});
 facs.forEach(f=>{const on=f.dataset.y[yi]==='1'&&f.classList.contains(k);
  f.style.display=on?'':'none'; if(on)shown++;});
 document.getElementById('dd-stat').textContent=D.years[yi]+'年 '+D.kindzh[k]+'：定点 '+shown+
  ' 家，服务盲区 '+blind+' 个';}
ys.onchange=draw; ks.onchange=draw; draw();
let vb=svg.viewBox.baseVal, drag=null;
svg.addEventListener('wheel',e=>{e.preventDefault(); const r=svg.getBoundingClientRect();
 const s=e.deltaY>0?1.25:0.8, px=vb.x+(e.clientX-r.left)/r.width*vb.width,
 py=vb.y+(e.clientY-r.top)/r.height*vb.height;
 vb.x=px-(px-vb.x)*s; vb.y=py-(py-vb.y)*s; vb.width*=s; vb.height*=s;},{passive:false});
svg.addEventListener('mousedown',e=>{drag=[e.clientX,e.clientY];});
window.addEventListener('mouseup',()=>{drag=null;});
window.addEventListener('mousemove',e=>{if(!drag)return; const r=svg.getBoundingClientRect();
 vb.x-=(e.clientX-drag[0])/r.width*vb.width; vb.y-=(e.clientY-drag[1])/r.height*vb.height;
 drag=[e.clientX,e.clientY];});
})();
"""


def _pts(coords, x0: float, y1: float) -> str:
    """SVG coordinates in km: x east of the west edge, y south of the north edge."""
    return " ".join(f"{(x - x0) / 1000:.3f},{(y1 - y) / 1000:.3f}" for x, y in coords)


def map_fragment(data: MapData) -> str:
    """The interactive map as an HTML fragment (CSS, SVG, data and script, all inline)."""
    x0, y0, x1, y1 = outline_bounds(data.outlines)
    pad = 0.02 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    w, h = (x1 - x0) / 1000, (y1 - y0) / 1000
    e = html.escape
    parts = [f'<svg id="dd-svg" viewBox="0 0 {w:.2f} {h:.2f}" role="img" '
             f'aria-label="定点机构与服务圈覆盖地图">']
    for name, geom in data.outlines.items():
        d = " ".join(f"M{_pts(r, x0, y1)}Z" for r in rings(geom))
        parts.append(f'<path class="county" d="{d}"><title>{e(name)}</title></path>')
    cells = data.cells[data.cells["population"].fillna(0) > 0]
    scope = {k: in_scope(cells, k, data.exempt) for k in KINDS}
    cell_data = []
    for i, (_, c) in enumerate(cells.iterrows()):
        pts = _pts(hexagon(c["x"], c["y"], c["radius_m"]).exterior.coords, x0, y1)
        parts.append(f'<polygon class="hex" data-i="{i}" points="{pts}"><title></title></polygon>')
        zone = "城区" if c["zone"] == "urban" else "农村"
        cell_data.append({
            "name": f"{c['cell_id']} {c['county']} {zone}",
            "pop": int(c["population"]),
            "scope": {k: bool(scope[k][i]) for k in KINDS},
            **{k: [int(c.get(f"{k}_{y}", 0) or 0) for y in data.years] for k in KINDS},
        })
    r = max(0.25, w / 900)
    for _, f in data.plan.iterrows():
        bits = "".join(str(int(f[y])) for y in data.years)
        if "1" not in bits:
            continue
        fx, fy = (f["x"] - x0) / 1000, (y1 - f["y"]) / 1000
        adm = f"，{int(f['admitted_year'])}年准入" if pd.notna(f.get("admitted_year")) else ""
        ext = f"，{int(f['exited_year'])}年退出" if pd.notna(f.get("exited_year")) else ""
        tip = (f"{f['name']}（{f['facility_id']}）\n{KIND_SHORT.get(f['kind'], f['kind'])} · "
               f"{f['county']} {f['street'] if isinstance(f['street'], str) else ''}\n"
               f"评分 {f['score']}{adm}{ext}")
        parts.append(f'<circle class="fac {e(str(f["kind"]))}" cx="{fx:.3f}" cy="{fy:.3f}" '
                     f'r="{r:.2f}" data-y="{bits}"><title>{e(tip)}</title></circle>')
    for name, geom in data.outlines.items():
        p = geom.representative_point()
        parts.append(f'<text class="lbl" x="{(p.x - x0) / 1000:.2f}" y="{(y1 - p.y) / 1000:.2f}" '
                     f'text-anchor="middle" style="font-size:{w / 60:.2f}px">{e(name)}</text>')
    parts.append("</svg>")
    payload = {"years": data.years, "bounds": COVER_BOUNDS, "colours": COVER_COLOURS,
               "outside": OUT_OF_SCOPE, "kindzh": data.kind_zh, "cells": cell_data}
    blob = json.dumps(payload, ensure_ascii=False).replace("</", "<\\/")
    year_opts = "".join(f'<option value="{y}"{" selected" if y == data.last else ""}>{y}</option>'
                        for y in data.years)
    kind_opts = "".join(f'<option value="{k}"{" selected" if k == "pharmacy" else ""}>'
                        f"{e(data.kind_zh[k])}</option>" for k in KINDS)
    legend = "".join(f'<span style="background:{c}"></span>{e(lab)}'
                     for c, lab in zip(COVER_COLOURS, COVER_LABELS, strict=True))
    legend += f'<span style="background:{OUT_OF_SCOPE}"></span>不在服务圈模型内'
    return (f'<div class="dd-map"><style>{_MAP_CSS}</style>'
            f'<p>年份 <select id="dd-year">{year_opts}</select> 类别 '
            f'<select id="dd-kind">{kind_opts}</select> <b id="dd-stat"></b></p>'
            f'<p class="legend">服务圈内可达机构数：{legend}；红框 = 服务盲区；'
            f'圆点 = 当年定点机构（悬停查看详情；滚轮缩放，拖动平移）</p>'
            + "".join(parts)
            + f'<script type="application/json" id="dd-data">{blob}</script>'
            f"<script>{_MAP_JS}</script></div>")


def map_html(data: MapData, path: str | Path) -> Path:
    """A standalone offline HTML page holding :func:`map_fragment`."""
    title = html.escape(data.title or "定点机构地图")
    body = (f'<h1 style="font-family:&quot;{CSS_FAMILY}&quot;,sans-serif">{title}</h1>'
            f"{map_fragment(data)}")
    doc = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
           f"<title>{title}</title><style>{font_face_css(body)}</style></head>"
           f"<body>{body}</body></html>")
    return atomic_write_text(Path(path), doc)


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_file(Path(path), lambda tmp: tmp.write_bytes(data))

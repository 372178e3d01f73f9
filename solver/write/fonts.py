"""The packaged CJK font: registered with matplotlib for the PNG maps, subset into CSS for HTML.

The Chinese font is Noto Sans CJK from the ``noto-cjk-sans-otc`` package (SIL OFL 1.1),
registered with matplotlib at run time from the package's own file (:func:`cjk_font`): nothing
depends on the fonts installed on the machine. :func:`font_face_css` embeds the same font, cut
down to a page's characters, in the HTML pages (:mod:`dingdian.write.map_html`,
:mod:`dingdian.write.report_html`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_FAMILY = "Noto Sans CJK SC"
CSS_FAMILY = "DD Noto Sans CJK SC"


def cjk_font_path() -> Path:
    """The Noto Sans CJK collection shipped by the ``noto-cjk-sans-otc`` package."""
    import noto_cjk_sans_otc

    return Path(str(noto_cjk_sans_otc.FONT_PATH))


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the packaged CJK font with matplotlib (once); return its family name."""
    from matplotlib import font_manager

    path = cjk_font_path()
    if not path.is_file():
        raise FileNotFoundError(f"CJK font not found: {path} (pip install noto-cjk-sans-otc)")
    font_manager.fontManager.addfont(str(path))
    names = {f.name for f in font_manager.fontManager.ttflist if f.fname == str(path)}
    return FONT_FAMILY if FONT_FAMILY in names else sorted(names)[0]


def font_face_css(text: str) -> str:
    """A CSS ``@font-face`` holding the packaged CJK font cut down to the characters of ``text``.

    The HTML pages then show Chinese on machines without any CJK font, with nothing loaded
    from outside (a ``data:`` URI). The subset keeps the font's name table (SIL OFL 1.1).
    """
    import base64
    import io

    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    path = str(cjk_font_path())
    names = [f["name"].getDebugName(1) for f in TTCollection(path, lazy=True).fonts]
    index = names.index(FONT_FAMILY) if FONT_FAMILY in names else 0
    font = TTFont(path, fontNumber=index)
    opts = subset.Options()
    opts.name_IDs = ["*"]
    opts.hinting = False
    sub = subset.Subsetter(opts)
    sub.populate(text="".join(sorted(set(text))))
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f"/* {FONT_FAMILY}, subset; SIL Open Font License 1.1 */"
            f'@font-face{{font-family:"{CSS_FAMILY}";src:url(data:font/otf;base64,{data})'
            ' format("opentype");}')

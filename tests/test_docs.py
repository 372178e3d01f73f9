"""The documentation site (mkdocs.yml, docs/) builds with `mkdocs build --strict`.

`strict: true` and the `validation:` settings of mkdocs.yml make a broken link, a missing anchor
or a page left out of the nav an error, so these tests fail on any of them. A build takes about
a second and needs no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"


def _build(cwd: Path, site_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's notice, not a warning
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=300,
    )


def _nav_pages(nav) -> list[str]:
    """Every page path in a mkdocs nav (nested lists of strings and {title: page} mappings)."""
    out: list[str] = []
    if isinstance(nav, str):
        out.append(nav)
    elif isinstance(nav, list):
        for item in nav:
            out += _nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            out += _nav_pages(value)
    return out


def test_docs_build_strict(tmp_path):
    done = _build(ROOT, tmp_path / "site")
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr}\n{done.stdout}"
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "model" / "index.html").is_file()


def test_every_page_is_in_the_nav():
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))  # no !!python tags allowed
    assert config["strict"] is True
    nav = [p for p in _nav_pages(config["nav"]) if not p.startswith(("http://", "https://"))]
    pages = sorted(str(p.relative_to(DOCS)).replace(os.sep, "/") for p in DOCS.rglob("*.md"))
    assert sorted(nav) == pages, (
        f"pages missing from the nav: {sorted(set(pages) - set(nav))}; "
        f"nav entries without a page: {sorted(set(nav) - set(pages))}")


@pytest.mark.parametrize("link", ["[gone](missing-page.md)", "[gone](model.md#no-such-anchor)"])
def test_broken_link_fails_the_build(tmp_path, link):
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(CONFIG, tmp_path / "mkdocs.yml")
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + f"\nSee {link}.\n", encoding="utf-8")
    done = _build(tmp_path, tmp_path / "site")
    assert done.returncode != 0, f"a broken link {link} did not fail the strict build"
    assert "missing-page.md" in done.stderr or "no-such-anchor" in done.stderr, done.stderr

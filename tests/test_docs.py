"""The README is a front page that leads into the docs site.

``mkdocs build --strict`` (in ``make test``) checks the links between the pages of ``docs/``;
the README is not one of them, so its own links, size and the two commands are checked here.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def test_the_readme_is_a_front_page_of_at_most_12_kb():
    assert len(README.read_bytes()) <= 12 * 1024


def test_the_readme_names_the_two_commands():
    text = README.read_text()
    assert "make run" in text
    assert "make test" in text


def test_every_relative_link_in_the_readme_leads_to_a_file():
    targets = [t for t in LINK.findall(README.read_text()) if not re.match(r"[a-z]+:", t)]
    assert targets, "the README links to no page of the docs"
    missing = [t for t in targets if not (ROOT / t.split("#")[0]).is_file()]
    assert missing == []


def test_the_readme_shows_a_screenshot_the_browser_tests_write():
    images = [t for t in LINK.findall(README.read_text()) if t.endswith(".png")]
    assert images and all(t.startswith("docs/img/") for t in images), images
    written = (ROOT / "tests" / "browser" / "test_docs_screenshots.py").read_text()
    for image in images:
        stem = Path(image).stem
        assert re.sub(r"-\d+$", "", stem) in written, f"no browser test writes {image}"


def test_every_docs_page_is_in_the_site_navigation():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.SafeLoader)

    def pages(nav) -> set[str]:
        found: set[str] = set()
        for item in nav:
            for value in item.values() if isinstance(item, dict) else [item]:
                found |= pages(value) if isinstance(value, list) else {value}
        return found

    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages(config["nav"]) == on_disk

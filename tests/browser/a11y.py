"""axe-core for the browser tests: the serious and critical violations of the page shown.

axe-core's script comes inside the axe-playwright-python wheel and is injected by Playwright,
so nothing is fetched at test time.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING = {"serious", "critical"}
_axe = Axe()


def violations(page: Page) -> list[dict]:
    """Each violation by rule and impact, with its help text and up to five elements."""
    results = _axe.run(page)
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in results.response["violations"]
    ]


def serious_violations(page: Page) -> list[dict]:
    return [v for v in violations(page) if v["impact"] in BLOCKING]

"""What every template may use: the result vocabulary, so no template spells it out itself."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from heatmap.selectors import NOT_RUN
from heatmap.templatetags.heatmap_tags import LABELS, SYMBOLS
from skillcheck.linter import LINT_RESULTS
from skillcheck.vocabulary import Result

RESULT_KINDS = [{"value": r.value, "symbol": SYMBOLS[r], "label": LABELS[r]} for r in Result]
CELL_KINDS = [
    {"value": str(value), "symbol": SYMBOLS[value], "label": label}
    for value, label in LABELS.items()
]
# The BP matrix's states: the linter's verdicts and "not run" (no lint for the skill).
LINT_KINDS = [kind for kind in CELL_KINDS if kind["value"] in (*LINT_RESULTS, NOT_RUN)]


def vocabulary(request: HttpRequest) -> dict[str, Any]:
    """``result_kinds``: the four verdicts in order; ``cell_kinds``: those and "not run";
    ``lint_kinds``: the states a BP matrix cell can take."""
    return {"result_kinds": RESULT_KINDS, "cell_kinds": CELL_KINDS, "lint_kinds": LINT_KINDS}

"""What every template may use: the result vocabulary, so no template spells it out itself."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from heatmap.templatetags.heatmap_tags import LABELS, SYMBOLS
from skillcheck.vocabulary import Result

RESULT_KINDS = [{"value": r.value, "symbol": SYMBOLS[r], "label": LABELS[r]} for r in Result]
CELL_KINDS = [
    {"value": str(value), "symbol": SYMBOLS[value], "label": label}
    for value, label in LABELS.items()
]


def vocabulary(request: HttpRequest) -> dict[str, Any]:
    """``result_kinds``: the four verdicts in order; ``cell_kinds``: those and "not run"."""
    return {"result_kinds": RESULT_KINDS, "cell_kinds": CELL_KINDS}

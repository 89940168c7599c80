"""Result counts as the heatmap shows them: the count columns and "not run"."""

from __future__ import annotations

from skillcheck.vocabulary import Result

RESULT_ORDER = tuple(Result)  # the overview's count columns
NOT_RUN = "notrun"  # a cell with no result yet (not a verdict)


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(RESULT_ORDER, 0)

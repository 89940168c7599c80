"""Filters the heatmap templates need: result symbols, pass-% colour buckets, Markdown."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from heatmap.markdown import render_markdown
from heatmap.security import public_text
from heatmap.selectors import NOT_RUN
from skillcheck.vocabulary import Result

register = template.Library()

# Each result has a symbol and a label, so cells read without colour too.
SYMBOLS = {Result.PASS: "✓", Result.FAIL: "✗", Result.UNCLEAR: "?", Result.NA: "–", NOT_RUN: "·"}
LABELS = {
    Result.PASS: "pass",
    Result.FAIL: "fail",
    Result.UNCLEAR: "unclear",
    Result.NA: "not applicable",
    NOT_RUN: "not run",
}


@register.filter
def public(text: str) -> str:
    """An error message as pages show it: no server paths, no URL credentials."""
    return public_text(str(text))


@register.filter
def result_symbol(result: str) -> str:
    return SYMBOLS.get(result, "?")


@register.filter
def result_label(result: str) -> str:
    return LABELS.get(result, result)


@register.filter
def pct_bucket(pct: int | None) -> str:
    """A CSS class per 10 % step (``pct-none`` when nothing was scored)."""
    if pct is None:
        return "pct-none"
    return f"pct-{min(int(pct) // 10, 9)}"


@register.filter
def markdown(text: str) -> SafeString:
    return render_markdown(text)


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"

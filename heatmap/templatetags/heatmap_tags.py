"""Filters the heatmap templates need: result symbols, pass-% colour buckets, Markdown."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe

from heatmap.markdown import render_markdown
from heatmap.security import public_text
from heatmap.selectors import NOT_RUN
from skillcheck.citations import find_citations
from skillcheck.results import cost_text
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


@register.simple_tag
def name_url(view_name: str, *names: str) -> str:
    """The URL of the page a name opens (a domain's, a skill's), or "" when a name cannot be
    a path segment: one with a ``/``, or ``.``/``..`` (which browsers resolve away). The
    catalog refuses such ids; one that came in another way (an imported report) is shown
    without a link instead of failing the page (``NoReverseMatch``, a 500)."""
    if any(str(name) in ("", ".", "..") for name in names):
        return ""
    try:
        return reverse(view_name, args=[str(name) for name in names])
    except NoReverseMatch:
        return ""


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


PCT_STEPS = [(f"pct-{i}", f"{i * 10}–{i * 10 + 9}" if i < 9 else "90–100") for i in range(10)]


@register.simple_tag
def pct_steps() -> list[tuple[str, str]]:
    """The pass-% colour steps (CSS class, range) for the legend."""
    return PCT_STEPS


# The answer's closing ```json block (the scores); the prose before it is the analysis.
_JSON_FENCE = re.compile(r"```json[ \t]*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)


@register.filter
def answer_parts(text: str) -> dict[str, str]:
    """Split an answer into its analysis and its raw JSON block (pretty-printed when valid)."""
    text = text or ""
    start = text.rfind("```json")
    match = _JSON_FENCE.match(text, start) if start >= 0 else None
    if match is None:
        return {"analysis": text, "raw": ""}
    raw = match.group("body").strip()
    with contextlib.suppress(ValueError):
        raw = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    return {"analysis": text[:start].rstrip(), "raw": raw}


@register.filter
def get_item(mapping: dict, key: str):
    """``mapping|get_item:key``: a dict lookup with a key templates cannot spell (e.g. "")."""
    return mapping.get(key, "")


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


@register.filter
def usd(cost_usd: float, input_tokens: int = 0) -> str:
    """``{{ run.cost_usd|usd:run.input_tokens }}``: "$0.0123", or "not recorded"."""
    return cost_text(cost_usd, input_tokens)


@register.simple_tag
def cite_links(text: str, skill: str, catalog: str = "", run: str = "") -> SafeString:
    """Untrusted evidence, escaped, with each ``FILE:LINE`` citation a link to that line of
    ``skill``'s file in the skill viewer (``?catalog=`` and ``?run=`` kept)."""
    text = text or ""
    if not skill:
        return conditional_escape(text)
    query = urlencode({k: v for k, v in (("catalog", catalog), ("run", run)) if v})
    parts: list[str] = []
    done = 0
    for citation in find_citations(text):
        try:
            url = reverse("heatmap:skill-file", args=[skill, citation.file])
        except NoReverseMatch:  # a skill name no URL can hold: the citation stays text
            continue
        url += (f"?{query}" if query else "") + f"#{citation.anchor}"
        parts.append(str(conditional_escape(text[done : citation.start])))
        parts.append(
            format_html(
                '<a class="cite" href="{}">{}</a>', url, text[citation.start : citation.end]
            )
        )
        done = citation.end
    parts.append(str(conditional_escape(text[done:])))
    return mark_safe("".join(parts))  # every piece escaped above


# The domain matrix's cells, built here rather than by template loops: a domain holds
# thousands of them and each poll re-sends them all, so every byte counts (issue 22) and so
# does the render. A cell is a link to its detail holding one block per skill, then marks:
#   <td class="g"><a href="…" title="S pass, WS fail (stale)">
#   <b class="p">✓</b><b class="f s">✗</b><i class="d">≠</i></a></td>  (on one line)
# Block classes: p pass, f fail, u unclear, n n/a, x not run; s stale. Marks: d the models
# split pass against fail, k flaky samples. g: the first model's column of a scenario.
# Everything else (colours, the stale corner, the separators) is CSS (static/heatmap/app.css).
BLOCK_CLASS: dict[str, str] = {
    Result.PASS: "p",
    Result.FAIL: "f",
    Result.UNCLEAR: "u",
    Result.NA: "n",
}
BLOCK_CLASS[NOT_RUN] = "x"
TITLE_WORDS: dict[str, str] = {
    **LABELS,
    Result.NA: "n/a",
}  # a tooltip's words: short, the legend says more


def _block_title(result: Any, labelled: bool) -> str:
    """One skill's part of a cell's tooltip: "S pass", "WS fail (stale)"."""
    word = TITLE_WORDS.get(result.result, result.result)
    text = f"{result.label} {word}" if labelled else word
    notes = []
    if result.samples > 1:
        notes.append(f"majority of {result.samples}, {round(100 * result.agreement)}% agree")
    if result.flaky:
        notes.append("flaky")
    if result.stale:
        notes.append("stale")
    return f"{text} ({', '.join(notes)})" if notes else text


@register.simple_tag
def matrix_cell(cell: Any, check_id: str, detail_url: str, pin_qs: str) -> SafeString:
    """One cell of the domain matrix (see above): its link, blocks and marks."""
    labelled = len(cell.results) > 1
    query = urlencode({"scenario": cell.scenario_id, "check": check_id, "clicked": cell.model})
    # Escaped as any attribute, but its "&"s left bare: each is followed by a parameter name,
    # never by a character reference, so the HTML is valid and 4 bytes a link lighter.
    href = mark_safe(escape(f"{detail_url}?{query}{pin_qs}").replace("&amp;", "&"))
    title = ", ".join(_block_title(r, labelled) for r in cell.results)
    blocks = "".join(
        f'<b class="{BLOCK_CLASS.get(r.result, "u")}{" s" if r.stale else ""}">'
        f"{SYMBOLS.get(r.result, '?')}</b>"
        for r in cell.results
    )
    marks = ('<i class="d">≠</i>' if cell.split else "") + (
        '<i class="k">~</i>' if cell.flaky else ""
    )
    return format_html(
        '<td{}><a href="{}" title="{}">{}</a></td>',
        mark_safe(' class="g"') if cell.first_of_scenario else "",
        href,
        title,
        mark_safe(blocks + marks),  # fixed markup: class letters and glyphs only
    )


@register.filter
def block_class(result: str) -> str:
    """A matrix block's class letter (``BLOCK_CLASS``), for the BP matrix's template."""
    return BLOCK_CLASS.get(result, "u")

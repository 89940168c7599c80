"""One view, two answers: the full page, or just its fragment when htmx asks for it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as ``HtmxMiddleware`` leaves it: ``request.htmx`` says what htmx asks for."""

    htmx: HtmxDetails


def poll_seconds() -> int:
    """The poll period while a run is active (5 s; browser tests shorten it)."""
    return settings.HEATMAP_POLL_S


def render_fragment(
    request: HtmxHttpRequest, template: str, context: dict, active: bool
) -> HttpResponse:
    """Full page, or its fragment for htmx; a fragment with no active run stops the polling."""
    context["poll_s"] = poll_seconds()
    if not request.htmx:
        return render(request, template, context)
    response = render(request, f"{template}#{context['fragment']}", context)
    if active:
        return response
    return HttpResponseStopPolling(response.content)

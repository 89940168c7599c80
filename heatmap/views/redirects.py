"""Where a form post goes back to: its ``next`` field when that is on this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest) -> str:
    """The post's ``next`` page; the overview when there is none or it points off this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return reverse("heatmap:overview")


def redirect_back(request: HttpRequest) -> HttpResponseRedirect:
    return redirect(next_url(request))

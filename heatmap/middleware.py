"""The app's middleware: a broken catalog as a page that says what to fix, not as a server
error; a Content-Security-Policy on every response."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from heatmap.security import content_security_policy, public_catalog_error
from skillcheck.catalog import CatalogError


class CatalogErrorMiddleware:
    """The catalog is edited by hand while the app runs; a YAML slip must name file and line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CatalogError):
            return None
        error = public_catalog_error(exception)
        if request.path.startswith("/api/"):
            return JsonResponse({"error": f"catalog unusable: {error}"}, status=503)
        return render(request, "catalog-error.html", {"error": error}, status=503)


class ContentSecurityPolicyMiddleware:
    """Send ``security.CONTENT_SECURITY_POLICY``: a page can run only the app's own scripts.

    The pages show text from outside (skill documents, model answers); it is escaped, and
    this is the second wall should something slip through. Django's debug error pages
    (``DJANGO_DEBUG=1``) are built from inline scripts and styles, so they go without it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code >= 400:
            return response
        response.headers.setdefault(
            "Content-Security-Policy", content_security_policy(request.path)
        )
        return response

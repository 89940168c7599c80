"""Show a broken catalog as a page that says what to fix, not as a server error."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from heatmap.security import public_catalog_error
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

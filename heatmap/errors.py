"""Error handlers: JSON for the API, the styled templates (``templates/4xx.html``) otherwise.

Neither says more than the status: what went wrong inside is in the server's log.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"

_MESSAGES = {
    400: "bad request: too many fields, a body too large, or malformed data",
    403: "forbidden",
    404: "not found",
    500: "server error; the details are in the server's log",
}


def _api(request: HttpRequest, status: int) -> JsonResponse | None:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"error": _MESSAGES[status]}, status=status)
    return None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api(request, 400) or defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api(request, 403) or defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api(request, 404) or defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    return _api(request, 500) or defaults.server_error(request)

"""The app's middleware: a broken catalog as a page that says what to fix, not as a server
error; a Content-Security-Policy on every response; requests carrying a NUL refused; a 503
when no database connection can be had."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.db import OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.log import log_response

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


NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _holds_nul(data: QueryDict) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in data.lists())


class RefuseNulMiddleware:
    """A NUL in the path is a 404 and one in a query parameter or form field a 400, before
    any view or database sees it.

    PostgreSQL refuses NUL in text (``DataError``, a 500 wherever a name from the request
    reaches a query) where SQLite finds nothing; no name, id or value the app uses can hold
    one, so the request is refused as it arrives, the same on both. It is the only
    character PostgreSQL refuses that can arrive: Django decodes paths, queries and forms
    with replacement characters, so no lone surrogate gets through. A cookie holding a NUL
    is dropped (as if it were never sent). JSON bodies are checked where they are read
    (``security.json_loads_bounded``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info or NUL in request.path:
            return self._refuse(request, Http404("not found"))
        if _holds_nul(request.GET) or (
            request.method == "POST"
            and request.content_type in FORM_TYPES
            and _holds_nul(request.POST)
        ):
            return self._refuse(request, BadRequest("bad request: a NUL character (%00)"))
        for name in [n for n, v in request.COOKIES.items() if NUL in n or NUL in v]:
            del request.COOKIES[name]
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, error: Http404 | BadRequest) -> HttpResponse:
        """Under ``/api/`` JSON that says why; elsewhere the styled 404 or 400 page."""
        if request.path.startswith("/api/"):
            status = 404 if isinstance(error, Http404) else 400
            return JsonResponse({"error": str(error)}, status=status)
        raise error


# PostgreSQL's SQLSTATEs for "no room for you now": too_many_connections (max_connections or
# the role's limit reached) and cannot_connect_now (starting up or shutting down).
BUSY_SQLSTATES = frozenset({"53300", "57P03"})
# The same, as libpq words them when a connection is refused before any SQLSTATE is known.
BUSY_MESSAGES = (
    "too many clients",
    "remaining connection slots are reserved",
    "too many connections for role",
    "the database system is starting up",
    "the database system is shutting down",
)


def connections_exhausted(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the database has no connection to spare: the
    pool's timeout or queue limit, or the server's connection limit. Those pass; a 503 says
    so, where any other database error is a bug or an outage (a 500)."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if type(error).__module__.startswith("psycopg_pool") and type(error).__name__ in (
            "PoolTimeout",
            "TooManyRequests",
        ):
            return True
        if getattr(error, "sqlstate", None) in BUSY_SQLSTATES:
            return True
        if any(text in str(error) for text in BUSY_MESSAGES):
            return True
        error = error.__cause__ or error.__context__
    return False


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: JSON under ``/api/``, else a stand-alone page (no database:
    the base template would ask it for the user) that reloads itself once the wait is over."""
    retry_after = settings.SKILLCHECK_DB_RETRY_AFTER_S
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": f"server busy: no database connection free; retry in {retry_after} s"},
            status=503,
        )
    else:
        html = render_to_string("503.html", {"retry_after": retry_after})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    # A warning, not Django's error for a 5xx: refusing work when the database is full is
    # the load shedding it is for, not a fault (at ERROR, AdminEmailHandler would mail
    # every refused request). Logged once: Django's own call then sees it was.
    log_response(
        "Service Unavailable (no database connection free): %s",
        request.path,
        response=response,
        request=request,
        level="warning",
    )
    return response


class DatabaseBusyMiddleware:
    """No database connection free (the pool empty past its timeout, or the server full) is a
    503 with ``Retry-After``, not a 500.

    The request's connection is taken here, before the session, the user or the view asks
    for it: a request the database cannot take now is refused before any work, and the rest
    of the request (same thread) uses the connection taken. Errors from a view (an async one
    included) are caught by ``process_exception``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if not connections_exhausted(exc):
                raise
            return busy_response(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError) and connections_exhausted(exception):
            return busy_response(request)
        return None

"""What the web layer does so that no request, page or error can reach what it should not.

- Request bodies: JSON is parsed with a nesting limit (a 100k-deep body is a 400, not a
  RecursionError), and lists from a request are bounded.
- State-changing API calls need a JSON body or a CSRF token (``json_or_csrf``): a browser
  sends ``application/json`` cross-site only after a CORS preflight, which this app never
  grants, so a cross-site page can send neither.
- Text shown to users (model availability, error messages) goes through ``public_text``,
  which hides filesystem paths and credentials in URLs; error reports (Django's debug page,
  admin e-mails) hide settings holding credentials (``SecretSafeExceptionReporterFilter``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.csrf import csrf_exempt

# A run request is two levels deep; anything far deeper is not a request this app knows.
MAX_JSON_DEPTH = 20
# Longer than any real catalog's domain or model list; an id longer than this is no id.
MAX_LIST_ITEMS = 256
MAX_NAME_CHARS = 200


class BadRequestBody(ValueError):
    """A request body the app refuses, with the HTTP status and a message that says why."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _depth_and_nul(value: Any) -> tuple[int, bool]:
    """Nesting depth of parsed JSON, and whether a key or string holds a NUL, without
    recursion (the parser already bounded it)."""
    deepest, nul, stack = 0, False, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            nul = nul or any("\x00" in key for key in item)
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
        elif isinstance(item, str):
            nul = nul or "\x00" in item
    return deepest, nul


def json_loads_bounded(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that answers a too-deep document, or one holding a NUL (``\\u0000``,
    which PostgreSQL refuses and no name holds), with ``BadRequestBody``, not a crash."""
    too_deep = f"the JSON body is nested too deeply (at most {max_depth} levels)"
    try:
        data = json.loads(raw or b"null")
    except RecursionError:
        raise BadRequestBody(too_deep) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestBody(f"invalid JSON: {exc}") from None
    depth, nul = _depth_and_nul(data)
    if depth > max_depth:
        raise BadRequestBody(too_deep)
    if nul:
        raise BadRequestBody("the JSON body holds a NUL character (\\u0000)")
    return data


def json_body(request: HttpRequest) -> Any:
    """The request's JSON body; 415 unless it is ``application/json``, 400 when malformed."""
    if request.content_type != "application/json":
        raise BadRequestBody(
            "the request body must be JSON (Content-Type: application/json)", status=415
        )
    return json_loads_bounded(request.body)


def bounded_names(values: list[str], what: str) -> list[str]:
    """A list of names from a request, refused when longer than any catalog could need."""
    if len(values) > MAX_LIST_ITEMS:
        raise BadRequestBody(f"too many {what}: {len(values)} (at most {MAX_LIST_ITEMS})")
    for value in values:
        if len(value) > MAX_NAME_CHARS:
            raise BadRequestBody(f"a name in {what} is too long (at most {MAX_NAME_CHARS} chars)")
    return values


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    """Django's own CSRF check (token, Origin and Referer), run for one view."""
    return CsrfViewMiddleware(_no_view).process_view(request, _no_view, (), {})


def _no_view(request: HttpRequest) -> HttpResponse:
    """Stands in for the view in the CSRF check (the real one is ``csrf_exempt``)."""
    return HttpResponse()


def json_or_csrf(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A state-changing API view: the request sends JSON, or it passes the CSRF check.

    A cross-site page can send a form or a bodiless POST without a preflight, never
    ``application/json``; scripts send JSON (and, in team mode, a Bearer token), the app's
    own pages send their CSRF token.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.content_type != "application/json" and _csrf_refusal(request) is not None:
            message = "send Content-Type: application/json (a JSON body), or a CSRF token"
            return JsonResponse({"error": message}, status=403)
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapper)


# The pages load scripts and styles only from the app's own static files (htmx and its
# WebSocket extension included: django-htmx serves them), with no inline script, style or
# eval; htmx calls and the progress WebSocket go back to the same host ('self' covers ws:
# and wss: there). The empty favicon is a data: URL. No page may be framed.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Django's admin changelist carries one inline <style> block; its pages may apply inline
# styles, never inline scripts.
ADMIN_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def content_security_policy(path: str, *, admin_prefix: str = "/admin/") -> str:
    """The Content-Security-Policy header for a response to ``path``."""
    return (
        ADMIN_CONTENT_SECURITY_POLICY if path.startswith(admin_prefix) else CONTENT_SECURITY_POLICY
    )


_URL_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]+@", re.IGNORECASE)
_URL_QUERY = re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s?'\"]*)\?[^\s'\"]*", re.IGNORECASE)
# An absolute or home-relative path with at least one folder: "/usr/bin/claude", "~/x/y",
# "C:\\x\\y"; not a bare command name and not the path part of a URL (preceded by a host).
_PATH = re.compile(
    r"(?<![\w/.:~-])(?:~|[A-Za-z]:)?[/\\](?:[^\s/\\'\",;()<>]+[/\\])+[^\s/\\'\",;()<>]*"
)
HIDDEN_PATH = "[path hidden]"


def public_text(text: str) -> str:
    """Text for a page or an API answer, with paths and URL credentials taken out.

    The engine's messages are written for the person at the terminal (``--list-models``
    names the CLI's path); a shared web page must not show the server's layout or a
    credential embedded in ``ANTHROPIC_BASE_URL``.
    """
    text = _URL_USERINFO.sub(r"\1***@", text)
    text = _URL_QUERY.sub(r"\1?***", text)
    return _PATH.sub(HIDDEN_PATH, text)


def public_model_choices() -> list:
    """``model_choices()`` with each reason made safe to show (see ``public_text``)."""
    from heatmap.services.auditors import model_choices

    return [replace(c, reason=public_text(c.reason)) for c in model_choices()]


def public_catalog_warnings(catalog: Any) -> list[str]:
    """The catalog's warnings (what it skipped) for a page or an API answer.

    They name their file with its full path, right for a terminal; here the path is made
    relative to the catalog, which says as much, and any other path is hidden.
    """
    root = f"{catalog.root}/"
    return [public_text(warning.replace(root, "")) for warning in catalog.warnings]


def public_catalog_error(error: Any) -> str:
    """A ``CatalogError`` for a page or an API answer: files named relative to the catalog.

    The message names files with their full paths, right for a terminal; on a page a team
    can see, the catalog's files are named as in the catalog and any other path is hidden.
    """
    text = str(error)
    root = getattr(error, "root", None)
    if root is not None:
        text = text.replace(f"{root}/", "")
    return public_text(text)


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding URL settings and credentials inside any URL value.

    Django hides settings named like API/KEY/TOKEN/PASS, but ``ANTHROPIC_BASE_URL`` or a
    Redis address may carry ``user:password@`` and would be printed on the debug page.
    """

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|_URL$|ADDRESS",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str) and cleansed != self.cleansed_substitute:
            return _URL_QUERY.sub(r"\1?***", _URL_USERINFO.sub(r"\1***@", cleansed))
        return cleansed

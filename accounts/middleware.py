"""Team mode: every page, API call and WebSocket needs a signed-in user or an API token.

Both checks read ``settings.SKILLCHECK_REQUIRE_LOGIN`` on each request; in local mode (the
default, loopback only) they do nothing, so views never need to know which mode is on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django_htmx.http import HttpResponseClientRedirect

from accounts.services import api_token_authenticate

API_PREFIX = "/api/"
BEARER = "bearer "
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="skillcheck"'}


def _bearer(value: str) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, else None."""
    if value[: len(BEARER)].lower() != BEARER:
        return None
    return value[len(BEARER) :].strip()


class ApiTokenMiddleware:
    """``Authorization: Bearer TOKEN`` signs the request in as the token's user.

    A token that is unknown, revoked or belongs to an inactive user is a 401 at once, on
    any address: a script learns that its token is dead rather than being sent to a login
    page. Local mode ignores the header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _bearer(request.headers.get("Authorization", ""))
        if token is not None and settings.SKILLCHECK_REQUIRE_LOGIN:
            row = api_token_authenticate(token=token)
            if row is None:
                return JsonResponse(
                    {"error": "invalid or revoked API token"}, status=401, headers=WWW_AUTHENTICATE
                )
            request.user = row.user
        return self.get_response(request)


class TeamLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's login-required middleware, in team mode only: 401 JSON under ``/api/``,
    an htmx redirect for htmx requests (a poll after the session ended), else the login page.
    """

    def process_view(self, request, view_func, view_args, view_kwargs) -> HttpResponseBase | None:
        if not settings.SKILLCHECK_REQUIRE_LOGIN:
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    # Django's base returns a redirect; under /api/ this answers 401 JSON instead.
    def handle_no_permission(self, request, view_func) -> HttpResponse:  # type: ignore[override]
        if request.path.startswith(API_PREFIX):
            message = (
                "sign in, or send 'Authorization: Bearer TOKEN' "
                "(manage.py create_api_token USERNAME)"
            )
            return JsonResponse(
                {"error": f"authentication required: {message}"},
                status=401,
                headers=WWW_AUTHENTICATE,
            )
        response = super().handle_no_permission(request, view_func)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(response["Location"])
        return response


@database_sync_to_async
def _token_user(token: str) -> Any:
    row = api_token_authenticate(token=token)
    return row.user if row else None


class WebsocketLoginRequiredMiddleware(BaseMiddleware):
    """In team mode a WebSocket opens only for a signed-in user (the session cookie, set by
    ``AuthMiddlewareStack`` around this) or a Bearer token; anything else is closed."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or not settings.SKILLCHECK_REQUIRE_LOGIN:
            return await super().__call__(scope, receive, send)
        headers = dict(scope.get("headers", []))
        token = _bearer(headers.get(b"authorization", b"").decode("latin-1"))
        if token is not None:
            user = await _token_user(token)
            scope = {**scope, "user": user}
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            return await WebsocketDenier.as_asgi()(scope, receive, send)
        return await super().__call__(scope, receive, send)

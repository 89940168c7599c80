"""The sign-in page, with failed attempts limited per account and client address."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

KEY_PREFIX = "accounts:login-failures"


def login_username_normalized(raw: str, form_class) -> str:
    """The username as the sign-in form hands it to the authentication backend (stripped,
    then NFKC: ``alice ``, ``\\talice`` and full-width ``ａlice`` are all ``alice``), case-folded.

    The throttle keys on this, not on the raw POST value, so that no spelling the form
    accepts as the same account gets a budget of its own.
    """
    field = form_class.base_fields["username"]
    try:
        value = field.to_python(raw)
    except Exception:  # a value the field refuses is never checked against a password
        value = raw
    return str(value or "").casefold()[:150]


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _account_key(request: HttpRequest, username: str) -> str:
    # Hashed: a username may hold anything, a cache key may not (memcached: no spaces).
    digest = hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]
    return f"{KEY_PREFIX}:account:{_address(request)}:{digest}"


def _address_key(request: HttpRequest) -> str:
    return f"{KEY_PREFIX}:address:{_address(request)}"


def _count(key: str, window: int) -> None:
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)


class ThrottledLoginView(LoginView):
    """Django's login view with two budgets of wrong passwords within
    ``SKILLCHECK_LOGIN_WINDOW_S``: ``SKILLCHECK_LOGIN_MAX_FAILURES`` per normalized username
    and client address, and ``SKILLCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS`` per client address
    over all usernames. Past either, attempts are refused (429) without checking the
    password, until the window has passed."""

    # False: a signed-in user sent here by a page their account cannot open (the admin, for
    # a user who is not staff) sees why, instead of bouncing between the two pages.
    redirect_authenticated_user = False

    def _username(self) -> str:
        return login_username_normalized(
            str(self.request.POST.get("username", "")), self.get_form_class()
        )

    def _throttled(self) -> bool:
        request = self.request
        return (
            cache.get(_account_key(request, self._username()), 0)
            >= settings.SKILLCHECK_LOGIN_MAX_FAILURES
            or cache.get(_address_key(request), 0)
            >= settings.SKILLCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self._throttled():
            # An unbound form: a bound one would check the password while rendering its errors.
            context = self.get_context_data(
                form=self.get_form_class()(request),
                throttled=True,
                window_minutes=max(1, settings.SKILLCHECK_LOGIN_WINDOW_S // 60),
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        window = settings.SKILLCHECK_LOGIN_WINDOW_S
        _count(_account_key(self.request, self._username()), window)
        _count(_address_key(self.request), window)
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        # Only this account's count: the address's count stays, so one known password does
        # not reset a budget spent guessing others.
        cache.delete(_account_key(self.request, self._username()))
        return super().form_valid(form)

"""The sign-in page, with failed attempts limited per account and client address."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def _failures_key(request: HttpRequest) -> str:
    username = str(request.POST.get("username", ""))[:150].lower()
    return f"accounts:login-failures:{request.META.get('REMOTE_ADDR', '')}:{username}"


class ThrottledLoginView(LoginView):
    """Django's login view; after ``SKILLCHECK_LOGIN_MAX_FAILURES`` wrong passwords for one
    username from one address within ``SKILLCHECK_LOGIN_WINDOW_S``, further attempts are
    refused (429) without checking the password, until the window has passed."""

    # False: a signed-in user sent here by a page their account cannot open (the admin, for
    # a user who is not staff) sees why, instead of bouncing between the two pages.
    redirect_authenticated_user = False

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if cache.get(_failures_key(request), 0) >= settings.SKILLCHECK_LOGIN_MAX_FAILURES:
            # An unbound form: a bound one would check the password while rendering its errors.
            context = self.get_context_data(
                form=self.get_form_class()(request),
                throttled=True,
                window_minutes=max(1, settings.SKILLCHECK_LOGIN_WINDOW_S // 60),
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        key = _failures_key(self.request)
        window = settings.SKILLCHECK_LOGIN_WINDOW_S
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=window)
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        cache.delete(_failures_key(self.request))
        return super().form_valid(form)

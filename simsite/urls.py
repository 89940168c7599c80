from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import ThrottledLoginView
from heatmap import openapi

urlpatterns = [
    # One sign-in page for the app and the admin, so both share its limit on failed attempts.
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="login", query_string=True)),
    ),
    path("admin/", admin.site.urls),
    # Sign in and out (team mode needs them; in local mode they serve the admin's accounts).
    path(
        "accounts/login/",
        ThrottledLoginView.as_view(),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The JSON API, its OpenAPI schema (/api/schema/) and docs (/api/docs/): heatmap/openapi.py.
    path("api/", openapi.urls),
    path("", include("heatmap.urls")),
]

handler400 = "heatmap.errors.bad_request"
handler403 = "heatmap.errors.permission_denied"
handler404 = "heatmap.errors.page_not_found"
handler500 = "heatmap.errors.server_error"

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign in and out (team mode needs them; in local mode they serve the admin's accounts).
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("heatmap.urls")),
]

handler400 = "heatmap.errors.bad_request"
handler403 = "heatmap.errors.permission_denied"
handler404 = "heatmap.errors.page_not_found"
handler500 = "heatmap.errors.server_error"

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("heatmap.urls")),
]

handler400 = "heatmap.errors.bad_request"
handler403 = "heatmap.errors.permission_denied"
handler404 = "heatmap.errors.page_not_found"
handler500 = "heatmap.errors.server_error"

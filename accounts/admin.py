"""API tokens in the admin: list, revoke. New ones come from ``manage.py create_api_token``,
the only place their value is ever shown."""

from __future__ import annotations

from django.contrib import admin, messages

from accounts.models import ApiToken
from accounts.services import api_tokens_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    fields = readonly_fields = (
        "user",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        count = api_tokens_revoke(tokens=queryset)
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

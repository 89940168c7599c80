from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def mode(request: HttpRequest) -> dict:
    """Whether pages show the signed-in user and a sign-out button (team mode)."""
    return {"team_mode": settings.SKILLCHECK_REQUIRE_LOGIN}

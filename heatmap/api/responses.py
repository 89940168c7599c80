"""The API's error answer: ``{"error": …}`` with its status, without paths or credentials."""

from __future__ import annotations

from django.http import JsonResponse

from heatmap.security import public_text


def error_response(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": public_text(message)}, status=status)

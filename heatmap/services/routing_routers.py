"""The routers of a routing run, from the model providers' settings."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from heatmap.services.auditors import auditor_config
from heatmap.services.plans import RunRequestError
from skillcheck.routing.routers import (
    Router,
    UnknownRouter,
    make_routers,
)


def routing_routers(
    *, models: Sequence[str], descriptions: dict[str, str], system: str | None = None
) -> dict[str, Router]:
    """A router per model name; ``RunRequestError`` for a name that cannot route."""
    threshold = settings.SKILLCHECK_LEXICAL_THRESHOLD
    try:
        return make_routers(
            list(models), descriptions, auditor_config(), lexical_threshold=threshold, system=system
        )
    except UnknownRouter as exc:
        raise RunRequestError(str(exc)) from None

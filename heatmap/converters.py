"""URL converters: a run id in a path matches the run id rule, or the URL is a 404.

So a malformed id (a ``/``, a NUL, 10,000 characters) never reaches a view or the database,
where PostgreSQL would refuse a NUL with an error (a 500) instead of finding nothing.
"""

from __future__ import annotations

from django.urls import register_converter

from skillcheck.runids import RUN_ID_REGEX, validate_run_id


class RunIdConverter:
    regex = RUN_ID_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return validate_run_id(value)  # a ValueError makes reverse() fail, as Django expects


# Registered once, on first import (by the URL and WebSocket routes): ``<run_id:run_id>``.
register_converter(RunIdConverter, "run_id")

"""Type and range checks for a report read from disk: a file is data from outside.

A report may come from another machine, an older version, or someone who edited it. Before
any of it is used, every field is checked against what the report format allows and what
the database can hold (lengths of names, 32-bit token counts on PostgreSQL, finite numbers),
so a bad file is refused with the field and the reason instead of failing half-way through
an import. ``ReportFieldError`` names the field as a path: ``results[3].cost_info.input_tokens``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from skillcheck.runids import RunIdError, validate_run_id

MAX_INT32 = 2**31 - 1
MAX_CONCURRENCY = 64  # as skillcheck.runs.engine.MAX_CONCURRENCY (not imported: no engine cycle)
MAX_EPOCHS = 10  # as skillcheck.results.MAX_EPOCHS
MAX_DURATION_S = 10.0**7
MAX_COST_USD = 10.0**6
MAX_LIST = 10_000
# Column sizes of the database (heatmap.models), which PostgreSQL enforces and SQLite does not.
MAX_LENGTH = {
    "scenario_id": 200,
    "skill": 200,
    "domain": 200,
    "model": 100,
    "risk_level": 16,
    "check_id": 32,
    "result": 16,
    "catalog_path": 1024,
    "catalog_fingerprint": 64,
    "note": 1000,
}


class ReportFieldError(ValueError):
    """One field of a report has the wrong type or is out of range."""


def _fail(where: str, value: Any, problem: str) -> ReportFieldError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ReportFieldError(f"{where}: {shown} {problem}")


def _text(data: Mapping[str, Any], name: str, where: str, *, required: bool = False) -> None:
    value = data.get(name)
    path = f"{where}{name}"
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value):
        raise _fail(path, value, "is not a non-empty string" if required else "is not a string")
    limit = MAX_LENGTH.get(name)
    if limit is not None and len(value) > limit:
        raise _fail(path, value, f"is longer than {limit} characters")


def _integer(data: Mapping[str, Any], name: str, where: str, low: int, high: int) -> None:
    value = data.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"{where}{name}", value, "is not an integer")
    if not low <= value <= high:
        raise _fail(f"{where}{name}", value, f"is out of range ({low} to {high})")


def _number(data: Mapping[str, Any], name: str, where: str, high: float) -> None:
    value = data.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{where}{name}", value, "is not a number")
    if not math.isfinite(value) or not 0 <= value <= high:
        raise _fail(f"{where}{name}", value, f"is out of range (0 to {high:g})")


def _string_list(data: Mapping[str, Any], name: str, item_limit: int) -> None:
    value = data.get(name)
    if value is None:
        return
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise _fail(name, value, f"is not a list of at most {MAX_LIST} strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or len(item) > item_limit:
            raise _fail(
                f"{name}[{index}]", item, f"is not a string of 1 to {item_limit} characters"
            )


def _run_id(data: Mapping[str, Any], name: str, where: str = "") -> None:
    value = data.get(name)
    if value in (None, ""):
        return
    try:
        validate_run_id(value)
    except RunIdError as exc:
        raise ReportFieldError(f"{where}{name}: {exc}") from None


def check_metadata(metadata: Mapping[str, Any]) -> None:
    """The report's own fields: run id, models, domains, counts, paths, times, settings."""
    _run_id(metadata, "run_id")
    _string_list(metadata, "models", MAX_LENGTH["model"])
    _string_list(metadata, "domains", MAX_LENGTH["domain"])
    _integer(metadata, "concurrency", "", 1, MAX_CONCURRENCY)
    _integer(metadata, "epochs", "", 1, MAX_EPOCHS)
    for name in ("total", "result_count", "completed", "failed"):
        _integer(metadata, name, "", 0, MAX_INT32)
    for name in ("model", "catalog_path", "catalog_fingerprint", "status", "error"):
        _text(metadata, name, "")
    for name in ("generated", "timestamp", "started_at", "finished_at"):
        _text(metadata, name, "")
    for name in ("use_cache", "batch"):
        if metadata.get(name) is not None and not isinstance(metadata[name], bool):
            raise _fail(name, metadata[name], "is not true or false")
    isolation = metadata.get("isolation")
    if isolation is not None and not isinstance(isolation, dict):
        raise _fail("isolation", isolation, "is not an object")


def check_row(row: Mapping[str, Any], where: str) -> None:
    """One result (after older layouts were brought to the current one)."""
    _text(row, "scenario_id", where, required=True)
    _text(row, "skill", where, required=True)
    for name in ("model", "domain", "risk_level", "markdown_response", "finished_at"):
        _text(row, name, where)
    error = row.get("error")
    if error is not None and not isinstance(error, str | dict | list | bool):
        raise _fail(f"{where}error", error, "is not text")
    _integer(row, "epoch", where, 1, MAX_EPOCHS)
    _number(row, "duration_s", where, MAX_DURATION_S)
    _run_id(row, "cached_from", where)
    fingerprint = row.get("fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, dict):
        raise _fail(f"{where}fingerprint", fingerprint, "is not an object")
    cost = row.get("cost_info")
    if cost is not None:
        if not isinstance(cost, dict):
            raise _fail(f"{where}cost_info", cost, "is not an object")
        for name in ("input_tokens", "output_tokens"):
            _integer(cost, name, f"{where}cost_info.", 0, MAX_INT32)
        _number(cost, "cost_usd", f"{where}cost_info.", MAX_COST_USD)
        _text(cost, "note", f"{where}cost_info.")
    checks = row.get("checks")
    if checks is None:
        return
    if not isinstance(checks, list) or len(checks) > MAX_LIST:
        raise _fail(f"{where}checks", checks, f"is not a list of at most {MAX_LIST} checks")
    for index, check in enumerate(checks):
        at = f"{where}checks[{index}]"
        if not isinstance(check, dict):
            raise _fail(at, check, "is not an object")
        _text(check, "check_id", f"{at}.", required=True)
        for name in ("result", "evidence", "summary"):
            _text(check, name, f"{at}.")

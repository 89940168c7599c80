"""Run ids: the one rule for what a run id may be, used wherever one comes in.

A run id names a report file (``scored_run_{run_id}.json``), appears in URLs and command
lines, and comes from users, scripts and imported files. So it is short and made of a safe
alphabet: ASCII letters and digits first, then also ``.``, ``_`` and ``-``; no ``/``, no NUL,
no leading ``-`` (an option to a command) or ``.`` (a hidden file, ``..``).
"""

from __future__ import annotations

import re
from typing import Any

RUN_ID_MAX_LENGTH = 64
RUN_ID_REGEX = rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{RUN_ID_MAX_LENGTH - 1}}}"
RUN_ID_RULE = (
    f"1 to {RUN_ID_MAX_LENGTH} characters: ASCII letters, digits, '.', '_' and '-', "
    "starting with a letter or digit"
)
_RUN_ID = re.compile(RUN_ID_REGEX)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class RunIdError(ValueError):
    """A run id breaks the rule; the message quotes it (safely) and states the rule."""


def is_valid_run_id(value: Any) -> bool:
    return isinstance(value, str) and _RUN_ID.fullmatch(value) is not None


def validate_run_id(value: Any) -> str:
    """``value`` if it is a valid run id, else ``RunIdError``."""
    if is_valid_run_id(value):
        return value
    shown = repr(value)
    if len(shown) > RUN_ID_MAX_LENGTH + 10:
        shown = shown[: RUN_ID_MAX_LENGTH + 6] + "…"
    raise RunIdError(f"invalid run id {shown}: a run id has {RUN_ID_RULE}")


def run_id_from_text(text: str, *, prefix: str = "") -> str:
    """A valid run id made from arbitrary text (a file name): unsafe runs become ``-``."""
    cleaned = _UNSAFE.sub("-", f"{prefix}{text}").lstrip("._-")
    cleaned = cleaned[:RUN_ID_MAX_LENGTH].rstrip("._-")
    return cleaned or "run"


def run_id_with_suffix(run_id: str, suffix: str) -> str:
    """``{run_id}{suffix}``, the id shortened so that the whole stays within the limit."""
    return f"{run_id[: RUN_ID_MAX_LENGTH - len(suffix)].rstrip('._-')}{suffix}"

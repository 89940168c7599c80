"""The words results are made of, defined once: a check's verdict and a check's severity.

Both are ``StrEnum``: a member equals its string (``Result.PASS == "pass"``), so it goes into
JSON, the database and templates unchanged, and older code comparing with strings still works.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Result(StrEnum):
    """A check's verdict. ``NA`` is not scored: it counts neither for nor against a skill."""

    PASS = "pass"
    FAIL = "fail"
    UNCLEAR = "unclear"
    NA = "na"

    @classmethod
    def parse(cls, value: Any) -> Result:
        """A verdict from untrusted text (any case, padded); anything else is ``UNCLEAR``."""
        text = value.strip().lower() if isinstance(value, str) else ""
        return cls(text) if text in cls._value2member_map_ else cls.UNCLEAR


# A verdict that lost a pass: what a comparison counts as a regression.
LOST = (Result.FAIL, Result.UNCLEAR)


class Severity(StrEnum):
    """How much a failed check matters, from least to most (the one ranking order)."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """0 for LOW up to 3 for CRITICAL: sort with ``-rank`` for most severe first."""
        return _SEVERITY_RANKS[self]

    @classmethod
    def rank_of(cls, value: Any) -> int:
        """The rank of a severity given as text; -1 (below LOW) for anything unknown."""
        member = cls._value2member_map_.get(value)
        return _SEVERITY_RANKS[member] if isinstance(member, Severity) else -1


_SEVERITY_RANKS = {severity: rank for rank, severity in enumerate(Severity)}

# An answer's overall risk is a severity, or UNKNOWN when the answer did not say.
UNKNOWN_RISK = "UNKNOWN"

"""How many API calls may be in flight at once, adapted to what the account answers.

A run starts at its configured concurrency. A 429 (rate limited) lowers the limit to the
calls still in flight once the rejected one has left (what the server evidently accepts),
at most halving it at once; a 529 (overloaded) halves it. Growth waits a quiet spell (the
``retry-after``, at least a second). Each success then
adds ``1 / limit`` (one more slot per round of successes) up to the configured ceiling.
``anthropic-ratelimit-*`` headers that say a budget is spent pause every new call until
that budget's reset time. The call that was rejected waits its ``retry-after`` and tries
again; such retries do not count as attempts (see ``retry.call_with_retries``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

RATELIMIT_BUDGETS = ("requests", "tokens", "input-tokens", "output-tokens")
QUIET_AFTER_LIMIT_S = 1.0  # no growth for this long (or the retry-after) after a 429/529
MAX_PAUSE_S = 60.0


def _reset_in_s(value: str | None, now: datetime) -> float | None:
    """Seconds until an RFC 3339 reset time from an ``anthropic-ratelimit-*-reset`` header."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now).total_seconds(), 0.0)


def spent_budget_pause_s(headers: Mapping[str, str] | None) -> float | None:
    """How long to hold new calls when a header says a budget has nothing left, else None."""
    if not headers:
        return None
    now = datetime.now(UTC)
    pause = None
    for budget in RATELIMIT_BUDGETS:
        remaining = headers.get(f"anthropic-ratelimit-{budget}-remaining")
        if remaining is None:
            continue
        try:
            if int(float(remaining)) > 0:
                continue
        except ValueError:
            continue
        wait = _reset_in_s(headers.get(f"anthropic-ratelimit-{budget}-reset"), now)
        if wait is not None:
            pause = max(pause or 0.0, min(wait, MAX_PAUSE_S))
    return pause


class AdaptiveLimit:
    """A counting gate whose size follows the account: shared by every call to one account."""

    def __init__(self, ceiling: int = 3, *, clock: Callable[[], float] = time.monotonic):
        self.ceiling = max(int(ceiling), 1)
        self.limit = float(self.ceiling)
        self.in_flight = 0
        self.paused_until = 0.0
        self.quiet_until = 0.0
        self.lowest = self.limit
        self.throttled = 0  # 429/529 answers seen
        self._clock = clock
        self._cond = threading.Condition()

    def configure(self, ceiling: int) -> None:
        """A run's concurrency: the starting limit and the most it grows back to."""
        with self._cond:
            self.ceiling = max(int(ceiling), 1)
            self.limit = self.lowest = float(self.ceiling)
            self._cond.notify_all()

    def acquire(self) -> None:
        with self._cond:
            while True:
                now = self._clock()
                if now < self.paused_until:
                    self._cond.wait(self.paused_until - now)
                elif self.in_flight >= int(self.limit):
                    self._cond.wait(1.0)
                else:
                    self.in_flight += 1
                    return

    def release(
        self,
        *,
        throttled: bool = False,
        overloaded: bool = False,
        retry_after_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Give the slot back and learn from the answer (``throttled``: a 429 or 529)."""
        pause = spent_budget_pause_s(headers)
        with self._cond:
            self.in_flight -= 1
            now = self._clock()
            if throttled:
                self.throttled += 1
                # A 429: the calls still out once the rejected one has left are what the
                # server evidently accepts; never more than halve at once, since calls that
                # wait out a retry-after are not counted there. A 529: halve.
                accepted = self.limit * 0.5 if overloaded else max(self.in_flight, self.limit * 0.5)
                self.limit = max(1.0, min(self.limit, accepted))
                self.lowest = min(self.lowest, self.limit)
                self.quiet_until = now + max(retry_after_s or 0.0, QUIET_AFTER_LIMIT_S)
            elif now >= self.quiet_until and self.limit < self.ceiling:
                self.limit = min(self.ceiling, self.limit + 1.0 / self.limit)
            if pause:
                self.paused_until = max(self.paused_until, now + pause)
            self._cond.notify_all()

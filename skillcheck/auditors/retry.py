"""Bounded retries with exponential backoff and full jitter, shared by the CLI and the API.

A single provider call raises ``CallFailed`` with ``transient`` telling whether trying again
can help (429, 529, 5xx, timeouts, dropped connections) or not (400, 401, 404, bad output).
``call_with_retries`` turns that into either a value or the last failure plus the attempt
count, and never sleeps longer than the policy's cap (or a server's ``retry-after``).
A failure that is ``throttled`` (429 rate limited, 529 overloaded) is retried without counting
as an attempt: rate limiting alone never fails a task, it only slows it down.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_RETRY_AFTER_S = 60.0


class CallFailed(Exception):
    """One failed provider call: a short summary, optional detail, and whether to retry."""

    def __init__(
        self,
        summary: str,
        detail: str = "",
        *,
        transient: bool,
        retry_after_s: float | None = None,
        throttled: bool = False,
    ):
        self.summary = summary
        self.detail = detail
        self.transient = transient or throttled
        self.retry_after_s = retry_after_s
        self.throttled = throttled
        super().__init__(f"{summary}: {detail}" if detail else summary)


@dataclass
class RetryPolicy:
    """``max_retries`` retries after the first attempt, so at most ``max_retries + 1`` calls."""

    max_retries: int = 3
    base_s: float = 1.0
    cap_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry_number: int, retry_after_s: float | None = None) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**n)], or what the server asked for."""
        if retry_after_s is not None and retry_after_s >= 0:
            return min(retry_after_s, MAX_RETRY_AFTER_S)
        ceiling = min(self.cap_s, self.base_s * (2**retry_number))
        return self.rng.uniform(0.0, max(ceiling, 0.0))


@dataclass
class Outcome(Generic[T]):
    value: T | None
    failure: CallFailed | None
    attempts: int
    throttled: int = 0  # rate-limited answers retried on top of the attempts


def call_with_retries(call: Callable[[], T], policy: RetryPolicy) -> Outcome[T]:
    attempts = throttled = 0
    while True:
        attempts += 1
        try:
            return Outcome(call(), None, attempts, throttled)
        except CallFailed as failure:
            if failure.throttled:
                policy.sleep(policy.delay(min(throttled, 5), failure.retry_after_s))
                attempts -= 1
                throttled += 1
                continue
            if not failure.transient or attempts > policy.max_retries:
                return Outcome(None, failure, attempts, throttled)
            policy.sleep(policy.delay(attempts - 1, failure.retry_after_s))

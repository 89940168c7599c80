"""In-process auditors for run tests (instant, slow, failing, hanging; no network, no CLI), and
``run_scored`` called in this process."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable

from django.core.management import call_command

from skillcheck.auditors.base import AuditRequest, AuditResponse, Availability


def answer_text(request: AuditRequest, result: str = "pass", padding: int = 0) -> str:
    checks = {
        c.id: {"result": result, "evidence": "SKILL.md:1", "summary": "ok"}
        for c in request.taxonomy.model_checks
    }
    body = json.dumps({"risk_level": "LOW", "checks": checks})
    return f"## Verdict\nFine.{' ' * padding}\n\n```json\n{body}\n```\n"


class StubAuditor:
    """Answers every check with ``result`` after ``delay_s``; counts and records its calls."""

    def __init__(
        self,
        name: str = "stub",
        *,
        delay_s: float = 0.0,
        result: str = "pass",
        padding: int = 0,
        fail_on: Callable[[AuditRequest], bool] | None = None,
        hang_on: Callable[[AuditRequest], bool] | None = None,
        available: bool = True,
    ) -> None:
        self.name = name
        self.delay_s = delay_s
        self.result = result
        self.padding = padding
        self.fail_on = fail_on
        self.hang_on = hang_on
        self.available = available
        self.calls: list[tuple[str, str]] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.active = 0
        self.max_active = 0

    def availability(self) -> Availability:
        if self.available:
            return Availability(True, via="offline")
        return Availability(False, reason=f"{self.name} is switched off for this test")

    def audit(self, request: AuditRequest) -> AuditResponse:
        with self._lock:
            self.calls.append((request.scenario.id, request.skill.name))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.hang_on is not None and self.hang_on(request):
                self.release.wait(30)
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.fail_on is not None and self.fail_on(request):
                raise RuntimeError(f"boom on {request.scenario.id}")
            return AuditResponse(
                text=answer_text(request, self.result, self.padding),
                duration_s=self.delay_s,
                input_tokens=100,
                output_tokens=50,
                cost_usd=0.001,
            )
        finally:
            with self._lock:
                self.active -= 1


def run_scored(*args: str) -> str:
    """``manage.py run_scored ARGS`` in this process; returns what it printed (both streams)."""
    out = io.StringIO()
    call_command("run_scored", *args, stdout=out, stderr=out)
    return out.getvalue()

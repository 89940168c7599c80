"""Test doubles for the model providers: a fake ``claude`` executable and an API stub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skillcheck.auditors.base import AuditRequest
from skillcheck.catalog import Catalog, Scenario
from skillcheck.prompt import build_system_prompt, build_user_prompt

FAKE_CLAUDE = Path(__file__).resolve().parent / "fake_claude"


def install_fake_claude(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Link the fake as ``claude`` in ``bin_dir``, put that first on PATH, return its path.

    Any FAKE_CLAUDE_* variable from the outer environment is cleared, and failure counters
    go to a folder of this test's own.
    """
    for name in [n for n in os.environ if n.startswith("FAKE_CLAUDE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FAKE_CLAUDE_STATE_DIR", str(bin_dir / "fake_claude_state"))
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / "claude"
    if not link.exists():
        link.symlink_to(FAKE_CLAUDE)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return link


def audit_request(catalog: Catalog, scenario: Scenario) -> AuditRequest:
    """What the engine hands an auditor for ``scenario`` and its specialist skill."""
    skill = catalog.skills[scenario.specialist]
    return AuditRequest(
        scenario=scenario,
        skill=skill,
        taxonomy=catalog.taxonomy,
        system_prompt=build_system_prompt(catalog.taxonomy),
        user_prompt=build_user_prompt(scenario, skill),
    )

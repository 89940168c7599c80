"""Test doubles for the model providers: a fake ``claude`` executable and an API stub."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from skillcheck.auditors.base import AuditRequest
from skillcheck.auditors.config import AuditorConfig
from skillcheck.catalog import Catalog, Scenario
from skillcheck.prompt import build_system_prompt, build_user_prompt

FAKE_CLAUDE = Path(__file__).resolve().parent / "fake_claude"
API_MODELS = {"sonnet": "claude-sonnet-4-6", "haiku": "claude-haiku-4-5"}


def stub_config(base_url: str, **overrides: Any) -> AuditorConfig:
    """Auditor settings that send the Claude models to the API stub at ``base_url``: a test
    key, no CLI, a 10 s timeout, no retries unless asked (then with a short backoff)."""
    values: dict[str, Any] = {
        "models": dict(API_MODELS),
        "anthropic_api_key": "sk-test-key",
        "anthropic_base_url": base_url,
        "max_retries": 0,
        "backoff_base_s": 0.01,
        "backoff_cap_s": 0.05,
        "timeout_s": 10,
        "claude_bin": "no-such-claude-binary",
    }
    return AuditorConfig(**{**values, **overrides})


def install_fake_claude(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake as ``claude`` in ``bin_dir``, that folder first on PATH; returns its path.

    Any FAKE_CLAUDE_* variable from the outer environment is cleared, and failure counters
    go to a folder of this test's own.
    """
    for name in [n for n in os.environ if n.startswith("FAKE_CLAUDE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FAKE_CLAUDE_STATE_DIR", str(bin_dir / "fake_claude_state"))
    launcher = fake_claude_executable(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return launcher


def fake_claude_calls(log: Path, *, help: bool = False) -> list[dict]:
    """The calls the fake logged to ``log`` (``FAKE_CLAUDE_LOG``): its audit calls, or with
    ``help`` its ``--help`` calls (read once per run for the isolation flags)."""
    if not log.exists():
        return []
    # Only whole lines: a fake still writing its line (a test polling while calls start)
    # leaves a last line without its newline.
    lines = log.read_text().split("\n")[:-1]
    records = [json.loads(line) for line in lines if line.strip()]
    return [r for r in records if bool(r.get("help")) == help]


def fake_claude_count(log: Path) -> int:
    """How many audit calls the fake logged to ``log``."""
    return len(fake_claude_calls(log))


def fake_claude_executable(bin_dir: Path) -> Path:
    """``bin_dir/claude``: a launcher that runs the fake with this interpreter.

    Not a link to the script: its ``#!/usr/bin/env python3`` runs whatever ``python3`` comes
    first on PATH, on these machines a pyenv shim that takes 0.5 s to start a process on a
    quiet machine and over 2 s on a busy one. That is longer than the 1 s timeout of the
    hung-CLI test (the fake was killed before it could log its pids) and was paid on every
    call of every test that runs the fake.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    launcher = bin_dir / "claude"
    if not launcher.exists():
        command = shlex.join([sys.executable, str(FAKE_CLAUDE)])
        launcher.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        launcher.chmod(0o755)
    return launcher


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

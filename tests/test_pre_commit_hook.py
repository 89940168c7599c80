"""The ``skillcheck-lint`` pre-commit hook, run by ``pre-commit try-repo`` on a skill repository.

pre-commit installs the hook's environment from this clone (``language: python``); with
pre-commit-uv it is uv that installs it, offline here (``UV_OFFLINE=1``): everything comes
from uv's cache, which installing the project's dev dependencies fills.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
CLEAN = """---
name: {name}
description: Collects product prices from online shops and compares them across stores. Use when
  the user asks to compare prices.
---

# Prices

A short overview.
"""
BROKEN = "---\nname: broken\ndescription: I help with data.\n---\n\n# Broken\n\nText.\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def skill_repo(tmp_path) -> Path:
    if not PRE_COMMIT.exists() or shutil.which("git") is None:
        pytest.skip("pre-commit or git is missing")
    repo = tmp_path / "skills-repo"
    (repo / "skills" / "prices").mkdir(parents=True)
    (repo / "skills" / "prices" / "SKILL.md").write_text(CLEAN.format(name="prices"))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    return repo


def _try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SKILLCHECK_"))},
        "PRE_COMMIT_HOME": str(home),
        "UV_OFFLINE": "1",
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(PROJECT_DIR), "skillcheck-lint", "--verbose"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_clean_skill_passes_and_broken_one_fails_naming_file_and_line(skill_repo, tmp_path):
    home = tmp_path / "pre-commit-home"
    done = _try_repo(skill_repo, home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skillcheck lint" in done.stdout and "Passed" in done.stdout

    (skill_repo / "skills" / "broken").mkdir()
    (skill_repo / "skills" / "broken" / "SKILL.md").write_text(BROKEN)
    _git(skill_repo, "add", "-A")
    done = _try_repo(skill_repo, home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert "skills/broken/SKILL.md:3: BP-2 [HIGH]" in done.stdout
    assert "skills/prices/SKILL.md:" not in done.stdout  # the clean skill has no finding

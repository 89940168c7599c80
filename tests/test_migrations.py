"""The migration graph stays linear: two branches that each add a migration with the same number
land cleanly in git but stop every ``migrate`` (CI failed this way once)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader


def test_every_app_has_one_leaf_migration() -> None:
    conflicts = MigrationLoader(None, ignore_no_migrations=True).detect_conflicts()
    assert conflicts == {}, f"renumber one of {conflicts} onto the other"


@pytest.mark.django_db
def test_the_models_have_no_change_without_its_migration() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()

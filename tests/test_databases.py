"""The two-database mechanism itself: ``pytest --postgres`` really runs on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from heatmap.models import Run
from tests.heatmap_data import configured_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def test_tests_run_on_the_database_the_run_asked_for(request):
    expected = "postgresql" if request.config.getoption("--postgres") else "sqlite"
    assert connection.vendor == expected
    Run.objects.create(run_id="db-check", catalog=configured_catalog())
    assert Run.objects.filter(run_id="db-check").count() == 1

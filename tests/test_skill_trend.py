"""The skill page's trend chart: labelled axes, a mark where the skill's files changed
between two runs, text drawn at its real size (no viewBox scaling it down on a phone)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from heatmap.models import TaskResult
from tests.heatmap_data import make_run, specialist_task

pytestmark = pytest.mark.django_db


def _runs(scenario, fingerprints: list[str]):
    runs = []
    for days, fingerprint in zip(range(len(fingerprints), 0, -1), fingerprints, strict=True):
        run = make_run(models=["haiku"], created_at=timezone.now() - timedelta(days=days))
        specialist_task(run, scenario, model="haiku", results={"WF-1": "pass", "WF-2": "fail"})
        TaskResult.objects.filter(run=run).update(skill_fingerprint=fingerprint)
        runs.append(run)
    return runs


def _chart(client, scenario) -> str:
    page = client.get(f"/skills/{scenario.specialist}/").content.decode()
    return page[
        page.index('<svg class="history-chart"') : page.index('</svg>\n  <p class="legend"')
    ]


def test_the_chart_labels_its_axes_and_keeps_its_text_at_size(client, scenario):
    _runs(scenario, ["a" * 16, "a" * 16])
    chart = _chart(client, scenario)
    assert ">pass %</text>" in chart and "runs, oldest → newest (2)" in chart
    assert all(label in chart for label in (">0%<", ">50%<", ">100%<"))
    outer = chart[: chart.index(">")]
    assert "viewBox" not in outer and 'height="200"' in outer  # px, whatever the width
    assert "edit-mark" not in chart  # the same files in both runs


def test_a_mark_where_the_skill_files_changed(client, scenario):
    first, second, third = _runs(scenario, ["a" * 16, "b" * 16, "b" * 16])
    chart = _chart(client, scenario)
    marks = re.findall(r'<g class="edit-mark"><title>([^<]+)</title>', chart)
    assert len(marks) == 1
    assert first.run_id in marks[0] and second.run_id in marks[0] and third.run_id not in marks[0]
    # Between the two runs' points: the second run's dots are right of it, the first's left.
    x = float(re.search(r'<g class="edit-mark">.*?x1="([\d.]+)%"', chart, re.S)[1])
    dots = [float(v) for v in re.findall(r'<circle cx="([\d.]+)%"', chart)]
    assert dots[0] < x < dots[1]


def test_an_unknown_fingerprint_marks_nothing(client, scenario):
    _runs(scenario, ["", "b" * 16])
    assert "edit-mark" not in _chart(client, scenario)

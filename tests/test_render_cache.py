"""One render per change, shared by every viewer (heatmap/render_cache.py).

The live fragments are rendered once per state and served from Django's cache; a poll that
names the state's ETag gets a 304 and no render; the data version they are keyed by moves
when a task lands, and during a run at most once per ``SKILLCHECK_LIVE_REFRESH_S``.
"""

from __future__ import annotations

import re
import time

import pytest
import redis
from django.test import Client
from django.test.signals import template_rendered

from heatmap.models import CheckResult, Run
from heatmap.render_cache import csrf_placeholder
from tests.heatmap_data import HTMX, add_task, fill_domain, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def renders():
    """The names of the templates rendered while the test runs (Django's test signal)."""
    seen: list[str] = []

    def on_render(sender, template, context, **kwargs):
        seen.append(template.name)

    template_rendered.connect(on_render)
    yield seen
    template_rendered.disconnect(on_render)


@pytest.fixture
def live_run(catalog, domain_id):
    """A run on (polling pages), with the domain's results in."""
    run = make_run(status=Run.Status.RUNNING, models=["heuristic"], total=100)
    fill_domain(run, catalog, domain_id, model="heuristic")
    return run


def _add_one(run, catalog, domain_id, result="fail", model="sonnet"):
    scenario = catalog.domains[domain_id].scenarios[0]
    ids = [c.id for c in catalog.taxonomy.model_checks]
    add_task(
        run,
        scenario_id=scenario.id,
        skill=scenario.specialist,
        model=model,
        results=result,
        check_ids=ids,
        domain=domain_id,
    )


@pytest.mark.parametrize("url", ["/heatmap/", "/heatmap/{domain}/"])
def test_two_viewers_polling_one_fragment_cost_one_render(url, live_run, domain_id, renders):
    url = url.format(domain=domain_id)
    first = Client().get(url, **HTMX)
    assert first.status_code == 200 and renders
    renders.clear()
    second = Client().get(url, **HTMX)
    assert second.status_code == 200 and renders == []
    assert second.content == first.content and second["ETag"] == first["ETag"]
    assert "HX-Request" in second["Vary"] and "no-cache" in second["Cache-Control"]


def test_another_filter_is_another_render(live_run, domain_id, renders):
    Client().get(f"/heatmap/{domain_id}/", **HTMX)
    renders.clear()
    other = Client().get(f"/heatmap/{domain_id}/", {"failures": "1"}, **HTMX)
    assert renders and other.status_code == 200


def test_the_full_page_and_the_agreement_section_are_not_the_table(live_run, renders):
    table = Client().get("/heatmap/", **HTMX)
    agreement = Client().get("/heatmap/", HTTP_HX_TARGET="agreement", **HTMX)
    page = Client().get("/heatmap/")
    assert len({table["ETag"], agreement["ETag"]}) == 2
    assert b"<html" in page.content and b"<html" not in table.content
    assert not page.has_header("ETag")


def test_a_poll_with_the_current_etag_gets_a_304_and_no_render(live_run, domain_id, renders):
    viewer = Client()
    first = viewer.get(f"/heatmap/{domain_id}/", **HTMX)
    renders.clear()
    again = viewer.get(f"/heatmap/{domain_id}/", HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert again.status_code == 304 and again.content == b"" and renders == []
    assert again["ETag"] == first["ETag"]


def test_the_version_moves_when_a_task_lands(client, catalog, domain_id, renders):
    run = make_run()  # finished: no throttle
    fill_domain(run, catalog, domain_id, model="heuristic")
    before = client.get("/heatmap/", HTTP_HX_TARGET="overview-table", **HTMX)
    _add_one(run, catalog, domain_id)
    after = client.get(
        "/heatmap/", HTTP_IF_NONE_MATCH=before["ETag"], HTTP_HX_TARGET="overview-table", **HTMX
    )
    assert after.status_code == 286  # no run: the last answer of a poll
    assert after["ETag"] != before["ETag"] and b"sonnet" in after.content


def test_during_a_run_the_version_moves_once_per_live_refresh(
    client, settings, live_run, catalog, domain_id
):
    settings.SKILLCHECK_LIVE_REFRESH_S = 1.0
    first = client.get(f"/heatmap/{domain_id}/", **HTMX)
    _add_one(live_run, catalog, domain_id)
    held = client.get(f"/heatmap/{domain_id}/", HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert held.status_code == 304  # the task landed within the period: same version
    time.sleep(1.1)
    moved = client.get(f"/heatmap/{domain_id}/", HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert b"sonnet" not in first.content
    assert moved.status_code == 200 and b"sonnet" in moved.content  # the new model's column
    # The end of the run shows at once, whatever the period.
    _add_one(live_run, catalog, domain_id, result="pass", model="opus")
    Run.objects.filter(pk=live_run.pk).update(status=Run.Status.COMPLETED)
    final = client.get(f"/heatmap/{domain_id}/", HTTP_IF_NONE_MATCH=moved["ETag"], **HTMX)
    assert final.status_code == 286 and final["ETag"] != moved["ETag"]


def test_one_catalogs_tasks_leave_anothers_version_alone(client, catalog, domain_id, tmp_path):
    """The data version is per catalog: a task in one does not re-render the other's pages."""
    from heatmap.services.catalogs import catalog_for_path

    run = make_run()
    fill_domain(run, catalog, domain_id, model="heuristic")
    first = client.get(f"/heatmap/{domain_id}/", **HTMX)
    (tmp_path / "other").mkdir()
    other = make_run(catalog=catalog_for_path(root=tmp_path / "other", loaded=False))
    _add_one(other, catalog, domain_id)
    again = client.get(f"/heatmap/{domain_id}/", HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert again.status_code == 304


def _csrf_values(html: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)


def test_a_shared_render_carries_each_viewers_own_csrf_token(catalog, renders):
    run = make_run(status=Run.Status.CANCELLED, total=10, completed=2)
    alice, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    one = alice.get(f"/runs/{run.run_id}/", **HTMX).content.decode()
    renders.clear()
    two = bob.get(f"/runs/{run.run_id}/", **HTMX).content.decode()
    assert renders == []  # bob's came from the cache
    assert "Resume" in two and csrf_placeholder() not in one + two
    (token_a,), (token_b,) = _csrf_values(one), _csrf_values(two)
    assert token_a != token_b
    # Each token is good for its own viewer's session (a form post would pass).
    assert (
        bob.post("/notices/catalog/dismiss/", {"csrfmiddlewaretoken": token_b}).status_code != 403
    )
    assert (
        alice.post("/notices/catalog/dismiss/", {"csrfmiddlewaretoken": token_a}).status_code != 403
    )


def test_whether_a_viewer_may_cancel_is_not_shared(settings, catalog, django_user_model):
    settings.SKILLCHECK_REQUIRE_LOGIN = True
    owner = django_user_model.objects.create_user("owner", password="x")
    other = django_user_model.objects.create_user("other", password="x")
    run = make_run(status=Run.Status.RUNNING, total=10, started_by=owner)
    as_owner, as_other = Client(), Client()
    as_owner.force_login(owner)
    as_other.force_login(other)
    assert b'class="cancel"' in as_owner.get(f"/runs/{run.run_id}/", **HTMX).content
    seen = as_other.get(f"/runs/{run.run_id}/", **HTMX).content
    assert b'class="cancel"' not in seen and b"only they or staff" in seen
    signed_out = Client().get(f"/runs/{run.run_id}/", **HTMX)
    assert signed_out.has_header("HX-Redirect") and b"Cancel" not in signed_out.content


def test_the_pushed_progress_panel_is_rendered_once_per_state(live_run, renders):
    from heatmap.consumers import _progress_html

    progress_html = _progress_html.func  # the sync function behind database_sync_to_async
    first = progress_html(live_run.run_id, None)
    count = len(renders)
    assert progress_html(live_run.run_id, None) == first
    assert len(renders) == count
    Run.objects.filter(pk=live_run.pk).update(completed=5)
    assert "5 / 100" in progress_html(live_run.run_id, None)


def test_a_changed_check_row_under_one_version_is_served_as_rendered(client, live_run, domain_id):
    """What makes the sharing observable: the render is the state's, not the request's."""
    first = client.get(f"/heatmap/{domain_id}/", **HTMX).content
    CheckResult.objects.update(result="fail")  # same tasks: the same data version
    assert client.get(f"/heatmap/{domain_id}/", **HTMX).content == first


# --- Two server processes share renders through Redis ---------------------------------------

SEED = """
import django
django.setup()
from heatmap import selectors
from tests.heatmap_data import fill_domain, make_run
from heatmap.models import Run
catalog = selectors.catalog_current()
domain = next(d.id for d in catalog.domains.values() if len(d.skills) > 1)
run = make_run(status=Run.Status.RUNNING, total=100, owner_host="", owner_pid=None)
fill_domain(run, catalog, domain, model="heuristic")
print(domain)
"""


def test_two_daphne_processes_share_one_render_through_redis(tmp_path):
    import sqlite3
    import urllib.request

    from tests.processes import Processes, child_env, free_ports, migrate, python

    redis_port, port_a, port_b = free_ports(3)
    env = child_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    procs = Processes(tmp_path, env)
    try:
        procs.start_redis("redis", redis_port)
        procs.start_daphne("web-a", port_a)
        procs.start_daphne("web-b", port_b)
        migrate(env)
        seeded = python(SEED, env=env)
        assert seeded.returncode == 0, seeded.stderr
        domain = seeded.stdout.strip()
        for name, port in (("redis", redis_port), ("web-a", port_a), ("web-b", port_b)):
            procs.wait_for_port(name, port)

        def poll(port: int) -> bytes:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/heatmap/{domain}/", headers={"HX-Request": "true"}
            )
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.read()

        from_a = poll(port_a)
        # Same tasks, other verdicts: a fresh render would differ, a shared one cannot.
        with sqlite3.connect(tmp_path / "db.sqlite3") as db:
            db.execute("UPDATE heatmap_checkresult SET result = 'fail'")
        assert poll(port_b) == from_a
        redis.Redis.from_url(env["REDIS_URL"]).flushall()
        assert poll(port_b) != from_a  # rendered afresh: the cache was what they shared
    finally:
        procs.stop_all()

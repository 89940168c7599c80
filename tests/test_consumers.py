from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import ApplicationCommunicator, WebsocketCommunicator

from heatmap.models import Run
from heatmap.routing import channel_consumers, websocket_urlpatterns
from heatmap.worker import RUN_WORKER_CHANNEL, run_group
from tests.heatmap_data import make_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]

ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def app():
    return AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns))


async def _connect(app, path: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(app, path, headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_progress_socket_sends_the_current_state_on_connect(app):
    run = await database_sync_to_async(make_run)(
        status=Run.Status.RUNNING, models=["haiku", "opus"], total=8, completed=3
    )
    communicator = await _connect(app, f"/ws/runs/{run.run_id}/")
    try:
        html = await communicator.receive_from()
        assert 'id="progress-body" hx-swap-oob="true"' in html
        assert "3 / 8 completed (haiku, opus)" in html
    finally:
        await communicator.disconnect()


async def test_progress_socket_pushes_each_event_of_its_run_only(app):
    run = await database_sync_to_async(make_run)(
        status=Run.Status.RUNNING, models=["haiku"], total=4
    )
    other = await database_sync_to_async(make_run)(status=Run.Status.RUNNING, total=9)
    communicator = await _connect(app, f"/ws/runs/{run.run_id}/")
    try:
        await communicator.receive_from()
        layer = get_channel_layer()
        await layer.group_send(run_group(other.run_id), {"type": "run.event", "event": {}})
        assert await communicator.receive_nothing(timeout=0.2)

        await database_sync_to_async(Run.objects.filter(pk=run.pk).update)(completed=2)
        event = {"type": "progress", "run_id": run.run_id, "completed": 2, "total": 4}
        await layer.group_send(run_group(run.run_id), {"type": "run.event", "event": event})
        assert "2 / 4 completed (haiku)" in await communicator.receive_from()
    finally:
        await communicator.disconnect()


async def test_a_cancelled_run_s_pushed_panel_offers_resume_with_the_htmx_csrf_header(app):
    """The pushed panel is rendered without a request, so it has no form token of its own."""
    run = await database_sync_to_async(make_run)(
        status=Run.Status.CANCELLED, models=["haiku"], total=4, completed=1
    )
    communicator = await _connect(app, f"/ws/runs/{run.run_id}/")
    try:
        html = await communicator.receive_from()
        assert 'data-status="cancelled"' in html and ">Resume</button>" in html
        assert f'hx-post="/runs/{run.run_id}/resume/"' in html
    finally:
        await communicator.disconnect()


async def test_progress_socket_speaks_json_when_asked(app):
    run = await database_sync_to_async(make_run)(status=Run.Status.RUNNING, total=4)
    communicator = await _connect(app, f"/ws/runs/{run.run_id}/?format=json")
    try:
        event = {"type": "progress", "run_id": run.run_id, "completed": 1, "total": 4}
        await get_channel_layer().group_send(
            run_group(run.run_id), {"type": "run.event", "event": event}
        )
        assert json.loads(await communicator.receive_from()) == event
    finally:
        await communicator.disconnect()


async def test_json_events_carry_errors_without_server_paths(app):
    run = await database_sync_to_async(make_run)(status=Run.Status.RUNNING, total=4)
    communicator = await _connect(app, f"/ws/runs/{run.run_id}/?format=json")
    try:
        error = "PermissionError: /srv/private/reports/x.json via https://u:pw@proxy.example.com"
        event = {"type": "error", "run_id": run.run_id, "error": error}
        await get_channel_layer().group_send(
            run_group(run.run_id), {"type": "run.event", "event": event}
        )
        received = json.loads(await communicator.receive_from())
        assert received["error"].startswith("PermissionError: ")
        assert "/srv/private" not in received["error"] and "pw@" not in received["error"]
    finally:
        await communicator.disconnect()


async def test_progress_socket_refuses_foreign_origins(app):
    communicator = WebsocketCommunicator(
        app, "/ws/runs/x/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def _subscribe(run_id: str) -> str:
    """A channel in the run's group, so no event the run sends from now on is missed."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(run_group(run_id), channel)
    return channel


async def _events_of(channel: str, *, until: str = "completed", timeout: float = 30.0):
    layer = get_channel_layer()
    events = []
    async with asyncio.timeout(timeout):
        while True:
            message = await layer.receive(channel)
            events.append(message["event"])
            if message["event"]["type"] in (until, "error"):
                return events


async def test_run_worker_consumer_executes_a_run_and_broadcasts_its_events(settings):
    from heatmap.selectors import catalog_current
    from heatmap.services.start import run_create

    catalog = await database_sync_to_async(catalog_current)()
    domain = next(iter(catalog.domains))
    run = await database_sync_to_async(run_create)(domains=[domain], models=["heuristic"])
    listening = asyncio.ensure_future(_events_of(await _subscribe(run.run_id)))

    worker = ApplicationCommunicator(
        channel_consumers[RUN_WORKER_CHANNEL],
        {"type": "channel", "channel": RUN_WORKER_CHANNEL},
    )
    await worker.send_input({"type": "run.execute", "run_id": run.run_id})
    events = await listening

    assert events[0]["type"] == "started"
    progress = [e for e in events if e["type"] == "progress" and e.get("status") == "ok"]
    assert len(progress) == run.total
    assert events[-1]["type"] == "completed"
    await database_sync_to_async(run.refresh_from_db)()
    assert run.status == Run.Status.COMPLETED and run.completed == run.total

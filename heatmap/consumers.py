"""Channels consumers: live progress for the page, and the run worker on a named channel."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from heatmap import selectors
from heatmap.render_cache import run_state, shared_text
from heatmap.security import public_text
from heatmap.services.dispatch import AUDIT
from heatmap.worker import run_group, run_work


@database_sync_to_async
def _progress_html(run_id: str, user: Any) -> str:
    """The progress panel as pushed: rendered once per state of the run and shared by every
    socket watching it (each finished task is an event to every one of them)."""
    run = selectors.run_get(run_id=run_id)
    if run is None:
        return ""
    may_change = selectors.run_may_change(run=run, user=user)
    context = {"run": run, "oob": True, "may_change": may_change}
    return shared_text(
        ("ws", *run_state(run, may_change=may_change)),
        lambda: render_to_string(
            "heatmap/progress.html#progress-body",
            {**context, "progress": selectors.run_progress(run=run)},
        ),
    )


class RunProgressConsumer(AsyncWebsocketConsumer):
    """Joins ``run_<id>`` and pushes each event: an htmx out-of-band fragment, or JSON.

    ``?format=json`` asks for the raw events (scripts); the page's htmx ws extension gets HTML
    whose ``id`` matches the progress panel, which htmx swaps in place.
    """

    async def connect(self) -> None:
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        self.group = run_group(self.run_id)
        self.as_json = b"format=json" in self.scope.get("query_string", b"")
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if not self.as_json:
            html = await _progress_html(self.run_id, self.scope.get("user"))
            if html:
                await self.send(text_data=html)

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if self.as_json:
            if isinstance(event.get("error"), str):
                event = {**event, "error": public_text(event["error"])}
            await self.send(text_data=json.dumps(event))
            return
        html = await _progress_html(self.run_id, self.scope.get("user"))
        if html:
            await self.send(text_data=html)


class RunWorkerConsumer(AsyncConsumer):
    """The ``run-worker`` channel's consumer (``manage.py runworker run-worker``).

    Each run becomes its own task, so one worker process drives several runs at once.
    """

    tasks: set[asyncio.Task] = set()

    async def run_execute(self, message: dict[str, Any]) -> None:
        work = run_work(message["run_id"], message.get("kind") or AUDIT)
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

"""WebSocket routes and named background channels of the heatmap app."""

from __future__ import annotations

from django.urls import path

import heatmap.converters  # noqa: F401  (registers the <run_id:…> converter)
from heatmap.consumers import RunProgressConsumer, RunWorkerConsumer
from heatmap.worker import RUN_WORKER_CHANNEL

websocket_urlpatterns = [
    path("ws/runs/<run_id:run_id>/", RunProgressConsumer.as_asgi()),
]

channel_consumers = {RUN_WORKER_CHANNEL: RunWorkerConsumer.as_asgi()}

"""WebSocket routes and named background channels of the heatmap app."""

from __future__ import annotations

from django.urls import path

from heatmap.consumers import RunProgressConsumer, RunWorkerConsumer
from heatmap.worker import RUN_WORKER_CHANNEL

websocket_urlpatterns = [
    path("ws/runs/<str:run_id>/", RunProgressConsumer.as_asgi()),
]

channel_consumers = {RUN_WORKER_CHANNEL: RunWorkerConsumer.as_asgi()}

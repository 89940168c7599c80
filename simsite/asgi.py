"""ASGI entry point: HTTP through Django, WebSockets and the run worker through Channels."""

from __future__ import annotations

import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "simsite.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from accounts.middleware import WebsocketLoginRequiredMiddleware  # noqa: E402
from heatmap import worker  # noqa: E402
from heatmap.routing import channel_consumers, websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        # Static files come from ServeStatic's middleware inside Django (see settings).
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            # Team mode: only a signed-in user (session cookie) or an API token gets in.
            AuthMiddlewareStack(WebsocketLoginRequiredMiddleware(URLRouter(websocket_urlpatterns)))
        ),
        "channel": ChannelNameRouter(channel_consumers),
    }
)


# Under daphne, SIGTERM and SIGINT stop this process's runs (marked cancelled) before it exits.
worker.install_shutdown_hook()


async def application(scope, receive, send):
    """The router, after noting the server's event loop: in-process runs are scheduled on it."""
    worker.bind_web_loop(asyncio.get_running_loop())
    return await router(scope, receive, send)

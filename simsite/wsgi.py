"""WSGI entry point: Django's HTTP side for a WSGI server (gunicorn), with daphne beside it
for the WebSockets. ``benchmarks/bench_load.py --server gunicorn`` measures that layout; the
documented one serves HTTP with daphne too (docs/how-to/deploy-team.md)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "simsite.settings")
application = get_wsgi_application()

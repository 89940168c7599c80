"""One render per change, shared by every viewer: the live fragments, cached with an ETag.

The heatmap's live fragments (the overview table, its agreement section, a domain's matrix,
a run's progress) are polled by every open page while a run is on, and change only when the
data version does (``selectors.results_version``: at most once per
``SKILLCHECK_LIVE_REFRESH_S`` during a run). So each is rendered once per *state* (the data
version, the catalog's files, the path and query, the active run, whatever else the caller
names) and kept in Django's cache, which Redis shares between the server processes.

The state is hashed into an ETag before anything is read or rendered: a poll whose
``If-None-Match`` names it gets a 304 at the cost of the version's lookup; another viewer of
the same state gets the stored bytes.

Nothing user-specific is stored. Fragments are the same for every signed-in user but for
the CSRF token of their forms, which is rendered as a placeholder and put in per request;
anything else that depends on the user (whether they may cancel a run) must be part of the
state. The caller renders the fragment with ``shared_context`` in its context.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from functools import cache as memoize
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

RENDER_CACHE_S = 120  # a state's render is asked for again within a poll period, or never
# The request headers a fragment's answer depends on, besides its URL: the same URL serves
# the full page, its table (htmx) and its agreement section (htmx, ``HX-Target``).
VARY_HEADERS = ("HX-Request", "HX-Target")
SHARED_STATUSES = (200, 286)  # a fragment, and the last one of a poll (286 stops it)


@memoize
def csrf_placeholder() -> str:
    """What a cached render holds where the CSRF token goes, replaced per request.

    Derived from the secret key, so every process sharing the cache writes and finds the
    same one, and no text from a catalog or a model's answer can spell it."""
    digest = hmac.new(settings.SECRET_KEY.encode(), b"render-cache csrf", hashlib.sha256)
    return f"csrf-{digest.hexdigest()[:40]}"


def shared_context() -> dict[str, Any]:
    """Context entries for a render that is shared: the CSRF token as a placeholder."""
    return {"csrf_token": csrf_placeholder()}


@memoize
def _generation() -> str:
    """What changes every render without changing the data: the templates' files (a deploy)
    and the settings the fragments show. Processes of one deployment agree on it."""
    parts: list[Any] = [settings.HEATMAP_POLL_S, sorted(settings.SKILLCHECK_MODELS.items())]
    for folder in settings.TEMPLATES[0]["DIRS"]:  # type: ignore[attr-defined]
        for path in sorted(Path(folder).rglob("*.html")):
            stat = path.stat()
            parts.append((path.name, stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def fragment_etag(request: HttpRequest, state: Iterable[Any]) -> str:
    """The ETag of the fragment ``request`` asks for in ``state`` (what it is rendered from),
    with the path, the query string and the htmx target."""
    target = request.headers.get("HX-Target", "")
    query = sorted(request.GET.lists())
    parts = (_generation(), request.path, query, target, *state)
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'


def shared_fragment(
    request: HttpRequest, state: Iterable[Any], render: Callable[[], HttpResponse]
) -> HttpResponse:
    """The fragment for ``state``: a 304 when the poll has it already, else the stored render
    of this state, else ``render()`` (called with ``shared_context`` in its context), stored.

    The answer keeps ``render``'s status (286 stops a poll) and is marked for the browser to
    revalidate every time (``no-cache``) and for no shared proxy to keep (``private``).
    """
    etag = fragment_etag(request, state)
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return _mark(not_modified, etag)
    key = f"heatmap:render:{etag.strip(chr(34))}"
    held = cache.get(key)
    if held is None:
        rendered = render()
        if rendered.status_code not in SHARED_STATUSES:
            return rendered
        held = (rendered.status_code, rendered["Content-Type"], rendered.content)
        cache.set(key, held, RENDER_CACHE_S)
    status, content_type, content = held
    placeholder = csrf_placeholder().encode()
    if placeholder in content:
        content = content.replace(placeholder, get_token(request).encode())
    response = HttpResponse(content, status=status, content_type=content_type)
    response["ETag"] = etag
    return _mark(response, etag)


def shared_text(state: Iterable[Any], render: Callable[[], str]) -> str:
    """The text ``render()`` gives for ``state``, rendered once and shared (the progress
    panel a WebSocket pushes to every page watching a run, after every finished task)."""
    key = "heatmap:text:" + hashlib.sha256(repr((_generation(), *state)).encode()).hexdigest()
    held = cache.get(key)
    if held is None:
        held = render()
        cache.set(key, held, RENDER_CACHE_S)
    return held


def run_state(run: Any, *, may_change: bool) -> tuple[Any, ...]:
    """What a run's progress panel is rendered from: the run's row (but its heartbeat, which
    shows only as its status), the elapsed time shown (in steps of the live refresh while it
    runs) and whether this viewer may change it."""
    fields = tuple(
        getattr(run, f.attname) for f in run._meta.concrete_fields if f.name != "heartbeat_at"
    )
    duration = run.duration
    step = max(settings.SKILLCHECK_LIVE_REFRESH_S, 1.0)
    elapsed = int(duration.total_seconds() // step) if duration and run.is_active else None
    return ("run", run.display_status, elapsed, may_change, *fields)


def _mark(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, VARY_HEADERS)
    return response

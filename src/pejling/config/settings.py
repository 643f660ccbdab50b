"""Pejling settings: one file, driven by environment variables.

With nothing set, Pejling runs on a local SQLite file under ``PEJLING_DATA_DIR``
(default ``./data``). Every variable is documented in the README.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from pejling.ops.logs import logging_config


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = Path(env_str("PEJLING_DATA_DIR", str(BASE_DIR / "data"))).resolve()

DEBUG = env_bool("PEJLING_DEBUG", False)
SECRET_KEY = env_str("PEJLING_SECRET_KEY") or "insecure-local-only-" + "pejling-dev-key-change-me"
ALLOWED_HOSTS = env_list("PEJLING_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("PEJLING_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "treebeard",
    "simple_history",
    "pejling.core",
    "pejling.organisation",
    "pejling.strategy",
    "pejling.agreements",
    "pejling.indicators",
    "pejling.followup",
    "pejling.portfolio",
    "pejling.reports",
    "pejling.publication",
    "pejling.overview",
    "pejling.audit",
    "pejling.api",
    "pejling.sso",
    "pejling.packages",
    "pejling.demo",
    "pejling.ops",  # before django_tasks_db: its db_worker command adds the heartbeat
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    # First: the request id, one log line and the metrics for every answer (docs/operations.md).
    "pejling.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL or other control character in the address: 400 before any view (docs/security.md).
    "pejling.core.security.RefuseControlCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    # KPI uploads streamed to storage and cut off at the limit, before CSRF reads the body.
    "pejling.indicators.uploads.StreamedUploadMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Signed-in pages, API answers and exports are never kept by a cache (docs/security.md).
    "pejling.core.security.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # ?format=xlsx|csv on a page: the download of its data-export table (core/export.py).
    "pejling.core.export.TableDownloadMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pejling.config.urls"
WSGI_APPLICATION = "pejling.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "pejling.organisation.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'pejling.sqlite3'}",
        conn_max_age=int(env_str("PEJLING_DB_CONN_MAX_AGE", "0")),
        conn_health_checks=True,  # a kept connection is checked before a request reuses it
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes first: it refuses a locked-out log-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Single sign-on (docs/security.md): people signing in through an identity provider for the
# first time are added as people in Pejling unless this is off (then only known user names).
PEJLING_SSO_CREATE_USERS = env_bool("PEJLING_SSO_CREATE_USERS", True)
# Four-eyes on agreeing (agreements/workflow.py): the person who submitted an agreement's
# version cannot agree it; another approver must. Off only where the organisation decides so.
PEJLING_FOUR_EYES = env_bool("PEJLING_FOUR_EYES", True)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# ------------------------------------------------------------------------------------------
# Single sign-on: OpenID Connect (docs/security.md, "Single sign-on: OpenID Connect")
# ------------------------------------------------------------------------------------------
# Pejling is a relying party (mozilla-django-oidc; pejling/sso/oidc.py). It is on when
# PEJLING_OIDC_ISSUER and PEJLING_OIDC_CLIENT_ID are set. The provider's endpoints come from its
# discovery document ({issuer}/.well-known/openid-configuration), read at first use and kept
# for an hour; PEJLING_OIDC_*_ENDPOINT override single endpoints. The provider redirects back
# to {Pejling}/sso/oidc/callback/. Authorization code flow with PKCE (S256), state and nonce;
# the ID token must be RS256-signed by a key of the provider's JWKS, from the configured issuer,
# for our client id.
_OIDC_ISSUER = env_str("PEJLING_OIDC_ISSUER").rstrip("/")
_OIDC_CLIENT_ID = env_str("PEJLING_OIDC_CLIENT_ID")
PEJLING_OIDC = {
    "enabled": bool(_OIDC_ISSUER and _OIDC_CLIENT_ID),
    "name": env_str("PEJLING_OIDC_NAME", "OpenID Connect"),  # the log-in button's label
    "issuer": _OIDC_ISSUER,
    # The claim that is the person's user name in Pejling (matched ignoring case).
    "username_claim": env_str("PEJLING_OIDC_USERNAME_CLAIM", "preferred_username"),
    # The claim listing the person's groups (GroupRole rows give roles); empty: roles untouched.
    "groups_claim": env_str("PEJLING_OIDC_GROUPS_CLAIM", "groups"),
}
OIDC_RP_CLIENT_ID = _OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = env_str("PEJLING_OIDC_CLIENT_SECRET")
OIDC_RP_SCOPES = env_str("PEJLING_OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = int(env_str("PEJLING_OIDC_TIMEOUT", "10"))  # seconds, for each request
# Empty: taken from the discovery document.
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("PEJLING_OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("PEJLING_OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("PEJLING_OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("PEJLING_OIDC_JWKS_ENDPOINT")
# Our views: endpoints looked up lazily, public (no log-in needed), failures shown on the
# log-in page. Without OIDC configured they answer 404.
OIDC_AUTHENTICATE_CLASS = "pejling.sso.oidc.AuthenticationRequestView"
OIDC_CALLBACK_CLASS = "pejling.sso.oidc.CallbackView"
if PEJLING_OIDC["enabled"]:
    AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "pejling.sso.oidc.OIDCBackend"]

LANGUAGE_CODE = env_str("PEJLING_LANGUAGE", "sv")
LANGUAGES = [
    ("sv", _("Swedish")),
    ("da", _("Danish")),
    ("nb", _("Norwegian Bokmål")),
    ("en", _("English")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("PEJLING_TIME_ZONE", "Europe/Stockholm")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    (
        "vendor/designsystemet-css",
        BASE_DIR / "node_modules" / "@digdir" / "designsystemet-css" / "dist",
    ),
    ("vendor/designsystemet-theme", BASE_DIR / "node_modules" / "@digdir" / "designsystemet-theme"),
    # The design system's typeface, Inter, from the npm registry (no font CDN).
    ("vendor/inter", BASE_DIR / "node_modules" / "@fontsource-variable" / "inter"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Uploaded KPI files, streamed here by the upload handler and read by the worker
    # (docs/operations.md). With several application servers and workers this must be storage
    # they share (an NFS or SMB mount, docs/scaling.md): PEJLING_IMPORTS_DIR.
    "imports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(Path(env_str("PEJLING_IMPORTS_DIR", str(DATA_DIR / "imports")))),
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Cookies, TLS and HSTS (docs/security.md). PEJLING_TLS=true when served over HTTPS (behind a
# proxy that terminates TLS and sets X-Forwarded-Proto): redirect HTTP to HTTPS, secure cookies,
# and HSTS for a year (subdomains of Pejling's own host name included; preload is opt-in).
TLS = env_bool("PEJLING_TLS", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = TLS or env_bool("PEJLING_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "pejling.core.views.csrf_failure"
SESSION_COOKIE_AGE = int(env_str("PEJLING_SESSION_AGE", str(60 * 60 * 10)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("PEJLING_SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
if TLS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The proxy's health checks and the metrics scraper may speak plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^health/", r"^metrics$"]
    SECURE_HSTS_SECONDS = int(env_str("PEJLING_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("PEJLING_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds every subdomain of the municipality's domain to HTTPS in browsers for
        # good: a decision for the domain's owner, opt-in (docs/security.md), not a warning.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Request limits. Form posts and API JSON bodies (bulk values) up to 20 MB; uploaded files
# larger than 5 MB go to a temporary file instead of memory. KPI files are streamed to the
# "imports" storage and cut off at 200 MB while they arrive (indicators/uploads.py; put the
# same cap on the proxy, e.g. nginx client_max_body_size 200m). The limits of a KPI file
# (indicators/imports/limits.py) may be changed with PEJLING_IMPORT_MAX_MB (the upload) or,
# all of them, PEJLING_IMPORT_LIMITS here.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
PEJLING_IMPORT_LIMITS: dict[str, int] = {}
if env_str("PEJLING_IMPORT_MAX_MB"):
    PEJLING_IMPORT_LIMITS["upload_bytes"] = int(env_str("PEJLING_IMPORT_MAX_MB")) * 1024 * 1024

# Log-in throttling (django-axes): after 5 failed log-ins for one username from one address,
# that pair is locked out for 15 minutes (a failure meanwhile restarts the 15 minutes).
# `pejling axes_reset_username NAME` unlocks early. PEJLING_AXES_ENABLED=false turns it off
# (tests only). Behind a proxy, PEJLING_PROXY_COUNT says how many proxies append to
# X-Forwarded-For, so the client's own address is used (pejling.core.security.client_ip).
AXES_ENABLED = env_bool("PEJLING_AXES_ENABLED", True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "pejling.core.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "pejling.core.security.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]
PEJLING_PROXY_COUNT = int(env_str("PEJLING_PROXY_COUNT", "1" if TLS else "0"))
# API calls a minute per token or signed-in person, then 429 (api/auth.py). Counted in the
# cache, so across every server process sharing it (the data directory's files, or Redis).
PEJLING_API_RATE_LIMIT = int(env_str("PEJLING_API_RATE_LIMIT", "600"))

TASKS = {
    "default": {
        "BACKEND": env_str("PEJLING_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# E-mail: the console backend (mail printed to the log) unless PEJLING_EMAIL_BACKEND says
# otherwise. In production: django.core.mail.backends.smtp.EmailBackend with the SMTP relay below.
MAILERS: dict[str, dict[str, object]] = {
    "default": {
        "BACKEND": env_str(
            "PEJLING_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        ),
    }
}
if str(MAILERS["default"]["BACKEND"]).endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("PEJLING_EMAIL_HOST", "localhost"),
        "port": int(env_str("PEJLING_EMAIL_PORT", "25")),
        "username": env_str("PEJLING_EMAIL_USER"),
        "password": env_str("PEJLING_EMAIL_PASSWORD"),
        "use_tls": env_bool("PEJLING_EMAIL_STARTTLS", False),
        "timeout": 10,
    }
DEFAULT_FROM_EMAIL = env_str("PEJLING_FROM_EMAIL", "pejling@localhost")

# ------------------------------------------------------------------------------------------
# Operations (docs/operations.md): logs, metrics, health, error reports, cache
# ------------------------------------------------------------------------------------------
# Logs go to stdout, passwords, tokens and personal identity numbers redacted. "text" (the
# default) is for people; "json" writes one JSON object per line for a log collector. Every
# request and background job writes one line (loggers pejling.request and pejling.job).
PEJLING_LOG_FORMAT = env_str("PEJLING_LOG_FORMAT", "text")
LOGGING = logging_config(PEJLING_LOG_FORMAT, env_str("PEJLING_LOG_LEVEL", "WARNING"))

# /metrics (Prometheus text format) answers only to "Authorization: Bearer <token>" or to a
# client address in the allow-list (addresses or networks, comma-separated). Neither set: 403.
PEJLING_METRICS_TOKEN = env_str("PEJLING_METRICS_TOKEN")
PEJLING_METRICS_ALLOW = env_list("PEJLING_METRICS_ALLOW")

# /health/ready: the background worker writes a heartbeat every PEJLING_WORKER_HEARTBEAT_SECONDS;
# older than PEJLING_WORKER_STALE_SECONDS means not ready. Less free space than
# PEJLING_HEALTH_MIN_FREE_MB in the data directory means not ready.
PEJLING_WORKER_HEARTBEAT_SECONDS = float(env_str("PEJLING_WORKER_HEARTBEAT_SECONDS", "10"))
PEJLING_WORKER_STALE_SECONDS = int(env_str("PEJLING_WORKER_STALE_SECONDS", "60"))
# A running job whose worker has not beaten for this long died with it: the next worker's
# heartbeat fails it and marks its import interrupted (ops/jobs.py, docs/operations.md).
PEJLING_JOB_STALE_SECONDS = float(env_str("PEJLING_JOB_STALE_SECONDS", "30"))
PEJLING_HEALTH_MIN_FREE_MB = int(env_str("PEJLING_HEALTH_MIN_FREE_MB", "200"))

# The cache (charts, the API's series, the dashboard's figures, API rate-limit counters):
#   empty (the default): files under PEJLING_DATA_DIR/cache, one cache for every server process
#     of this machine, kept across restarts (a restarted server answers from it at once);
#   PEJLING_CACHE_URL=redis://host:6379/0: Redis, one cache for several machines;
#   PEJLING_CACHE_URL=locmem://: each process its own, in memory (the tests).
# Losing the cache costs speed, never data: what it holds is keyed by the data generation kept
# in the database (core/generation.py) or by its own content.
PEJLING_CACHE_URL = env_str("PEJLING_CACHE_URL")
PEJLING_CACHE_ENTRIES = int(env_str("PEJLING_CACHE_ENTRIES", "2000"))
CACHES: dict[str, dict[str, Any]]
if PEJLING_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": PEJLING_CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif PEJLING_CACHE_URL == "locmem://":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif PEJLING_CACHE_URL:
    raise ImproperlyConfigured(
        f"PEJLING_CACHE_URL={PEJLING_CACHE_URL!r}: use redis://…, rediss://…, unix://… or "
        "locmem://, or leave it empty for a cache in the data directory."
    )
else:
    CACHES = {
        "default": {
            "BACKEND": "pejling.core.file_cache.DataDirCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": PEJLING_CACHE_ENTRIES},
        }
    }
# Rendered parts of the layout that differ only by language and the reader's menu (the main
# navigation, ``templates/base.html``): kept in each process's memory, never in a shared or
# lasting cache, so a new release's templates and translations show at once after a restart.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "pejling-local",
    "OPTIONS": {"MAX_ENTRIES": 500},
}

# Error reports to a Sentry-compatible service: off unless PEJLING_SENTRY_DSN is set. Personal
# data is scrubbed before sending (pejling.ops.sentry.scrub_event).
PEJLING_SENTRY_DSN = env_str("PEJLING_SENTRY_DSN")
if PEJLING_SENTRY_DSN:
    from pejling.ops.sentry import init_sentry
    from pejling.ops.version import app_version

    init_sentry(
        dsn=PEJLING_SENTRY_DSN,
        environment=env_str("PEJLING_SENTRY_ENVIRONMENT"),
        release=f"pejling@{app_version()}",
        traces_sample_rate=float(env_str("PEJLING_SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# The public site for citizens and the open data under /open/ (docs/open-data.md): this
# installation may publish when true; the strategy office then switches it on and chooses what
# is public (publication.PublicationSettings). Off by default: /open/ answers 404, except the
# accessibility statement. Seconds public pages may be kept by browsers and shared caches:
PEJLING_PUBLIC_SITE = env_bool("PEJLING_PUBLIC_SITE", False)
PEJLING_PUBLIC_MAX_AGE = int(env_str("PEJLING_PUBLIC_MAX_AGE", "300"))

# Name shown in the header; each installation sets its own.
PEJLING_ORGANISATION_NAME = env_str("PEJLING_ORGANISATION_NAME", "")
# An image file (PNG, JPEG or SVG) shown on the cover of generated documents.
PEJLING_ORGANISATION_LOGO = env_str("PEJLING_ORGANISATION_LOGO", "")

# National statistics APIs read by `pejling fetch-kpi` (point them at a mirror or proxy if needed).
PEJLING_KOLADA_URL = env_str("PEJLING_KOLADA_URL", "https://api.kolada.se/v3")
PEJLING_STATBANK_URL = env_str("PEJLING_STATBANK_URL", "https://api.statbank.dk/v1")
PEJLING_SSB_URL = env_str("PEJLING_SSB_URL", "https://data.ssb.no/api/pxwebapi/v2")

# OS2mo (the Danish municipal organisation register), read by `pejling sync-org --source os2mo`
# and the `sync_os2mo` task: the instance's base URL (the GraphQL API is at /graphql/v29), an
# optional bearer token, and the hierarchy label to sync (empty: every unit).
PEJLING_OS2MO_URL = env_str("PEJLING_OS2MO_URL", "")
PEJLING_OS2MO_TOKEN = env_str("PEJLING_OS2MO_TOKEN", "")
PEJLING_OS2MO_HIERARCHY = env_str("PEJLING_OS2MO_HIERARCHY", "")

# ------------------------------------------------------------------------------------------
# Single sign-on: SAML 2.0 (docs/security.md, "Single sign-on: SAML 2.0")
# ------------------------------------------------------------------------------------------
# Pejling is a SAML service provider (djangosaml2 on pysaml2; needs the xmlsec1 program). It is
# on when PEJLING_SAML_IDP_METADATA is set: the identity provider's (or broker's) metadata, an
# https URL or a file path. PEJLING_SAML_BASE_URL is Pejling's public https address; the SP
# metadata is then at {base}/sso/saml/metadata/ and the assertion consumer service at
# {base}/sso/saml/acs/. Requests are signed, assertions must be signed, and only answers to a
# request Pejling sent are accepted.


def saml_sp_config(
    *,
    base_url: str,
    entity_id: str,
    idp_metadata: str,
    key_file: str,
    cert_file: str,
    xmlsec: str,
    idp_metadata_cert: str = "",
) -> dict[str, object]:
    """djangosaml2's SAML_CONFIG (a pysaml2 SP configuration) from Pejling's few settings."""
    base = base_url.rstrip("/")
    if idp_metadata.startswith(("https://", "http://")):
        remote: dict[str, str] = {"url": idp_metadata}
        if idp_metadata_cert:
            remote["cert"] = idp_metadata_cert  # metadata must be signed with this certificate
        metadata: dict[str, object] = {"remote": [remote]}
    else:
        metadata = {"local": [idp_metadata]}
    return {
        "entityid": entity_id or f"{base}/sso/saml/metadata/",
        "xmlsec_binary": xmlsec,
        "allow_unknown_attributes": True,  # e.g. a "groups" attribute without a URI name
        "accepted_time_diff": 60,  # seconds of clock skew between Pejling and the provider
        "service": {
            "sp": {
                "name": "Pejling",
                "endpoints": {
                    "assertion_consumer_service": [
                        (f"{base}/sso/saml/acs/", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
                    ],
                },
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                # The assertion's signature is what counts; a signed response is welcome.
                "want_response_signed": False,
                "allow_unsolicited": False,
                "signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
            },
        },
        "metadata": metadata,
        "key_file": key_file,
        "cert_file": cert_file,
        # The same key pair decrypts encrypted assertions (Danish brokers encrypt them).
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
    }


_SAML_IDP_METADATA = env_str("PEJLING_SAML_IDP_METADATA")
PEJLING_SAML = {
    "enabled": bool(_SAML_IDP_METADATA),
    "name": env_str("PEJLING_SAML_NAME", "SAML"),
    "username_attribute": env_str("PEJLING_SAML_USERNAME_ATTRIBUTE", "uid"),
    "groups_attribute": env_str("PEJLING_SAML_GROUPS_ATTRIBUTE", ""),
    # How long a downloaded metadata document is used before it is fetched again.
    "metadata_cache_seconds": int(env_str("PEJLING_SAML_METADATA_CACHE_SECONDS", "3600")),
}
SAML_CONFIG_LOADER = "pejling.sso.saml.config_loader"
if PEJLING_SAML["enabled"]:
    _saml_missing = [
        name
        for name in ("PEJLING_SAML_BASE_URL", "PEJLING_SAML_KEY_FILE", "PEJLING_SAML_CERT_FILE")
        if not env_str(name)
    ]
    _saml_xmlsec = env_str("PEJLING_SAML_XMLSEC") or shutil.which("xmlsec1") or ""
    if not _saml_xmlsec:
        _saml_missing.append("PEJLING_SAML_XMLSEC (the xmlsec1 program was not found)")
    if _saml_missing:
        raise ImproperlyConfigured(
            "PEJLING_SAML_IDP_METADATA is set, so SAML sign-in needs: " + ", ".join(_saml_missing)
        )
    SAML_CONFIG = saml_sp_config(
        base_url=env_str("PEJLING_SAML_BASE_URL"),
        entity_id=env_str("PEJLING_SAML_ENTITY_ID"),
        idp_metadata=_SAML_IDP_METADATA,
        idp_metadata_cert=env_str("PEJLING_SAML_IDP_METADATA_CERT"),
        key_file=env_str("PEJLING_SAML_KEY_FILE"),
        cert_file=env_str("PEJLING_SAML_CERT_FILE"),
        xmlsec=_saml_xmlsec,
    )
    AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "pejling.sso.saml.SamlBackend"]
# djangosaml2 keeps its request state (the IDs of requests sent, so that only answers to them are
# accepted) in a session of its own, cookie "saml_session". The provider's answer arrives as a
# cross-site POST, which browsers only send that cookie with when it is SameSite=None, and
# SameSite=None cookies must be Secure: SAML in production needs PEJLING_TLS=true. Without TLS
# the cookie is Lax, which works only when the provider is on the same site (development).
# The middleware does nothing for requests that do not touch the SAML session.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "djangosaml2.middleware.SamlSessionMiddleware",
)
SAML_SESSION_COOKIE_NAME = "saml_session"
SAML_SESSION_COOKIE_SAMESITE = "None" if SESSION_COOKIE_SECURE else "Lax"
SAML_DEFAULT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"  # AuthnRequests
SAML_CSP_HANDLER = ""  # the HTTP-Redirect binding needs no form, so no CSP change
SAML_IGNORE_AUTHENTICATED_USERS_ON_LOGIN = True

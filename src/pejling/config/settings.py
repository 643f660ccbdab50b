"""Pejling settings: one file, driven by environment variables.

With nothing set, Pejling runs on a local SQLite file under ``PEJLING_DATA_DIR``
(default ``./data``). Every variable is documented in the README.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _


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
    "pejling.api",
    "pejling.packages",
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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
                "pejling.core.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'pejling.sqlite3'}",
        conn_max_age=int(env_str("PEJLING_DB_CONN_MAX_AGE", "0")),
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("PEJLING_LANGUAGE", "sv")
LANGUAGES = [("sv", _("Swedish")), ("da", _("Danish")), ("en", _("English"))]
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
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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
SESSION_COOKIE_AGE = int(env_str("PEJLING_SESSION_AGE", str(60 * 60 * 10)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("PEJLING_SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
if TLS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the proxy's health check may speak plain HTTP
    SECURE_HSTS_SECONDS = int(env_str("PEJLING_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("PEJLING_HSTS_PRELOAD", False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Request limits. Form posts and API JSON bodies (bulk values) up to 20 MB; uploaded files
# larger than 5 MB go to a temporary file instead of memory (KPI files are capped at 200 MB by
# the import form; put the same cap on the proxy, e.g. nginx client_max_body_size 200m).
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
DATA_UPLOAD_MAX_NUMBER_FILES = 10

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

TASKS = {
    "default": {
        "BACKEND": env_str("PEJLING_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

MAILERS = {
    "default": {
        "BACKEND": env_str(
            "PEJLING_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("PEJLING_FROM_EMAIL", "pejling@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("PEJLING_LOG_LEVEL", "WARNING")},
}

# Name shown in the header; each installation sets its own.
PEJLING_ORGANISATION_NAME = env_str("PEJLING_ORGANISATION_NAME", "")

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

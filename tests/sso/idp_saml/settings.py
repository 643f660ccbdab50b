"""Settings of the test identity provider (a separate process; see harness.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_UNSPECIFIED

HERE = Path(__file__).resolve().parent
IDP_STATE_DIR = Path(os.environ["PEJLING_TEST_IDP_DIR"])
IDP_URL = os.environ["PEJLING_TEST_IDP_URL"].rstrip("/")
IDP_HARNESS_TOKEN = os.environ["PEJLING_TEST_IDP_TOKEN"]

SECRET_KEY = "test-idp-" + IDP_HARNESS_TOKEN
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "djangosaml2idp",
    "tests.sso.idp_saml.apps.HarnessConfig",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.sso.idp_saml.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": IDP_STATE_DIR / "idp.sqlite3"}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
LOGIN_URL = "/accounts/login/"
# Pejling runs on localhost and this IdP on 127.0.0.1, so cookies never mix; distinct names
# make sure of it anyway.
SESSION_COOKIE_NAME = "idp_sessionid"
CSRF_COOKIE_NAME = "idp_csrftoken"

SAML_IDP_CONFIG = {
    "debug": False,
    "xmlsec_binary": shutil.which("xmlsec1"),
    "entityid": f"{IDP_URL}/idp/metadata/",
    "description": "Pejling's test identity provider",
    "service": {
        "idp": {
            "name": "Pejling test IdP",
            "endpoints": {
                "single_sign_on_service": [
                    (f"{IDP_URL}/idp/sso/redirect/", BINDING_HTTP_REDIRECT),
                    (f"{IDP_URL}/idp/sso/post/", BINDING_HTTP_POST),
                ],
            },
            "name_id_format": [NAMEID_FORMAT_UNSPECIFIED, NAMEID_FORMAT_PERSISTENT],
            "sign_response": True,
            "sign_assertion": True,
            # djangosaml2idp cannot check a signature carried in the query string of the
            # HTTP-Redirect binding, so views.sso_redirect checks it (and refuses unsigned
            # requests) before handing the request on.
            "want_authn_requests_signed": False,
        },
    },
    "metadata": {"local": []},  # the SPs come from djangosaml2idp's ServiceProvider rows
    "key_file": os.environ["PEJLING_TEST_IDP_KEY"],
    "cert_file": os.environ["PEJLING_TEST_IDP_CERT"],
    "encryption_keypairs": [
        {
            "key_file": os.environ["PEJLING_TEST_IDP_KEY"],
            "cert_file": os.environ["PEJLING_TEST_IDP_CERT"],
        }
    ],
    "valid_for": 24,
}
SAML_IDP_FALLBACK_EXPIRATION_DAYS = 1
SAML_IDP_SP_FIELD_DEFAULT_PROCESSOR = "tests.sso.idp_saml.processors.GroupsProcessor"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

"""OneMap settings, read from the environment (twelve-factor).

Every value has a safe local default so that `make run` works on a fresh machine; production sets
the environment (see README "Configuration"). No secret lives in this file: without `SECRET_KEY`
a random key is generated once into `.local/secret_key` (git-ignored).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("ONEMAP_LOCAL_DIR", BASE_DIR / ".local"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    key_file = LOCAL_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Behind TLS (HTTPS=1) the cookies are secure and HSTS is sent; local http serving leaves them off,
# which is what the four `check --deploy` warnings listed in README are about.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "rules.apps.AutodiscoverRulesConfig",
    "parcels",
    "approvals",
    "maps",
    "data.apps.DemoDataConfig",
    # Failed logins are counted per username and address; the lockout is logged (README "Logins").
    "axes",
    # Deployment checks (onemap/checks.py): demo passwords, connection budget.
    "onemap.apps.OneMapConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: oversized or malformed bodies get a 413/400 (JSON under /api/).
    "onemap.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "onemap.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication: field history (pghistory) records the user, address and URL of writes.
    "onemap.middleware.HistoryContextMiddleware",
    # Staff sessions end after ONEMAP_STAFF_IDLE_SECONDS without a request.
    "onemap.middleware.SessionIdleTimeoutMiddleware",
    # Responses to a logged-in user are never stored by browsers or proxies.
    "onemap.middleware.PrivateCacheMiddleware",
    # Last: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Object-level permissions (role × jurisdiction) from approvals/rules.py, then Django's model perms.
AUTHENTICATION_BACKENDS = [
    # First: refuses any password check for a locked-out username/address before the others run.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Field history tables refuse UPDATE and DELETE (pgtrigger Protect triggers).
PGHISTORY_APPEND_ONLY = True

ROOT_URLCONF = "onemap.urls"
WSGI_APPLICATION = "onemap.wsgi.application"
ASGI_APPLICATION = "onemap.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "onemap" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "maps.context_processors.inbox",
            ],
        },
    },
]



def _local_db_port() -> str:
    """Port of the project-local cluster that `make db` (onemap/bin/localdb.sh) started and recorded."""
    port_file = LOCAL_DIR / "db_port"
    if port_file.exists():
        return port_file.read_text().strip()
    return os.environ.get("ONEMAP_DB_PORT", "54329")


# Project-local PostGIS cluster unless DATABASE_URL is set.
LOCAL_DB_PORT = _local_db_port()
DATABASES = {
    "default": dj_database_url.config(
        default=f"postgis://onemap@127.0.0.1:{LOCAL_DB_PORT}/onemap",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A kept connection that PostgreSQL closed (restart, pg_terminate_backend) is replaced at
        # the next request instead of failing it.
        conn_health_checks=True,
        engine="django.contrib.gis.db.backends.postgis",
    )
}
# PostgreSQL's JIT compiles expressions for ~50–150 ms before a spatial query runs; OneMap's queries
# (overlap, tiles) are short and index-driven, so compilation costs more than it saves.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Parallel test runs (several checkouts or sessions on one cluster) each name their own test database.
if os.environ.get("ONEMAP_TEST_DB"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["ONEMAP_TEST_DB"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# GeoDjango finds the OS libraries itself; these allow overriding on unusual systems.
if os.environ.get("GDAL_LIBRARY_PATH"):
    GDAL_LIBRARY_PATH = os.environ["GDAL_LIBRARY_PATH"]
if os.environ.get("GEOS_LIBRARY_PATH"):
    GEOS_LIBRARY_PATH = os.environ["GEOS_LIBRARY_PATH"]

# gis.W001 warns that GDAL < 3.9 (Debian 12 ships 3.6) cannot block file/network access while
# parsing spatial references. OneMap never passes a user-supplied SRS string to GDAL: uploaded
# CRS names are reduced to integer EPSG codes first (parcels/site_input.py).
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Sessions: at most a working day (was Django's 14 days); staff are logged out after 30 minutes
# without a request (onemap.middleware.SessionIdleTimeoutMiddleware). The cookie is invisible to JS.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
ONEMAP_STAFF_IDLE_SECONDS = int(os.environ.get("ONEMAP_STAFF_IDLE_SECONDS", str(30 * 60)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# django-axes: after AXES_FAILURE_LIMIT wrong passwords for one username from one address, that
# pair is locked for AXES_COOLOFF_TIME hours (the admin login too); each failure and each lockout
# is logged (logger "axes") and kept in the admin's "Access attempts". Keying on the pair keeps an
# attacker from locking a real user out from elsewhere. A success resets the count.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# The client address is REMOTE_ADDR; behind a proxy that sets it correctly (BEHIND_PROXY, README).
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# The log names the username and address of each failure (axes masks them by default); never the password.
AXES_SENSITIVE_PARAMETERS: list[str] = []

# Chinese first, English available (Django i18n).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", LOCAL_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", LOCAL_DIR / "media"))
MEDIA_URL = "media/"

# Uploads: survey files are small; anything larger is refused with a clear message (bytes).
ONEMAP_MAX_UPLOAD_BYTES = int(os.environ.get("ONEMAP_MAX_UPLOAD_BYTES", str(5 * 1024 * 1024)))
# Layer files uploaded by administrators through the web page (bytes); bigger ones use import_layer.
ONEMAP_MAX_LAYER_UPLOAD_BYTES = int(os.environ.get("ONEMAP_MAX_LAYER_UPLOAD_BYTES", str(200 * 1024 * 1024)))
# Supporting documents (PDF, PNG, JPEG) applicants attach to an application.
ONEMAP_MAX_DOCUMENT_BYTES = int(os.environ.get("ONEMAP_MAX_DOCUMENT_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = ONEMAP_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = ONEMAP_MAX_UPLOAD_BYTES

# Base map: "none" (default; the map is fully usable without one), "osm", "tianditu" (needs
# TIANDITU_KEY), or an internal XYZ tile URL template such as http://tiles.intranet/{z}/{x}/{y}.png
BASEMAP = os.environ.get("BASEMAP", "none")
TIANDITU_KEY = os.environ.get("TIANDITU_KEY", "")

# Vector tiles are cached per layer version (the version is in the URL, so entries never go stale).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "INFO"}},
}
# Vector tiles are cached as files at <TILE_CACHE_DIR>/<layer version id>/<z>/<x>/<y>.pbf (maps/views/geo.py):
# a version never changes, so entries never go stale, and a write costs the same at any cache size
# (Django's FileBasedCache lists its whole folder on every write once it is near MAX_ENTRIES).
TILE_CACHE_DIR = Path(os.environ.get("TILE_CACHE_DIR", str(LOCAL_DIR / "cache" / "tiles")))

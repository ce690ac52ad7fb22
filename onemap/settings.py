"""OneMap settings, read from the environment (twelve-factor).

Every value has a safe local default so that `make run` works on a fresh machine; production sets
the environment (see README "Configuration"). No secret lives in this file: without `SECRET_KEY`
a random key is generated once into `.local/secret_key` (git-ignored).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
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
    "approvals.hall",
    "approvals.notices",
    "approvals.issued",
    "approvals.registry",
    "maps",
    "data.apps.DemoDataConfig",
    # Failed logins are counted per username and address; the lockout is logged (README "Logins").
    "axes",
    # Deployment checks (onemap/checks.py): demo passwords, connection budget; database roles and
    # the app role's grants after every migrate (onemap/dbroles.py).
    "onemap.apps.OneMapConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below); gives request.csp_nonce.
    "csp.middleware.CSPMiddleware",
    # Before anything reads the body: oversized or malformed bodies get a 413/400 (JSON under /api/).
    "onemap.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "onemap.middleware.ChineseFirstLocaleMiddleware",
    # A NUL character in a query string or form field: 400 before any view (PostgreSQL refuses it).
    "onemap.middleware.NulCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication: field history (pghistory) records the user, address and URL of writes.
    "onemap.middleware.HistoryContextMiddleware",
    # A statement cancelled by statement_timeout (below) answers 503 with a message, not a 500.
    "onemap.middleware.StatementTimeoutMiddleware",
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
                "maps.context_processors.nav",
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


# Project-local PostGIS cluster unless DATABASE_URL is set. Two roles (README "Database roles"): the
# app connects as a role that owns nothing and cannot rewrite the audit trail (DATABASE_URL; locally
# onemap_app); migrations connect as the owner (DATABASE_OWNER_URL, else DATABASE_URL; locally onemap).
# ONEMAP_DB_ROLE=owner picks the owner (`make migrate` sets it). The test runner creates and migrates
# its own database, so under pytest the owner is the default.
LOCAL_DB_PORT = _local_db_port()
_APP_DB_URL = os.environ.get("DATABASE_URL") or f"postgis://onemap_app@127.0.0.1:{LOCAL_DB_PORT}/onemap"
_OWNER_DB_URL = os.environ.get("DATABASE_OWNER_URL") or os.environ.get("DATABASE_URL") or f"postgis://onemap@127.0.0.1:{LOCAL_DB_PORT}/onemap"
ONEMAP_DB_ROLE = os.environ.get("ONEMAP_DB_ROLE") or ("owner" if "pytest" in sys.modules else "app")
if ONEMAP_DB_ROLE not in {"app", "owner"}:
    raise ImproperlyConfigured(f"ONEMAP_DB_ROLE must be 'app' or 'owner', not {ONEMAP_DB_ROLE!r}")
# Who the app logs in as: onemap/dbroles.py grants to this role after every migrate; tests log in as it.
ONEMAP_APP_DATABASE = {k: v for k, v in dj_database_url.parse(_APP_DB_URL).items() if k in {"USER", "PASSWORD", "HOST", "PORT"}}
ONEMAP_APP_DB_USER = ONEMAP_APP_DATABASE["USER"]
DATABASES = {
    "default": dj_database_url.parse(
        _OWNER_DB_URL if ONEMAP_DB_ROLE == "owner" else _APP_DB_URL,
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
# No single statement may hold the database longer than ONEMAP_STATEMENT_TIMEOUT seconds (default 30,
# 0 = none): PostgreSQL cancels it, the request's transaction rolls back and the client gets a 503
# saying so (onemap.middleware.StatementTimeoutMiddleware). Every page and API query takes well under
# a second on the demo; 30 s is far above that and below the application server's request timeout.
# Jobs long by nature do not run under it: `manage.py` commands other than runserver (migrate,
# load_demo, import_layer, import_parcels, …) connect without it, and layer and parcel imports lift
# it for their own transaction (parcels.limits.lift_statement_timeout), on the web page and in the bench.
ONEMAP_STATEMENT_TIMEOUT = float(os.environ.get("ONEMAP_STATEMENT_TIMEOUT", "30"))
_MANAGE_COMMAND = sys.argv[1] if Path(sys.argv[0]).name == "manage.py" and len(sys.argv) > 1 else None
if ONEMAP_STATEMENT_TIMEOUT > 0 and _MANAGE_COMMAND in (None, "runserver"):
    DATABASES["default"]["OPTIONS"]["options"] += f" -c statement_timeout={int(ONEMAP_STATEMENT_TIMEOUT * 1000)}"
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
# Attempted usernames are recorded cut to 150 characters (onemap/logins.py): a 5000-character one was a 500.
AXES_USERNAME_CALLABLE = "onemap.logins.axes_username"

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

# The largest site the overlap API, the planner's overlap query and submission accept
# (parcels/limits.py; a clear 400 names the limit). Above them a site ties up a worker and the
# database for tens of seconds (19,600 squares: 31 s to analyse, 109 s to submit). A real bureau's
# largest sites stay far below:
# - area: a large construction site (an industrial park's batch) is a few km²; the route reaches the
#   ministry, whose single-site projects (an airport, a reservoir) reach 20–30 km². 100 km² (10,000 ha,
#   150,000 mu) leaves them room and refuses a county-sized box (Jiayu is ~1,000 km²). Cost grows with
#   the zones under the site: ~30,000 zones a second (README "Benchmarks": 5 km² at the synthetic
#   layers' densest point). A real land-use survey has ~100–200 polygons per km², so 100 km² meets
#   10,000–20,000 zones (about a second); the demo's 100 km² takes 0.7 s. Denser data is bounded by
#   the statement timeout. A bureau that never sees such projects lowers it.
# - vertices: boundary-point files have hundreds to a few thousand points, a site drawn or picked
#   from registered parcels a few hundred to a few thousand: 20,000 is several times the largest.
# - parts: a TXT file's [地块坐标] blocks or the polygons of a drawn site are one to a few hundred
#   even for a batch: 500.
ONEMAP_MAX_SITE_AREA_M2 = float(os.environ.get("ONEMAP_MAX_SITE_AREA_M2", str(100_000_000)))
ONEMAP_MAX_SITE_VERTICES = int(os.environ.get("ONEMAP_MAX_SITE_VERTICES", "20000"))
ONEMAP_MAX_SITE_PARTS = int(os.environ.get("ONEMAP_MAX_SITE_PARTS", "500"))

# Base map: "none" (default; the map is fully usable without one), "osm", "tianditu" (needs
# TIANDITU_KEY), or an internal XYZ tile URL template such as http://tiles.intranet/{z}/{x}/{y}.png
BASEMAP = os.environ.get("BASEMAP", "none")
TIANDITU_KEY = os.environ.get("TIANDITU_KEY", "")


def _basemap_sources(choice: str) -> list[str]:
    """The origin the configured base map's tiles come from, for the CSP's img-src."""
    choice = choice.strip()
    if choice in {"", "none"}:
        return []
    if choice == "osm":
        return ["https://tile.openstreetmap.org"]
    if choice == "tianditu":
        return ["https://*.tianditu.gov.cn"]
    from urllib.parse import urlsplit

    parts = urlsplit(choice)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme in {"http", "https"} and parts.netloc else []


def _standalone_style_hashes() -> list[str]:
    """CSP hashes of the <style> blocks in onemap/templates/error.html: that page (and 413/503,
    which extend it) is rendered without the request, so it cannot carry the nonce."""
    import base64
    import hashlib
    import re

    text = (BASE_DIR / "onemap" / "templates" / "error.html").read_text(encoding="utf-8")
    return [f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
            for css in re.findall(r"<style>(.*?)</style>", text, re.S)]


# Content-Security-Policy (django-csp). Scripts and <style> blocks run only from this server or
# with the per-request nonce (folium's inline map script and its <head> styles get it in
# base.html): no 'unsafe-inline', no inline event handlers, no style attributes. Text from users,
# files and layers is also never inserted as HTML (maps/static/maps/js/onemap-text.js); the policy
# is the second line. img-src allows data: for Leaflet's and the favicon's data URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE, *_standalone_style_hashes()],
        "img-src": [SELF, "data:", *_basemap_sources(BASEMAP)],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
# Vector tiles are cached as files at <TILE_CACHE_DIR>/<layer version id>/<z>/<x>/<y>.pbf (maps/views/geo.py):
# a version never changes, so entries never go stale, and a write costs the same at any cache size
# (Django's FileBasedCache lists its whole folder on every write once it is near MAX_ENTRIES).
TILE_CACHE_DIR = Path(os.environ.get("TILE_CACHE_DIR", str(LOCAL_DIR / "cache" / "tiles")))

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

# --- Service hall: the public's side (approvals/hall; docs/public-side.md) ---
# A bad rating (1–2 stars) opens a follow-up case due after this many working days.
ONEMAP_FOLLOW_UP_DAYS = int(os.environ.get("ONEMAP_FOLLOW_UP_DAYS", "15"))
# Rankings: the satisfaction rate is this share ratings + the rest call-backs (where a unit has
# both); a unit with fewer than ONEMAP_RANKING_MIN_SAMPLE ratings and calls is shown, not ranked.
ONEMAP_RANKING_RATING_WEIGHT = float(os.environ.get("ONEMAP_RANKING_RATING_WEIGHT", "0.7"))
ONEMAP_RANKING_MIN_SAMPLE = int(os.environ.get("ONEMAP_RANKING_MIN_SAMPLE", "5"))
# Public pages (no login): requests per client address per minute, counted in the database.
ONEMAP_PUBLIC_QUERY_PER_MINUTE = int(os.environ.get("ONEMAP_PUBLIC_QUERY_PER_MINUTE", "10"))
ONEMAP_PUBLIC_PAGE_PER_MINUTE = int(os.environ.get("ONEMAP_PUBLIC_PAGE_PER_MINUTE", "60"))
# Receipts' query codes are HMAC-derived under this key from a salt kept in the database, so they can be
# reprinted but not read from a database dump; empty = a key derived from SECRET_KEY (hall/services/receipts.py).
ONEMAP_QUERY_CODE_KEY = os.environ.get("ONEMAP_QUERY_CODE_KEY", "")
# The address printed under the QR codes of receipts, decisions and certificates (what a phone
# scanning the paper opens); empty = http://127.0.0.1:8000, right only for the local demo.
ONEMAP_PUBLIC_URL = os.environ.get("ONEMAP_PUBLIC_URL", "").rstrip("/")
# The rating tag set in force (versioned: the rules change it centrally; docs/public-side.md).
ONEMAP_RATING_TAG_SET = "2026.1"

# Registration (approvals/registry): overlap with another registered parcel tolerated as survey noise
# (ellipsoidal m²), above which a registration, split or re-survey is refused (docs/registry.md).
ONEMAP_REGISTRATION_OVERLAP_TOLERANCE_M2 = float(os.environ.get("ONEMAP_REGISTRATION_OVERLAP_TOLERANCE_M2", "1.0"))

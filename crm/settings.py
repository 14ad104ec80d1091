"""Settings come from environment variables with safe defaults (see README, "Configuration")."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CRM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/ (never in git)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "huey.contrib.djhuey",
    "crm.core",
    "crm.audit",
    "crm.accounts",
    "crm.messaging",
    "crm.customers",
    "crm.customfields",
    "crm.savedviews",
    "crm.activities",
    "crm.products",
    "crm.leads",
    "crm.opportunities",
    "crm.approvals",
    "crm.quotes",
    "crm.contracts",
    "crm.receivables",
    "crm.invoices",
    "crm.points",
    "crm.exports",
    "crm.imports",
    "crm.printing",
    "crm.webhooks",
    "crm.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.core.request_cache.RequestCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.core.middleware.HtmxRedirectMiddleware",
    "crm.core.middleware.SecurityHeadersMiddleware",
    "crm.accounts.middleware.PasswordChangeRequiredMiddleware",
    # Axes last: it turns a locked-out login into our lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["crm.core.templatetags.crm"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'crm.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the job worker use the file at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "crm.accounts.backends.UsernameOrEmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "crm.accounts.validators.LetterAndDigitValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock-out (ORG-6): 5 failed attempts on one username lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "crm.accounts.views.lockout_response"
AXES_USERNAME_CALLABLE = "crm.accounts.backends.lockout_username"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False

# Sessions, cookies and headers
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HTTPS = env_bool("SECURE_HTTPS")  # set when served over HTTPS behind a proxy
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Internationalisation: Simplified Chinese by default, English available (SYS-5).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "crm" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
_NODE = BASE_DIR / "node_modules"
# Front-end packages are served from node_modules (installed by `npm ci`), never from a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "crm" / "static",
    ("vendor/tabler/css", _NODE / "@tabler/core/dist/css"),
    ("vendor/tabler/js", _NODE / "@tabler/core/dist/js"),
    ("vendor/tabler-icons", _NODE / "@tabler/icons-webfont/dist"),
    ("vendor/htmx", _NODE / "htmx.org/dist"),
    ("vendor/tom-select", _NODE / "tom-select/dist"),
    ("vendor/sortablejs", _NODE / "sortablejs"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Exports (SYS-3) of at most this many rows answer the download directly; larger ones run as a job.
EXPORT_SYNC_LIMIT = int(os.environ.get("EXPORT_SYNC_LIMIT", "2000"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Imports (SYS-3): largest accepted upload; files are kept under MEDIA_ROOT/imports.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))

# E-mail: EMAIL_URL such as smtp://user:pass@host:587?tls=1; console (printed) by default.
from crm.core.email_url import email_settings_from_url  # noqa: E402

globals().update(email_settings_from_url(os.environ.get("EMAIL_URL", "console://")))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CRM <noreply@localhost>")

REDIS_URL = os.environ.get("REDIS_URL", "")
# One cache shared by the web processes and the job workers (API rate limits per token, import
# progress): Redis when configured, else files under var/ (the embedded default has no Redis).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Background jobs: Huey on Redis when REDIS_URL is set, else on a SQLite file under var/.
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "crm"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "crm",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
    }
HUEY["consumer"] = {"workers": int(os.environ.get("HUEY_WORKERS", "2")), "worker_type": "thread"}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.APITokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.TokenRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.HasModulePermission"],
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.CrmAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.KeysetCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "crm.api.exceptions.exception_handler",
}
# Personal API tokens (crm.api): requests per token (or per session user), and how long a token
# from POST /api/v1/auth/token/ lives.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120/min")
API_LOGIN_TOKEN_DAYS = int(os.environ.get("API_LOGIN_TOKEN_DAYS", "30"))
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "客户关系管理系统 REST API. Authenticate with a personal API token: "
    "`Authorization: Bearer <token>` (or `Authorization: Token <token>`). Create tokens in your "
    "profile (/profile/tokens/) or with POST /api/v1/auth/token/ (username + password; the token "
    "expires after API_LOGIN_TOKEN_DAYS days). Calls act as the token's user, with that user's "
    "permissions and data scope. Each token is rate limited (API_RATE_LIMIT, default 120/min; "
    "429 with Retry-After). Lists use cursor pagination (`cursor`, `page_size`) and accept "
    "`ordering` where documented.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `kind`: name each choice set so that the names do not collide.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "crm.customers.models.Customer.Kind",
        "RecycleRuleKindEnum": "crm.customers.models.RecycleRule.Kind",
        "PricePolicyKindEnum": "crm.products.models.PricePolicy.Kind",
        # Opportunity.Status and Stage.Kind are the same choice set (open / won / lost).
        "OpportunityStatusEnum": "crm.opportunities.models.Opportunity.Status",
        "QuoteStatusEnum": "crm.quotes.models.Quote.Status",
        "ContractKindEnum": "crm.contracts.models.Contract.Kind",
        "ContractStatusEnum": "crm.contracts.models.Contract.Status",
        "InvoiceKindEnum": "crm.invoices.models.Invoice.Kind",
        "InvoiceStatusEnum": "crm.invoices.models.Invoice.Status",
        "APITokenStatusEnum": "crm.api.models.APIToken.Status",
        # sender_font and recipient_font share one choice set
        "EnvelopeFontEnum": "crm.printing.models.EnvelopeTemplate.Font",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# What the product calls itself in the UI.
CRM_SITE_NAME = _("客户关系管理系统")

# Lock-out is per username on purpose: offices share one public IP behind NAT, so locking an IP
# after five failures would lock out a whole company. The API token endpoint is throttled per IP.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

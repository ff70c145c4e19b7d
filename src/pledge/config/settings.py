"""Django settings, read from the environment through config.env (see .env.example)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from pledge.config.env import ConfigError, env_bool, env_int, env_list, env_path, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent

# The demo key is public: `pledge serve` refuses to start with it.
DEMO_SECRET_KEY = "pledge-demo-insecure-secret-key-do-not-use-in-production"

DATA_DIR = env_path("PLEDGE_DATA_DIR", Path.cwd() / "data")
SECRET_KEY = env_str("PLEDGE_SECRET_KEY") or DEMO_SECRET_KEY  # empty counts as unset
DEBUG = env_bool("PLEDGE_DEBUG", False)
ALLOWED_HOSTS = env_list("PLEDGE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("PLEDGE_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "pledge.core",
    "pledge.accounts",
    "pledge.customers",
    "pledge.standards",
    "pledge.tickets",
    "pledge.quality",
    "pledge.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pledge.core.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "pledge.config.urls"
WSGI_APPLICATION = "pledge.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pledge.core.context_processors.pledge",
            ],
        },
    }
]

_default_db = f"sqlite:///{DATA_DIR / 'pledge.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _default_db) or _default_db
if not DATABASE_URL.startswith(("sqlite://", "postgres://", "postgresql://")):
    raise ConfigError("DATABASE_URL must start with sqlite:/// or postgres://")
try:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("PLEDGE_DB_CONN_MAX_AGE", 60))
    }
except ValueError as exc:  # dj_database_url.ParseError is one
    raise ConfigError(f"DATABASE_URL is not a valid database URL ({exc})") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding lets PostgreSQL prepare the statements a process repeats (psycopg prepares a
    # statement after it has run prepare_threshold times) instead of parsing and planning each one.
    # Turn off behind a transaction-pooling PgBouncer older than 1.21.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": env_bool("PLEDGE_DB_SERVER_SIDE_BINDING", True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA temp_store=MEMORY; "
            # Page cache per connection (SQLite's default is 2 MiB): bulk work such as recounting SLA
            # clocks after a calendar change touches indexes far larger than that.
            f"PRAGMA cache_size=-{env_int('PLEDGE_SQLITE_CACHE_MB', 64, minimum=2) * 1024};"
        ),
    }
    # A file (not :memory:) so that live servers, worker processes and browser tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-pledge.sqlite3")}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("PLEDGE_LANGUAGE", "en")
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("PLEDGE_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = env_path("PLEDGE_STATIC_ROOT", DATA_DIR / "static")
MEDIA_ROOT = env_path("PLEDGE_MEDIA_ROOT", DATA_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("PLEDGE_MANIFEST_STATIC", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve straight from the app folders unless `pledge serve` collected them.
WHITENOISE_USE_FINDERS = not env_bool("PLEDGE_MANIFEST_STATIC", False)
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it to exist

# Seconds a verified API token is remembered per process (a revoked token may work this long). 0 = off.
API_TOKEN_CACHE_SECONDS = env_int("PLEDGE_API_TOKEN_CACHE_SECONDS", 10, minimum=0)
# Seconds a process may reuse reference rows (organisations) on hot write paths. 0 = always read.
REFERENCE_CACHE_SECONDS = env_int("PLEDGE_REFERENCE_CACHE_SECONDS", 10, minimum=0)

MAX_UPLOAD_BYTES = env_int("PLEDGE_MAX_UPLOAD_MB", 10, minimum=1) * 1024 * 1024
MAX_ATTACHMENTS_PER_MESSAGE = env_int("PLEDGE_MAX_ATTACHMENTS", 5, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_SECURE = env_bool("PLEDGE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env_str("PLEDGE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("PLEDGE_FROM_EMAIL", "pledge@localhost")
# For PLEDGE_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env_str("PLEDGE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("PLEDGE_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("PLEDGE_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("PLEDGE_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("PLEDGE_EMAIL_USE_TLS", False)

# The durable queue in the database, run by `pledge worker` (and inside `pledge demo`).
TASKS = {"default": {"BACKEND": env_str("PLEDGE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
# Days finished task results and periodic sweep runs are kept (the prune-task-results sweep).
TASK_RESULT_DAYS = env_int("PLEDGE_TASK_RESULT_DAYS", 14, minimum=1)

# Benchmarks only: exposes /bench/bare-insert, the ceiling endpoint. Never enable in production.
BENCHMARK_ENDPOINTS = env_bool("PLEDGE_BENCHMARK_ENDPOINTS", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("PLEDGE_LOG_LEVEL", "WARNING")},
}

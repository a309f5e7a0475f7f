"""Settings from the environment, as the task definition sets it: plain values from
dockyard.yml's ``env``, the database URL and the secret key by reference to Secrets Manager
(``secrets``), never baked into the image.

DATABASE_URL: ``postgres://user:password@host:5432/name`` in production, or
``sqlite:///path/to/file.sqlite3`` (the default, a file in the working folder) for the tests
and the emulator.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def database(url: str) -> dict[str, object]:
    """Django's DATABASES entry for a database URL."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":  # sqlite:///relative/file, sqlite:////absolute/file
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path[1:])}
    if parts.scheme in ("postgres", "postgresql"):
        return {"ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/"),
                "USER": unquote(parts.username or ""), "PASSWORD": unquote(parts.password or ""),
                "HOST": parts.hostname or "", "PORT": str(parts.port or 5432),
                "CONN_MAX_AGE": 60}
    raise ValueError(f"DATABASE_URL: unsupported scheme {parts.scheme!r} (postgres or sqlite)")


DEBUG = os.environ.get("DJANGO_DEBUG", "false").lower() == "true"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("DJANGO_SECRET_KEY is not set (dockyard.yml: secrets)")
    SECRET_KEY = "insecure-development-key"
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]
CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # TLS ends at the load balancer

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "articles", "jobs"]
MIDDLEWARE = [
    # First: the load balancer's health checks come with the task's private address as their
    # Host, which ALLOWED_HOSTS rightly refuses; /healthz answers before hosts are checked.
    "conduit.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "conduit.urls"
WSGI_APPLICATION = "conduit.wsgi.application"
DATABASES = {"default": database(os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")}}

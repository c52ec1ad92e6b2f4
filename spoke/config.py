"""Configuration: defaults, then instance/config.py, then environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "SMS_PROVIDER",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "PUBLIC_BASE_URL",
    "DEFAULT_PHONE_REGION",
    "RQ_QUEUE",
    "OUTBOX_REQUEUE_SECONDS",
    "OUTBOX_SENDING_TIMEOUT_SECONDS",
    "LOGIN_LIMIT_PER_ACCOUNT",
    "LOGIN_LIMIT_PER_ADDRESS",
)
# Sizes in bytes, read from the environment as whole numbers.
INT_ENV_KEYS = ("MAX_CONTENT_LENGTH", "MAX_UPLOAD_SIZE", "MAX_REQUEST_HEADER_SIZE")
MB = 1024 * 1024


def database_uri(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whichever spelling the user gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str) -> str:
    """Read the secret key kept in the instance folder, creating it on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def defaults(instance_path: str) -> dict[str, object]:
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(instance_path, 'spoke.db')}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": "",
        "RQ_QUEUE": "spoke",
        # The outbox sweep: re-queue texts queued longer than this; give back texts left
        # `sending` longer than that (a killed worker). See spoke/texting/outbox.py.
        "OUTBOX_REQUEUE_SECONDS": 120,
        "OUTBOX_SENDING_TIMEOUT_SECONDS": 300,
        "SMS_PROVIDER": "fake",
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
        "TWILIO_FROM_NUMBER": "",
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "PUBLIC_BASE_URL": "",
        "DEFAULT_PHONE_REGION": "US",
        # In-process jobs: run on a background thread (False runs them inline; tests).
        "JOBS_IN_THREAD": True,
        "UPLOAD_FOLDER": os.path.join(instance_path, "uploads"),
        # Every request body but an upload: forms are small.
        "MAX_CONTENT_LENGTH": 1 * MB,
        # A contacts CSV (the upload endpoints below); waitress refuses bodies past it too.
        "MAX_UPLOAD_SIZE": 50 * MB,
        "UPLOAD_ENDPOINTS": ("contacts.upload",),
        # Request line plus headers, enforced by waitress.
        "MAX_REQUEST_HEADER_SIZE": 64 * 1024,
        # Large exports are written here; their download links last 24 hours.
        "EXPORT_FOLDER": os.path.join(instance_path, "exports"),
        # Exports with more rows than this run as a job with a progress bar.
        "EXPORT_JOB_THRESHOLD": 10_000,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Failed log-ins allowed per email and per client address (Flask-Limiter syntax).
        "LOGIN_LIMIT_PER_ACCOUNT": "10 per 15 minutes",
        "LOGIN_LIMIT_PER_ADDRESS": "30 per 15 minutes",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_KEY_PREFIX": "spoke",
        # If Redis is unreachable, keep throttling in this process rather than refuse log-ins.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
    }


def secure_cookies(config: dict[str, object]) -> None:
    """Mark the session and remember cookies Secure when the site is served over https."""
    if str(config.get("PUBLIC_BASE_URL") or "").lower().startswith("https://"):
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True


def from_env() -> dict[str, object]:
    """Environment variables win over everything but test_config."""
    found: dict[str, object] = {}
    for key in ENV_KEYS:
        value = os.environ.get(key)
        if value:
            found[key] = value
    for key in INT_ENV_KEYS:
        value = os.environ.get(key, "").strip()
        if value:
            if not (value.isascii() and value.isdigit()):
                raise ValueError(f"{key} must be a whole number of bytes, not {value!r}")
            found[key] = int(value)
    if "DATABASE_URL" in found:
        found["SQLALCHEMY_DATABASE_URI"] = database_uri(str(found.pop("DATABASE_URL")))
    return found

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
)


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
        # Large exports are written here; their download links last 24 hours.
        "EXPORT_FOLDER": os.path.join(instance_path, "exports"),
        # Exports with more rows than this run as a job with a progress bar.
        "EXPORT_JOB_THRESHOLD": 10_000,
        "MAX_CONTENT_LENGTH": 200 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
    }


def from_env() -> dict[str, object]:
    """Environment variables win over everything but test_config."""
    found: dict[str, object] = {}
    for key in ENV_KEYS:
        value = os.environ.get(key)
        if value:
            found[key] = value
    if "DATABASE_URL" in found:
        found["SQLALCHEMY_DATABASE_URI"] = database_uri(str(found.pop("DATABASE_URL")))
    return found

"""Dependency pings for `GET /healthz`: can this process reach its database and Redis?"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import text

from spoke.extensions import db

# A load balancer polls this often: a dead dependency must answer fast, not hang the check.
TIMEOUT_SECONDS = 2.0


def _reason(error: Exception) -> str:
    """A short, one-line reason for a failed ping."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"error: {type(error).__name__}: {first}"[:200]


def database_status() -> str:
    """'ok' when `SELECT 1` answers on the app's database, else 'error: ...'."""
    try:
        db.session.execute(text("SELECT 1")).scalar()
    except Exception as error:  # any failure to answer is the news here
        return _reason(error)
    finally:
        db.session.rollback()
    return "ok"


def redis_status() -> str:
    """'ok' when Redis answers PING, 'not configured' without REDIS_URL, else 'error: ...'."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    from redis import Redis

    client = Redis.from_url(
        url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except Exception as error:
        return _reason(error)
    finally:
        client.close()
    return "ok"


def check() -> tuple[dict[str, str], bool]:
    """Each dependency's status, and whether every configured one answered."""
    report = {"db": database_status(), "redis": redis_status()}
    healthy = all(value in ("ok", "not configured") for value in report.values())
    return report, healthy

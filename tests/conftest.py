"""Fixtures: an app on a fresh database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bench.common import throwaway_postgres
from spoke import clock, create_app
from spoke.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
# CI sets this: a missing service is then a failure, never a silent skip.
REQUIRE_SERVICES = os.environ.get("SPOKE_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_sessionstart(session: pytest.Session) -> None:
    if not REQUIRE_SERVICES:
        return
    missing = [
        name
        for name, value in (("TEST_DATABASE_URL", PG_URL), ("REDIS_URL", REDIS_URL))
        if not value
    ]
    if missing:
        raise pytest.UsageError(f"SPOKE_REQUIRE_SERVICES is set but {missing} are not")


def need(what: str, available: bool) -> None:
    """Skip a test whose service is absent; fail it instead when CI requires services."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (SPOKE_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not configured")


@pytest.fixture
def redis_url() -> str:
    """The real redis-server of this run (REDIS_URL); skips without it outside CI."""
    need("REDIS_URL", bool(REDIS_URL))
    return REDIS_URL


@pytest.fixture
def chromium_path() -> str:
    """Debian's Chromium for browser tests; skips without it outside CI."""
    need("Chromium at /usr/bin/chromium", os.path.exists(CHROMIUM))
    return CHROMIUM


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, dropped at the end."""
    with throwaway_postgres(PG_URL, "spoke_test") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def app_config(database_url: str, tmp_path) -> dict:
    """Config for the test app; tests may tweak it before `app` is built."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "JOBS_IN_THREAD": False,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SMS_PROVIDER": "fake",
        "REDIS_URL": "",
        "SERVER_NAME": "localhost",
    }


@pytest.fixture
def app(app_config: dict, backend: str):
    app = create_app(app_config)
    with app.app_context():
        if backend == "postgresql":
            db.create_all()
            _truncate_all()
        else:
            db.create_all()
    clock.freeze(None)
    yield app
    clock.freeze(None)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _truncate_all() -> None:
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = "password123"):
        """Log in through the real form."""
        return self._client.post("/login", data={"email": email, "password": password})

    def login_as(self, user) -> None:
        """Log in by session, for tests about something other than logging in."""
        with self._client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        # Under the `ctx` fixture requests share its app context, where Flask-Login caches
        # the previous user in g; forget it so the next request loads this one.
        from flask import g, has_app_context

        if has_app_context():
            g.pop("_login_user", None)

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def ctx(app):
    """An app context for tests that call the domain layer directly."""
    with app.app_context():
        yield app

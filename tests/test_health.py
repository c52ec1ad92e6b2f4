"""GET /healthz: database and Redis reachability for load balancers, no login needed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from spoke import create_app
from spoke.extensions import db
from tests.factories import make_org, make_user


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def healthz(config: dict) -> Iterator:
    """GET /healthz on an app built from `config`; its connections are closed afterwards."""
    app = create_app(config)
    try:
        yield app.test_client().get("/healthz")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_healthz_is_ok_without_login_or_setup(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"db": "ok", "redis": "not configured"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_reports_a_live_redis(app_config, redis_url):
    app_config["REDIS_URL"] = redis_url
    with healthz(app_config) as response:
        assert response.status_code == 200
        assert response.get_json() == {"db": "ok", "redis": "ok"}


def test_healthz_is_503_when_redis_is_down(app_config):
    app_config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    with healthz(app_config) as response:
        assert response.status_code == 503
        body = response.get_json()
    assert body["db"] == "ok"
    assert body["redis"].startswith("error: ")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_healthz_is_503_when_the_database_is_down(app_config, backend):
    port = closed_port()
    app_config["SQLALCHEMY_DATABASE_URI"] = (
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/spoke?connect_timeout=2"
    )
    with healthz(app_config) as response:
        assert response.status_code == 503
        body = response.get_json()
    assert body["db"].startswith("error: ")
    assert body["redis"] == "not configured"


def test_healthz_needs_no_login_once_set_up(app, client):
    with app.app_context():
        make_user(make_org(), role="owner")
        db.session.commit()
    assert client.get("/texting/campaigns/1").status_code == 302  # a page needs a login
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["db"] == "ok"

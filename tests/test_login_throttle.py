"""Log-in is throttled per account and per address; unknown emails cost a real hash check."""

from __future__ import annotations

import hashlib
import uuid

import pytest
import redis
from bs4 import BeautifulSoup

from spoke import create_app
from spoke.accounts import accounts
from spoke.extensions import db
from spoke.models import people
from tests.factories import PASSWORD, make_org, make_user

TOO_MANY = "Too many attempts, try again in 15 minutes."


def login(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def alert(response) -> str:
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return page.find(role="alert").get_text(strip=True)


@pytest.fixture
def members(ctx):
    org = make_org()
    for email in ("sam@example.org", "ana@example.org", "bo@example.org"):
        make_user(org, role="admin", email=email)


def test_ten_wrong_passwords_then_the_right_one_is_refused(client, members):
    for _ in range(10):
        assert login(client, "sam@example.org", "wrong-password").status_code == 422
    refused = login(client, "SAM@example.org ", PASSWORD)
    assert refused.status_code == 429
    assert alert(refused) == TOO_MANY
    page = BeautifulSoup(refused.get_data(as_text=True), "html.parser")
    assert page.find("h1").get_text(strip=True) == "Log in"  # the login page, nothing else
    assert page.find("input", attrs={"name": "email"})["value"] == "SAM@example.org "
    assert client.get("/campaigns").status_code == 302  # not logged in
    # Another account from another address still logs in.
    assert login(client, "ana@example.org", PASSWORD, "10.0.0.2").status_code == 303


def test_the_limit_is_per_address_too(app, client, members):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "4 per 15 minutes"
    for n in range(4):
        assert login(client, f"guess{n}@example.org", "x", "10.0.0.9").status_code == 422
    refused = login(client, "bo@example.org", PASSWORD, "10.0.0.9")
    assert refused.status_code == 429 and alert(refused) == TOO_MANY
    assert login(client, "bo@example.org", PASSWORD, "10.0.0.10").status_code == 303


def test_successful_logins_do_not_count(client, members):
    for _ in range(12):
        assert login(client, "sam@example.org", PASSWORD).status_code == 303
        client.post("/logout")
    assert login(client, "sam@example.org", "wrong").status_code == 422


def test_htmx_gets_the_refusal_in_place(app, client, members):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "1 per 15 minutes"
    login(client, "sam@example.org", "wrong")
    refused = client.post(
        "/login",
        data={"email": "sam@example.org", "password": PASSWORD},
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    assert refused.status_code == 429  # base.html's htmx-config swaps 429
    assert alert(refused) == TOO_MANY


def test_unknown_emails_are_checked_against_a_dummy_hash(ctx, members, monkeypatch):
    calls: list[str] = []
    real = people.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(people, "check_password_hash", counting)
    monkeypatch.setattr(accounts, "check_password_hash", counting)
    assert accounts.authenticate(db.session, "sam@example.org", "wrong-password") is None
    assert accounts.authenticate(db.session, "nobody@example.org", "wrong-password") is None
    assert accounts.authenticate(db.session, "nobody@example.org", "") is None
    assert len(calls) == 3
    # The dummy is a hash of the same kind as a real one, so it costs the same.
    real_hash, dummy = calls[0], calls[1]
    assert dummy != real_hash and dummy.split("$")[0] == real_hash.split("$")[0]


@pytest.fixture
def redis_app_config(app_config, redis_url):
    return {**app_config, "REDIS_URL": redis_url, "LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes"}


def test_with_redis_the_limit_is_shared_between_processes(redis_app_config, redis_url, backend):
    """Two app instances (as two waitress/gunicorn processes) see the same failures."""
    run = uuid.uuid4()
    email, address = f"sam-{run.hex[:12]}@example.org", f"10.{run.bytes[0]}.{run.bytes[1]}.9"
    store = redis.Redis.from_url(redis_url)
    first = create_app(redis_app_config)
    with first.app_context():
        db.create_all()
        if not accounts.organization_exists(db.session):
            make_org()
        make_user(None, email=email)
    try:
        client = first.test_client()
        for _ in range(3):
            assert login(client, email, "wrong-password", address).status_code == 422
        # A second process starts its own limiter storage: only Redis can know the count.
        second = create_app(redis_app_config)
        refused = login(second.test_client(), email, PASSWORD, "10.0.0.3")
        with second.app_context():
            db.engine.dispose()
        assert refused.status_code == 429 and alert(refused) == TOO_MANY
        digest = hashlib.sha256(email.encode()).hexdigest()
        keys = store.keys(f"LIMITS:LIMITER/spoke/account:{digest}/*")
        assert keys, "the counts are in Redis"
    finally:
        for pattern in (f"*{hashlib.sha256(email.encode()).hexdigest()}*", f"*/{address}/*"):
            for key in store.scan_iter(pattern):
                store.delete(key)
        with first.app_context():
            db.session.execute(db.delete(people.User).where(people.User.email == email))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()

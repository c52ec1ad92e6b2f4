"""The outbox: the message row is the truth; the sweep re-queues what the queue lost."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import select, text

from spoke import clock
from spoke.extensions import db
from spoke.models import CampaignContact, Message
from spoke.runtime import tasks
from spoke.runtime.cli import sweep_outbox_command
from spoke.runtime.ticker import start_ticker
from spoke.texting import delivery, messaging, outbox
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)
HX = {"HX-Request": "true"}


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def world(ctx, auth):
    clock.freeze(NOW)
    org = make_org()
    texter = make_user(org, "texter", name="Tina Texter")
    campaign = make_campaign(org, status="started", started_at=NOW)
    ids = make_contacts(campaign, 3)
    give_contacts(campaign, texter, 3)
    auth.login_as(texter)
    g.pop("_login_user", None)
    return texter, ids


def text_of(response) -> str:
    return " ".join(
        BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ").split()
    )


def queued_at(texter, contact_id: int, at: datetime) -> int:
    clock.freeze(at)
    message_id = messaging.send_initial(db.session, contact_id, texter.id).id
    db.session.commit()
    return message_id


def statuses() -> list[tuple[int, str]]:
    db.session.rollback()  # a fresh snapshot: other threads' commits are visible
    return list(db.session.execute(select(Message.id, Message.status).order_by(Message.id)))


@pytest.mark.parametrize("headers", [HX, {}])
def test_send_with_redis_down_answers_queued_and_the_sweep_delivers_it(world, app, client, headers):
    texter, ids = world
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.post(
        f"/texting/contacts/{ids[0]}/send", headers=headers, follow_redirects=True
    )
    assert response.status_code == 200
    shown = text_of(response)
    assert "Queued for First0 Last0." in shown and "Sent to" not in shown
    assert "First1 Last1" in shown  # send-and-next carries on
    [(message_id, status)] = statuses()
    assert status == "queued"
    assert db.session.get(CampaignContact, ids[0]).message_status == "messaged"
    again = client.post(f"/texting/contacts/{ids[0]}/send", headers=HX)
    assert "Already sent" in text_of(again)

    app.config["REDIS_URL"] = ""  # embedded mode: the sweep delivers in this process
    clock.advance(seconds=outbox.REQUEUE_AFTER - 1)
    assert tasks.run(tasks.SWEEP_OUTBOX)["requeued"] == 0  # not overdue yet
    clock.advance(seconds=2)
    assert tasks.run(tasks.SWEEP_OUTBOX) == {"requeued": 1, "given_back": 0, "enqueued": 1}
    assert statuses() == [(message_id, "sent")]
    assert tasks.run(tasks.SWEEP_OUTBOX)["requeued"] == 0


def test_the_conversation_says_queued_until_the_provider_accepts(world, app, client):
    texter, ids = world
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    client.post(f"/texting/contacts/{ids[0]}/send")
    page = BeautifulSoup(client.get(f"/texting/contacts/{ids[0]}").data, "html.parser")
    [bubble] = page.select(".bubble.out")
    assert "queued" in bubble.get_text() and "sent" not in bubble.get_text()
    [message_id] = db.session.scalars(select(Message.id)).all()
    poll = bubble.find(attrs={"hx-get": True})
    assert poll["hx-get"] == f"/texting/messages/{message_id}/status"
    assert "queued" in text_of(client.get(poll["hx-get"], headers=HX))
    app.config["REDIS_URL"] = ""
    messaging.deliver(db.session, message_id, FakeOnce())
    db.session.commit()
    answered = client.get(poll["hx-get"], headers=HX)
    assert "sent" in text_of(answered) and not BeautifulSoup(answered.data, "html.parser").find(
        attrs={"hx-get": True}
    )  # polling stops once the provider has it


class FakeOnce:
    name = "fake-once"

    def send(self, to: str, body: str) -> str:
        return "SM" + "9" * 32


def test_sweep_requeues_only_messages_queued_longer_than_n_seconds(world):
    texter, ids = world
    old = queued_at(texter, ids[0], NOW)
    fresh = queued_at(texter, ids[1], NOW + timedelta(seconds=100))
    clock.freeze(NOW + timedelta(seconds=outbox.REQUEUE_AFTER + 1))
    result = outbox.sweep(db.session)
    db.session.commit()
    assert (result.requeued, result.given_back) == ([old], [])
    assert db.session.get(Message, old).status_at == clock.now()  # not again next minute
    assert outbox.sweep(db.session).requeued == []
    db.session.commit()
    assert fresh not in result.requeued


def test_sweep_gives_back_a_sending_row_left_by_a_killed_worker(world):
    texter, ids = world
    message_id = queued_at(texter, ids[0], NOW)
    assert delivery.claim(db.session, message_id)  # ... and then the worker died
    db.session.commit()
    clock.advance(seconds=outbox.SENDING_TIMEOUT - 1)
    assert outbox.sweep(db.session).given_back == []
    db.session.commit()
    clock.advance(seconds=2)
    result = outbox.sweep(db.session)
    db.session.commit()
    assert (result.given_back, result.requeued) == ([message_id], [])
    assert statuses() == [(message_id, "queued")]
    calls: list[str] = []

    class Counting:
        name = "counting"

        def send(self, to: str, body: str) -> str:
            calls.append(to)
            return "SM" + "7" * 32

    for _ in range(2):  # the re-queued job and a stray duplicate
        messaging.deliver(db.session, message_id, Counting())
        db.session.commit()
    assert calls == ["+15550000000"] and statuses() == [(message_id, "sent")]


def test_the_cli_runs_one_outbox_sweep(world, app):
    texter, ids = world
    queued_at(texter, ids[0], NOW)
    clock.advance(seconds=outbox.REQUEUE_AFTER + 1)
    out = app.test_cli_runner().invoke(sweep_outbox_command)
    assert out.exit_code == 0, out.output
    assert "Re-queued 1 waiting texts; gave back 0 left sending by a stopped worker." in out.output
    assert statuses()[0][1] == "sent"


def test_the_ticker_sweeps_the_outbox_too(world, app):
    texter, ids = world
    message_id = queued_at(texter, ids[0], NOW - timedelta(seconds=outbox.REQUEUE_AFTER + 5))
    clock.freeze(None)  # the ticker thread runs on the real clock
    db.session.execute(
        text("UPDATE message SET status_at = :at WHERE id = :id"),
        {"at": clock.now() - timedelta(hours=1), "id": message_id},
    )
    db.session.commit()
    ticker = start_ticker(app, interval=0.05)
    try:
        deadline = time.monotonic() + 30
        while statuses() != [(message_id, "sent")] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ticker.stop()
    assert statuses() == [(message_id, "sent")]


def test_the_sweep_reads_the_outbox_index(world, backend):
    """The sweep's own statement, explained by the database: it uses ix_message_outbox."""
    for status in ("queued", "sending"):
        compiled = outbox.stale_ids(status, NOW, 500).compile(
            bind=db.session.get_bind(), compile_kwargs={"render_postcompile": True}
        )
        params = {
            k: v.isoformat(" ") if isinstance(v, datetime) else v
            for k, v in compiled.params.items()
        }
        conn = db.session.connection()
        if backend == "sqlite":
            args = tuple(params[k] for k in compiled.positiontup)
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, args)
        else:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + compiled.string, params)
        assert "ix_message_outbox" in " ".join(str(row) for row in rows)
        db.session.rollback()

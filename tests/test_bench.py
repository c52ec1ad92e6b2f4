"""The logic the benchmarks exercise: the data's status mix, floors equal to app paths, the table.

No timings are asserted here: speed is what `make bench` reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import current_app
from sqlalchemy import event, func, select, text
from sqlalchemy.engine.interfaces import CacheStats

from bench import data, pages, paths, run, sql_bench
from bench.common import throwaway_database
from bench.table import Result, document, percentile, table
from spoke.assignment import claims
from spoke.config import database_uri
from spoke.extensions import db
from spoke.models import CampaignContact as CC
from spoke.models import Message
from tests.conftest import BACKENDS

SIZE = 1000


@pytest.fixture(scope="module", params=BACKENDS)
def dataset(request: pytest.FixtureRequest) -> Iterator[data.Dataset]:
    """A generated 1k-contact campaign of each backend, shared by tests that leave it as is."""
    with throwaway_database(request.param) as url:
        yield data.generate(database_uri(url), SIZE)


@pytest.fixture(params=BACKENDS)
def fresh_dataset(request: pytest.FixtureRequest) -> Iterator[data.Dataset]:
    """A dataset of its own, for a test that commits changes (the sweep, the drain)."""
    with throwaway_database(request.param) as url:
        yield data.generate(database_uri(url), SIZE)


@contextmanager
def app_context_on(ds: data.Dataset) -> Iterator[None]:
    app = data.bench_app(ds.url)
    with app.app_context():
        yield
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def bench_ctx(dataset: data.Dataset) -> Iterator[None]:
    with app_context_on(dataset):
        yield


@pytest.fixture
def fresh_ctx(fresh_dataset: data.Dataset) -> Iterator[None]:
    with app_context_on(fresh_dataset):
        yield


def test_the_data_has_the_issues_status_mix(dataset, bench_ctx):
    rows = db.session.execute(
        select(CC.message_status, func.count()).group_by(CC.message_status)
    ).all()
    assert dict(rows) == {
        "needs_message": 600,
        "messaged": 250,
        "needs_response": 80,
        "convo": 50,
        "closed": 20,
    }
    assert db.session.scalar(select(func.count()).where(CC.opted_out.is_(True))) == 10
    opt_outs = db.session.scalar(text("SELECT count(*) FROM opt_out"))
    assert opt_outs == 10


def test_texters_hold_some_and_the_pools_are_unassigned(dataset, bench_ctx):
    heavy = dataset.assignment_of[dataset.heavy_id]
    held = db.session.scalar(select(func.count()).where(CC.assignment_id == heavy))
    assert held == SIZE * 3 // 10
    pool = Counter(db.session.scalars(select(CC.message_status).where(CC.assignment_id.is_(None))))
    assert pool == {"needs_message": 420, "needs_response": 24}
    for claimer in dataset.claimer_ids:
        claimer_held = select(func.count()).where(
            CC.assignment_id == dataset.assignment_of[claimer]
        )
        assert db.session.scalar(claimer_held) == 0


def test_conversations_have_their_messages(dataset, bench_ctx):
    by_direction = dict(
        db.session.execute(
            select(Message.direction, func.count()).group_by(Message.direction)
        ).all()
    )
    texted = SIZE - 600
    assert by_direction == {"out": texted + 50, "in": 80 + 50}
    orphans = db.session.scalar(select(func.count()).where(~Message.contact_id.in_(select(CC.id))))
    assert orphans == 0


def test_schema_comes_from_the_migrations(dataset, bench_ctx):
    version = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    assert version
    indexes = {
        row[0]
        for row in db.session.execute(
            text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'campaign_contact'"
                if dataset.kind == "postgresql"
                else "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'campaign_contact'"
            )
        )
    }
    assert {"ix_contact_pool_needs_message", "ix_contact_pool_needs_response"} <= indexes


@pytest.mark.parametrize("path", paths.PATHS, ids=lambda p: p.name)
def test_each_floor_returns_the_same_rows_as_the_app_path(dataset, bench_ctx, path):
    app_rows = path.app(db.session, dataset)
    db.session.rollback()
    floor_rows = path.floor(db.session, dataset)
    db.session.rollback()
    assert app_rows == floor_rows
    assert app_rows not in ([], None, 0)  # the path found something to do


def test_timed_pairs_leave_the_data_as_they_found_it(dataset, bench_ctx):
    before = db.session.execute(
        select(CC.assignment_id.is_(None), func.count()).group_by(CC.assignment_id.is_(None))
    ).all()
    db.session.rollback()
    for path in paths.PATHS[:3]:
        app_ms, floor_ms = sql_bench.timed_pair(path, dataset, repeat=2)
        assert len(app_ms) == len(floor_ms) == 2
    after = db.session.execute(
        select(CC.assignment_id.is_(None), func.count()).group_by(CC.assignment_id.is_(None))
    ).all()
    assert sorted(before) == sorted(after)


def test_concurrent_drain_claims_every_pool_contact_once(fresh_dataset, fresh_ctx, monkeypatch):
    monkeypatch.setattr(sql_bench, "DRAIN_CLAIMERS", 8)
    result = sql_bench.drain(fresh_dataset, fresh_dataset.kind, "1k")
    assert result.extra["duplicates"] == 0
    assert result.extra["left"] == 0
    assert "420 of 420 contacts" in result.note


def test_release_sweep_under_claims_releases_every_stale_reply(fresh_dataset, fresh_ctx):
    dataset = fresh_dataset
    stale = len(paths.bare_release(db.session, dataset, None))
    db.session.rollback()
    results = sql_bench.sweep_under_claims(dataset, dataset.kind, "1k", claim_p95=1.0)
    assert f"{stale:,} of {stale:,} stale replies released" in results[0].note
    assert stale == 56
    assert paths.bare_release(db.session, dataset, None) == []
    db.session.rollback()


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 95) == 19.0
    assert percentile(values, 50) == 10.0
    assert percentile([7.0], 95) == 7.0


def test_the_table_has_each_figure_beside_its_floor_and_verdict():
    rows = [
        Result("claim 200 initials", "postgresql", "10k", 4.0, 6.0, 4.0, "bare SQL", "x", True),
        Result("texter home", "sqlite", "100k", 150.0, 180.0, None, "", "≤ 100 ms", False),
    ]
    out = table(rows)
    lines = out.splitlines()
    assert lines[0].startswith("| what | db | data | median ms | p95 ms | floor p95 ms | ratio")
    assert (
        "| claim 200 initials | postgresql | 10k | 4.00 | 6.00 | 4.00 (bare SQL) | 1.50x |" in out
    )
    assert "| pass |" in lines[2]
    assert "| **miss** |" in lines[3] and "| — |" in lines[3]
    doc = document(rows, command="make bench", pg_version="15.2", seconds=90)
    assert "cores" in doc and "RAM" in doc and "PostgreSQL: 15.2" in doc
    assert "1 of 2 judged targets met" in doc


def test_scaling_row_judges_1m_against_10k():
    def claim(size: str, p95: float) -> Result:
        return Result("claim 200 initials", "sqlite", size, p95, p95)

    rows = run.scaling([claim("10k", 10.0), claim("1M", 12.0)])
    assert [r.passed for r in rows] == [True]
    rows = run.scaling([claim("10k", 10.0), claim("1M", 14.0)])
    assert [r.passed for r in rows] == [False]


def test_load_users_find_their_next_step_in_the_real_pages(fresh_dataset, fresh_ctx):
    """The locust users' patterns match what spoke renders: the token, the next send, replies."""
    dataset = fresh_dataset
    client = current_app.test_client()
    login = client.get("/login")
    token = pages.CSRF.search(login.text).group(1)
    texter = dataset.email(dataset.texter_ids[1])
    client.post("/login", data={"email": texter, "password": data.PASSWORD, "csrf_token": token})
    home = client.get("/")
    token = pages.CSRF.search(home.text).group(1)
    replies = client.get(f"/texting/campaigns/{dataset.campaign_id}/replies")
    assert pages.CONVERSATION.findall(replies.text)  # this texter holds stale replies
    claim = client.post(
        f"/texting/campaigns/{dataset.campaign_id}/claim/initials", data={"csrf_token": token}
    )
    assert claim.status_code == 303 and "/send" in claim.headers["Location"]
    first = pages.SEND.search(client.get(claim.headers["Location"]).text).group(1)
    sent = client.post(
        f"/texting/contacts/{first}/send",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    following = pages.SEND.search(sent.text).group(1)
    assert following != first


def test_claim_statements_are_cached_and_each_pool_keeps_its_own(fresh_dataset, fresh_ctx):
    """Found by the bench: the claim UPDATE had no cache key, so every claim recompiled it."""
    ds = fresh_dataset
    hits: dict[str, list[bool]] = {}

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().startswith("UPDATE campaign_contact SET assignment_id"):
            hits.setdefault("update", []).append(context.cache_hit == CacheStats.CACHE_HIT)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        got = []
        for user_id, take in (
            (ds.claimer_ids[0], claims.claim_initials),
            (ds.claimer_ids[1], claims.claim_replies),
            (ds.claimer_ids[2], claims.claim_initials),
            (ds.claimer_ids[3], claims.claim_replies),
        ):
            result = take(db.session, ds.campaign_id, user_id)
            db.session.commit()
            statuses = set(
                db.session.scalars(select(CC.message_status).where(CC.id.in_(result.contact_ids)))
            )
            got.append((result.claimed, statuses))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert got == [
        (200, {"needs_message"}),
        (24, {"needs_response"}),
        (200, {"needs_message"}),
        (0, set()),
    ]
    assert hits["update"][2] is True  # the second initials claim reused the compiled UPDATE

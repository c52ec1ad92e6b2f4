"""The SQL paths the benchmarks time, each beside its floor: the bare statement typed by hand.

Every path is a pair of callables on (session, dataset) that return comparable rows: the
app's domain function and the hand-written statement that produces the same rows. Callers
roll back after each call, so every repetition sees the same data. `tests/test_bench.py`
checks each pair returns the same rows on a small dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.orm import Session

from bench.data import Dataset
from spoke.assignment import claims, release, review
from spoke.clock import now
from spoke.texting import queries

Rows = Any


@dataclass(frozen=True)
class SqlPath:
    """One timed path: what it is, the app's call, the floor, and the target."""

    name: str
    app: Callable[[Session, Dataset], Rows]
    floor: Callable[[Session, Dataset], Rows]
    target: str
    floor_what: str = "bare SQL"


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _run(session: Session, sql: str, **params: Any) -> list[Any]:
    """Execute hand-written SQL; datetimes bind as DateTime so SQLite compares them right."""
    stmt = text(sql)
    typed = [bindparam(k, type_=DateTime) for k, v in params.items() if isinstance(v, datetime)]
    if typed:
        stmt = stmt.bindparams(*typed)
    return list(session.execute(stmt, params).all())


def _lock(session: Session) -> str:
    return "FOR UPDATE SKIP LOCKED" if _is_pg(session) else ""


# --- claims -------------------------------------------------------------------------------

CLAIM_SQL = """
UPDATE campaign_contact SET assignment_id = :a, assigned_at = :now, updated_at = :now
WHERE id IN (SELECT id FROM campaign_contact
             WHERE campaign_id = :c AND assignment_id IS NULL AND {pool}
             ORDER BY {order} LIMIT :n {lock})
  AND assignment_id IS NULL
RETURNING id
"""


def _bare_claim(session: Session, ds: Dataset, user_id: int, pool: str, order: str, n: int):
    sql = CLAIM_SQL.format(pool=pool, order=order, lock=_lock(session))
    a = ds.assignment_of[user_id]
    return sorted(r[0] for r in _run(session, sql, a=a, now=now(), c=ds.campaign_id, n=n))


def app_claim_initials(session: Session, ds: Dataset) -> Rows:
    result = claims.claim_initials(session, ds.campaign_id, ds.claimer_ids[0])
    assert result.ok, result.message
    session.flush()  # the assignment_event insert, which a commit would send
    return sorted(result.contact_ids)


def bare_claim_initials(session: Session, ds: Dataset) -> Rows:
    pool = "message_status = 'needs_message' AND NOT opted_out"
    return _bare_claim(session, ds, ds.claimer_ids[0], pool, "id", 200)


def app_claim_replies(session: Session, ds: Dataset) -> Rows:
    result = claims.claim_replies(session, ds.campaign_id, ds.claimer_ids[1])
    assert result.ok, result.message
    session.flush()  # the assignment_event insert, which a commit would send
    return sorted(result.contact_ids)


def bare_claim_replies(session: Session, ds: Dataset) -> Rows:
    pool = "message_status = 'needs_response'"
    return _bare_claim(session, ds, ds.claimer_ids[1], pool, "last_inbound_at, id", 25)


# --- release --------------------------------------------------------------------------------

RELEASE_SQL = """
UPDATE campaign_contact SET assignment_id = NULL, assigned_at = NULL, updated_at = :now
WHERE id IN (SELECT id FROM campaign_contact
             WHERE campaign_id = :c AND assignment_id IS NOT NULL
               AND message_status = 'needs_response' AND last_inbound_at <= :cutoff
               AND NOT opted_out AND (assigned_at IS NULL OR assigned_at <= :cutoff)
               AND (last_outbound_at IS NULL OR last_outbound_at < last_inbound_at)
             ORDER BY last_inbound_at, id {limit} {lock})
RETURNING id
"""


def release_cutoff() -> datetime:
    return now() - timedelta(minutes=30)


def app_release_chunk(session: Session, ds: Dataset) -> Rows:
    ids, _event = release.release_unhandled_chunk(session, ds.campaign_id, release_cutoff())
    return sorted(ids)


def bare_release(session: Session, ds: Dataset, limit: int | None = release.CHUNK) -> Rows:
    sql = RELEASE_SQL.format(limit=f"LIMIT {limit}" if limit else "", lock=_lock(session))
    rows = _run(session, sql, now=now(), c=ds.campaign_id, cutoff=release_cutoff())
    return sorted(r[0] for r in rows)


def bare_release_chunk(session: Session, ds: Dataset) -> Rows:
    return bare_release(session, ds)


# --- Message Review -------------------------------------------------------------------------

REVIEW_FILTER = {"status": "needs_response"}
REVIEW_WHERE = """
campaign_id IN (SELECT id FROM campaign WHERE organization_id = :o)
AND message_status = 'needs_response' AND NOT opted_out
"""


def app_review(session: Session, ds: Dataset) -> Rows:
    f, errors = review.parse_filter(session, ds.org_id, REVIEW_FILTER)
    assert not errors, errors
    page = review.page(session, f)
    names = [
        (c.id, c.campaign.title, c.assignment.user.name if c.assignment else "") for c in page.rows
    ]
    return review.count(session, f), names


def bare_review(session: Session, ds: Dataset) -> Rows:
    total = _run(
        session, f"SELECT count(*) FROM campaign_contact WHERE {REVIEW_WHERE}", o=ds.org_id
    )
    rows = _run(
        session,
        f"""SELECT cc.id, c.title, coalesce(u.name, '') FROM campaign_contact cc
            JOIN campaign c ON c.id = cc.campaign_id
            LEFT JOIN assignment a ON a.id = cc.assignment_id
            LEFT JOIN user_account u ON u.id = a.user_id
            WHERE cc.id IN (SELECT id FROM campaign_contact WHERE {REVIEW_WHERE}
                            ORDER BY id LIMIT {review.PER_PAGE})
            ORDER BY cc.id""",
        o=ds.org_id,
    )
    return total[0][0], [tuple(r) for r in rows]


# --- the texter's pages (the texter holding 30% of the campaign) ---------------------------

COUNTS_SQL = """
SELECT a.campaign_id,
  coalesce(sum(CASE WHEN cc.message_status = 'needs_message' AND NOT cc.opted_out
      AND NOT EXISTS (SELECT 1 FROM opt_out o WHERE o.organization_id = :o AND o.cell = cc.cell)
      THEN 1 ELSE 0 END), 0),
  coalesce(sum(CASE WHEN cc.message_status = 'needs_response' THEN 1 ELSE 0 END), 0),
  coalesce(sum(CASE WHEN cc.message_status IN ('messaged', 'convo', 'closed')
      THEN 1 ELSE 0 END), 0)
FROM assignment a LEFT JOIN campaign_contact cc ON cc.assignment_id = a.id
WHERE a.user_id = :u {campaign}
GROUP BY a.campaign_id ORDER BY a.campaign_id
"""


def app_texter_home(session: Session, ds: Dataset) -> Rows:
    rows = queries.my_campaigns(session, ds.heavy_id, ds.org_id)
    return [(c.id, n.initials, n.replies, n.past) for c, n in rows]


def bare_texter_home(session: Session, ds: Dataset) -> Rows:
    rows = _run(session, COUNTS_SQL.format(campaign=""), o=ds.org_id, u=ds.heavy_id)
    return [tuple(int(v) for v in r) for r in rows]


def app_texter_campaign(session: Session, ds: Dataset) -> Rows:
    counts = queries.campaign_counts(session, ds.heavy_id, ds.campaign_id)
    past = queries.past_conversations(session, ds.assignment_of[ds.heavy_id])
    return (counts.initials, counts.replies, counts.past), [c.id for c in past]


def bare_texter_campaign(session: Session, ds: Dataset) -> Rows:
    counts = _run(
        session,
        COUNTS_SQL.format(campaign="AND a.campaign_id = :c"),
        o=ds.org_id,
        u=ds.heavy_id,
        c=ds.campaign_id,
    )
    # Latest activity first; never-texted contacts last (CASE keeps both databases alike).
    past = _run(
        session,
        """SELECT id FROM campaign_contact
           WHERE assignment_id = :a AND message_status IN ('messaged', 'convo', 'closed')
           ORDER BY CASE WHEN coalesce(last_inbound_at, last_outbound_at) IS NULL
                         THEN 1 ELSE 0 END,
                    CASE WHEN last_inbound_at > last_outbound_at THEN last_inbound_at
                         ELSE coalesce(last_outbound_at, last_inbound_at) END DESC, id DESC
           LIMIT 100""",
        a=ds.assignment_of[ds.heavy_id],
    )
    return tuple(int(v) for v in counts[0][1:]), [r[0] for r in past]


def app_texter_send_page(session: Session, ds: Dataset) -> Rows:
    assignment_id = ds.assignment_of[ds.heavy_id]
    contact = queries.next_initial(session, assignment_id)
    return contact.id if contact else None, queries.initials_left(session, assignment_id)


def bare_texter_send_page(session: Session, ds: Dataset) -> Rows:
    pending = """FROM campaign_contact cc WHERE cc.assignment_id = :a
        AND cc.message_status = 'needs_message' AND NOT cc.opted_out
        AND NOT EXISTS (SELECT 1 FROM opt_out o
                        WHERE o.organization_id = :o AND o.cell = cc.cell)"""
    params = {"a": ds.assignment_of[ds.heavy_id], "o": ds.org_id}
    first = _run(session, f"SELECT min(cc.id) {pending}", **params)[0][0]
    left = _run(session, f"SELECT count(*) {pending}", **params)[0][0]
    return first, left


PATHS = (
    SqlPath("claim 200 initials", app_claim_initials, bare_claim_initials, "p95 ≤ 2x floor"),
    SqlPath(
        "claim 25 replies, oldest first", app_claim_replies, bare_claim_replies, "p95 ≤ 2x floor"
    ),
    SqlPath(
        "release sweep, one chunk of 500", app_release_chunk, bare_release_chunk, "p95 ≤ 2x floor"
    ),
    SqlPath("Message Review count + first page", app_review, bare_review, "≤ 200 ms"),
    SqlPath("texter home, texter holding 30%", app_texter_home, bare_texter_home, "≤ 100 ms"),
    SqlPath(
        "texter campaign page, same texter", app_texter_campaign, bare_texter_campaign, "≤ 100 ms"
    ),
    SqlPath(
        "texter send page, same texter", app_texter_send_page, bare_texter_send_page, "≤ 100 ms"
    ),
)

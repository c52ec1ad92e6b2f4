"""Message Review's bulk actions: unassign, or reassign split evenly, in chunked transactions.

A bulk action first counts what matches per campaign (one GROUP BY with the shared where),
then walks each campaign that has matches in keyset chunks (`id > last`, by id), each chunk
one write transaction with one `assignment_event`. Knowing each campaign's count up front
means no query is spent on a campaign (or a final chunk) with nothing in it: on PostgreSQL
an empty `ORDER BY id LIMIT n` pick can turn into a scan of the whole primary key.

The walk's position after each chunk, (campaign id, last contact id), is its cursor: a walk
given a `start` cursor continues after it, so a resumed action neither repeats nor skips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from spoke.assignment import events, sql
from spoke.assignment.manual import ensure_assignment
from spoke.assignment.review import ReviewError, ReviewFilter, members, org_scope, where_clause
from spoke.models import Assignment
from spoke.models import CampaignContact as CC
from spoke.transactions import begin_write

CHUNK = 1000
Cursor = tuple[int, int]  # (campaign id, last contact id moved): the walk went up to here


@dataclass
class BulkResult:
    """What a bulk action did, for the admin's message."""

    action: str  # "unassign" or "reassign"
    moved: int = 0
    chunks: int = 0
    per_texter: dict[int, int] = field(default_factory=dict)  # this run's moves only
    names: dict[int, str] = field(default_factory=dict)
    resumed_from: int = 0  # `moved` before this run (a resumed action)
    cursor: Cursor | None = None  # set before each chunk's progress is recorded

    @property
    def message(self) -> str:
        if not self.moved:
            return "No conversations matched that could be changed; nothing changed."
        noun = "conversation" if self.moved == 1 else "conversations"
        if self.action == "unassign":
            return f"Unassigned {self.moved:,} {noun}: they are back in the pool."
        split = ", ".join(
            f"{n:,} to {self.names.get(uid, uid)}" for uid, n in self.per_texter.items()
        )
        if self.resumed_from:
            since = self.moved - self.resumed_from
            return (
                f"Reassigned {self.moved:,} {noun}; of the {since:,} moved after resuming: {split}."
            )
        return f"Reassigned {self.moved:,} {noun}: {split}."


def selection(f: ReviewFilter, contact_ids: Sequence[int] | None) -> ColumnElement[bool]:
    """Selected rows (within the organization) or everything matching the filter."""
    if contact_ids is None:
        return where_clause(f)
    return and_(org_scope(f.organization_id), CC.id.in_(list(contact_ids)))


def _per_campaign(session: Session, where: ColumnElement[bool]) -> list[tuple[int, int]]:
    """(campaign id, matching contacts) for campaigns with any, in campaign order."""
    rows = session.execute(
        select(CC.campaign_id, func.count())
        .where(where)
        .group_by(CC.campaign_id)
        .order_by(CC.campaign_id)
    ).all()
    session.commit()  # end the read; each chunk is its own write transaction
    return [(cid, n) for cid, n in rows]


# Called inside each chunk's transaction, after the move, so progress commits with the chunk.
Progress = Callable[[Session, BulkResult], None]

# One chunk: move up to `size` contacts of the campaign matching `where` with ids above `last`,
# in one write transaction with its event; add them to the result and return their ids.
ChunkMover = Callable[
    [Session, ColumnElement[bool], int, int, int, BulkResult, int | None], list[int]
]


def after(cursor: Cursor) -> ColumnElement[bool]:
    """Contacts the walk reaches after `cursor`: later campaigns, or later ids in its campaign."""
    campaign_id, last = cursor
    return or_(CC.campaign_id > campaign_id, and_(CC.campaign_id == campaign_id, CC.id > last))


def _in_chunks(
    session: Session,
    where: ColumnElement[bool],
    chunk: int,
    result: BulkResult,
    actor_id: int | None,
    move_chunk: ChunkMover,
    on_chunk: Progress | None = None,
    start: Cursor | None = None,
) -> None:
    """Walk each campaign's matches in keyset chunks, each moved and committed on its own."""
    if start is not None:
        where = and_(where, after(start))
    for campaign_id, matching in _per_campaign(session, where):
        last = start[1] if start is not None and campaign_id == start[0] else 0
        done = 0
        while done < matching:
            size = min(chunk, matching - done)
            ids = move_chunk(session, where, campaign_id, last, size, result, actor_id)
            if not ids:
                session.commit()
                break  # the rest changed meanwhile
            last = max(ids)
            result.cursor = (campaign_id, last)
            if on_chunk is not None:
                on_chunk(session, result)  # in the chunk's transaction: commits with it
            session.commit()
            result.chunks += 1
            done += len(ids)


def bulk_unassign(
    session: Session,
    f: ReviewFilter,
    *,
    actor_id: int | None,
    contact_ids: Sequence[int] | None = None,
    chunk: int = CHUNK,
    on_chunk: Progress | None = None,
    start: Cursor | None = None,
    moved: int = 0,
) -> BulkResult:
    """Put the selected or matching held contacts back in the pool, chunk by chunk.

    With `start`, continue a walk after that cursor, counting on from `moved`.
    """
    where = and_(selection(f, contact_ids), CC.assignment_id.is_not(None))
    result = BulkResult(action="unassign", moved=moved, resumed_from=moved)
    _in_chunks(session, where, chunk, result, actor_id, _unassign_chunk, on_chunk, start)
    return result


def bulk_reassign(
    session: Session,
    f: ReviewFilter,
    texter_ids: Sequence[int],
    *,
    actor_id: int | None,
    contact_ids: Sequence[int] | None = None,
    chunk: int = CHUNK,
    on_chunk: Progress | None = None,
    start: Cursor | None = None,
    moved: int = 0,
) -> BulkResult:
    """Move the selected or matching contacts to `texter_ids`, split evenly, chunk by chunk.

    The texters must be members of the organization. Contacts already held by one of them
    stay where they are. With `start`, continue a walk after that cursor, counting on from
    `moved`.
    """
    chosen = list(dict.fromkeys(texter_ids))
    names = texter_names(session, f.organization_id, chosen)
    result = BulkResult(
        action="reassign",
        names=names,
        per_texter={uid: 0 for uid in chosen},
        moved=moved,
        resumed_from=moved,
    )
    theirs = select(Assignment.id).where(Assignment.user_id.in_(chosen))
    where = and_(
        selection(f, contact_ids),
        or_(CC.assignment_id.is_(None), CC.assignment_id.not_in(theirs)),
    )
    _in_chunks(session, where, chunk, result, actor_id, _reassign_chunk, on_chunk, start)
    return result


def texter_names(
    session: Session, organization_id: int, texter_ids: Sequence[int]
) -> dict[int, str]:
    """Names of the texters to reassign to; ReviewError unless all are members."""
    if not texter_ids:
        raise ReviewError({"texters": "Choose at least one texter to reassign to."})
    names = dict(members(session, organization_id, texter_ids))
    if len(names) != len(set(texter_ids)):
        raise ReviewError({"texters": "Choose texters from the list."})
    return names


def _unassign_chunk(
    session: Session,
    where: ColumnElement[bool],
    campaign_id: int,
    last: int,
    size: int,
    result: BulkResult,
    actor_id: int | None,
) -> list[int]:
    """One transaction: put the next `size` matching contacts back in the pool."""
    begin_write(session)
    ids = sql.move(
        session,
        and_(where, CC.campaign_id == campaign_id, CC.id > last),
        None,
        limit=size,
        order_by=CC.id,
    )
    if ids:
        result.moved += len(ids)
        events.record(
            session,
            campaign_id=campaign_id,
            reason="message_review",
            actor_id=actor_id,
            contact_ids=ids,
            detail=f"Message Review: unassigned {len(ids)}",
        )
    return ids


def _reassign_chunk(
    session: Session,
    where: ColumnElement[bool],
    campaign_id: int,
    last: int,
    size: int,
    result: BulkResult,
    actor_id: int | None,
) -> list[int]:
    """One transaction: move the next `size` matching contacts, shared out evenly."""
    begin_write(session)
    targets: dict[int, int] = {}
    for uid in result.per_texter:
        assignment, _ = ensure_assignment(session, campaign_id, uid)
        assignment.is_active = True
        targets[uid] = assignment.id
    todo = and_(where, CC.campaign_id == campaign_id, CC.id > last)
    # The remainder goes to whoever has received least so far, so the total stays even.
    order = sorted(result.per_texter, key=lambda uid: result.per_texter[uid])
    base, extra = divmod(size, len(order))
    moved: list[int] = []
    split: list[str] = []
    for i, uid in enumerate(order):
        quota = base + (1 if i < extra else 0)
        if not quota:
            continue
        # Rows moved a moment ago now belong to a chosen texter, so `todo` skips them.
        ids = sql.move(session, todo, targets[uid], limit=quota, order_by=CC.id)
        moved += ids
        result.per_texter[uid] += len(ids)
        split.append(f"{len(ids)} to {result.names[uid]}")
    if moved:
        result.moved += len(moved)
        events.record(
            session,
            campaign_id=campaign_id,
            reason="message_review",
            actor_id=actor_id,
            to_assignment_id=targets[order[0]] if len(order) == 1 else None,
            contact_ids=moved,
            detail=f"Message Review: reassigned {len(moved)} ({', '.join(split)})",
        )
    return moved

"""Message Review: one filter, one where-clause, shared by the listing, the count and bulk moves.

Bulk actions walk the matching contacts campaign by campaign in keyset chunks (`id > last`,
ordered by id), each chunk one write transaction with one `assignment_event`, so a large
action never holds a long lock and a failure leaves finished chunks complete.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from spoke.assignment import events, sql
from spoke.assignment.manual import ensure_assignment
from spoke.clock import now
from spoke.db_tx import begin_write
from spoke.models import Assignment, Campaign, Membership, User
from spoke.models import CampaignContact as CC

STATUSES: dict[str, str] = {
    "needs_message": "Needs message",
    "messaged": "Messaged",
    "needs_response": "Needs response",
    "convo": "Convo",
    "closed": "Closed",
    "opted_out": "Opted out",
}
UNASSIGNED = "unassigned"
PER_PAGE = 50
CHUNK = 1000
MAX_SELECTED = 500
_PHONEISH = re.compile(r"\+?[\d\s().-]+")


class ReviewError(Exception):
    """Input the admin must correct; `errors` maps a field name to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class CampaignNotFound(LookupError):
    """The filter named a campaign outside the organization."""


@dataclass(frozen=True)
class ReviewFilter:
    """What the admin filtered on; empty fields filter nothing."""

    organization_id: int
    campaign_id: int | None = None
    texter_id: int | None = None
    unassigned: bool = False
    status: str = ""
    unhandled_minutes: int | None = None
    search: str = ""
    country_code: str = "1"

    def params(self) -> dict[str, str]:
        """The filter as form fields (for links, hidden fields and the filter form)."""
        texter = UNASSIGNED if self.unassigned else str(self.texter_id or "")
        values = {
            "campaign": str(self.campaign_id or ""),
            "texter": texter,
            "status": self.status,
            "unhandled": "" if self.unhandled_minutes is None else str(self.unhandled_minutes),
            "q": self.search,
        }
        return {k: v for k, v in values.items() if v}


def parse_filter(
    session: Session, organization_id: int, args: Mapping[str, str], *, country_code: str = "1"
) -> tuple[ReviewFilter, dict[str, str]]:
    """Validate filter fields; raise CampaignNotFound for another organization's campaign."""
    errors: dict[str, str] = {}
    campaign_id = _int(args.get("campaign", ""))
    if args.get("campaign") and campaign_id is None:
        raise CampaignNotFound(args.get("campaign"))
    if campaign_id is not None:
        owner = session.scalar(select(Campaign.organization_id).where(Campaign.id == campaign_id))
        if owner != organization_id:
            raise CampaignNotFound(campaign_id)
    texter_raw = (args.get("texter") or "").strip()
    texter_id = None
    if texter_raw and texter_raw != UNASSIGNED:
        texter_id = _int(texter_raw)
        if texter_id is None or not members(session, organization_id, [texter_id]):
            errors["texter"] = "Choose a texter from the list."
            texter_id = None
    status = (args.get("status") or "").strip()
    if status and status not in STATUSES:
        errors["status"] = "Choose a status from the list."
        status = ""
    minutes_raw = (args.get("unhandled") or "").strip()
    minutes = _int(minutes_raw) if minutes_raw else None
    if minutes_raw and (minutes is None or minutes < 0):
        errors["unhandled"] = "Enter a whole number of minutes, 0 or more."
        minutes = None
    search = (args.get("q") or "").strip()[:100]
    return (
        ReviewFilter(
            organization_id=organization_id,
            campaign_id=campaign_id,
            texter_id=texter_id,
            unassigned=texter_raw == UNASSIGNED,
            status=status,
            unhandled_minutes=minutes,
            search=search,
            country_code=country_code,
        ),
        errors,
    )


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def org_scope(organization_id: int) -> ColumnElement[bool]:
    return CC.campaign_id.in_(
        select(Campaign.id).where(Campaign.organization_id == organization_id)
    )


def where_clause(f: ReviewFilter, at: datetime | None = None) -> ColumnElement[bool]:
    """The one WHERE for listing, counting and bulk actions (index-friendly terms only)."""
    terms: list[ColumnElement[bool]] = [org_scope(f.organization_id)]
    if f.campaign_id is not None:
        terms.append(CC.campaign_id == f.campaign_id)
    if f.unassigned:
        terms.append(CC.assignment_id.is_(None))
    elif f.texter_id is not None:
        terms.append(
            CC.assignment_id.in_(select(Assignment.id).where(Assignment.user_id == f.texter_id))
        )
    if f.status == "opted_out":
        terms.append(CC.opted_out.is_(True))
    elif f.status:
        terms.extend([CC.message_status == f.status, CC.opted_out.is_(False)])
    if f.unhandled_minutes is not None:
        cutoff = (at or now()) - timedelta(minutes=f.unhandled_minutes)
        terms.extend([CC.message_status == "needs_response", CC.last_inbound_at < cutoff])
    search = _search(f.search, f.country_code)
    if search is not None:
        terms.append(search)
    return and_(*terms)


def _search(q: str, country_code: str) -> ColumnElement[bool] | None:
    """Name prefix (first, last, or "first last"), or cell prefix for phone-like input."""
    q = q.strip()
    if not q:
        return None
    digits = re.sub(r"\D", "", q)
    if digits and _PHONEISH.fullmatch(q):
        prefixes = {"+" + digits}
        if not q.startswith("+"):
            prefixes.add("+" + country_code + digits)
        return or_(*(_cell_prefix(p) for p in sorted(prefixes)))
    words = q.split()
    name = or_(
        CC.first_name.istartswith(q, autoescape=True),
        CC.last_name.istartswith(q, autoescape=True),
    )
    if len(words) < 2:
        return name
    both = and_(
        CC.first_name.istartswith(words[0], autoescape=True),
        CC.last_name.istartswith(" ".join(words[1:]), autoescape=True),
    )
    return or_(name, both)


def _cell_prefix(prefix: str) -> ColumnElement[bool]:
    """`cell` starts with `prefix` ("+digits") as a range, so the btree on cell serves it."""
    digits = prefix[1:].rstrip("9")
    if not digits:
        return CC.cell >= prefix
    upper = "+" + digits[:-1] + str(int(digits[-1]) + 1)
    return and_(CC.cell >= prefix, CC.cell < upper)


def count(session: Session, f: ReviewFilter, at: datetime | None = None) -> int:
    """How many contacts match the filter (one COUNT with the shared where)."""
    return sql.count(session, where_clause(f, at))


@dataclass
class ReviewPage:
    rows: list[CC]
    has_next: bool
    has_prev: bool

    @property
    def first_id(self) -> int | None:
        return self.rows[0].id if self.rows else None

    @property
    def last_id(self) -> int | None:
        return self.rows[-1].id if self.rows else None


def page(
    session: Session,
    f: ReviewFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    per_page: int = PER_PAGE,
    at: datetime | None = None,
) -> ReviewPage:
    """One keyset page of matching contacts by id (no OFFSET), with campaign and texter."""
    q = (
        select(CC)
        .where(where_clause(f, at))
        .options(
            selectinload(CC.campaign), selectinload(CC.assignment).selectinload(Assignment.user)
        )
    )
    if before is not None:
        q = q.where(CC.id < before).order_by(CC.id.desc())
    else:
        if after is not None:
            q = q.where(CC.id > after)
        q = q.order_by(CC.id)
    rows = list(session.scalars(q.limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    if before is not None:
        rows.reverse()
        return ReviewPage(rows, has_next=True, has_prev=more)
    return ReviewPage(rows, has_next=more, has_prev=after is not None)


def members(
    session: Session, organization_id: int, user_ids: Sequence[int] | None = None
) -> list[tuple[int, str]]:
    """The organization's members as (user id, name), by name; only `user_ids` if given."""
    q = (
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id)
        .order_by(User.name, User.id)
    )
    if user_ids is not None:
        q = q.where(User.id.in_(list(user_ids)))
    return [(uid, name) for uid, name in session.execute(q)]


@dataclass
class BulkResult:
    """What a bulk action did, for the admin's message."""

    action: str  # "unassign" or "reassign"
    moved: int = 0
    chunks: int = 0
    per_texter: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

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
        return f"Reassigned {self.moved:,} {noun}: {split}."


def selection(
    f: ReviewFilter, contact_ids: Sequence[int] | None, at: datetime | None = None
) -> ColumnElement[bool]:
    """Selected rows (within the organization) or everything matching the filter."""
    if contact_ids is None:
        return where_clause(f, at)
    return and_(org_scope(f.organization_id), CC.id.in_(list(contact_ids)))


def _campaign_ids(session: Session, f: ReviewFilter) -> list[int]:
    if f.campaign_id is not None:
        return [f.campaign_id]
    return list(
        session.scalars(
            select(Campaign.id)
            .where(Campaign.organization_id == f.organization_id)
            .order_by(Campaign.id)
        )
    )


def bulk_unassign(
    session: Session,
    f: ReviewFilter,
    *,
    actor_id: int | None,
    contact_ids: Sequence[int] | None = None,
    chunk: int = CHUNK,
) -> BulkResult:
    """Put the selected or matching held contacts back in the pool, chunk by chunk."""
    where = selection(f, contact_ids)
    result = BulkResult(action="unassign")
    for campaign_id in _campaign_ids(session, f):
        last = 0
        while True:
            begin_write(session)
            ids = sql.move(
                session,
                and_(
                    where,
                    CC.campaign_id == campaign_id,
                    CC.assignment_id.is_not(None),
                    CC.id > last,
                ),
                None,
                limit=chunk,
                order_by=CC.id,
            )
            if ids:
                events.record(
                    session,
                    campaign_id=campaign_id,
                    reason="message_review",
                    actor_id=actor_id,
                    contact_ids=ids,
                    detail=f"Message Review: unassigned {len(ids)}",
                )
            session.commit()
            if not ids:
                break
            result.moved += len(ids)
            result.chunks += 1
            last = max(ids)
            if len(ids) < chunk:
                break
    return result


def bulk_reassign(
    session: Session,
    f: ReviewFilter,
    texter_ids: Sequence[int],
    *,
    actor_id: int | None,
    contact_ids: Sequence[int] | None = None,
    chunk: int = CHUNK,
) -> BulkResult:
    """Move the selected or matching contacts to `texter_ids`, split evenly, chunk by chunk.

    Contacts already held by one of the chosen texters stay where they are.
    """
    chosen = list(dict.fromkeys(texter_ids))
    if not chosen:
        raise ReviewError({"texters": "Choose at least one texter to reassign to."})
    names = dict(members(session, f.organization_id, chosen))
    if len(names) != len(chosen):
        raise ReviewError({"texters": "Choose texters from the list."})
    result = BulkResult(action="reassign", names=names, per_texter={uid: 0 for uid in chosen})
    where = selection(f, contact_ids)
    for campaign_id in _campaign_ids(session, f):
        last = 0
        while True:
            moved = _reassign_chunk(session, where, campaign_id, last, chunk, result, actor_id)
            session.commit()
            if not moved:
                break
            result.chunks += 1
            last = max(moved)
            if len(moved) < chunk:
                break
    return result


def _reassign_chunk(
    session: Session,
    where: ColumnElement[bool],
    campaign_id: int,
    last: int,
    chunk: int,
    result: BulkResult,
    actor_id: int | None,
) -> list[int]:
    """One transaction: move the next `chunk` matching contacts, shared out evenly."""
    begin_write(session)
    targets: dict[int, int] = {}
    for uid in result.per_texter:
        assignment, _ = ensure_assignment(session, campaign_id, uid)
        assignment.is_active = True
        targets[uid] = assignment.id
    todo = and_(
        where,
        CC.campaign_id == campaign_id,
        CC.id > last,
        or_(CC.assignment_id.is_(None), CC.assignment_id.not_in(list(targets.values()))),
    )
    available = (
        session.scalar(
            select(func.count()).select_from(
                select(CC.id).where(todo).order_by(CC.id).limit(chunk).subquery()
            )
        )
        or 0
    )
    if not available:
        return []
    # The remainder goes to whoever has received least so far, so the total stays even.
    order = sorted(result.per_texter, key=lambda uid: result.per_texter[uid])
    base, extra = divmod(available, len(order))
    moved: list[int] = []
    split: list[str] = []
    for i, uid in enumerate(order):
        quota = base + (1 if i < extra else 0)
        if not quota:
            continue
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

"""Message Review: one filter, one where-clause, shared by the listing, the count and bulk moves.

The bulk actions that reuse `where_clause` live in `review_bulk`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from spoke import parsing
from spoke.assignment import sql, textable
from spoke.clock import now
from spoke.models import Assignment, Campaign, Membership, User
from spoke.models import CampaignContact as CC
from spoke.responses.answers import AnswerFilter, answer_term, parse_answer_filter

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
    # The texter's assignment ids in this organization, resolved by parse_filter: a literal
    # IN list gives the planner exact statistics (a subquery hides which campaign they are in).
    texter_assignment_ids: tuple[int, ...] | None = None
    unassigned: bool = False
    status: str = ""
    unhandled_minutes: int | None = None
    search: str = ""
    country_code: str = "1"
    # "Textable now": each campaign's zones open when the filter was read (parse_filter).
    textable_zones: textable.CampaignZones | None = None
    # A question's answer, or "no answer yet" to it.
    answer: AnswerFilter | None = None

    def params(self) -> dict[str, str]:
        """The filter as form fields (for links, hidden fields and the filter form)."""
        texter = UNASSIGNED if self.unassigned else str(self.texter_id or "")
        values = {
            "campaign": str(self.campaign_id or ""),
            "texter": texter,
            "status": self.status,
            "unhandled": "" if self.unhandled_minutes is None else str(self.unhandled_minutes),
            "q": self.search,
            "textable": "1" if self.textable_zones is not None else "",
            "answer": self.answer.param if self.answer else "",
        }
        return {k: v for k, v in values.items() if v}


def country_code(region: str | None) -> str:
    """The calling code ("1") that a cell search without "+" assumes, from a region ("US")."""
    return str(phonenumbers.country_code_for_region(region or "US") or 1)


def parse_filter(
    session: Session, organization_id: int, args: Mapping[str, str], *, country_code: str = "1"
) -> tuple[ReviewFilter, dict[str, str]]:
    """Validate filter fields; raise CampaignNotFound for another organization's campaign."""
    errors: dict[str, str] = {}
    campaign_id = parsing.record_id(args.get("campaign"))
    if args.get("campaign") and campaign_id is None:
        raise CampaignNotFound(args.get("campaign"))
    if campaign_id is not None:
        owner = session.scalar(select(Campaign.organization_id).where(Campaign.id == campaign_id))
        if owner != organization_id:
            raise CampaignNotFound(campaign_id)
    texter_raw = (args.get("texter") or "").strip()
    texter_id = None
    if texter_raw and texter_raw != UNASSIGNED:
        texter_id = parsing.record_id(texter_raw)
        if texter_id is None or not members(session, organization_id, [texter_id]):
            errors["texter"] = "Choose a texter from the list."
            texter_id = None
    status = (args.get("status") or "").strip()
    if status and status not in STATUSES:
        errors["status"] = "Choose a status from the list."
        status = ""
    minutes_raw = (args.get("unhandled") or "").strip()
    minutes = parsing.minutes(minutes_raw) if minutes_raw else None
    if minutes_raw and minutes is None:
        too_long = parsing.whole_number(minutes_raw, 0, 10**20) is not None
        errors["unhandled"] = (
            f"Enter at most {parsing.MAX_MINUTES:,} minutes (ten years)."
            if too_long
            else "Enter a whole number of minutes, 0 or more."
        )
        minutes = None
    search = (args.get("q") or "").strip()[:100]
    answer = parse_answer_filter(session, organization_id, args.get("answer") or "")
    if (args.get("answer") or "").strip() and answer is None:
        errors["answer"] = "Choose an answer from the list."
    assignment_ids = None
    if texter_id is not None:
        assignment_ids = tuple(
            session.scalars(
                select(Assignment.id)
                .join(Campaign, Campaign.id == Assignment.campaign_id)
                .where(Assignment.user_id == texter_id, Campaign.organization_id == organization_id)
                .order_by(Assignment.id)
            )
        )
    zones = None
    if args.get("textable"):
        scope = select(Campaign.id).where(Campaign.organization_id == organization_id)
        if campaign_id is not None:
            scope = scope.where(Campaign.id == campaign_id)
        zones = textable.open_zones_by_campaign(session, scope)
    return (
        ReviewFilter(
            organization_id=organization_id,
            campaign_id=campaign_id,
            texter_id=texter_id,
            texter_assignment_ids=assignment_ids,
            unassigned=texter_raw == UNASSIGNED,
            status=status,
            unhandled_minutes=minutes,
            search=search,
            country_code=country_code,
            textable_zones=zones,
            answer=answer,
        ),
        errors,
    )


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
    elif f.texter_assignment_ids is not None:
        terms.append(CC.assignment_id.in_(f.texter_assignment_ids))
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
    if f.textable_zones is not None:
        terms.append(textable.textable_now(f.textable_zones))
    if f.answer is not None:
        terms.append(answer_term(f.answer))
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

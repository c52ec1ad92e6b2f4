"""Texting hours in assignment: a pool narrowed to the time zones open now, and why it is empty.

The claim stays one statement: the few zones a campaign's contacts use are checked in Python,
and the open ones become `timezone IN (:open_zones)` on the pool predicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, false, not_, or_, select
from sqlalchemy.orm import Session

from spoke.campaigns.hours import NONE, Hours, first_to_open
from spoke.clock import now
from spoke.models import Campaign
from spoke.models import CampaignContact as CC


@dataclass(frozen=True)
class OpenPool:
    """A pool predicate and the part of it that may be handed out now."""

    hours: Hours
    pool: ColumnElement[bool]
    open_zones: list[str] | None  # None: hours not enforced, every zone is open
    closed_zones: list[str]
    at: datetime

    @property
    def where(self) -> ColumnElement[bool] | None:
        """The pool inside its hours; None when no zone is open (nothing to ask the database)."""
        if self.open_zones is None:
            return self.pool
        if not self.open_zones:
            return None
        return and_(self.pool, CC.timezone.in_(self.open_zones))

    def next_zone(self, session: Session) -> str | None:
        """The closed zone that opens first and has contacts in the pool, if any."""
        for zone in first_to_open(self.hours, self.closed_zones, self.at):
            waiting = session.scalar(select(CC.id).where(self.pool, CC.timezone == zone).limit(1))
            if waiting is not None:
                return zone
        return None

    def closed_refusal(self, session: Session) -> str:
        """Why the pool gave nothing because of the hours ("" if the hours are not why)."""
        zone = self.next_zone(session)
        return "" if zone is None else self.hours.closed_refusal(zone, self.at)

    def closed_note(self, session: Session) -> str:
        """ "the next ones open at 9:00 am Central (in 2 h 10 min)", or "" as above."""
        zone = self.next_zone(session)
        return (
            ""
            if zone is None
            else f"the next ones open at {self.hours.next_open_text(zone, self.at)}"
        )


def open_pool(campaign: Campaign, pool: ColumnElement[bool], margin: timedelta = NONE) -> OpenPool:
    """Split the campaign's contact zones into open and closed at the clock's now."""
    hours, at = Hours.of(campaign), now()
    if not hours.enforced:
        return OpenPool(hours, pool, None, [], at)
    zones = list(campaign.contact_timezones or [])
    open_zones = hours.open_zones(zones, at, margin)
    closed = sorted(set(zones) - set(open_zones))
    return OpenPool(hours, pool, open_zones, closed, at)


# Per campaign: the zones open now, or None when the campaign does not enforce hours.
CampaignZones = tuple[tuple[int, tuple[str, ...] | None], ...]


def open_zones_by_campaign(session: Session, campaign_ids: Select[tuple[int]]) -> CampaignZones:
    """For Message Review's "Textable now": each campaign's zones inside its hours now."""
    at = now()
    out = []
    for campaign in session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids))):
        hours = Hours.of(campaign)
        zones = hours.open_zones(campaign.contact_timezones or [], at) if hours.enforced else None
        out.append((campaign.id, None if zones is None else tuple(zones)))
    return tuple(sorted(out))


def textable_now(zones: CampaignZones) -> ColumnElement[bool]:
    """Contacts that could be texted now: not opted out, inside their campaign's hours."""
    anytime = [campaign_id for campaign_id, open_ in zones if open_ is None]
    terms = [CC.campaign_id.in_(anytime)] if anytime else []
    terms += [
        and_(CC.campaign_id == campaign_id, CC.timezone.in_(open_))
        for campaign_id, open_ in zones
        if open_
    ]
    return and_(not_(CC.opted_out), or_(false(), *terms))

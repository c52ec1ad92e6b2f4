"""Small factories for tests: make_org, make_user, make_campaign, make_contacts, give_contacts.

Each takes overrides and commits, so the rows are visible to the test client at once.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from sqlalchemy import insert

from spoke.extensions import db
from spoke.models import Campaign, CampaignContact, Membership, Organization, User

_seq = count(1)
PASSWORD = "password123"


def make_org(name: str = "Test Org") -> Organization:
    org = Organization(name=name)
    db.session.add(org)
    db.session.commit()
    return org


def make_user(org: Organization | None = None, role: str = "texter", **overrides: Any) -> User:
    n = next(_seq)
    user = User(
        email=overrides.pop("email", f"user{n}@example.org"),
        name=overrides.pop("name", f"User{n} Tester"),
        **overrides,
    )
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    if org is not None:
        db.session.add(Membership(organization_id=org.id, user_id=user.id, role=role))
    db.session.commit()
    return user


def make_campaign(org: Organization, **overrides: Any) -> Campaign:
    values: dict[str, Any] = {
        "title": f"Campaign {next(_seq)}",
        "description": "",
        "script": "Hi {firstName}, this is {texterFirstName}. Can we count on your vote?",
        # Hours off unless a test is about them: many tests run on the real clock, at any
        # hour of the day. Campaigns created through the app enforce hours by default.
        "texting_hours_enforced": False,
    }
    values.update(overrides)
    campaign = Campaign(organization_id=org.id, **values)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def make_contacts(campaign: Campaign, n: int, start: int = 0, **overrides: Any) -> list[int]:
    """Insert n contacts with distinct cells (+1 555 01xxxxx); return their ids.

    They get the campaign's default time zone unless `timezone` is given, and the campaign's
    list of contact zones learns the zone, as an import does.
    """
    zone = overrides.pop("timezone", campaign.default_timezone)
    source = overrides.pop(
        "timezone_source", "default" if zone == campaign.default_timezone else "csv"
    )
    rows = [
        {
            "campaign_id": campaign.id,
            "first_name": f"First{i}",
            "last_name": f"Last{i}",
            "cell": f"+1555{start + i:07d}",
            "custom_fields": {},
            "message_status": "needs_message",
            "opted_out": False,
            "timezone": zone,
            "timezone_source": source,
            **overrides,
        }
        for i in range(n)
    ]
    if zone not in (campaign.contact_timezones or []):
        campaign.contact_timezones = sorted([*(campaign.contact_timezones or []), zone])
    ids = list(db.session.scalars(insert(CampaignContact).returning(CampaignContact.id), rows))
    db.session.commit()
    return ids


def give_contacts(campaign: Campaign, texter: User, n: int, actor: User | None = None) -> int:
    """Put n unsent pool contacts in `texter`'s hands through the domain's manual assignment."""
    from spoke.assignment import manual

    result = manual.set_texts_to_send(
        db.session, campaign.id, texter.id, n, actor_id=actor.id if actor else None
    )
    db.session.commit()
    return result.assigned

"""Campaign rules: create, edit basics and script, start, archive, and count contacts.

Every writer takes a session, does its work in one write transaction (started with
`transactions.begin_write`) and leaves the commit to its caller. A refusal raises `CampaignError`
after rolling the transaction back, so nothing half-done can be committed by mistake.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoke import clock, parsing, transactions
from spoke.campaigns import script
from spoke.campaigns.hours import Settings
from spoke.campaigns.preview import preview_script
from spoke.models import Campaign, CampaignContact, Team
from spoke.texting import segments

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
ARCHIVED_NO_EDIT = "This campaign is archived and can't be edited."
ARCHIVED_NO_START = "This campaign is archived and can't be started again."


class CampaignError(Exception):
    """A refused change; `errors` maps a form field (or "status") to what to tell the user."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class CampaignCounts:
    """A campaign's contacts by state; each status counts contacts that have not opted out."""

    total: int = 0
    needs_message: int = 0
    messaged: int = 0
    needs_response: int = 0
    convo: int = 0
    closed: int = 0
    opted_out: int = 0


@dataclass(frozen=True)
class CampaignRow:
    """One line of the campaigns list."""

    campaign: Campaign
    contact_count: int


def _validate_basics(title: str, description: str) -> tuple[str, str, dict[str, str]]:
    title, description = title.strip(), description.strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Title must be {TITLE_MAX} characters or fewer."
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Description must be {DESCRIPTION_MAX} characters or fewer."
    return title, description, errors


def _refuse(session: Session, errors: dict[str, str]) -> CampaignError:
    session.rollback()
    return CampaignError(errors)


def _lock_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = transactions.lock_row(session, Campaign, campaign_id)
    if campaign is None:
        raise _refuse(session, {"status": "This campaign no longer exists."})
    return campaign


def script_error(text: str, custom_field_names: Iterable[str]) -> str:
    """Why `text` can't be saved as the script, or "" when it can."""
    if not text.strip():
        return "Write the initial message."
    unknown = script.unknown_fields(text, custom_field_names)
    if unknown:
        return script.unknown_fields_message(unknown, custom_field_names)
    return ""


def create_campaign(
    session: Session, organization_id: int, title: str, description: str
) -> Campaign:
    """Create a draft campaign in the organization."""
    title, description, errors = _validate_basics(title, description)
    if errors:
        raise CampaignError(errors)
    transactions.begin_write(session)
    campaign = Campaign(
        organization_id=organization_id, title=title, description=description, status="draft"
    )
    session.add(campaign)
    session.flush()
    return campaign


def update_basics(
    session: Session,
    campaign_id: int,
    title: str,
    description: str,
    team_ids: Iterable[str],
    hours: Settings | dict[str, str] | None = None,
) -> Campaign:
    """Set title, description, teams (of this organization) and texting hours, or nothing.

    `hours` is the checked fieldset, or its errors (`hours.parse_settings`); None keeps it.
    """
    title, description, errors = _validate_basics(title, description)
    if isinstance(hours, dict):
        errors.update(hours)
    ids, valid = parsing.record_ids(team_ids)
    wanted = set(ids)
    if not valid:
        errors["teams"] = "Choose teams from this organization."
    transactions.begin_write(session)
    campaign = _lock_campaign(session, campaign_id)
    if campaign.status == "archived":
        raise _refuse(session, {"status": ARCHIVED_NO_EDIT})
    teams: list[Team] = []
    if wanted:
        teams = list(
            session.scalars(
                select(Team).where(
                    Team.id.in_(wanted), Team.organization_id == campaign.organization_id
                )
            )
        )
        if len(teams) != len(wanted):
            errors["teams"] = "Choose teams from this organization."
    if errors:
        raise _refuse(session, errors)
    campaign.title = title
    campaign.description = description
    campaign.teams = sorted(teams, key=lambda t: t.name)
    if isinstance(hours, Settings):
        campaign.texting_hours_enforced = hours.enforced
        campaign.texting_hours_start, campaign.texting_hours_stop = hours.start, hours.stop
        campaign.default_timezone = hours.default_timezone
    session.flush()
    return campaign


def save_script(session: Session, campaign_id: int, text: str) -> Campaign:
    """Store the initial message after checking that every {field} in it exists."""
    text = text.strip()
    transactions.begin_write(session)
    campaign = _lock_campaign(session, campaign_id)
    if campaign.status == "archived":
        raise _refuse(session, {"status": ARCHIVED_NO_EDIT})
    error = script_error(text, campaign.custom_field_names or []) or too_long(
        session, campaign, text
    )
    if error:
        raise _refuse(session, {"script": error})
    campaign.script = text
    session.flush()
    return campaign


def too_long(session: Session, campaign: Campaign, text: str) -> str:
    """Why `text` is too long to text, as typed or filled in for the first contact; or ""."""
    return (
        segments.measure(text).refusal or preview_script(session, campaign, text, "").length.refusal
    )


def _has_contacts(session: Session, campaign_id: int) -> bool:
    return (
        session.scalar(
            select(CampaignContact.id).where(CampaignContact.campaign_id == campaign_id).limit(1)
        )
        is not None
    )


def start_campaign(session: Session, campaign_id: int) -> Campaign:
    """Move a draft campaign to started; it needs contacts and a valid script."""
    transactions.begin_write(session)
    campaign = _lock_campaign(session, campaign_id)
    if campaign.status == "archived":
        raise _refuse(session, {"status": ARCHIVED_NO_START})
    if campaign.status == "started":
        raise _refuse(session, {"status": "This campaign has already started."})
    reasons = []
    if not _has_contacts(session, campaign.id):
        reasons.append("Upload contacts before starting.")
    if not (campaign.script or "").strip():
        reasons.append("Write the script before starting.")
    else:
        unknown = script_error(campaign.script, campaign.custom_field_names or [])
        if unknown:
            reasons.append(f"Fix the script before starting. {unknown}")
    if reasons:
        raise _refuse(session, {"status": " ".join(reasons)})
    campaign.status = "started"
    campaign.started_at = clock.now()
    session.flush()
    return campaign


def archive_campaign(session: Session, campaign_id: int) -> Campaign:
    """Archive a draft or started campaign; archived campaigns stay read-only."""
    transactions.begin_write(session)
    campaign = _lock_campaign(session, campaign_id)
    if campaign.status == "archived":
        raise _refuse(session, {"status": "This campaign is already archived."})
    campaign.status = "archived"
    session.flush()
    return campaign


def campaign_counts(session: Session, campaign_id: int) -> CampaignCounts:
    """Count the campaign's contacts by status and opt-out in one grouped query."""
    rows = session.execute(
        select(CampaignContact.message_status, CampaignContact.opted_out, func.count())
        .where(CampaignContact.campaign_id == campaign_id)
        .group_by(CampaignContact.message_status, CampaignContact.opted_out)
    ).all()
    by_status: dict[str, int] = {}
    total = opted_out = 0
    for status, is_opted_out, n in rows:
        total += n
        if is_opted_out:
            opted_out += n
        else:
            by_status[status] = by_status.get(status, 0) + n
    return CampaignCounts(
        total=total,
        needs_message=by_status.get("needs_message", 0),
        messaged=by_status.get("messaged", 0),
        needs_response=by_status.get("needs_response", 0),
        convo=by_status.get("convo", 0),
        closed=by_status.get("closed", 0),
        opted_out=opted_out,
    )


def list_campaigns(session: Session, organization_id: int) -> list[CampaignRow]:
    """The organization's campaigns, newest first, each with its contact count."""
    counts = (
        select(CampaignContact.campaign_id, func.count().label("n"))
        .group_by(CampaignContact.campaign_id)
        .subquery()
    )
    rows = session.execute(
        select(Campaign, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.campaign_id == Campaign.id)
        .where(Campaign.organization_id == organization_id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ).all()
    return [CampaignRow(campaign, int(n)) for campaign, n in rows]


def organization_teams(session: Session, organization_id: int) -> list[Team]:
    """The organization's teams by name, for the Basics checkboxes."""
    return list(
        session.scalars(
            select(Team).where(Team.organization_id == organization_id).order_by(Team.name)
        )
    )

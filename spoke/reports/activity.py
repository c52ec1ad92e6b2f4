"""The activity rollup: texts sent, replies answered and replies received per 15 minutes.

The send and receive paths call `record` inside their own transaction, so the counts move
with the messages they count (a rolled-back send counts nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spoke.models import CampaignActivity
from spoke.models.reports import CONTACTS_ROW

BUCKET = timedelta(minutes=15)


def bucket_of(at: datetime) -> datetime:
    """The start of the 15-minute bucket holding `at`."""
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def record(
    session: Session,
    campaign_id: int,
    at: datetime,
    *,
    texter_id: int | None = None,
    sent: int = 0,
    answered: int = 0,
    received: int = 0,
) -> None:
    """Add to the counts of `at`'s bucket (one upsert; replies go on the contacts' row)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CampaignActivity.__table__
    stmt = insert(CampaignActivity).values(
        campaign_id=campaign_id,
        bucket_at=bucket_of(at),
        texter_id=texter_id or CONTACTS_ROW,
        sent=sent,
        answered=answered,
        received=received,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["campaign_id", "bucket_at", "texter_id"],
        set_={
            "sent": table.c.sent + stmt.excluded.sent,
            "answered": table.c.answered + stmt.excluded.answered,
            "received": table.c.received + stmt.excluded.received,
        },
    )
    session.execute(stmt)

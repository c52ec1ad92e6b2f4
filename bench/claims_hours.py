"""Claim speed with texting hours on, side by side with hours off, on a large pool.

The pool spreads over four US zones (one contact in four each); the clock is frozen at
11:30 am Eastern, when New York, Chicago and Denver are open and Los Angeles (8:30 am) is
not, so the claim's `timezone IN (:open_zones)` leaves out a quarter of the pool.
Usage: python -m bench.claims_hours [POOL]   (default 1,000,000; `make bench` uses 100,000)
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from datetime import datetime

from sqlalchemy import select, update

from bench.claims import setup
from bench.common import backends, throwaway_database
from spoke import clock
from spoke.assignment import claims
from spoke.extensions import db
from spoke.models import Campaign, CampaignContact

log = logging.getLogger("bench.claims_hours")
POOL = 1_000_000
CLAIMS = 20
OPEN_AT = datetime(2026, 3, 9, 15, 30)  # 11:30 am EDT, 10:30 CDT, 9:30 MDT, 8:30 PDT


def _claims(app, campaign_id: int, user_id: int, hours: bool) -> list[float]:
    """Time CLAIMS claims of 200, marking each batch sent so the next claim goes further."""
    times = []
    with app.app_context():
        db.session.execute(
            update(Campaign).where(Campaign.id == campaign_id).values(texting_hours_enforced=hours)
        )
        db.session.commit()
        for _ in range(CLAIMS):
            t = time.perf_counter()
            r = claims.claim_initials(db.session, campaign_id, user_id)
            db.session.commit()
            times.append((time.perf_counter() - t) * 1000)
            assert r.claimed == 200, r.message
            if hours:
                zones = db.session.scalars(
                    select(CampaignContact.timezone)
                    .where(CampaignContact.id.in_(r.contact_ids))
                    .distinct()
                ).all()
                assert "America/Los_Angeles" not in zones, zones
            db.session.execute(
                update(CampaignContact)
                .where(CampaignContact.id.in_(r.contact_ids))
                .values(message_status="messaged")
            )
            db.session.commit()
    return times


def _summary(times: list[float]) -> str:
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    return f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"


def run(kind: str, pool: int) -> None:
    with throwaway_database(kind) as url:
        app, campaign_id, users = setup(url, pool, 1)
        clock.freeze(OPEN_AT)
        try:
            off = _claims(app, campaign_id, users[0], hours=False)
            on = _claims(app, campaign_id, users[0], hours=True)
        finally:
            clock.freeze(None)
            with app.app_context():
                db.engine.dispose()
    print(  # noqa: T201
        f"[{kind}] claim 200 from a {pool:,} pool: hours off {_summary(off)}; "
        f"hours on {_summary(on)}"
    )


def main(pool: int = 100_000) -> None:
    logging.disable(logging.INFO)
    for kind in backends():
        run(kind, pool)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else POOL)

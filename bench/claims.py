"""Claim speed: one texter's claim of a 200 batch from a 100,000-contact pool, and 32
concurrent claimers draining a pool. Usage: python -m bench.claims"""

from __future__ import annotations

import logging
import statistics
import threading
import time

from sqlalchemy import insert, text, update

from bench.common import backends, throwaway_database
from spoke import create_app
from spoke.assignment import claims, join
from spoke.extensions import db
from spoke.models import Campaign, CampaignContact, Membership, Organization, User

log = logging.getLogger("bench.claims")
POOL = 100_000
CLAIMERS = 32


US_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


def setup(url: str, pool: int, texters: int, hours: bool = False):
    """A started campaign of `pool` contacts spread over four US zones, and `texters` joined."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 40, "max_overflow": 10}
            if url.startswith("postgresql")
            else {},
        }
    )
    with app.app_context():
        db.create_all()
        org = Organization(name="Bench")
        db.session.add(org)
        db.session.flush()
        campaign = Campaign(
            organization_id=org.id,
            title="Bench",
            status="started",
            dynamic_initials_enabled=True,
            initials_batch_size=200,
            texting_hours_enforced=hours,
            contact_timezones=list(US_ZONES),
        )
        db.session.add(campaign)
        db.session.flush()
        users = []
        for i in range(texters):
            u = User(email=f"t{i}@bench", name=f"T{i}", password_hash="x")
            db.session.add(u)
            db.session.flush()
            db.session.add(Membership(organization_id=org.id, user_id=u.id, role="texter"))
            users.append(u.id)
        for start in range(0, pool, 10_000):
            db.session.execute(
                insert(CampaignContact),
                [
                    {
                        "campaign_id": campaign.id,
                        "cell": f"+1555{i:07d}",
                        "custom_fields": {},
                        "timezone": US_ZONES[i % len(US_ZONES)],
                        "timezone_source": "default",
                    }
                    for i in range(start, min(pool, start + 10_000))
                ],
            )
        db.session.commit()
        if url.startswith("postgresql"):
            db.session.execute(text("ANALYZE campaign_contact"))
            db.session.commit()
        for uid in users:
            join.join_by_link(db.session, campaign.initials_join_token, uid)
            db.session.commit()
        return app, campaign.id, users


def single(kind: str) -> None:
    with throwaway_database(kind) as url:
        app, campaign_id, users = setup(url, POOL, 1)
        times = []
        with app.app_context():
            for _ in range(20):
                t = time.perf_counter()
                r = claims.claim_initials(db.session, campaign_id, users[0])
                db.session.commit()
                times.append((time.perf_counter() - t) * 1000)
                assert r.claimed == 200, r.message
                db.session.execute(
                    update(CampaignContact)
                    .where(CampaignContact.id.in_(r.contact_ids))
                    .values(message_status="messaged")
                )
                db.session.commit()
            db.engine.dispose()
        print(  # noqa: T201
            f"[{kind}] claim 200 from a {POOL:,} pool: median {statistics.median(times):.1f} ms, "
            f"p95 {sorted(times)[int(len(times) * 0.95) - 1]:.1f} ms"
        )


def concurrent(kind: str) -> None:
    pool = 20_000
    with throwaway_database(kind) as url:
        app, campaign_id, users = setup(url, pool, CLAIMERS)
        latencies: list[float] = []
        claimed = [0]
        lock = threading.Lock()

        def worker(uid: int) -> None:
            with app.app_context():
                while True:
                    t = time.perf_counter()
                    r = claims.claim_initials(db.session, campaign_id, uid)
                    db.session.commit()
                    with lock:
                        latencies.append((time.perf_counter() - t) * 1000)
                        claimed[0] += r.claimed
                    if not r.ok:
                        break
                    db.session.execute(
                        update(CampaignContact)
                        .where(CampaignContact.id.in_(r.contact_ids))
                        .values(message_status="messaged")
                    )
                    db.session.commit()
                db.session.remove()

        start = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        elapsed = time.perf_counter() - start
        with app.app_context():
            db.engine.dispose()
        assert claimed[0] == pool, (claimed[0], pool)
        print(  # noqa: T201
            f"[{kind}] {CLAIMERS} claimers drained {pool:,} in {elapsed:.2f} s "
            f"({len(latencies)} claims, median {statistics.median(latencies):.1f} ms, "
            f"max {max(latencies):.1f} ms)"
        )


def main() -> None:
    logging.disable(logging.INFO)
    for kind in backends():
        single(kind)
        concurrent(kind)


if __name__ == "__main__":
    main()

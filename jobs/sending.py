"""Job: hand a queued outbound message to the SMS provider."""

from __future__ import annotations

from jobs.context import app_context


def deliver(message_id: int) -> None:
    """Send one queued message (if this job wins its claim) and record the outcome."""
    with app_context() as app:
        from spoke.extensions import db
        from spoke.texting import messaging
        from spoke.texting.providers import get_provider

        messaging.deliver(db.session, message_id, get_provider(app.config))
        db.session.commit()

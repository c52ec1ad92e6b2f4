"""What an assignment fragment shows after a change: this request's fragment, or the next page.

A plain form is answered with a redirect, so its result and errors wait in the session (like a
flashed message) until the page shows them next to the fields. The "assignment" blueprint
registers `reset` before each request and `feedback` as the template global
`assignment_feedback`.
"""

from __future__ import annotations

from typing import Any

from flask import g, session, url_for
from werkzeug.wrappers import Response

from spoke.models import Campaign
from spoke.views import _web as web

FEEDBACK_KEY = "spoke.views._feedback"

ResponseValue = Response | str | tuple[str, int]


def reset() -> None:
    """Start each request with no feedback for its fragments."""
    # g outlives a request when an app context is already pushed (CLI, tests).
    g.assignment_feedback = {}


def remember(
    kind: str, campaign_id: int, data: dict[str, Any], next_page: bool | None = None
) -> None:
    """Keep what the fragment `kind` shows next: this request's fragment, or the next page."""
    if next_page is None:
        next_page = not web.is_fragment_request()
    if not next_page:
        g.assignment_feedback[kind] = data
    else:
        stash = session.get(FEEDBACK_KEY, {})
        stash[f"{kind}:{campaign_id}"] = data
        session[FEEDBACK_KEY] = stash


def feedback(kind: str, campaign: Campaign) -> dict[str, Any]:
    """What the last change of fragment `kind` left to show (once), or {}."""
    data = g.get("assignment_feedback", {}).get(kind)
    if data is None and session.get(FEEDBACK_KEY):
        stash = session[FEEDBACK_KEY]
        data = stash.pop(f"{kind}:{campaign.id}", None)
        session[FEEDBACK_KEY] = stash
    return data or {}


def campaign_fragment(template: str, campaign: Campaign, anchor: str) -> ResponseValue:
    """Answer with a campaign page fragment (htmx), else 303 to that section of the page."""
    return web.fragment_or_redirect(
        template,
        url_for("campaigns.show", campaign_id=campaign.id, _anchor=anchor),
        campaign=campaign,
    )

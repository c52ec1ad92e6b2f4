"""Views: joining a campaign through its assignment link (routed on the "assignment" blueprint).

Opening a link (GET) only shows it; joining is the POST. A logged-out visitor is offered
"Sign up" or "Log in", both of which come back here through `next`.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoke.assignment import join
from spoke.extensions import db
from spoke.models import Assignment
from spoke.views import _web as web

ResponseValue = Response | str | tuple[str, int]


def _inactive() -> tuple[str, int]:
    return render_template("join/inactive.html", message=join.INACTIVE), 404


def _already_joined(target: join.LinkTarget) -> bool:
    """True when the current user is in the campaign with this link's claim button."""
    if not current_user.is_authenticated:
        return False
    assignment = db.session.scalars(
        select(Assignment).where(
            Assignment.campaign_id == target.campaign.id, Assignment.user_id == current_user.id
        )
    ).first()
    if assignment is None or not assignment.is_active:
        return False
    if target.kind == "initials":
        return assignment.can_claim_initials
    return assignment.can_claim_replies


def show(token: str) -> ResponseValue:
    """Show the campaign a link invites to, with "Join campaign" (or sign up / log in)."""
    target = join.find_link(db.session, token)
    if target is None:
        return _inactive()
    here = url_for("assignment.join", token=token)
    return render_template(
        "join/show.html",
        target=target,
        token=token,
        here=here,
        joined=_already_joined(target),
    )


def submit(token: str) -> ResponseValue:
    """Join the campaign (idempotently), then go to it."""
    if not current_user.is_authenticated:
        here = url_for("assignment.join", token=token)
        return redirect(url_for("auth.login", next=here), code=303)
    target = join.join_by_link(db.session, token, current_user.id)
    if target is None:
        db.session.rollback()
        return _inactive()
    db.session.commit()
    campaign = target.campaign
    web.use_organization(campaign.organization_id)
    if campaign.status != "started":
        # Texters see a campaign once it starts; until then it waits in "My campaigns".
        flash(f"You joined {campaign.title}. You can start texting once it starts.", "success")
        return redirect(url_for("texting.home"), code=303)
    flash(f"You joined {campaign.title}.", "success")
    return redirect(url_for("texting.campaign", campaign_id=campaign.id), code=303)

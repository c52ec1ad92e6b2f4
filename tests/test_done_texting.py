"""Done Texting: what it releases, what stays, the event, and the button on the texter's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import select

from spoke.assignment import done
from spoke.assignment.manual import ensure_assignment
from spoke.clock import now
from spoke.extensions import db
from spoke.models import AssignmentEvent, CampaignContact
from tests.factories import make_campaign, make_contacts, make_org, make_user


def login(auth, user):
    """Log in as `user`; the test's app context caches the previous user in `g`."""
    auth.login_as(user)
    g.pop("_login_user", None)


def held_by(campaign, user, n, start=0, **values):
    assignment, _ = ensure_assignment(db.session, campaign.id, user.id)
    db.session.commit()
    return make_contacts(campaign, n, start=start, assignment_id=assignment.id, **values)


def holders(ids):
    db.session.expire_all()
    rows = db.session.scalars(select(CampaignContact).where(CampaignContact.id.in_(ids)))
    return {c.id: c.assignment_id for c in rows}


def done_events(campaign):
    return db.session.scalars(
        select(AssignmentEvent).where(
            AssignmentEvent.campaign_id == campaign.id, AssignmentEvent.reason == "done_texting"
        )
    ).all()


@pytest.fixture
def world(ctx):
    org = make_org()
    texter = make_user(org, name="Tess Texter")
    other = make_user(org, name="Olga Other")
    campaign = make_campaign(org, status="started")
    t = now()
    held = {
        "unsent": held_by(campaign, texter, 5),
        "unhandled": held_by(
            campaign, texter, 3, start=10, message_status="needs_response", last_inbound_at=t
        ),
        "convo": held_by(campaign, texter, 2, start=20, message_status="convo"),
        "messaged": held_by(campaign, texter, 2, start=30, message_status="messaged"),
        "closed": held_by(campaign, texter, 1, start=40, message_status="closed"),
        "opted_out": held_by(
            campaign, texter, 1, start=50, message_status="closed", opted_out=True
        ),
    }
    others = held_by(
        campaign, other, 4, start=60, message_status="needs_response", last_inbound_at=t
    )
    elsewhere = make_campaign(org, status="started")
    mine_elsewhere = held_by(elsewhere, texter, 3)
    return org, texter, campaign, held, others, mine_elsewhere


def test_releases_unsent_and_unhandled_only(world):
    org, texter, campaign, held, others, mine_elsewhere = world
    assignment_id = holders(held["convo"])[held["convo"][0]]
    assert done.pending_counts(db.session, assignment_id) == (5, 3)
    result = done.done_texting(db.session, campaign.id, texter.id)
    db.session.commit()
    assert (result.initials, result.replies) == (5, 3)
    assert result.message == (
        "Released 5 unsent texts and 3 unhandled replies to the pool. "
        "Conversations you have already answered stay yours."
    )
    released = holders(held["unsent"] + held["unhandled"])
    assert set(released.values()) == {None}
    kept = holders(held["convo"] + held["messaged"] + held["closed"] + held["opted_out"])
    assert set(kept.values()) == {assignment_id}
    assert None not in holders(others).values()
    assert None not in holders(mine_elsewhere).values()
    [event] = done_events(campaign)
    assert event.contact_count == 8
    assert sorted(event.contact_ids) == sorted(held["unsent"] + held["unhandled"])
    assert event.from_assignment_id == assignment_id and event.actor_id == texter.id
    # Nothing left: a second press releases nothing and records nothing.
    again = done.done_texting(db.session, campaign.id, texter.id)
    db.session.commit()
    assert again.released == 0
    assert again.message.startswith("Nothing to release")
    assert len(done_events(campaign)) == 1


def test_not_in_campaign(world):
    org, texter, campaign, *_ = world
    stranger = make_user(org)
    result = done.done_texting(db.session, campaign.id, stranger.id)
    assert not result.found and result.message == "You are not a texter in this campaign."


def _done_form(soup):
    button = soup.find("button", string="Done Texting")
    assert button is not None
    return button.find_parent("form")


def test_button_on_campaign_page_says_what_will_be_released(world, client, auth):
    org, texter, campaign, *_ = world
    login(auth, texter)
    page = client.get(f"/texting/campaigns/{campaign.id}")
    assert page.status_code == 200
    soup = BeautifulSoup(page.data, "html.parser")
    form = _done_form(soup)
    assert form["action"] == f"/texting/campaigns/{campaign.id}/done"
    assert form["method"] == "post"
    expected = (
        "Release your 5 unsent texts and 3 unhandled replies back to the pool? "
        "Conversations you have already answered stay yours."
    )
    assert form["data-confirm"] == expected
    described = soup.find(id=form.find("button")["aria-describedby"]).get_text(" ", strip=True)
    assert "5 unsent texts and 3 unhandled replies" in described
    assert "Conversations you have already answered stay yours." in described
    assert form.find("input", {"name": "next"})["value"] == f"/texting/campaigns/{campaign.id}"


def test_post_without_htmx_redirects_with_flash(world, client, auth):
    org, texter, campaign, held, *_ = world
    login(auth, texter)
    back = f"/texting/campaigns/{campaign.id}"
    r = client.post(f"/texting/campaigns/{campaign.id}/done", data={"next": back})
    assert r.status_code == 303 and r.location == back
    page = BeautifulSoup(client.get(back).data, "html.parser")
    flashes = [p.get_text(strip=True) for p in page.select(".flash")]
    assert any(f.startswith("Released 5 unsent texts and 3 unhandled replies") for f in flashes)
    assert set(holders(held["unsent"]).values()) == {None}
    form = _done_form(page)
    assert form.get("data-confirm") is None  # nothing left to confirm
    # An off-site next falls back to a local page.
    r = client.post(
        f"/texting/campaigns/{campaign.id}/done", data={"next": "https://evil.example/"}
    )
    assert r.status_code == 303 and r.location == "/"


def test_post_with_htmx_returns_the_fragment(world, client, auth):
    org, texter, campaign, *_ = world
    login(auth, texter)
    r = client.post(
        f"/texting/campaigns/{campaign.id}/done",
        data={"next": f"/texting/campaigns/{campaign.id}"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    soup = BeautifulSoup(r.data, "html.parser")
    root = soup.find("section")
    assert root["id"] == "done-texting" and root["hx-target"] == "this"
    status = soup.find(attrs={"role": "status"}).get_text(strip=True)
    assert status.startswith("Released 5 unsent texts and 3 unhandled replies to the pool.")
    assert "no unsent texts or unhandled replies" in soup.get_text()
    assert _done_form(soup).find("input", {"name": "next"})["value"] == (
        f"/texting/campaigns/{campaign.id}"
    )
    assert len(done_events(campaign)) == 1


def test_other_org_and_non_texter_get_404(world, client, auth):
    org, texter, campaign, *_ = world
    outsider = make_user(make_org("Other"))
    login(auth, outsider)
    assert client.post(f"/texting/campaigns/{campaign.id}/done").status_code == 404
    stranger = make_user(org)
    login(auth, stranger)
    assert client.post(f"/texting/campaigns/{campaign.id}/done").status_code == 404
    assert client.get(f"/texting/campaigns/{campaign.id}/done").status_code == 405


def test_release_stays_in_pool_for_the_next_claimer(world):
    org, texter, campaign, held, *_ = world
    done.done_texting(db.session, campaign.id, texter.id)
    db.session.commit()
    db.session.expire_all()
    c = db.session.get(CampaignContact, held["unhandled"][0])
    assert c.message_status == "needs_response" and c.assignment_id is None
    assert c.last_inbound_at is not None and c.last_inbound_at <= now() + timedelta(seconds=1)


def test_only_replies_held_says_only_replies(world, client, auth):
    org, texter, campaign, held, *_ = world
    from spoke.assignment.sql import held_unsent, move

    assignment_id = holders(held["convo"])[held["convo"][0]]
    move(db.session, held_unsent(assignment_id), None)
    db.session.commit()
    login(auth, texter)
    soup = BeautifulSoup(client.get(f"/texting/campaigns/{campaign.id}").data, "html.parser")
    assert _done_form(soup)["data-confirm"] == (
        "Release your 3 unhandled replies back to the pool? "
        "Conversations you have already answered stay yours."
    )
    result = done.done_texting(db.session, campaign.id, texter.id)
    db.session.commit()
    assert result.message.startswith("Released 3 unhandled replies to the pool.")

"""Object routes never reveal that an id exists: strangers and the org-less get 404."""

from __future__ import annotations

import pytest

from spoke.extensions import db
from spoke.models import (
    BulkAction,
    CampaignExport,
    CannedResponse,
    ContactImport,
    Membership,
    Message,
    Team,
)
from spoke.responses import questions
from tests.factories import make_campaign, make_contacts, make_org, make_user

MISSING = 999_999


@pytest.fixture
def world(ctx):
    """Real objects of one organization, and their ids by URL parameter name."""
    org = make_org("Owners")
    owner = make_user(org, role="owner")
    texter = make_user(org)
    campaign = make_campaign(org, status="started")
    contact_id = make_contacts(campaign, 1)[0]
    contact_import = ContactImport(campaign_id=campaign.id, user_id=owner.id)
    bulk = BulkAction(organization_id=org.id, user_id=owner.id, action="unassign")
    team = Team(organization_id=org.id, name="Callers")
    message = Message(
        contact_id=contact_id, campaign_id=campaign.id, direction="out", body="Hi", status="failed"
    )
    canned = CannedResponse(campaign_id=campaign.id, title="Thanks", text="Thanks!")
    export = CampaignExport(
        organization_id=org.id, campaign_id=campaign.id, user_id=owner.id, kind="contacts"
    )
    db.session.add_all([contact_import, bulk, team, message, canned, export])
    db.session.commit()
    question = questions.add_question(db.session, campaign.id, "Will you vote?", "Yes\nNo")
    db.session.commit()
    membership = db.session.query(Membership).filter_by(user_id=texter.id).one()
    return {
        "campaign_id": campaign.id,
        "contact_id": contact_id,
        "import_id": contact_import.id,
        "bulk_action_id": bulk.id,
        "team_id": team.id,
        "membership_id": membership.id,
        "user_id": texter.id,
        "message_id": message.id,
        "canned_id": canned.id,
        "question_id": question.id,
        "answer_id": question.answers[0].id,
        "export_id": export.id,
    }


def object_routes(app):
    """Every route with an id in its URL, with the method it answers."""
    for rule in app.url_map.iter_rules():
        ids = [arg for arg in rule.arguments if arg.endswith("_id")]
        if not ids:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def url_for_rule(rule, ids: dict[str, int]) -> str:
    values = {arg: ids.get(arg, "initials") for arg in rule.arguments}
    if "kind" in rule.arguments:
        values["kind"] = "initials"
    _, path = rule.build(values)
    return path


@pytest.mark.parametrize("role", [None, "owner"])
def test_every_object_route_answers_404_for_existing_and_missing_ids(
    app, client, auth, world, role
):
    """A user with no organization, or another organization's owner, learns nothing."""
    stranger = make_user(make_org("Elsewhere") if role else None, role=role or "texter")
    auth.login_as(stranger)
    missing = dict.fromkeys(world, MISSING)
    checked = 0
    for rule, method in object_routes(app):
        for ids in (world, missing):
            path = url_for_rule(rule, ids)
            response = client.open(path, method=method)
            assert response.status_code == 404, (method, path, response.status_code)
            checked += 1
    assert checked >= 40


def test_user_without_organization_gets_404_for_a_campaign_that_exists(client, auth, world):
    auth.login_as(make_user(None))
    campaign_id = world["campaign_id"]
    assert client.get(f"/campaigns/{campaign_id}").status_code == 404
    assert client.get(f"/texting/campaigns/{campaign_id}").status_code == 404
    # Pages that are not about one object keep the friendly explanation.
    assert client.get("/campaigns").status_code == 403

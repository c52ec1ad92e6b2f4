"""Someone in two organizations works in the one whose object they open, with that role."""

from __future__ import annotations

from spoke.extensions import db
from spoke.models import Membership
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user


def test_texter_in_second_org_reaches_its_campaign_with_texter_rights(client, auth, ctx):
    home_org, other_org = make_org("Home"), make_org("Other")
    user = make_user(home_org, role="admin")
    db.session.add(Membership(organization_id=other_org.id, user_id=user.id, role="texter"))
    db.session.commit()
    campaign = make_campaign(other_org, status="started")
    make_contacts(campaign, 3)
    give_contacts(campaign, user, 3)
    auth.login_as(user)

    page = client.get(f"/texting/campaigns/{campaign.id}")
    assert page.status_code == 200
    assert campaign.title in page.get_data(as_text=True)
    # Admin at home does not make them admin of the other organization's campaign.
    assert client.get(f"/campaigns/{campaign.id}").status_code == 403


def test_stranger_gets_404(client, auth, ctx):
    org, other = make_org("A"), make_org("B")
    user = make_user(org, role="owner")
    campaign = make_campaign(other, status="started")
    auth.login_as(user)
    assert client.get(f"/campaigns/{campaign.id}").status_code == 404
    assert client.get(f"/texting/campaigns/{campaign.id}").status_code == 404

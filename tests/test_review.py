"""Message Review on 10,000 contacts: filters, counts, keyset pages, bulk unassign/reassign."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import func, insert, select

from spoke import clock
from spoke.assignment import review, review_bulk
from spoke.assignment.manual import ensure_assignment
from spoke.extensions import db
from spoke.models import Assignment, AssignmentEvent, CampaignContact
from tests.factories import make_campaign, make_org, make_user

T0 = datetime(2031, 5, 4, 12, 0, 0)
STATUS_CYCLE = ("needs_message", "messaged", "needs_response", "convo", "closed")


def login(auth, user):
    """Log in as `user`; the test's app context caches the previous user in `g`."""
    auth.login_as(user)
    g.pop("_login_user", None)


def add_contacts(campaign, n, holders):
    """n varied contacts; `holders(i)` gives the assignment id (or None) of row i."""
    rows = []
    for i in range(n):
        status = STATUS_CYCLE[i % 5]
        opted_out = i % 50 == 0
        rows.append(
            {
                "campaign_id": campaign.id,
                "first_name": ["Ann", "Ben", "Cleo", "Dan"][i % 4],
                "last_name": f"Smith{i}" if i % 3 else f"Jones{i}",
                "cell": f"+1617{campaign.id:03d}{i:04d}",
                "custom_fields": {},
                "timezone": "America/New_York",
                "timezone_source": "default",
                "assignment_id": holders(i),
                "message_status": "closed" if opted_out else status,
                "opted_out": opted_out,
                "last_inbound_at": T0 - timedelta(minutes=i % 90)
                if status == "needs_response"
                else None,
            }
        )
    db.session.execute(insert(CampaignContact), rows)
    db.session.commit()


@pytest.fixture
def world(ctx):
    clock.freeze(T0)
    org = make_org()
    admin = make_user(org, role="admin", name="Ada Admin")
    alice = make_user(org, name="Alice Adams")
    bob = make_user(org, name="Bob Brown")
    cara = make_user(org, name="Cara Cole")
    a = make_campaign(org, status="started", title="Alpha")
    b = make_campaign(org, status="started", title="Beta")
    a_alice = ensure_assignment(db.session, a.id, alice.id)[0].id
    a_bob = ensure_assignment(db.session, a.id, bob.id)[0].id
    b_alice = ensure_assignment(db.session, b.id, alice.id)[0].id
    db.session.commit()
    add_contacts(a, 6000, lambda i: a_alice if i < 2000 else a_bob if i < 3000 else None)
    add_contacts(b, 4000, lambda i: b_alice if i % 2 else None)
    # Another organization with look-alike data that must never show or move.
    other_org = make_org("Other")
    intruder = make_user(other_org, role="admin")
    other = make_campaign(other_org, status="started", title="Other")
    o_assignment = ensure_assignment(db.session, other.id, intruder.id)[0].id
    db.session.commit()
    add_contacts(other, 500, lambda i: o_assignment)
    return {
        "org": org,
        "admin": admin,
        "alice": alice,
        "bob": bob,
        "cara": cara,
        "a": a,
        "b": b,
        "other": other,
        "intruder": intruder,
    }


def all_rows(org_campaign_ids):
    q = (
        select(CampaignContact, Assignment.user_id)
        .outerjoin(Assignment, CampaignContact.assignment_id == Assignment.id)
        .where(CampaignContact.campaign_id.in_(org_campaign_ids))
    )
    return [(c, uid) for c, uid in db.session.execute(q)]


def expected(rows, *, campaign=None, texter=None, status="", minutes=None, name=None):
    out = []
    for c, uid in rows:
        if campaign is not None and c.campaign_id != campaign:
            continue
        if texter == "unassigned" and uid is not None:
            continue
        if isinstance(texter, int) and uid != texter:
            continue
        if status == "opted_out" and not c.opted_out:
            continue
        if status and status != "opted_out" and (c.message_status != status or c.opted_out):
            continue
        if minutes is not None and not (
            c.message_status == "needs_response"
            and c.last_inbound_at < T0 - timedelta(minutes=minutes)
        ):
            continue
        if name is not None and not name(c):
            continue
        out.append(c.id)
    return out


def test_where_clause_matches_a_plain_python_filter(world):
    w = world
    rows = all_rows([w["a"].id, w["b"].id])
    assert len(rows) == 10000
    cases = [
        ({}, {}),
        ({"campaign": str(w["a"].id)}, {"campaign": w["a"].id}),
        ({"texter": "unassigned"}, {"texter": "unassigned"}),
        ({"texter": str(w["alice"].id)}, {"texter": w["alice"].id}),
        ({"texter": str(w["cara"].id)}, {"texter": w["cara"].id}),
        ({"status": "needs_response"}, {"status": "needs_response"}),
        ({"status": "closed"}, {"status": "closed"}),
        ({"status": "opted_out"}, {"status": "opted_out"}),
        ({"unhandled": "30"}, {"minutes": 30}),
        ({"unhandled": "0"}, {"minutes": 0}),
        (
            {
                "campaign": str(w["b"].id),
                "texter": str(w["alice"].id),
                "status": "needs_response",
                "unhandled": "45",
            },
            {
                "campaign": w["b"].id,
                "texter": w["alice"].id,
                "status": "needs_response",
                "minutes": 45,
            },
        ),
        ({"q": "cle"}, {"name": lambda c: c.first_name.lower().startswith("cle")}),
        ({"q": "JONES1"}, {"name": lambda c: c.last_name.lower().startswith("jones1")}),
        (
            {"q": "dan smith7"},
            {"name": lambda c: c.first_name == "Dan" and c.last_name.startswith("Smith7")},
        ),
        ({"q": "100%"}, {"name": lambda c: False}),  # LIKE wildcards are literal
        ({"q": "617 001 59"}, {"name": lambda c: c.cell.startswith("+161700159")}),
        ({"q": "+1617002"}, {"name": lambda c: c.cell.startswith("+1617002")}),
        ({"q": "(617) 002-3999"}, {"name": lambda c: c.cell == "+16170023999"}),
    ]
    for args, kw in cases:
        f, errors = review.parse_filter(db.session, w["org"].id, args)
        assert not errors, (args, errors)
        want = expected(rows, **kw)
        assert review.count(db.session, f) == len(want), args
        page = review.page(db.session, f, per_page=50)
        assert [c.id for c in page.rows] == sorted(want)[:50], args


def test_filter_validation(world):
    w = world
    with pytest.raises(review.CampaignNotFound):
        review.parse_filter(db.session, w["org"].id, {"campaign": str(w["other"].id)})
    with pytest.raises(review.CampaignNotFound):
        review.parse_filter(db.session, w["org"].id, {"campaign": "x"})
    f, errors = review.parse_filter(
        db.session,
        w["org"].id,
        {"texter": str(w["intruder"].id), "status": "asleep", "unhandled": "-3"},
    )
    assert errors == {
        "texter": "Choose a texter from the list.",
        "status": "Choose a status from the list.",
        "unhandled": "Enter a whole number of minutes, 0 or more.",
    }
    assert (f.texter_id, f.status, f.unhandled_minutes) == (None, "", None)


def test_keyset_pages_walk_everything_once(world):
    w = world
    f, _ = review.parse_filter(db.session, w["org"].id, {"status": "needs_response"})
    seen, after = [], None
    while True:
        page = review.page(db.session, f, after=after, per_page=500)
        seen += [c.id for c in page.rows]
        if not page.has_next:
            break
        after = page.last_id
    assert len(seen) == len(set(seen)) == review.count(db.session, f)
    back = review.page(db.session, f, before=seen[1000], per_page=500)
    assert [c.id for c in back.rows] == seen[500:1000] and back.has_prev and back.has_next


def events_of(reason="message_review"):
    return db.session.scalars(
        select(AssignmentEvent).where(AssignmentEvent.reason == reason).order_by(AssignmentEvent.id)
    ).all()


def held_count(user, campaign=None):
    q = (
        select(func.count())
        .select_from(CampaignContact)
        .join(Assignment, CampaignContact.assignment_id == Assignment.id)
        .where(Assignment.user_id == user.id)
    )
    if campaign is not None:
        q = q.where(Assignment.campaign_id == campaign.id)
    return db.session.scalar(q)


def test_bulk_unassign_everything_matching(world):
    w = world
    f, _ = review.parse_filter(db.session, w["org"].id, {"texter": str(w["alice"].id)})
    assert review.count(db.session, f) == 4000
    result = review_bulk.bulk_unassign(db.session, f, actor_id=w["admin"].id, chunk=1000)
    assert (result.moved, result.chunks) == (4000, 4)
    assert result.message == "Unassigned 4,000 conversations: they are back in the pool."
    assert held_count(w["alice"]) == 0 and held_count(w["bob"]) == 1000
    assert held_count(w["intruder"]) == 500  # the other organization is untouched
    evs = events_of()
    assert [(e.campaign_id, e.contact_count) for e in evs] == [
        (w["a"].id, 1000),
        (w["a"].id, 1000),
        (w["b"].id, 1000),
        (w["b"].id, 1000),
    ]
    assert all(e.actor_id == w["admin"].id and e.contact_ids is None for e in evs)


def test_bulk_reassign_splits_evenly_and_skips_rows_already_with_them(world):
    w = world
    f, _ = review.parse_filter(
        db.session, w["org"].id, {"campaign": str(w["a"].id), "texter": "unassigned"}
    )
    pool = review.count(db.session, f)
    assert pool == 3000
    targets = [w["bob"].id, w["cara"].id]
    result = review_bulk.bulk_reassign(db.session, f, targets, actor_id=w["admin"].id, chunk=1000)
    assert result.moved == 3000 and result.chunks == 3
    assert result.per_texter == {w["bob"].id: 1500, w["cara"].id: 1500}
    assert result.message == (
        "Reassigned 3,000 conversations: 1,500 to Bob Brown, 1,500 to Cara Cole."
    )
    assert held_count(w["bob"], w["a"]) == 2500 and held_count(w["cara"], w["a"]) == 1500
    assert [e.contact_count for e in events_of()] == [1000, 1000, 1000]
    # Odd totals: the remainder rotates, so no one gets more than one extra.
    f, _ = review.parse_filter(
        db.session, w["org"].id, {"campaign": str(w["b"].id), "texter": "unassigned"}
    )
    three = [w["alice"].id, w["bob"].id, w["cara"].id]
    result = review_bulk.bulk_reassign(db.session, f, three, actor_id=w["admin"].id, chunk=7)
    assert result.moved == 2000
    assert sorted(result.per_texter.values()) == [666, 667, 667]
    # Rows already held by a chosen texter stay put (nothing to move).
    f, _ = review.parse_filter(db.session, w["org"].id, {"texter": str(w["cara"].id)})
    result = review_bulk.bulk_reassign(db.session, f, [w["cara"].id], actor_id=w["admin"].id)
    assert result.moved == 0 and result.message.startswith("No conversations matched")


def test_bulk_reassign_refuses_non_members(world):
    w = world
    f, _ = review.parse_filter(db.session, w["org"].id, {})
    with pytest.raises(review.ReviewError) as exc:
        review_bulk.bulk_reassign(db.session, f, [w["intruder"].id], actor_id=w["admin"].id)
    assert exc.value.errors == {"texters": "Choose texters from the list."}
    with pytest.raises(review.ReviewError):
        review_bulk.bulk_reassign(db.session, f, [], actor_id=w["admin"].id)
    db.session.rollback()


def test_selected_rows_only_within_the_organization(world):
    w = world
    f, _ = review.parse_filter(db.session, w["org"].id, {"texter": str(w["alice"].id)})
    mine = [c.id for c in review.page(db.session, f, per_page=3).rows]
    theirs = db.session.scalars(
        select(CampaignContact.id).where(CampaignContact.campaign_id == w["other"].id).limit(3)
    ).all()
    result = review_bulk.bulk_unassign(
        db.session, f, actor_id=w["admin"].id, contact_ids=mine + list(theirs)
    )
    assert result.moved == 3
    assert held_count(w["intruder"]) == 500


# ---- the page -----------------------------------------------------------------------------


def soup_of(response):
    return BeautifulSoup(response.data, "html.parser")


def control(soup, label_text):
    label = soup.find("label", string=lambda s: s and s.strip() == label_text)
    assert label is not None, label_text
    return soup.find(id=label["for"])


def test_page_filters_count_rows_and_links(world, client, auth):
    w = world
    login(auth, w["admin"])
    r = client.get("/review")
    assert r.status_code == 200
    soup = soup_of(r)
    assert soup.find("h1").get_text(strip=True) == "Message Review"
    for label in (
        "Campaign",
        "Texter",
        "Status",
        "Unhandled for more than (minutes)",
        "Search name or cell",
    ):
        assert control(soup, label) is not None
    texter = control(soup, "Texter")
    assert [o.get_text(strip=True) for o in texter.find_all("option")][:2] == [
        "Anyone",
        "Unassigned",
    ]
    assert "Other" not in [o.get_text() for o in control(soup, "Campaign").find_all("option")]
    assert soup.find(id="review-count").get_text(strip=True) == "10,000 conversations match"
    boxes = soup.find_all("input", {"type": "checkbox", "name": "contact_ids"})
    assert len(boxes) == 50
    first = db.session.get(CampaignContact, int(boxes[0]["value"]))
    assert boxes[0]["aria-label"] == f"Select {first.display_name}"
    link = boxes[0].find_parent("tr").find("a")
    assert link["href"] == f"/texting/contacts/{first.id}"
    assert control(soup, "Reassign to")["multiple"] is not None
    assert {b.get_text(strip=True) for b in soup.select("#bulk-form button")} == {
        "Unassign",
        "Reassign to",
    }
    assert all(form.get("action") for form in soup.find_all("form"))
    # Next page, then back.
    nxt = soup.find("a", string=lambda s: s and "Next page" in s)["href"]
    page2 = soup_of(client.get(nxt))
    ids2 = [int(b["value"]) for b in page2.find_all("input", {"name": "contact_ids"})]
    assert len(ids2) == 50 and min(ids2) > int(boxes[-1]["value"])
    prev = page2.find("a", string=lambda s: s and "Previous page" in s)["href"]
    back = soup_of(client.get(prev))
    assert [b["value"] for b in back.find_all("input", {"name": "contact_ids"})] == [
        b["value"] for b in boxes
    ]


def test_page_filtered_and_errors(world, client, auth):
    w = world
    login(auth, w["admin"])
    r = client.get(
        "/review",
        query_string={
            "campaign": w["b"].id,
            "texter": "unassigned",
            "status": "needs_response",
            "unhandled": "60",
        },
    )
    soup = soup_of(r)
    f, _ = review.parse_filter(
        db.session,
        w["org"].id,
        {
            "campaign": str(w["b"].id),
            "texter": "unassigned",
            "status": "needs_response",
            "unhandled": "60",
        },
    )
    n = review.count(db.session, f)
    assert 50 < n < 1000
    assert soup.find(id="review-count").get_text(strip=True) == f"{n} conversations match"
    assert len(soup.find_all("input", {"name": "contact_ids"})) == 50
    hidden = {i["name"]: i["value"] for i in soup.select("#bulk-form input[type=hidden]")}
    assert hidden["campaign"] == str(w["b"].id) and hidden["unhandled"] == "60"
    assert control(soup, "Status").find("option", selected=True)["value"] == "needs_response"
    r = client.get("/review", query_string={"unhandled": "soon"})
    assert r.status_code == 200
    assert "Enter a whole number of minutes, 0 or more." in soup_of(r).get_text()
    assert client.get("/review", query_string={"campaign": w["other"].id}).status_code == 404
    login(auth, w["alice"])
    assert client.get("/review").status_code == 403


def test_bulk_post_with_and_without_htmx(world, client, auth):
    w = world
    login(auth, w["admin"])
    filt = {"texter": str(w["bob"].id)}
    r = client.post("/review/bulk", data={**filt, "scope": "all", "action": "unassign"})
    assert r.status_code == 303
    assert r.location == f"/review?texter={w['bob'].id}"
    soup = soup_of(client.get(r.location))
    assert "Unassigned 1,000 conversations" in soup.select_one(".flash").get_text()
    assert soup.find(id="review-count").get_text(strip=True) == "0 conversations match"

    filt = {"campaign": str(w["a"].id), "texter": "unassigned", "status": "needs_message"}
    page = review.page(db.session, review.parse_filter(db.session, w["org"].id, filt)[0])
    chosen = [str(c.id) for c in page.rows[:4]]
    r = client.post(
        "/review/bulk",
        data={
            **filt,
            "scope": "selected",
            "action": "reassign",
            "contact_ids": chosen,
            "texters": [str(w["bob"].id), str(w["cara"].id)],
        },
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    soup = soup_of(r)
    assert soup.find("section")["id"] == "review-results"
    assert soup.find(attrs={"role": "status"}).get_text(strip=True) == (
        "Reassigned 4 conversations: 2 to Bob Brown, 2 to Cara Cole."
    )
    assert held_count(w["cara"]) == 2

    r = client.post("/review/bulk", data={**filt, "scope": "selected", "action": "unassign"})
    assert r.status_code == 422
    assert "Select at least one row" in soup_of(r).get_text()
    r = client.post(
        "/review/bulk",
        data={**filt, "scope": "all", "action": "reassign"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert "Choose at least one texter to reassign to." in soup_of(r).get_text()
    r = client.post(
        "/review/bulk",
        data={"unhandled": "x", "scope": "all", "action": "unassign"},
    )
    assert r.status_code == 422
    assert "Fix the filter before changing everything" in soup_of(r).get_text()
    assert (
        client.post(
            "/review/bulk", data={"campaign": w["other"].id, "scope": "all", "action": "unassign"}
        ).status_code
        == 404
    )


def test_reassigned_then_send_says_assignment_changed(world, client, auth):
    w = world
    # Alice holds a reply in Beta; the admin moves it to Cara; Alice then tries to answer.
    f, _ = review.parse_filter(
        db.session,
        w["org"].id,
        {"campaign": str(w["b"].id), "texter": str(w["alice"].id), "status": "needs_response"},
    )
    contact = review.page(db.session, f, per_page=1).rows[0]
    login(auth, w["alice"])
    convo = soup_of(client.get(f"/texting/contacts/{contact.id}"))
    form = convo.find("button", string="Send").find_parent("form")
    login(auth, w["admin"])
    r = client.post(
        "/review/bulk",
        data={
            "scope": "selected",
            "action": "reassign",
            "contact_ids": [str(contact.id)],
            "texters": [str(w["cara"].id)],
        },
    )
    assert r.status_code == 303
    login(auth, w["alice"])
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input")}
    r = client.post(form["action"], data={**fields, "body": "Thanks!"}, follow_redirects=True)
    assert "Your assignment has changed" in soup_of(r).get_text()
    db.session.expire_all()
    assert db.session.get(CampaignContact, contact.id).assignment.user_id == w["cara"].id
    assert Counter(e.reason for e in events_of())["message_review"] == 1

"""Survey answers on the dashboard ("Answers per question") and in the contacts export."""

from __future__ import annotations

from spoke.extensions import db
from spoke.reports import answers, export
from spoke.responses import answers as recorded
from spoke.responses import questions
from tests.factories import make_campaign, make_contacts, make_org, make_user


def _world():
    org = make_org()
    admin = make_user(org, "admin")
    campaign = make_campaign(org, status="started")
    other = make_campaign(org, status="started")
    ids = make_contacts(campaign, 3)
    make_contacts(other, 1, start=50)
    vote = questions.add_question(db.session, campaign.id, "Will you vote?", "Yes\nNo\nMaybe")
    ride = questions.add_question(db.session, campaign.id, "Need a ride?", "Yes\nNo")
    questions.add_question(db.session, other.id, "Other campaign?", "Yes")
    db.session.commit()
    yes, no, _maybe = (a.id for a in vote.answers)
    for contact_id, answer_id in ((ids[0], yes), (ids[1], yes), (ids[2], no)):
        recorded.record_answer(db.session, contact_id, vote.id, answer_id, admin.id, is_admin=True)
    recorded.record_answer(db.session, ids[0], ride.id, ride.answers[1].id, admin.id, is_admin=True)
    db.session.commit()
    return campaign, ids, vote, ride


def test_dashboard_counts_each_answer_of_each_question_in_order(ctx):
    campaign, _ids, _vote, _ride = _world()
    tallies = answers.answers_per_question(db.session, campaign.id)
    assert [(t.question, t.answers) for t in tallies] == [
        ("Will you vote?", [("Yes", 2), ("No", 1), ("Maybe", 0)]),
        ("Need a ride?", [("Yes", 0), ("No", 1)]),
    ]


def test_contacts_export_has_a_column_per_question_with_each_contacts_answer(ctx):
    campaign, ids, _vote, _ride = _world()
    header = export.contact_header(db.session, campaign)
    assert header[header.index("Texter") + 1 : header.index("Messages sent")] == [
        "Will you vote?",
        "Need a ride?",
    ]
    rows = list(export.contact_rows(db.session, campaign, page=2))
    at = header.index("Will you vote?")
    assert [row[at : at + 2] for row in rows] == [["Yes", "No"], ["Yes", ""], ["No", ""]]
    assert len(rows) == len(ids)

"""Property: any text in any numeric parameter of any route gives no 5xx and changes nothing.

Path parameters come from app.url_map, so a new route with an `<int:...>` is covered without
touching this file. Query and form numbers are read through spoke.views._params (or the
Message Review filter); NUMERIC_FIELDS lists them, and a test below fails when a view reads a
number this table does not list.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import g
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from spoke import clock, parsing
from spoke.extensions import db
from spoke.models import Membership, Team
from spoke.texting import inbound, messaging
from spoke.views._params import IdConverter
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

# Query (GET) and form (POST) numbers, by endpoint.
NUMERIC_FIELDS: dict[str, tuple[str, ...]] = {
    "review.index": ("campaign", "texter", "unhandled", "after", "before"),
    "review.bulk": ("campaign", "texter", "unhandled", "contact_ids", "texters"),
    "assignment.add_texter": ("user_id",),
    "assignment.save_texter": ("texts_to_send", "max_contacts"),
    "assignment.save_settings": (
        "initials_batch_size",
        "replies_batch_size",
        "release_unhandled_minutes",
    ),
    "people.add_team_member": ("user_id",),
    "campaigns.basics": ("team_ids",),
    "texting.send_reply": ("seen",),
}
EDGES = [
    "",
    " ",
    "0",
    "-1",
    "--1",
    "1e3",
    "+1",
    "\u00b2",
    "\u0661",
    "\uff11",
    "2147483647",
    "2147483648",
    "10000000000",
    "9" * 40,
    "1" * 5000,
    "1,000",
    "\x00",
    "\r\n",
    "%",
    "..",
    ".",
]
TEXT = st.text(max_size=40)
PROPERTY = settings(
    max_examples=int(os.environ.get("SPOKE_PROPERTY_EXAMPLES", "10")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def with_edges(test):
    """Run every edge case as an explicit example, before Hypothesis's own texts."""
    for edge in EDGES:
        test = example(text=edge)(test)
    return test


def _app_routes():
    from spoke import create_app

    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}
        | {"SMS_PROVIDER": "fake", "REDIS_URL": ""}
    )
    return list(app.url_map.iter_rules())


RULES = _app_routes()
PATH_CASES = [
    pytest.param(rule.rule, method, name, id=f"{method} {rule.rule} {name}")
    for rule in RULES
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    for name, converter in rule._converters.items()
    if isinstance(converter, IdConverter)
]
FIELD_CASES = [
    pytest.param(endpoint, name, id=f"{endpoint} {name}")
    for endpoint, names in NUMERIC_FIELDS.items()
    for name in names
]


@pytest.fixture
def world(ctx, auth):
    """An owner logged in; a started campaign, a texter holding contacts, one reply, a team."""
    clock.freeze(clock.now())
    org = make_org()
    owner = make_user(org, "owner")
    texter = make_user(org, "texter")
    team = Team(organization_id=org.id, name="Ours")
    db.session.add(team)
    campaign = make_campaign(org, status="started", started_at=clock.now())
    ids = make_contacts(campaign, 3)
    give_contacts(campaign, texter, 3)
    messaging.send_initial(db.session, ids[0], texter.id)
    db.session.commit()
    inbound.receive_inbound(db.session, "+15550000000", "Yes", "SMyes")
    db.session.commit()
    membership = db.session.scalars(select(Membership).where(Membership.user_id == texter.id)).one()
    auth.login_as(owner)
    g.pop("_login_user", None)
    return {
        "campaign_id": campaign.id,
        "contact_id": ids[0],
        "user_id": texter.id,
        "team_id": team.id,
        "membership_id": membership.id,
        "token": campaign.initials_join_token,
        "kind": "initials",
    }


def fingerprint() -> str:
    """A digest of every row of every table: equal digests, nothing changed."""
    db.session.expire_all()
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        for row in db.session.execute(select(table).order_by(*order)):
            digest.update(repr(tuple(row)).encode())
    db.session.rollback()
    return digest.hexdigest()


def is_valid_number(text: str) -> bool:
    """True when a parameter could mean a real value (then a change may be legitimate).

    Blank counts: some fields read it as their default ("texts to send" blank is 0).
    """
    if not text.strip():
        return True
    return parsing.whole_number(text.replace(",", ""), -(10**20), 10**20) is not None


def check(client, method: str, url: str, text: str, **kwargs) -> None:
    before = fingerprint()
    response = client.open(url, method=method, **kwargs)
    assert response.status_code < 500, (method, url, kwargs, response.status_code)
    if not is_valid_number(text):
        assert fingerprint() == before, (method, url, kwargs)


@pytest.mark.parametrize("rule_text, method, name", PATH_CASES)
def test_any_text_in_a_path_id_is_never_a_server_error(world, client, app, rule_text, method, name):
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text and method in r.methods)
    values = {arg: world.get(arg, 1) for arg in rule.arguments}
    template = rule.build({**values, name: 424242}, append_unknown=False)[1]

    @PROPERTY
    @with_edges
    @given(text=TEXT.filter(lambda t: "/" not in t and "\\" not in t))
    def run(text: str) -> None:
        check(client, method, template.replace("424242", quote(text, safe="")), text)

    run()


@pytest.mark.parametrize("endpoint, name", FIELD_CASES)
def test_any_text_in_a_numeric_field_is_never_a_server_error(world, client, app, endpoint, name):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    method = "GET" if "GET" in rule.methods else "POST"
    values = {arg: world.get(arg, 1) for arg in rule.arguments}
    url = rule.build(values, append_unknown=False)[1]

    @PROPERTY
    @with_edges
    @given(text=TEXT)
    def run(text: str) -> None:
        where = "query_string" if method == "GET" else "data"
        check(client, method, url, text, **{where: {name: text}})

    run()


def test_numeric_field_table_covers_every_number_a_view_reads(app):
    """A view that reads a number through _params must list it in NUMERIC_FIELDS."""
    listed = {name for names in NUMERIC_FIELDS.values() for name in names}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(NUMERIC_FIELDS) <= endpoints
    read = set()
    for path in Path("spoke/views").glob("*.py"):
        read |= set(re.findall(r"params\.\w+\(\"(\w+)\"\)", path.read_text(encoding="utf-8")))
    assert read and read <= listed, read - listed
    assert PATH_CASES and FIELD_CASES

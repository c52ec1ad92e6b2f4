"""Locust users for the HTTP benchmark (run by bench/http_bench.py, never imported by spoke).

BENCH_USERS (JSON) names the campaign, the password and the accounts of each kind:
texters log in, claim a batch of initials and send-and-next until it is done, then claim
again; repliers answer the replies they hold, then claim more; admins poll Message Review.
HealthUser is the floor: `GET /healthz` through the same stack and concurrency. Requests
are named by route so the report has one line per request type.
"""

from __future__ import annotations

import itertools
import json
import os

import gevent
from locust import HttpUser, between, constant, task

from bench.pages import CONVERSATION, CSRF, SEND

CONFIG = json.loads(os.environ.get("BENCH_USERS", "{}"))
_accounts = {
    kind: itertools.cycle(CONFIG.get(kind) or [""]) for kind in ("texters", "repliers", "admins")
}
HX = {"HX-Request": "true"}


class _Member(HttpUser):
    abstract = True
    kind = "texters"

    def on_start(self) -> None:
        """Log in through the real form (CSRF token from the login page)."""
        self.campaign = CONFIG["campaign"]
        page = self.client.get("/login", name="GET /login")
        token = CSRF.search(page.text).group(1)
        email = next(_accounts[self.kind])
        self.client.post(
            "/login",
            data={"email": email, "password": CONFIG["password"], "csrf_token": token},
            name="POST /login",
        )
        home = self.client.get("/", name="GET / (texter home)")
        self.token = CSRF.search(home.text).group(1)

    def claim(self, kind: str) -> bool:
        """Claim a batch (plain form post, 303 not followed); True if it got any."""
        with self.client.post(
            f"/texting/campaigns/{self.campaign}/claim/{kind}",
            data={"csrf_token": self.token},
            allow_redirects=False,
            name=f"POST claim {kind}",
            catch_response=True,
        ) as response:
            if response.status_code != 303:
                response.failure(f"status {response.status_code}")
                return False
            response.success()
            return "/send" in response.headers.get(
                "Location", ""
            ) or "/replies" in response.headers.get("Location", "")


class TexterUser(_Member):
    """Claim initials, then send-and-next (htmx) until the batch is done."""

    fixed_count = int(CONFIG.get("texter_count", 0))
    wait_time = constant(0)
    kind = "texters"

    @task
    def work_a_batch(self) -> None:
        if not self.claim("initials"):
            gevent.sleep(1)  # the pool is empty: idle politely
            return
        page = self.client.get(f"/texting/campaigns/{self.campaign}/send", name="GET send page")
        found = SEND.search(page.text)
        while found:
            response = self.client.post(
                f"/texting/contacts/{found.group(1)}/send",
                data={"csrf_token": self.token},
                headers=HX,
                name="POST send-and-next",
            )
            found = SEND.search(response.text)


class ReplierUser(_Member):
    """Answer the replies held, oldest first, then claim more replies."""

    fixed_count = int(CONFIG.get("replier_count", 0))
    wait_time = constant(0)
    kind = "repliers"

    @task
    def answer_replies(self) -> None:
        page = self.client.get(f"/texting/campaigns/{self.campaign}/replies", name="GET replies")
        contact_ids = CONVERSATION.findall(page.text)
        for contact_id in contact_ids:
            self.client.get(f"/texting/contacts/{contact_id}", name="GET conversation")
            self.client.post(
                f"/texting/contacts/{contact_id}/reply",
                data={"csrf_token": self.token, "body": "Thanks! Polls open at 7am."},
                headers=HX,
                name="POST reply",
            )
        if not contact_ids and not self.claim("replies"):
            gevent.sleep(1)


class AdminUser(_Member):
    """Poll Message Review's unhandled replies (there is no dashboard page yet)."""

    fixed_count = int(CONFIG.get("admin_count", 0))
    wait_time = between(1, 2)
    kind = "admins"

    @task
    def poll_review(self) -> None:
        self.client.get("/review?status=needs_response", name="GET /review (needs response)")


class HealthUser(HttpUser):
    """The floor: the trivial route through the same server stack."""

    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="GET /healthz")

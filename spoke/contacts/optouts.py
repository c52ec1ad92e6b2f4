"""The organization's opt-out list: once a cell opts out, no campaign texts it again."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spoke.models import Campaign, CampaignContact, OptOut

# A text that is one of these (any case, any punctuation or emoji around it), or that starts
# with one as a whole word ("stop please", "STOP STOP", "Stop 🛑"), opts the cell out.
OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "unsub", "cancel", "end", "quit", "optout", "revoke"}
)
# A text containing one of these phrases, as whole words, opts out wherever it says it.
# Apostrophes are dropped before matching, so "don't text me" is written "dont text me".
OPT_OUT_PHRASES = (
    "stop texting",
    "stop messaging",
    "stop sending",
    "stop contacting",
    "stop the texts",
    "remove me",
    "take me off",
    "unsubscribe me",
    "opt me out",
    "opt out",
    "dont text",
    "do not text",
    "dont message",
    "do not message",
    "dont contact",
    "do not contact",
    "no more texts",
    "no more messages",
    "lose my number",
    "delete my number",
    "leave me alone",
)
_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
_WORD = re.compile(r"[^\W\d_]+")  # a run of letters: digits, punctuation and emoji split words


def _words(body: str) -> list[str]:
    """The text's words: NFKC (fullwidth to ASCII), casefolded, apostrophes dropped."""
    text = unicodedata.normalize("NFKC", body).casefold()
    return _WORD.findall(_APOSTROPHES.sub("", text))


def is_opt_out_request(body: str) -> bool:
    """True when the text asks to stop: a keyword, a keyword first, or an opt-out phrase.

    "please stop by the office" and "don't stop" are not requests: STOP there is
    neither the first word nor part of a phrase that asks for no more texts.
    """
    words = _words(body)
    if not words:
        return False
    if "".join(words) in OPT_OUT_KEYWORDS or words[0] in OPT_OUT_KEYWORDS:
        return True
    spaced = f" {' '.join(words)} "
    return any(f" {phrase} " in spaced for phrase in OPT_OUT_PHRASES)


def is_listed(session: Session, organization_id: int, cell: str) -> bool:
    """True when `cell` is on the organization's opt-out list."""
    return bool(
        session.scalar(
            select(exists().where(OptOut.organization_id == organization_id, OptOut.cell == cell))
        )
    )


def opt_out_cell(session: Session, organization_id: int, cell: str, reason: str) -> None:
    """Put `cell` on the list and close it, opted out, in every campaign of the organization.

    Runs inside the caller's write transaction; the list insert ignores an existing entry.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(OptOut)
        .values(organization_id=organization_id, cell=cell, reason=reason[:100])
        .on_conflict_do_nothing(index_elements=["organization_id", "cell"])
    )
    org_campaigns = select(Campaign.id).where(Campaign.organization_id == organization_id)
    session.execute(
        update(CampaignContact)
        .where(CampaignContact.cell == cell, CampaignContact.campaign_id.in_(org_campaigns))
        .values(opted_out=True, message_status="closed")
        .execution_options(synchronize_session="fetch")
    )

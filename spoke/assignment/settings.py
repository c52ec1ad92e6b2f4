"""The Assignment Management settings: dynamic assignment toggles, batch sizes, release minutes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from spoke import parsing
from spoke.models import Campaign
from spoke.transactions import begin_write, lock_row

log = logging.getLogger(__name__)

TOGGLES = (
    "dynamic_initials_enabled",
    "require_replies_handled",
    "dynamic_replies_enabled",
    "release_unhandled_enabled",
    "release_unsent_enabled",
)
# Whole-number settings and their inclusive bounds.
NUMBERS: dict[str, tuple[int, int]] = {
    "initials_batch_size": (1, 10_000),
    "replies_batch_size": (1, 10_000),
    "release_unhandled_minutes": (1, 10_080),
    # Under 5 minutes a texter reading the script would lose their batch; a week at most.
    "release_unsent_minutes": (5, 10_080),
}
FIELDS = TOGGLES + tuple(NUMBERS)
TRUE_WORDS = frozenset({"on", "1", "true", "yes", "y"})


class SettingsError(Exception):
    """The campaign cannot take settings (it does not exist)."""


@dataclass
class SettingsResult:
    """What a save did: the fields it changed, and a message for each field it rejected."""

    changed: dict[str, bool | int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # The rejected inputs as typed, so the form can show them next to their messages.
    rejected: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_whole_number(raw: str, low: int, high: int) -> tuple[int | None, str]:
    """Return (value, "") for a whole number in [low, high], else (None, a message)."""
    message = f"Enter a whole number from {low:,} to {high:,}."
    return parsing.number_or_message(raw.replace(",", ""), low, high, message)


def validate(raw: Mapping[str, str]) -> tuple[dict[str, bool | int], dict[str, str]]:
    """Parse the submitted fields; fields not submitted are left out of both results.

    A toggle is on when its value is a true word ("on" from a checkbox) and off when empty.
    """
    clean: dict[str, bool | int] = {}
    errors: dict[str, str] = {}
    for name in TOGGLES:
        if name in raw:
            clean[name] = raw[name].strip().lower() in TRUE_WORDS
    for name, (low, high) in NUMBERS.items():
        if name not in raw:
            continue
        value, message = parse_whole_number(raw[name], low, high)
        if value is None:
            errors[name] = message
        else:
            clean[name] = value
    return clean, errors


def save_settings(session: Session, campaign_id: int, raw: Mapping[str, str]) -> SettingsResult:
    """Store every valid submitted setting in one transaction; reject the rest, unchanged.

    A valid field is saved even when another field is rejected, so a typo in one batch size
    does not undo a toggle the admin just switched.
    """
    clean, errors = validate(raw)
    result = SettingsResult(errors=errors, rejected={k: raw[k] for k in errors})
    begin_write(session)
    campaign = lock_row(session, Campaign, campaign_id)
    if campaign is None:
        raise SettingsError("No such campaign.")
    for name, value in clean.items():
        if getattr(campaign, name) != value:
            setattr(campaign, name, value)
            result.changed[name] = value
    if result.changed:
        log.info("campaign %s assignment settings changed: %s", campaign_id, result.changed)
    return result

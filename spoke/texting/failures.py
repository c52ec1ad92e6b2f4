"""Why a text failed: a short reason a texter may read, and the provider's detail, redacted.

The reason goes in `message.error` (shown to the texter); the detail in `message.error_detail`
(admins and the log). Raw provider or urllib3 text never reaches a texter, and the detail
has account SIDs, auth tokens and credentials in URLs stripped before it is stored or logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

REJECTED = "Not sent: the carrier rejected the text."
UNREACHABLE = "Not sent: the texting service could not be reached. Try again in a minute."
NOT_CONFIGURED = "Not sent: texting is not set up yet. Tell an admin."
OPTED_OUT = "Not sent: the contact opted out."
BROKEN = "Not sent: something went wrong while sending. Try again in a minute."
UNDELIVERED = "Not delivered: the carrier could not deliver it."

# Twilio error codes (https://www.twilio.com/docs/api/errors) a texter can act on.
BY_CODE = {
    21211: "Not sent: the carrier rejected the number.",
    21214: "Not sent: the carrier rejected the number.",
    21408: "Not sent: texting this country is not allowed.",
    21610: "Not sent: this number has blocked our texts (they replied STOP to the carrier).",
    21612: "Not sent: our number cannot text this number.",
    21614: "Not sent: this number cannot receive texts.",
    30003: "Not delivered: the phone was off or out of reach.",
    30004: "Not delivered: the recipient blocked the text.",
    30005: "Not delivered: the number does not exist.",
    30006: "Not delivered: the number cannot receive texts (a landline?).",
    30007: "Not delivered: the carrier filtered the text as spam.",
    30008: "Not delivered: the carrier reported an unknown error.",
}

DETAIL_MAX = 1000
_PATTERNS = (
    # user:password@ in any URL (https://AC…:token@api.twilio.com, redis://:secret@host).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@]*:[^\s/@]*@"), r"\1[redacted]@"),
    # Twilio account and API key SIDs.
    (re.compile(r"\b(AC|SK)[0-9a-fA-F]{32}\b"), r"\1[redacted]"),
    # Auth tokens and other bare 32-hex secrets (message SIDs keep their SM/MM prefix).
    (re.compile(r"\b[0-9a-fA-F]{32}\b"), "[redacted]"),
    (re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._-]{8,}"), r"\1 [redacted]"),
)


@dataclass(frozen=True)
class Failure:
    """A failed send: `reason` for the texter, `detail` (redacted) for admins and the log."""

    reason: str
    detail: str


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with SIDs, tokens, URL credentials and the given secrets replaced by [redacted]."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text[:DETAIL_MAX]


def reason_for_code(code: int | str | None, default: str) -> str:
    """The texter's reason for a provider error code, or `default` for codes we don't know."""
    try:
        return BY_CODE.get(int(code or 0), default)
    except (TypeError, ValueError):
        return default

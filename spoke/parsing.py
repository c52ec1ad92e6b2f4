"""Numbers and paths from requests: ASCII digits only, range-checked against their column.

Pure functions (no flask). `str.isdigit()` accepts "²" and other digits `int()` refuses
or reads differently, and an 11-digit id overflows PostgreSQL's `integer`, so every number
a request carries goes through `whole_number` here; spoke.views._params adapts it to requests.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from urllib.parse import urlsplit

INT32_MAX = 2**31 - 1  # PostgreSQL `integer`: every id and count column
# Durations in minutes: ten years, far below what `now() - timedelta` can reach.
MAX_MINUTES = 10 * 366 * 24 * 60
_MAX_DIGITS = 20  # more digits than any bound here, with room for leading zeros
_ASCII_DIGITS = frozenset(string.digits)


def whole_number(raw: str | None, low: int = 0, high: int = INT32_MAX) -> int | None:
    """The whole number `raw` spells in ASCII digits, if within [low, high]; else None.

    Surrounding spaces are ignored; a leading "-" is read only when `low` is negative.
    """
    text = (raw or "").strip()
    negative = low < 0 and text.startswith("-")
    digits = text[1:] if negative else text
    if not digits or len(digits) > _MAX_DIGITS or not set(digits) <= _ASCII_DIGITS:
        return None
    value = -int(digits) if negative else int(digits)
    return value if low <= value <= high else None


def number_or_message(raw: str | None, low: int, high: int, message: str) -> tuple[int | None, str]:
    """(value, "") for a whole number in [low, high], else (None, the field's message)."""
    value = whole_number(raw, low, high)
    return (value, "") if value is not None else (None, message)


def record_id(raw: str | None) -> int | None:
    """The row id `raw` spells (1 to 2**31-1), else None."""
    return whole_number(raw, 1, INT32_MAX)


def record_ids(values: Iterable[str]) -> tuple[list[int], bool]:
    """The distinct ids in `values` in order, and False when any value is not an id."""
    ids: dict[int, None] = {}
    valid = True
    for raw in values:
        value = record_id(raw)
        if value is None:
            valid = False
        else:
            ids.setdefault(value, None)
    return list(ids), valid


def minutes(raw: str | None) -> int | None:
    """A duration in whole minutes, 0 to MAX_MINUTES, else None."""
    return whole_number(raw, 0, MAX_MINUTES)


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site ("/x?y"), else None.

    Refused: other schemes or hosts, scheme-relative "//host" (also spelled with "\\"),
    and control, format or separator characters (all but the space), which would split
    the Location header or be dropped by a browser to reveal "//host".
    """
    if not target or not target.isprintable():
        return None
    path = target.replace("\\", "/").strip()
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return None
    return path

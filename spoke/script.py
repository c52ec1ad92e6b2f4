"""The campaign script: which {fields} it uses, whether they exist, and rendering it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FIELD_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_ ]*)\}")
BUILTIN_FIELDS = ("firstName", "lastName", "texterFirstName", "cell", "zip")


def fields_in(text: str) -> list[str]:
    """The distinct {field} names in `text`, in order of first use."""
    seen: dict[str, None] = {}
    for match in FIELD_RE.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def allowed_fields(custom_field_names: Iterable[str]) -> list[str]:
    return list(BUILTIN_FIELDS) + [f for f in custom_field_names if f not in BUILTIN_FIELDS]


def unknown_fields(text: str, custom_field_names: Iterable[str]) -> list[str]:
    """Fields used in `text` that neither the product nor the contacts provide."""
    allowed = set(allowed_fields(custom_field_names))
    return [f for f in fields_in(text) if f not in allowed]


def render(text: str, contact: Any, texter_first_name: str) -> str:
    """Fill the script's fields for one contact; an unknown field renders empty."""
    custom = contact.custom_fields or {}
    values = {
        "firstName": contact.first_name or "",
        "lastName": contact.last_name or "",
        "texterFirstName": texter_first_name or "",
        "cell": contact.cell or "",
        "zip": contact.zip or "",
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        return str(custom.get(name, ""))

    return FIELD_RE.sub(fill, text)

"""The campaign script: which {fields} it uses, whether they exist, and rendering it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Anything in braces is a field reference, even nothing: "{}" is a field with no name, so it
# is reported at save. Matching loosely (not only identifiers) means a typo such as
# "{ firstName}" or "{first-name}" is reported at save instead of being texted to a voter
# with its braces, and custom CSV headers with odd characters still work.
FIELD_RE = re.compile(r"\{([^{}]*)\}")
BUILTIN_FIELDS = ("firstName", "lastName", "texterFirstName", "cell", "zip")


@dataclass(frozen=True)
class SampleContact:
    """Stand-in contact for previews when a campaign has no contacts yet."""

    first_name: str = "Alex"
    last_name: str = "Rivera"
    cell: str = "+15555550100"
    zip: str = "94110"
    custom_fields: dict[str, Any] = field(default_factory=dict)


def sample_contact(custom_field_names: Iterable[str] = ()) -> SampleContact:
    """A sample contact whose custom fields show their own names, e.g. "[precinct]"."""
    return SampleContact(custom_fields={name: f"[{name}]" for name in custom_field_names})


def fields_in(text: str) -> list[str]:
    """The distinct {field} names in `text`, in order of first use."""
    seen: dict[str, None] = {}
    for match in FIELD_RE.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def allowed_fields(custom_field_names: Iterable[str]) -> list[str]:
    """The field names a script may use: the built-in ones, then the contacts' custom ones."""
    return list(BUILTIN_FIELDS) + [f for f in custom_field_names if f not in BUILTIN_FIELDS]


def unknown_fields(text: str, custom_field_names: Iterable[str]) -> list[str]:
    """Fields used in `text` that neither the product nor the contacts provide."""
    allowed = set(allowed_fields(custom_field_names))
    return [f for f in fields_in(text) if f not in allowed]


def unknown_fields_message(unknown: Iterable[str], custom_field_names: Iterable[str]) -> str:
    """The error a user sees for unknown fields, listing the ones they may use."""
    unknown = list(unknown)
    names = ", ".join("{" + f + "}" for f in unknown)
    available = ", ".join("{" + f + "}" for f in allowed_fields(custom_field_names))
    if not any(f.strip() for f in unknown):
        problem = f"Empty braces {names}: write a field name in them or remove them."
    else:
        problem = f"Unknown field {names}."
    return f"{problem} Available fields: {available}"


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
        value = custom.get(name)
        return "" if value is None else str(value)

    return FIELD_RE.sub(fill, text)

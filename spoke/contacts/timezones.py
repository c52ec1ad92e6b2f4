"""A contact's time zone at import: the CSV's `timezone` column, else zip, else cell, else default.

Offline only: zip codes through the `zipcodes` package's bundled data, area codes through
phonenumbers' bundled geocoding data.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
import zipcodes
from phonenumbers.timezone import time_zones_for_number

from spoke.campaigns.hours import canonical_zone

_ZIP = re.compile(r"(\d{3,5})(?:-\d{4})?")


class InvalidZone(ValueError):
    """The CSV named a time zone that does not exist; the message is the row's reason."""


def from_csv(raw: str) -> str | None:
    """The IANA zone the CSV cell names, None when blank; InvalidZone when it is no zone."""
    raw = raw.strip()
    if not raw:
        return None
    zone = canonical_zone(raw)
    if zone is None:
        raise InvalidZone(
            f"invalid time zone: {raw[:40]} (use a name like America/Chicago, or leave it blank)"
        )
    return zone


@functools.lru_cache(maxsize=50_000)
def from_zip(raw: str) -> str | None:
    """The zone of a US zip code ("02134", "2134" as spreadsheets save it, "02134-1234")."""
    match = _ZIP.fullmatch(raw.strip())
    if not match:
        return None
    try:
        found = zipcodes.matching(match[1].zfill(5))
    except ValueError:
        return None
    zones = {canonical_zone(z.get("timezone") or "") for z in found}
    zones.discard(None)
    return zones.pop() if len(zones) == 1 else None  # type: ignore[return-value]


def from_cell(number: phonenumbers.PhoneNumber) -> str | None:
    """The zone of the cell's area code, only when phonenumbers knows exactly one."""
    zones = time_zones_for_number(number)
    if len(zones) != 1:
        return None
    return canonical_zone(zones[0])  # "Etc/Unknown" is no zone: None


def resolve(
    csv_zone: str, zip_code: str, number: phonenumbers.PhoneNumber
) -> tuple[str | None, str]:
    """(zone, source) by the import's order; zone None means "the campaign's default".

    Raises InvalidZone for a bad CSV value.
    """
    zone = from_csv(csv_zone)
    if zone:
        return zone, "csv"
    zone = from_zip(zip_code) if zip_code else None
    if zone:
        return zone, "zip"
    zone = from_cell(number)
    if zone:
        return zone, "cell"
    return None, "default"

"""Texting hours: which time zones are open now, when the next one opens, and the words for it.

Pure functions over a campaign's settings and a UTC clock reading (naive UTC, as `spoke.clock`
gives). A campaign's hours are local times, applied in each contact's own time zone:
a contact can be texted from `start` up to (not including) `stop`. Claims of initials keep a
margin before `stop`, so a texter does not get a batch they cannot finish sending.
"""

from __future__ import annotations

import functools
import math
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from spoke.models import Campaign

INITIALS_MARGIN = timedelta(minutes=10)
NONE = timedelta(0)
# Friendly names for the zones most US campaigns use; others are named by their city.
ZONE_NAMES = {
    "America/New_York": "Eastern",
    "America/Detroit": "Eastern",
    "America/Indiana/Indianapolis": "Eastern",
    "America/Kentucky/Louisville": "Eastern",
    "America/Chicago": "Central",
    "America/Indiana/Knox": "Central",
    "America/Menominee": "Central",
    "America/North_Dakota/Center": "Central",
    "America/Denver": "Mountain",
    "America/Boise": "Mountain",
    "America/Phoenix": "Arizona",
    "America/Los_Angeles": "Pacific",
    "America/Anchorage": "Alaska",
    "America/Adak": "Hawaii-Aleutian",
    "Pacific/Honolulu": "Hawaii",
    "America/Puerto_Rico": "Atlantic",
    "Pacific/Guam": "Chamorro",
}
# Offered first in the Default time zone select.
COMMON_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


@functools.cache
def all_zones() -> frozenset[str]:
    """Every IANA time zone name this machine knows (from tzdata)."""
    return frozenset(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


@functools.cache
def _zones_by_lower() -> dict[str, str]:
    return {z.lower(): z for z in all_zones()}


def canonical_zone(name: str) -> str | None:
    """The IANA name `name` spells (case-insensitively), or None when it is no zone."""
    return _zones_by_lower().get(name.strip().lower()) if name else None


def zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The zones for a select, as (group, [(zone, label)]): common US ones, then all others."""
    common = [(z, f"{ZONE_NAMES[z]} ({z})") for z in COMMON_ZONES]
    rest = [(z, z) for z in sorted(all_zones() - set(COMMON_ZONES))]
    return [("United States", common), ("All time zones", rest)]


def parse_clock(raw: str) -> time | None:
    """Read "HH:MM" (or "HH:MM:SS", as some browsers send) as a time; None if it is not one."""
    match = _TIME.fullmatch((raw or "").strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


@dataclass(frozen=True)
class Hours:
    """A campaign's texting hours."""

    enforced: bool
    start: time
    stop: time

    @classmethod
    def of(cls, campaign: Campaign) -> Hours:
        return cls(
            bool(campaign.texting_hours_enforced),
            campaign.texting_hours_start,
            campaign.texting_hours_stop,
        )

    def is_open(self, zone: str, at: datetime, margin: timedelta = NONE) -> bool:
        """Is it inside the hours in `zone` at UTC `at` (and at least `margin` before stop)?"""
        if not self.enforced:
            return True
        # Wall-clock readings: the hours are what the clock on the contact's wall says.
        local = _local(zone, at).replace(tzinfo=None)
        start = datetime.combine(local.date(), self.start)
        stop = datetime.combine(local.date(), self.stop) - margin
        return start <= local < stop

    def open_zones(self, zones: Iterable[str], at: datetime, margin: timedelta = NONE) -> list[str]:
        """The zones among `zones` that are open at UTC `at`, sorted."""
        return sorted(z for z in set(zones) if self.is_open(z, at, margin))

    def next_opening(self, zone: str, at: datetime) -> datetime:
        """When the hours next start in `zone` after UTC `at` (naive UTC)."""
        local = _local(zone, at)
        day = local.date()
        if local.replace(tzinfo=None).time() >= self.start:
            day += timedelta(days=1)
        opening = datetime.combine(day, self.start, local.tzinfo)
        return opening.astimezone(UTC).replace(tzinfo=None)

    def describe(self) -> str:
        """ "9:00 am–9:00 pm" """
        return f"{clock_text(self.start)}–{clock_text(self.stop)}"

    def summary(self) -> str:
        """The hours as a texter reads them on the campaign page."""
        if not self.enforced:
            return ""
        return f"Texting hours: {self.describe()} in each contact's time zone."

    def next_open_text(self, zone: str, at: datetime) -> str:
        """ "9:00 am Central (in 2 h 10 min)": when `zone` next opens, after UTC `at`."""
        opens = self.next_opening(zone, at)
        return f"{clock_text(self.start)} {zone_name(zone)} (in {duration_text(opens - at)})"

    def closed_refusal(self, zone: str, at: datetime) -> str:
        """Why a claim found nobody to text: the hours, and when the next zone opens."""
        return (
            f"No contacts can be texted right now: texting hours are {self.describe()} "
            f"in each contact's time zone. The next ones open at {self.next_open_text(zone, at)}."
        )

    def outside_refusal(self, zone: str, at: datetime) -> str:
        """Why one contact cannot be texted now: their local time and when they open."""
        local = _local(zone, at)
        opens = self.next_opening(zone, at)
        return (
            f"It is {clock_text(local.time())} {zone_name(zone)} time for this contact, "
            f"outside texting hours ({self.describe()}). They can be texted from "
            f"{clock_text(self.start)} (in {duration_text(opens - at)}). Nothing was sent."
        )


def first_to_open(hours: Hours, zones: Iterable[str], at: datetime) -> list[str]:
    """`zones` ordered by when their hours next start (soonest first)."""
    return sorted(set(zones), key=lambda z: (hours.next_opening(z, at), z))


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def _local(zone: str, at: datetime) -> datetime:
    return at.replace(tzinfo=UTC).astimezone(_zone(zone))


def zone_name(zone: str) -> str:
    """ "Central" for America/Chicago; the city for zones without a common name."""
    return ZONE_NAMES.get(zone) or zone.rsplit("/", 1)[-1].replace("_", " ")


def clock_text(t: time) -> str:
    """ "9:00 am", "12:30 pm" """
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {'am' if t.hour < 12 else 'pm'}"


def duration_text(delta: timedelta) -> str:
    """ "2 h 10 min", "45 min", "3 h" (rounded up to the minute)"""
    minutes = max(1, math.ceil(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@dataclass(frozen=True)
class Settings:
    """The Basics "Texting hours" fieldset, checked."""

    enforced: bool
    start: time
    stop: time
    default_timezone: str


def parse_settings(
    enforced: bool, start: str, stop: str, default_timezone: str
) -> tuple[Settings | None, dict[str, str]]:
    """Check the fieldset's values; errors map a field to what to tell the admin."""
    errors: dict[str, str] = {}
    start_at, stop_at = parse_clock(start), parse_clock(stop)
    if start_at is None:
        errors["texting_hours_start"] = "Enter a time like 09:00 for Start texting at."
    if stop_at is None:
        errors["texting_hours_stop"] = "Enter a time like 21:00 for Stop texting at."
    if start_at is not None and stop_at is not None and start_at >= stop_at:
        errors["texting_hours_stop"] = "Stop texting at must be later than Start texting at."
    zone = canonical_zone(default_timezone)
    if zone is None:
        errors["default_timezone"] = "Choose a time zone from the list."
    if errors:
        return None, errors
    assert start_at is not None and stop_at is not None and zone is not None
    return Settings(enforced, start_at, stop_at, zone), {}

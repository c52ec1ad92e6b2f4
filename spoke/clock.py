"""The one clock the domain reads, so tests can move time instead of sleeping."""

from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    """Return the current time as a naive UTC datetime (what both databases store)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


def freeze(at: datetime | None) -> None:
    """Pin the clock to `at` (None unpins it). Tests only."""
    global _frozen
    _frozen = at


def advance(**kwargs: float) -> datetime:
    """Move a frozen clock forward by a timedelta's keyword arguments. Tests only."""
    global _frozen
    _frozen = (_frozen or now()) + timedelta(**kwargs)
    return _frozen

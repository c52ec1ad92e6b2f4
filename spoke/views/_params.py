"""Numbers from the request, through spoke.parsing: a URL id out of range is a 404."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.routing import IntegerConverter, Map

from spoke import parsing


class IdConverter(IntegerConverter):
    """The URL map's `int`: ASCII digits up to 2**31-1, so a larger id is a 404, not a 500.

    Werkzeug's own `\\d+` also matches other scripts' digits, which `int()` reads.
    """

    regex = r"[0-9]{1,20}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", parsing.INT32_MAX)
        super().__init__(map, *args, **kwargs)


def arg_id(name: str) -> int | None:
    """The query string's id `name`, or None when absent or not an id."""
    return parsing.record_id(request.args.get(name))


def form_id(name: str) -> int | None:
    """The form's id `name`, or None when absent or not an id."""
    return parsing.record_id(request.form.get(name))


def form_ids(name: str) -> tuple[list[int], bool]:
    """The form's ids `name` (a multi-value field), and False if any value is not an id."""
    return parsing.record_ids(request.form.getlist(name))

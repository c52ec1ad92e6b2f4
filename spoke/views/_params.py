"""Numbers from the request, through spoke.parsing: a URL id out of range is a 404."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.routing import IntegerConverter, Map

from spoke import parsing


def _up_to_int32() -> str:
    """A regex for the decimal numbers 0 ... 2**31-1 (no sign, no leading zeros past one).

    Bounding the number in the regex, not only in `to_python`, means a larger id matches no
    rule at all: a 404 for every method, never a 405 from a sibling rule on the same path.
    """
    limit = str(parsing.INT32_MAX)
    shorter = rf"[1-9][0-9]{{0,{len(limit) - 2}}}"  # 1 ... 999,999,999
    same_length = [  # the limit's first i digits, a smaller digit, then any digits
        limit[:i] + f"[{int(i == 0)}-{int(limit[i]) - 1}]" + rf"[0-9]{{{len(limit) - i - 1}}}"
        for i in range(len(limit))
        if int(limit[i]) > int(i == 0)
    ]
    return "(?:0|" + shorter + "|" + "|".join([*same_length, limit]) + ")"


class IdConverter(IntegerConverter):
    """The URL map's `int`: ASCII digits up to 2**31-1, so a larger id is a 404, not a 500.

    Werkzeug's own `\\d+` also matches other scripts' digits, which `int()` reads.
    """

    regex = _up_to_int32()

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

"""The app context a job runs in: the caller's if there is one, else one built from env."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


@contextlib.contextmanager
def app_context() -> Iterator[Flask]:
    """Yield an app with an active context; an RQ worker builds one on first use."""
    global _app
    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    if _app is None:
        from spoke import create_app

        _app = create_app()
    with _app.app_context():
        yield _app

"""Test helpers that are not factories: running work on real threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from spoke.extensions import db


def run_threads(app: Flask, target: Callable[[int], object], n: int, timeout: float = 120) -> None:
    """Run target(0..n-1) on n threads, each with its own app context and session, released
    together by a barrier; fail if any raised or hung."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def wrapper(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                target(i)
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors

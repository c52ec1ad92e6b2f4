"""Embedded mode: one daemon thread runs the periodic sweeps every minute.

The sweeps: Release Unhandled Replies and the outbox (texts to re-queue). With Redis,
`rq cron` does this instead (jobs/cron.py); both call the same job functions.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from spoke.runtime import tasks

log = logging.getLogger(__name__)

SWEEPS = (tasks.RELEASE_UNHANDLED, tasks.SWEEP_OUTBOX)


class Ticker(threading.Thread):
    """A daemon thread that runs the sweeps every `interval` seconds until stopped."""

    def __init__(self, app: Flask, interval: float = 60) -> None:
        super().__init__(name="spoke-release-ticker", daemon=True)
        self.app = app
        self.interval = interval
        self.stopped = threading.Event()
        self.runs = 0

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.tick()

    def tick(self) -> None:
        """Run each sweep in its own app context; log failures, never die."""
        from spoke.extensions import db

        for name in SWEEPS:
            with self.app.app_context():
                try:
                    tasks.run(name)
                except Exception:  # the next tick tries again; one sweep never stops another
                    log.exception("sweep %s failed", name)
                finally:
                    db.session.remove()
        self.runs += 1

    def stop(self, timeout: float | None = 5) -> None:
        """Ask the thread to stop and wait for a running sweep to finish."""
        self.stopped.set()
        if self.is_alive():
            self.join(timeout)


def start_ticker(app: Flask, interval: float = 60) -> Ticker:
    """Start the embedded-mode ticker thread; `.stop()` (or `.stopped.set()`) ends it."""
    ticker = Ticker(app, interval)
    ticker.start()
    log.info("ticker started: release and outbox sweeps every %s seconds", interval)
    return ticker

"""Browser-test fixtures: the real app served over HTTP, and a time limit for a whole flow."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    url: str
    app: Flask


@contextmanager
def serve_app(tmp_path: Path, ticker_interval: float = 60, **config: Any) -> Iterator[LiveServer]:
    """Run the app like `make run`: migrations on a fresh SQLite file, then waitress.

    Jobs run on a background thread as in production (JOBS_IN_THREAD True), and the
    embedded release ticker sweeps every `ticker_interval` seconds; `config` overrides any
    setting. The server listens on 127.0.0.1 on a free port.
    """
    from flask_migrate import upgrade
    from waitress.server import create_server

    from spoke import create_app
    from spoke.extensions import db
    from spoke.runtime.ticker import start_ticker

    settings: dict[str, Any] = {
        "SECRET_KEY": "browser-test",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.db'}",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "JOBS_IN_THREAD": True,
        "SMS_PROVIDER": "fake",
        "REDIS_URL": "",
    }
    settings.update(config)
    app = create_app(settings)
    with app.app_context():
        upgrade()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-browser-test", daemon=True)
    thread.start()
    ticker = start_ticker(app, interval=ticker_interval)
    try:
        yield LiveServer(f"http://127.0.0.1:{server.effective_port}", app)
    finally:
        ticker.stop()
        server.close()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The app under waitress on a migrated temporary SQLite database, as `make run` serves it."""
    with serve_app(tmp_path) as server:
        yield server


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise TimeoutError in the test if the block takes longer than `seconds`."""

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"the browser flow took over {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

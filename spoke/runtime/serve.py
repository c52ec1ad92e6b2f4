"""`make run`: serve the app with waitress in one process (the embedded mode).

Without REDIS_URL the periodic release sweep runs on one in-process ticker thread; with it,
`make cron` and `make worker` do that work and this process only serves. The app is built
by `python -m spoke` (spoke/__main__.py) and handed in, so this layer never imports views.
"""

from __future__ import annotations

import logging
import os

from flask import Flask
from waitress import serve as waitress_serve

log = logging.getLogger("spoke.serve")


def serve(app: Flask) -> None:
    """Serve `app` on $HOST:$PORT (default 127.0.0.1:5000)."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    if not app.config.get("REDIS_URL"):
        from spoke.assignment import review_jobs
        from spoke.contacts import importer
        from spoke.extensions import db
        from spoke.runtime.ticker import start_ticker

        with app.app_context():
            if stuck := importer.fail_interrupted(db.session):
                log.warning("marked %d interrupted contact imports as failed", stuck)
            if stuck := review_jobs.fail_interrupted(db.session):
                log.warning("marked %d interrupted bulk actions as failed (Resume)", stuck)

        start_ticker(app)
        log.info("embedded mode: release sweep runs in-process every minute")
    log.info("spoke is running on http://%s:%s/", host, port)
    waitress_serve(app, host=host, port=port, threads=int(os.environ.get("WAITRESS_THREADS", "8")))

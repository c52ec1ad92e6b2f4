"""`make run`: serve the app with waitress in one process (the embedded mode).

Without REDIS_URL the periodic release sweep runs on one in-process ticker thread; with it,
`make cron` and `make worker` do that work and this process only serves.
"""

from __future__ import annotations

import logging
import os

from waitress import serve

from spoke import create_app

log = logging.getLogger("spoke.serve")


def main() -> None:
    """Serve on 127.0.0.1:$PORT (default 5000)."""
    app = create_app()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    if not app.config.get("REDIS_URL"):
        from spoke import importer
        from spoke.extensions import db
        from spoke.ticker import start_ticker

        with app.app_context():
            if stuck := importer.fail_interrupted(db.session):
                log.warning("marked %d interrupted contact imports as failed", stuck)

        start_ticker(app)
        log.info("embedded mode: release sweep runs in-process every minute")
    log.info("spoke is running on http://%s:%s/", host, port)
    serve(app, host=host, port=port, threads=int(os.environ.get("WAITRESS_THREADS", "8")))


if __name__ == "__main__":
    main()

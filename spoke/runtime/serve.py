"""`make run`: serve the app with waitress in one process (the embedded mode).

Without REDIS_URL the periodic release sweep runs on one in-process ticker thread; with it,
`make cron` and `make worker` do that work and this process only serves. The app is built
by `python -m spoke` (spoke/__main__.py) and handed in, so this layer never imports views.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import ChunkedReceiver
from waitress.server import BaseWSGIServer, create_server
from waitress.utilities import BadRequest

log = logging.getLogger("spoke.serve")

# Room for the multipart wrapping around an upload of MAX_UPLOAD_SIZE.
MULTIPART_SLACK = 64 * 1024
# A chunk-size line is a few hex digits; a trailer a few headers. waitress 3.0.2 keeps
# re-copying an unfinished one on every read, so a long one burns its I/O thread.
MAX_CHUNK_LINE = 4096
MAX_CHUNK_TRAILER = 64 * 1024


class BoundedChunkedReceiver(ChunkedReceiver):
    """waitress's chunked body reader, refusing an overlong chunk-size line or trailer."""

    def received(self, s: bytes) -> int:
        consumed = super().received(s)
        if len(self.control_line) > MAX_CHUNK_LINE:
            self.error = BadRequest("Chunk size line too long")
        elif len(self.trailer) > MAX_CHUNK_TRAILER:
            self.error = BadRequest("Chunk trailer too long")
        else:
            return consumed
        self.all_chunks_received = True
        self.control_line = self.trailer = b""
        return consumed


class BoundedRequestParser(HTTPRequestParser):
    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if isinstance(self.body_rcv, ChunkedReceiver):
            self.body_rcv = BoundedChunkedReceiver(self.body_rcv.buf)


class BoundedChannel(HTTPChannel):
    parser_class = BoundedRequestParser


def request_limits(config: dict[str, Any]) -> dict[str, int]:
    """waitress's request-size limits, from the app's own (the same numbers Flask enforces)."""
    largest_body = max(config["MAX_UPLOAD_SIZE"], config["MAX_CONTENT_LENGTH"])
    return {
        "max_request_body_size": largest_body + MULTIPART_SLACK,
        "max_request_header_size": config["MAX_REQUEST_HEADER_SIZE"],
    }


def make_server(app: Flask, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server for `app` with its request-size limits and bounded chunk reading."""
    server_map: dict[int, Any] = {}
    server = create_server(
        app, map=server_map, host=host, port=port, threads=threads, **request_limits(app.config)
    )
    # One listening socket per address `host` resolves to; each accepts our channel.
    for dispatcher in server_map.values():
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = BoundedChannel
    return server


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
    server = make_server(app, host, port, threads=int(os.environ.get("WAITRESS_THREADS", "8")))
    log.info("spoke is running on http://%s:%s/", host, port)
    server.run()

"""View: `GET /healthz` for load balancers and the benchmark's HTTP floor."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from spoke.runtime import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report database and Redis reachability as JSON: 200 when all answer, else 503."""
    report, healthy = health.check()
    response = jsonify(report)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response

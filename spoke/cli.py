"""Command-line tools: `flask create-admin`, and more as features land."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass

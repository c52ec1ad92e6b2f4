"""`flask release-unhandled`: one Release Unhandled Replies sweep, for system cron users."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("release-unhandled")
@with_appcontext
def release_unhandled_command() -> None:
    """Release unhandled replies that waited too long, in every eligible campaign, once."""
    from jobs.release import release_unhandled

    result = release_unhandled()
    click.echo(
        f"Swept {result['campaigns_swept']} campaigns; "
        f"released {result['released']} unhandled replies to the pool."
    )

"""Command-line tools: `flask create-admin`, `flask release-unhandled`, `flask sweep-outbox`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from spoke.accounts import accounts, admins
from spoke.extensions import db
from spoke.runtime import tasks


def init_app(app: Flask) -> None:
    """Register the `flask` commands."""
    app.cli.add_command(release_unhandled_command)
    app.cli.add_command(sweep_outbox_command)
    app.cli.add_command(create_admin_command)


@click.command("release-unhandled")
@with_appcontext
def release_unhandled_command() -> None:
    """Release unhandled replies and unsent initials that waited too long, once."""
    result = tasks.run(tasks.RELEASE_UNHANDLED)
    click.echo(
        f"Swept {result['campaigns_swept']} campaigns; "
        f"released {result['released']} unhandled replies "
        f"and {result['unsent_released']} unsent initials to the pool."
    )


@click.command("sweep-outbox")
@with_appcontext
def sweep_outbox_command() -> None:
    """Re-queue texts that waited too long or were left sending by a stopped worker, once."""
    result = tasks.run(tasks.SWEEP_OUTBOX)
    click.echo(
        f"Re-queued {result['requeued']} waiting texts; "
        f"gave back {result['given_back']} left sending by a stopped worker."
    )


@click.command("create-admin")
@click.option("--email", required=True, help="The admin's email (their login).")
@click.option("--name", required=True, help="The admin's name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters (asked for when left out).",
)
@click.option(
    "--org",
    "org_name",
    default=None,
    help="Organization name: created, with this user as owner, when none has it.",
)
@with_appcontext
def create_admin_command(email: str, name: str, password: str, org_name: str | None) -> None:
    """Create an organization and its owner, or make a user admin of an existing one.

    Without --org after setup the user becomes admin of the first organization.
    """
    try:
        result = admins.create_admin(db.session, email, name, password, org_name)
    except accounts.ValidationError as exc:
        raise click.ClickException(" ".join(exc.errors.values())) from None
    except accounts.AccountError as exc:
        raise click.ClickException(exc.message) from None
    org = result.organization
    if result.created_organization:
        click.echo(f'Created organization "{org.name}" with owner {result.user.email}.')
        return
    verb = "Created" if result.created_user else "Updated"
    click.echo(f'{verb} {result.user.email}: {result.role} of "{org.name}".')

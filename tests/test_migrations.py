"""The schema `make run` builds comes from migrations, and they match the models exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from bench.common import throwaway_postgres
from spoke import create_app
from spoke.extensions import db
from tests.conftest import PG_URL


@pytest.fixture
def empty_database_url(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with throwaway_postgres(PG_URL, "spoke_test_mig") as url:
        yield url


def test_migrations_build_the_models_schema_and_downgrade(empty_database_url, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "x",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("campaign_contact")}
        assert {"ix_contact_pool_needs_message", "ix_contact_pool_needs_response"} <= indexes
        downgrade(revision="base")
        assert "campaign_contact" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_upgrade_keeps_existing_rows(empty_database_url, tmp_path):
    """A database made by the first migration, with data, upgrades to the latest schema."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "x",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    with app.app_context():
        upgrade(revision="8843da704a30")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organization (id, name, created_at) "
                    "VALUES (1, 'Org', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO campaign (id, organization_id, title, description, status, "
                    "script, custom_field_names, dynamic_initials_enabled, initials_batch_size, "
                    "require_replies_handled, dynamic_replies_enabled, replies_batch_size, "
                    "release_unhandled_enabled, release_unhandled_minutes, "
                    "initials_join_token, replies_join_token, created_at) VALUES "
                    "(1, 1, 'C', '', 'draft', '', '[]', false, 200, false, false, 25, false, "
                    "30, 'a', 'b', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO contact_import (campaign_id, filename, path, status, "
                    "total_bytes, processed_bytes, rows_processed, imported, duplicates, "
                    "opted_out_skipped, rejected, rejected_rows, error, created_at) VALUES "
                    "(1, 'f.csv', '', 'done', 0, 0, 0, 0, 0, 0, 0, '[]', '', CURRENT_TIMESTAMP)"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT updated_at FROM contact_import")).scalar()
        db.engine.dispose()

"""The schema `make run` builds comes from migrations, and they match the models exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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

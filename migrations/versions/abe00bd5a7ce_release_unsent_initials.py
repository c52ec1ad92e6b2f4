"""release unsent initials

Revision ID: abe00bd5a7ce
Revises: 38d67f0e41b4
Create Date: 2026-12-02 05:47:24.011678

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'abe00bd5a7ce'
down_revision = '38d67f0e41b4'
branch_labels = None
depends_on = None

# Held contacts never texted and never heard from (as in the model; no opted_out term, so
# SQLite can match it to the query's `opted_out = 0`).
HELD_UNSENT = sa.text(
    "assignment_id IS NOT NULL AND message_status = 'needs_message'"
    " AND last_inbound_at IS NULL AND last_outbound_at IS NULL"
)


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        # Server defaults fill existing campaigns: off, 60 minutes. Plain strings, not
        # sa.false(): an expression default makes SQLite's batch mode rebuild the table
        # (and the rebuild's DROP TABLE trips the foreign keys). Both databases read '0' as false.
        batch_op.add_column(
            sa.Column('release_unsent_enabled', sa.Boolean(), nullable=False, server_default='0')
        )
        batch_op.add_column(
            sa.Column('release_unsent_minutes', sa.Integer(), nullable=False, server_default='60')
        )

    with op.batch_alter_table('campaign_contact', schema=None) as batch_op:
        batch_op.create_index(
            'ix_contact_held_unsent',
            ['campaign_id', 'assigned_at'],
            unique=False,
            postgresql_where=HELD_UNSENT,
            sqlite_where=HELD_UNSENT,
        )


def downgrade():
    with op.batch_alter_table('campaign_contact', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_contact_held_unsent', postgresql_where=HELD_UNSENT, sqlite_where=HELD_UNSENT
        )

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('release_unsent_minutes')
        batch_op.drop_column('release_unsent_enabled')

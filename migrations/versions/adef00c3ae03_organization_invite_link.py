"""organization invite link

Revision ID: adef00c3ae03
Revises: 9176f38e1f6f
Create Date: 2026-12-02 06:27:43.286080

"""

import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'adef00c3ae03'
down_revision = '9176f38e1f6f'
branch_labels = None
depends_on = None

INDEX = 'ix_organization_invite_token'


def upgrade():
    # A plain ADD COLUMN: on SQLite a batch "move and copy" of organization would have to
    # drop a table every campaign and membership points at. The '' default only fills the
    # existing rows; each then gets its own random token, and the unique index follows.
    op.add_column(
        'organization',
        sa.Column('invite_token', sa.String(length=64), nullable=False, server_default=''),
    )
    conn = op.get_bind()
    orgs = sa.table('organization', sa.column('id', sa.Integer), sa.column('invite_token'))
    for (org_id,) in conn.execute(sa.select(orgs.c.id)).all():
        conn.execute(
            orgs.update().where(orgs.c.id == org_id).values(invite_token=secrets.token_urlsafe(32))
        )
    if conn.dialect.name != 'sqlite':  # SQLite cannot drop a column default in place
        op.alter_column('organization', 'invite_token', server_default=None)
    op.create_index(INDEX, 'organization', ['invite_token'], unique=True)


def downgrade():
    op.drop_index(INDEX, table_name='organization')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('invite_token')

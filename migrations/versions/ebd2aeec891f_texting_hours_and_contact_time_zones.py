"""texting hours and contact time zones

Revision ID: ebd2aeec891f
Revises: abe00bd5a7ce
Create Date: 2026-12-02 05:51:50.023852

"""
from collections import defaultdict

import phonenumbers
import sqlalchemy as sa
from alembic import op

from spoke.contacts.timezones import from_cell, from_zip


# revision identifiers, used by Alembic.
revision = 'ebd2aeec891f'
down_revision = 'abe00bd5a7ce'
branch_labels = None
depends_on = None

BATCH = 5000
POOL_INITIALS = "assignment_id IS NULL AND message_status = 'needs_message' AND NOT opted_out"
POOL_REPLIES = "assignment_id IS NULL AND message_status = 'needs_response'"

campaign = sa.table(
    'campaign',
    sa.column('id', sa.Integer),
    sa.column('default_timezone', sa.String),
    sa.column('contact_timezones', sa.JSON),
)
contact = sa.table(
    'campaign_contact',
    sa.column('id', sa.Integer),
    sa.column('campaign_id', sa.Integer),
    sa.column('zip', sa.String),
    sa.column('cell', sa.String),
    sa.column('timezone', sa.String),
    sa.column('timezone_source', sa.String),
)


def upgrade():
    # Existing campaigns enforce 9:00 am-9:00 pm in America/New_York, like new ones.
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('texting_hours_enforced', sa.Boolean(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('texting_hours_start', sa.Time(), nullable=False, server_default='09:00:00'))
        batch_op.add_column(sa.Column('texting_hours_stop', sa.Time(), nullable=False, server_default='21:00:00'))
        batch_op.add_column(sa.Column('default_timezone', sa.String(length=64), nullable=False, server_default='America/New_York'))
        batch_op.add_column(sa.Column('contact_timezones', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('contact_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone_sources', sa.JSON(), nullable=False, server_default='{}'))

    # NOT NULL with a constant default, so SQLite adds the columns in place (rebuilding the
    # table would trip the foreign keys that point at it); the data step then sets each row.
    with op.batch_alter_table('campaign_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=False, server_default='America/New_York'))
        batch_op.add_column(sa.Column('timezone_source', sa.String(length=10), nullable=False, server_default='default'))

    conn = op.get_bind()
    _fill_contact_zones(conn)
    if conn.dialect.name != 'sqlite':
        # New contacts always get their zone from the import; no silent default.
        op.alter_column('campaign_contact', 'timezone', server_default=None)
        op.alter_column('campaign_contact', 'timezone_source', server_default=None)

    with op.batch_alter_table('campaign_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_pool_needs_message', postgresql_where=sa.text(POOL_INITIALS), sqlite_where=sa.text(POOL_INITIALS))
        batch_op.create_index('ix_contact_pool_needs_message', ['campaign_id', 'id', 'timezone'], unique=False, postgresql_where=sa.text(POOL_INITIALS), sqlite_where=sa.text(POOL_INITIALS))
        batch_op.drop_index('ix_contact_pool_needs_response', postgresql_where=sa.text(POOL_REPLIES), sqlite_where=sa.text(POOL_REPLIES))
        batch_op.create_index('ix_contact_pool_needs_response', ['campaign_id', 'last_inbound_at', 'timezone'], unique=False, postgresql_where=sa.text(POOL_REPLIES), sqlite_where=sa.text(POOL_REPLIES))


def _fill_contact_zones(conn):
    """Give every existing contact a zone (zip, then cell, then the campaign's default).

    In batches of BATCH contacts by id, one UPDATE per (zone, source) in a batch; then each
    campaign learns the zones its contacts use.
    """
    defaults = dict(conn.execute(sa.select(campaign.c.id, campaign.c.default_timezone)).all())
    used = defaultdict(set)
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(contact.c.id, contact.c.campaign_id, contact.c.zip, contact.c.cell)
            .where(contact.c.id > last_id)
            .order_by(contact.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        groups = defaultdict(list)
        for contact_id, campaign_id, zip_code, cell in rows:
            source, zone = _zone_of(zip_code or '', cell or '')
            if zone is None:
                source, zone = 'default', defaults[campaign_id]
            groups[(zone, source)].append(contact_id)
            used[campaign_id].add(zone)
        for (zone, source), ids in groups.items():
            conn.execute(
                contact.update()
                .where(contact.c.id.in_(ids))
                .values(timezone=zone, timezone_source=source)
            )
        last_id = rows[-1][0]
    for campaign_id, zones in used.items():
        conn.execute(
            campaign.update()
            .where(campaign.c.id == campaign_id)
            .values(contact_timezones=sorted(zones))
        )


def _zone_of(zip_code, cell):
    """(source, zone) from the zip or the cell, or (None, None)."""
    zone = from_zip(zip_code) if zip_code else None
    if zone:
        return 'zip', zone
    try:
        zone = from_cell(phonenumbers.parse(cell, None))
    except phonenumbers.NumberParseException:
        zone = None
    return ('cell', zone) if zone else (None, None)


def downgrade():
    with op.batch_alter_table('campaign_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_pool_needs_response', postgresql_where=sa.text(POOL_REPLIES), sqlite_where=sa.text(POOL_REPLIES))
        batch_op.create_index('ix_contact_pool_needs_response', ['campaign_id', 'last_inbound_at'], unique=False, postgresql_where=sa.text(POOL_REPLIES), sqlite_where=sa.text(POOL_REPLIES))
        batch_op.drop_index('ix_contact_pool_needs_message', postgresql_where=sa.text(POOL_INITIALS), sqlite_where=sa.text(POOL_INITIALS))
        batch_op.create_index('ix_contact_pool_needs_message', ['campaign_id', 'id'], unique=False, postgresql_where=sa.text(POOL_INITIALS), sqlite_where=sa.text(POOL_INITIALS))
        batch_op.drop_column('timezone_source')
        batch_op.drop_column('timezone')

    with op.batch_alter_table('contact_import', schema=None) as batch_op:
        batch_op.drop_column('timezone_sources')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('contact_timezones')
        batch_op.drop_column('default_timezone')
        batch_op.drop_column('texting_hours_stop')
        batch_op.drop_column('texting_hours_start')
        batch_op.drop_column('texting_hours_enforced')

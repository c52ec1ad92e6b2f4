"""canned responses and survey questions

Canned responses, survey questions with their answer options (an option may suggest a
canned response), and each contact's answer per question (who recorded it and when).

Revision ID: 75f21a5d7153
Revises: ebd2aeec891f
Create Date: 2026-12-02 06:28:33.549344

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '75f21a5d7153'
down_revision = 'ebd2aeec891f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('canned_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('canned_response', schema=None) as batch_op:
        batch_op.create_index('ix_canned_response_campaign', ['campaign_id', 'position'], unique=False)

    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index('ix_question_campaign', ['campaign_id', 'position'], unique=False)

    op.create_table('question_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('canned_response_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['canned_response_id'], ['canned_response.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('question_answer', schema=None) as batch_op:
        batch_op.create_index('ix_question_answer_question', ['question_id', 'position'], unique=False)

    op.create_table('contact_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['question_answer.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['campaign_contact.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contact_id', 'question_id')
    )
    with op.batch_alter_table('contact_answer', schema=None) as batch_op:
        batch_op.create_index('ix_contact_answer_answer', ['answer_id', 'contact_id'], unique=False)



def downgrade():
    with op.batch_alter_table('contact_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_answer_answer')

    op.drop_table('contact_answer')
    with op.batch_alter_table('question_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_question_answer_question')

    op.drop_table('question_answer')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index('ix_question_campaign')

    op.drop_table('question')
    with op.batch_alter_table('canned_response', schema=None) as batch_op:
        batch_op.drop_index('ix_canned_response_campaign')

    op.drop_table('canned_response')

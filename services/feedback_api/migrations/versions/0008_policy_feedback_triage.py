"""policy feedback triage

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:40:00

Issue 20 item 5: policy staff triage residents' policy feedback (received, considered, answered,
closed). ``submissions.triage_state`` holds the state (NULL for violation reports; existing policy
feedback starts as ``received``); ``feedback_triage_events`` is the append-only history of who moved
it, when, and why. Replies to the resident are ordinary ``messages`` rows (sender ``city``).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('triage_state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.create_index('ix_submissions_kind_triage_state', ['kind', 'triage_state'], unique=False)
    op.execute("UPDATE submissions SET triage_state = 'received' WHERE kind = 'policy_feedback'")
    op.create_table('feedback_triage_events',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('submission_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('feedback_triage_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_triage_events_submission_id'), ['submission_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback_triage_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_triage_events_submission_id'))
    op.drop_table('feedback_triage_events')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_kind_triage_state')
        batch_op.drop_column('triage_state')

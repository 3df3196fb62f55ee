"""policy feedback in the review record

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 11:40:00

Issue 20 item 5: policy staff link a resident's policy feedback (feedback_api's public reference,
checked there before the write) to the version or the review it informed, with what changed; a review
records the feedback on the policy received by then, by triage state (``feedback_at_review``).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy_feedback_links',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('policy_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('feedback_reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('target_type', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('target_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('what_changed', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('feedback_received_on', sa.Date(), nullable=False),
    sa.Column('linked_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('linked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('feedback_reference', 'target_type', 'target_id', name='uq_policy_feedback_links_target')
    )
    with op.batch_alter_table('policy_feedback_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_feedback_links_feedback_reference'), ['feedback_reference'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_policy_feedback_links_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_policy_feedback_links_target_id'), ['target_id'], unique=False)
    with op.batch_alter_table('policy_reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_at_review', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('policy_reviews', schema=None) as batch_op:
        batch_op.drop_column('feedback_at_review')
    with op.batch_alter_table('policy_feedback_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_feedback_links_target_id'))
        batch_op.drop_index(batch_op.f('ix_policy_feedback_links_policy_id'))
        batch_op.drop_index(batch_op.f('ix_policy_feedback_links_feedback_reference'))
    op.drop_table('policy_feedback_links')

"""monitoring periods, posts and risk scores (issue 18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:40:00

Posts keep the URL as imported next to the normalised one, an optional screenshot link, and the
risk score with the rules it matched; an index on (account_id, posted_at) serves a review's
sample of its own period; reviews record how many of their sample were drawn by score
(``sample_top``). Review status ``missed`` needs no schema change (a string column).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('monitored_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.add_column(sa.Column('screenshot_url', sqlmodel.sql.sqltypes.AutoString(length=2000),
                                      nullable=True))
        batch_op.add_column(sa.Column('risk_score', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('risk_rules', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.create_index('ix_monitored_posts_account_posted', ['account_id', 'posted_at'], unique=False)
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sample_top', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('sample_top')
    with op.batch_alter_table('monitored_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_monitored_posts_account_posted')
        batch_op.drop_column('risk_rules')
        batch_op.drop_column('risk_score')
        batch_op.drop_column('screenshot_url')
        batch_op.drop_column('original_url')

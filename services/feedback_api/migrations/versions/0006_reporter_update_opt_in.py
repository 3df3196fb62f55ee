"""reporter update opt-in

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:40:00

Issue 17: a reporter who gave an email and ticked "tell me when there is an update" has a row
here (the day only); it is deleted with their contact.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('update_opt_ins',
    sa.Column('submission_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('submission_id')
    )


def downgrade() -> None:
    op.drop_table('update_opt_ins')

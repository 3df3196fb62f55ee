"""evidence after filing, and batched forwarding

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:40:00

Issue 14 item 5: ``submissions.reconsideration_requested_on`` (a closed report asks once for
reconsideration). Evidence added after filing uses the existing ``evidence`` table, and batched
forwarding (item 6) the existing outbox columns: no schema change for them.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("reconsideration_requested_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("reconsideration_requested_on")

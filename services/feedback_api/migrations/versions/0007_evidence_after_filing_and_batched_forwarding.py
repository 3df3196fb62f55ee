"""evidence after filing, and batched forwarding

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:40:00

Placeholder reserved by the lead so that the parallel work of this session keeps one linear
chain; filled in by the work it is named for.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

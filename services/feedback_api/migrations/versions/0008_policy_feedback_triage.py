"""policy feedback triage

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:40:00

Placeholder reserved by the lead so that the parallel work of this session keeps one linear
chain; filled in by the work it is named for.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

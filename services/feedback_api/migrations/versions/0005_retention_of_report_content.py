"""retention of report content: an index for the purge

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:40:00

Written by hand (issue 15 item 5): feedback_api's purge (domain/retention.py) finds closed
violation reports by the day they closed; the content it deletes needs no new column (the
description is set null, the contact, messages, evidence and delivered outbox rows deleted).
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_submissions_retention', 'submissions', ['kind', 'status', 'updated_on'])


def downgrade() -> None:
    op.drop_index('ix_submissions_retention', table_name='submissions')

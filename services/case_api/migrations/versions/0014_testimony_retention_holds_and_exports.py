"""every report's testimony, case links, retention, legal holds and exports

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 11:40:00

Written by hand (issue 15 items 1, 5, 6): only this work's own operations.
- ``case_reports`` gains each report's own testimony (description, categories, links, date seen,
  evidence references) and ``merged_from``. Existing rows stay null: before this revision only the
  first report's text was kept (as the case's summary), and the other reports' texts were never
  stored, so there is nothing to fill them from.
- ``case_links``: related and merged cases.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_reports') as batch:
        batch.add_column(sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=True))
        batch.add_column(sa.Column('categories', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('links', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('seen_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('evidence', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('merged_from', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
    op.create_table(
        'case_links',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('other_case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('linked_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['other_case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'other_case_id', name='uq_case_links_pair'),
    )
    op.create_index('ix_case_links_case_id', 'case_links', ['case_id'])
    op.create_index('ix_case_links_other_case_id', 'case_links', ['other_case_id'])


def downgrade() -> None:
    op.drop_index('ix_case_links_other_case_id', table_name='case_links')
    op.drop_index('ix_case_links_case_id', table_name='case_links')
    op.drop_table('case_links')
    with op.batch_alter_table('case_reports') as batch:
        for name in ('merged_from', 'evidence', 'seen_on', 'links', 'categories', 'description'):
            batch.drop_column(name)

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
- ``records_exports`` (the public-records request log, kept four years) and
  ``records_export_files`` (their ZIPs).
- ``legal_holds``: holds on a case or on an employee (domain/retention.py).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

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
    op.create_table(
        'records_exports',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('request_reference', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('withheld', sa.Integer(), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('result_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('result_bytes', sa.Integer(), nullable=True),
        sa.Column('manifest_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('keep_until', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_records_exports_status', 'records_exports', ['status'])
    op.create_index('ix_records_exports_requested_at_id', 'records_exports', ['requested_at', 'id'])
    op.create_table(
        'records_export_files',
        sa.Column('export_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['export_id'], ['records_exports.id']),
        sa.PrimaryKeyConstraint('export_id'),
    )
    op.create_table(
        'legal_holds',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column('employee_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('placed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('placed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('released_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('released_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('release_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_legal_holds_case_id', 'legal_holds', ['case_id'])
    op.create_index('ix_legal_holds_employee_key', 'legal_holds', ['employee_key'])


def downgrade() -> None:
    op.drop_index('ix_legal_holds_employee_key', table_name='legal_holds')
    op.drop_index('ix_legal_holds_case_id', table_name='legal_holds')
    op.drop_table('legal_holds')
    op.drop_table('records_export_files')
    op.drop_index('ix_records_exports_requested_at_id', table_name='records_exports')
    op.drop_index('ix_records_exports_status', table_name='records_exports')
    op.drop_table('records_exports')
    op.drop_index('ix_case_links_other_case_id', table_name='case_links')
    op.drop_index('ix_case_links_case_id', table_name='case_links')
    op.drop_table('case_links')
    with op.batch_alter_table('case_reports') as batch:
        for name in ('merged_from', 'evidence', 'seen_on', 'links', 'categories', 'description'):
            batch.drop_column(name)

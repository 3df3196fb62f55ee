"""whole case file sealed, re-seal proposals, signed checkpoints, TRUNCATE refused

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 11:40:00

- ``reseal_proposals``: an auditor's or admin's proposal to re-seal a case whose rows differ from
  their seals, confirmed by the other role (``domain/resealing.py``).
- ``chain_checkpoints``: the signed checkpoints of the chain head case_api published
  (``domain/checkpoints.py``); the witness (policy_api) holds the copy that counts.
- PostgreSQL: the append-only rule of ``audit_entries`` also refuses ``TRUNCATE`` (a
  statement-level trigger; a row trigger never sees a TRUNCATE), and ``audit_head`` refuses
  ``DELETE`` and ``TRUNCATE`` (it is updated by every append, never removed). ``TRUNCATE`` and
  ``TRIGGER`` on both are revoked from PUBLIC; the application role is granted neither
  (deploy/postgres-init.sh), and only the owner can alter or disable a trigger.
Seals of the other case-file tables need no schema change: they live in the entries' detail.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reseal_proposals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposer_role", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=5000), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("confirmed_by", sa.String(length=100), nullable=True),
        sa.Column("confirm_reason", sa.String(length=5000), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reseal_proposals_case_id", "reseal_proposals", ["case_id"])
    op.create_table(
        "chain_checkpoints",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
        FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()
    """)
    op.execute("""
        CREATE TRIGGER audit_head_keep BEFORE DELETE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
    """)
    op.execute("""
        CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
        FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()
    """)
    op.execute("REVOKE TRUNCATE, TRIGGER ON audit_entries, audit_head, chain_checkpoints FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_head_keep ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
    op.drop_table("chain_checkpoints")
    op.drop_index("ix_reseal_proposals_case_id", table_name="reseal_proposals")
    op.drop_table("reseal_proposals")

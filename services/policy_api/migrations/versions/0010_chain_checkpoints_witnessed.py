"""case_api chain checkpoints witnessed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 11:40:00

``witnessed_checkpoints``: case_api's signed checkpoints of its audit chain head, verified
against the configured public key and kept (issue 15). On PostgreSQL the rows are append-only:
a trigger refuses UPDATE, DELETE and TRUNCATE, so the witness cannot be quietly rewound either.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "witnessed_checkpoints",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("conflicts", sa.Boolean(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_witnessed_checkpoints_seq", "witnessed_checkpoints", ["seq"])
    op.create_index("ix_witnessed_checkpoints_received_at_id", "witnessed_checkpoints", ["received_at", "id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION witnessed_checkpoints_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'witnessed_checkpoints is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER witnessed_checkpoints_append_only BEFORE UPDATE OR DELETE ON witnessed_checkpoints
        FOR EACH ROW EXECUTE FUNCTION witnessed_checkpoints_append_only()
    """)
    op.execute("""
        CREATE TRIGGER witnessed_checkpoints_no_truncate BEFORE TRUNCATE ON witnessed_checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION witnessed_checkpoints_append_only()
    """)
    op.execute("REVOKE TRUNCATE, TRIGGER ON witnessed_checkpoints FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS witnessed_checkpoints_no_truncate ON witnessed_checkpoints")
        op.execute("DROP TRIGGER IF EXISTS witnessed_checkpoints_append_only ON witnessed_checkpoints")
        op.execute("DROP FUNCTION IF EXISTS witnessed_checkpoints_append_only()")
    op.drop_index("ix_witnessed_checkpoints_received_at_id", table_name="witnessed_checkpoints")
    op.drop_index("ix_witnessed_checkpoints_seq", table_name="witnessed_checkpoints")
    op.drop_table("witnessed_checkpoints")

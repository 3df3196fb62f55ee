"""Spanish policy text

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:40:00

A translation of each section of a policy version (issue 20 item 3), labelled as a translation on the
Transparency page; the English section stays the authoritative text.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_section_translations",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("section_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("heading", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body_markdown", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body_html", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("translated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["section_id"], ["policy_sections.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["policy_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("section_id", "lang", name="uq_policy_section_translations_lang"),
    )
    op.create_index("ix_policy_section_translations_section_id", "policy_section_translations", ["section_id"])
    op.create_index("ix_policy_section_translations_version_id", "policy_section_translations", ["version_id"])


def downgrade() -> None:
    op.drop_index("ix_policy_section_translations_version_id", table_name="policy_section_translations")
    op.drop_index("ix_policy_section_translations_section_id", table_name="policy_section_translations")
    op.drop_table("policy_section_translations")

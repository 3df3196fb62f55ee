"""case search, and reporter safety

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 11:40:00

Reporter safety (item 5): ``case_reports.reconsideration_on`` / ``reconsideration_reason``.

Free-text search over cases (issue 14 item 7, ``domain/search.py``), per dialect:
* PostgreSQL: ``cases.search_vector``, a STORED generated ``tsvector`` (configuration ``simple``:
  no stemming, so English and Spanish text match alike) of the reference, summary, account text
  and public outcome, with a GIN index.
* SQLite: an FTS5 table ``cases_fts(case_id UNINDEXED, body)`` (``unicode61``, diacritics
  removed) kept by three triggers on ``cases``. NB: a later SQLite ``batch_alter_table`` on
  ``cases`` recreates the table and drops these triggers; such a migration must recreate them
  (``create_sqlite_fts``).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

SEARCHED = "coalesce({p}reference, '') || ' ' || coalesce({p}summary, '') || ' ' || " \
           "coalesce({p}account_text, '') || ' ' || coalesce({p}outcome_summary, '')"


def create_sqlite_fts() -> None:
    op.execute("CREATE VIRTUAL TABLE IF NOT EXISTS cases_fts USING fts5("
               "case_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')")
    op.execute("CREATE TRIGGER IF NOT EXISTS cases_fts_ai AFTER INSERT ON cases BEGIN "
               f"INSERT INTO cases_fts(case_id, body) VALUES (new.id, {SEARCHED.format(p='new.')}); END")
    op.execute("CREATE TRIGGER IF NOT EXISTS cases_fts_ad AFTER DELETE ON cases BEGIN "
               "DELETE FROM cases_fts WHERE case_id = old.id; END")
    op.execute("CREATE TRIGGER IF NOT EXISTS cases_fts_au AFTER UPDATE OF reference, summary, account_text, "
               "outcome_summary ON cases BEGIN DELETE FROM cases_fts WHERE case_id = old.id; "
               f"INSERT INTO cases_fts(case_id, body) VALUES (new.id, {SEARCHED.format(p='new.')}); END")


def upgrade() -> None:
    # reporter safety (issue 14 item 5): a closed report asks once for reconsideration
    op.add_column("case_reports", sa.Column("reconsideration_on", sa.Date(), nullable=True))
    op.add_column("case_reports", sa.Column("reconsideration_reason", sa.String(length=2000), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cases ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
                   f"(to_tsvector('simple'::regconfig, {SEARCHED.format(p='')})) STORED")
        op.execute("CREATE INDEX ix_cases_search_vector ON cases USING gin (search_vector)")
    else:
        create_sqlite_fts()
        op.execute(f"INSERT INTO cases_fts(case_id, body) SELECT id, {SEARCHED.format(p='')} FROM cases")


def downgrade() -> None:
    with op.batch_alter_table("case_reports") as batch:
        batch.drop_column("reconsideration_reason")
        batch.drop_column("reconsideration_on")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_search_vector")
        op.execute("ALTER TABLE cases DROP COLUMN IF EXISTS search_vector")
    else:
        for trigger in ("cases_fts_ai", "cases_fts_ad", "cases_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS cases_fts")

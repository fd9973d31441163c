"""Two counts that grew with all history, each now read from a small partial index:

- the outbox: every mail round (and every /metrics scrape) read every notice never mailed,
  the ones given up after five tries included (50,000 of them after a long mail outage: 6-8 ms
  each round, for ever). ``ix_notifications_outbox`` holds only the notices still to be mailed,
  and replaces the index of every notice by ``mailed_at``, which served nothing else (and which
  SQLite's planner kept choosing).
- /metrics' open cases by kind, procedure and stage looked up each open case's row (120 ms a
  scrape at 20,000 open cases on SQLite). ``ix_cases_open_by_stage`` answers from the index.

Revision ID: 0044_outbox_stage_indexes
Revises: 0043_leased_timers_index
"""
import sqlalchemy as sa
from alembic import op

revision = '0044_outbox_stage_indexes'
down_revision = '0043_leased_timers_index'
branch_labels = None
depends_on = None

OUTBOX = sa.text("mailed_at IS NULL AND mail_attempts < 5")  # models.MAIL_ATTEMPTS when this was written
OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.drop_index("ix_notifications_mailed_at", table_name="notifications")
    op.create_index("ix_notifications_outbox", "notifications", ["id", "mail_retry_at"],
                    postgresql_where=OUTBOX, sqlite_where=OUTBOX)
    op.create_index("ix_cases_open_by_stage", "cases", ["status", "kind", "procedure", "stage_code"],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_cases_open_by_stage", table_name="cases")
    op.drop_index("ix_notifications_outbox", table_name="notifications")
    op.create_index("ix_notifications_mailed_at", "notifications", ["mailed_at"])

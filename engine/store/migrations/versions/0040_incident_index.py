"""The failed timers (incidents) in their own index, in the order Drift lists them, so that the
page and /metrics' count of open incidents read the few that failed instead of every waiting
timer of the county (20,000 at 100,000 cases). A partial index: a timer enters it only when it
fails for the fifth time, so the sweepers' writes of the others are not slowed.

Revision ID: 0040_incident_index
Revises: 0039_mail_retry_at
"""
import sqlalchemy as sa
from alembic import op

revision = '0040_incident_index'
down_revision = '0039_mail_retry_at'
branch_labels = None
depends_on = None

FAILED = sa.text("attempts >= 5")  # models.TIMER_ATTEMPTS when this was written


def upgrade() -> None:
    op.create_index("ix_pending_timers_incidents", "pending_timers", ["due_at", "id"],
                    postgresql_where=FAILED, sqlite_where=FAILED)


def downgrade() -> None:
    op.drop_index("ix_pending_timers_incidents", table_name="pending_timers")

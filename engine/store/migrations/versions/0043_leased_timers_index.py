"""The timers a sweeper has leased, by when the lease ends: a sweeper asks when the next timer
may be fired (on SQLite every half second), and the leased ones were found among every timer
waiting (50,000 at a county: 5-10 ms a time). A partial index of the few leased.

Revision ID: 0043_leased_timers_index
Revises: 0042_session_seen_index
"""
import sqlalchemy as sa
from alembic import op

revision = '0043_leased_timers_index'
down_revision = '0042_session_seen_index'
branch_labels = None
depends_on = None

LEASED = sa.text("claimed_until IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_pending_timers_leased", "pending_timers", ["claimed_until"],
                    postgresql_where=LEASED, sqlite_where=LEASED)


def downgrade() -> None:
    op.drop_index("ix_pending_timers_leased", table_name="pending_timers")

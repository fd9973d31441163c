"""the weekly overview's figures of the school year: a partial index of the deadlines counted
(met or missed) and one of the plans made, so that their queries read the index, not the history

Revision ID: 0016_figure_indexes
Revises: 0015_person_indexes
"""
import sqlalchemy as sa
from alembic import op

from engine.store.counted_events import deadline_counted, plan_made

revision = '0016_figure_indexes'
down_revision = '0015_person_indexes'
branch_labels = None
depends_on = None

# The conditions are the queries' own (``counted_events``): PostgreSQL reads a partial index only
# for a query whose condition contains the index's. CREATE INDEX blocks writes to the history
# while it runs (3 s at 100,000 cases here), never reads.
events = sa.table("history_events", sa.column("kind", sa.String), sa.column("data", sa.JSON))


def upgrade() -> None:
    op.create_index("ix_history_events_deadlines", "history_events", ["case_id", "at", "kind"],
                    postgresql_where=deadline_counted(events.c), sqlite_where=deadline_counted(events.c))
    op.create_index("ix_history_events_plans", "history_events", ["case_id", "at"],
                    postgresql_where=plan_made(events.c), sqlite_where=plan_made(events.c))


def downgrade() -> None:
    op.drop_index("ix_history_events_plans", table_name="history_events")
    op.drop_index("ix_history_events_deadlines", table_name="history_events")

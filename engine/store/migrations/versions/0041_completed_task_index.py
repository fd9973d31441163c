"""The steps done, indexed by the task they did, so that a task no longer open (a stale link in a
mail, a double click, a task another leader did a moment before, an API call on a finished task)
is found without reading every step ever done: 0.5 s at 400,000 steps, twice on the web's
refusal, and on SQLite inside the write lock. A partial index of an expression on the event's
data, of the completed steps only, as ``engine/store/counted_events.py`` says it (the query's own
expression: PostgreSQL reads an expression index only for the same expression). CREATE INDEX
blocks writes to the history while it runs, never reads.

Revision ID: 0041_completed_task_index
Revises: 0040_incident_index
"""
import sqlalchemy as sa
from alembic import op

from engine.store.counted_events import completed_task_id, task_completed

revision = '0041_completed_task_index'
down_revision = '0040_incident_index'
branch_labels = None
depends_on = None

events = sa.table("history_events", sa.column("kind", sa.String), sa.column("data", sa.JSON))


def upgrade() -> None:
    op.create_index("ix_history_events_completed_task", "history_events", [completed_task_id(events.c)],
                    postgresql_where=task_completed(events.c), sqlite_where=task_completed(events.c))


def downgrade() -> None:
    op.drop_index("ix_history_events_completed_task", table_name="history_events")

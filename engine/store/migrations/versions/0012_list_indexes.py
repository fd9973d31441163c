"""indexes for paged lists (keyset paging in the sort order of each list)

Revision ID: 0012_list_indexes
Revises: 0011_logins_and_sessions
"""
from alembic import op


revision = '0012_list_indexes'
down_revision = '0011_logins_and_sessions'
branch_labels = None
depends_on = None

INDEXES = [
    # Saker, the auditor's list and the API: newest first, by kind and status.
    ("ix_cases_list", "cases", ["kind", "status", "created_at", "id"]),
    ("ix_cases_kind_created", "cases", ["kind", "created_at", "id"]),
    # Mine oppgaver: soonest deadline first.
    ("ix_open_tasks_order", "open_tasks", ["due_at", "opened_at", "id"]),
    # Varsler: a person's notices, newest first.
    ("ix_notifications_user_list", "notifications", ["user_id", "id"]),
    # The access policy's "did a task in this case" for each listed case.
    ("ix_history_events_actor_kind", "history_events", ["actor_id", "kind", "case_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)

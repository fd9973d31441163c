"""The log-in sessions by when they were last seen: each log-in removes the sessions last seen a
month ago, and the administrators' list shows the live ones, newest seen first. Without the index
the database read every session row kept (a county's month of log-ins) at each log-in.

Revision ID: 0042_session_seen_index
Revises: 0041_completed_task_index
"""
from alembic import op

revision = '0042_session_seen_index'
down_revision = '0041_completed_task_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_web_sessions_last_seen_at", "web_sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_last_seen_at", table_name="web_sessions")

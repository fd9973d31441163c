"""whether a case has missed a deadline, and when the leaders last reviewed it, kept on the case
row by the database as the history records them: the weekly overview counts and orders a county's
open cases by both, and asked the history of each case for them (two index probes a case: 16 ms
for a school owner's 5,000 open cases at 100,000, and every stage page sorted its cases by one)

Revision ID: 0023_case_marks
Revises: 0022_task_procedure_index
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_case_marks'
down_revision = '0022_task_procedure_index'
branch_labels = None
depends_on = None

# Set by a trigger in the same insert as the event, as case_work is (0019): the release before this
# one (serving until its workers restart) records missed deadlines and reviews too. A deadline once
# missed stays missed (the history is never rewritten); the latest review wins, whatever the order
# two were inserted in. The row is written only when it changes (each write is a row version).
MISSED = "NEW.kind = 'deadline_missed' AND NEW.case_id IS NOT NULL"
REVIEWED = "NEW.kind = 'reviewed' AND NEW.case_id IS NOT NULL"

MARKS_PG = f"""
CREATE FUNCTION kap12_case_missed() RETURNS trigger AS $$
BEGIN
    UPDATE cases SET deadline_missed = true WHERE id = NEW.case_id AND NOT deadline_missed;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_events_case_missed AFTER INSERT ON history_events
    FOR EACH ROW WHEN ({MISSED}) EXECUTE FUNCTION kap12_case_missed();
CREATE FUNCTION kap12_case_reviewed() RETURNS trigger AS $$
BEGIN
    UPDATE cases SET last_reviewed_at = NEW.at
        WHERE id = NEW.case_id AND (last_reviewed_at IS NULL OR last_reviewed_at < NEW.at);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_events_case_reviewed AFTER INSERT ON history_events
    FOR EACH ROW WHEN ({REVIEWED}) EXECUTE FUNCTION kap12_case_reviewed();
"""

# SQLite's times are text in one fixed format (UTCDateTime), so the later is the greater.
MARKS_SQLITE = [
    f"""CREATE TRIGGER history_events_case_missed AFTER INSERT ON history_events WHEN {MISSED}
BEGIN
    UPDATE cases SET deadline_missed = 1 WHERE id = NEW.case_id AND NOT deadline_missed;
END""",
    f"""CREATE TRIGGER history_events_case_reviewed AFTER INSERT ON history_events WHEN {REVIEWED}
BEGIN
    UPDATE cases SET last_reviewed_at = NEW.at
        WHERE id = NEW.case_id AND (last_reviewed_at IS NULL OR last_reviewed_at < NEW.at);
END""",
]

# Only the cases with such an event are written (the columns' defaults are the rest's, made
# without rewriting the table): the upgrade holds the cases until it commits, and a county's
# every case rewritten would hold them seconds longer.
BACKFILL = [
    """UPDATE cases SET deadline_missed = true
       WHERE id IN (SELECT case_id FROM history_events WHERE kind = 'deadline_missed')""",
    """UPDATE cases SET last_reviewed_at = (SELECT max(history_events.at) FROM history_events
                                           WHERE history_events.case_id = cases.id
                                             AND history_events.kind = 'reviewed')
       WHERE id IN (SELECT case_id FROM history_events WHERE kind = 'reviewed')""",
]


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite 3.35+), as 0017: a batch copy of cases would trip the rows
    # that point at it, and lose its triggers.
    op.add_column("cases", sa.Column("deadline_missed", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("cases", sa.Column("last_reviewed_at", sa.DateTime(timezone=True), nullable=True))
    # The triggers first, in the same transaction as the copy (on PostgreSQL creating them locks
    # the history against writes until the commit, so no event falls between the two).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(MARKS_PG)
    else:
        for statement in MARKS_SQLITE:
            op.execute(statement)
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("missed", "reviewed"):
        op.execute(f"DROP TRIGGER IF EXISTS history_events_case_{name}" + (" ON history_events" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS kap12_case_{name}()")
    op.drop_column("cases", "last_reviewed_at")
    op.drop_column("cases", "deadline_missed")

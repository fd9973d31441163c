"""who completed a task in which case, kept beside the history by the database (one row per person
and case, with the case's school and county and whether it was notified to the school owner), so
that the access policy's "work done" branch reads a person's rows instead of every case they ever
worked in

Revision ID: 0019_case_work
Revises: 0018_task_role_order
"""
import sqlalchemy as sa
from alembic import op

revision = '0019_case_work'
down_revision = '0018_task_role_order'
branch_labels = None
depends_on = None

# The row is made in the same insert as the event, by a trigger: the release before this one (still
# serving until its workers restart) records completions too, and none may be missed — a missed
# one would take a person's access to a case they worked in. One row per person and case, the
# same statement in both databases' triggers; "notified" once any of the work found the case so.
RECORD_WORK = """
    INSERT INTO case_work (user_id, case_id, school_id, county_id, notified)
        SELECT NEW.actor_id, cases.id, cases.school_id, cases.county_id, cases.owner_notified_at IS NOT NULL
        FROM cases WHERE cases.id = NEW.case_id
    ON CONFLICT (user_id, case_id) DO UPDATE SET notified = case_work.notified OR excluded.notified;
"""
COMPLETED = "NEW.kind = 'task_completed' AND NEW.actor_id IS NOT NULL AND NEW.case_id IS NOT NULL"

CASE_WORK_PG = f"""
CREATE FUNCTION kap12_case_work() RETURNS trigger AS $$
BEGIN{RECORD_WORK}    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_events_case_work AFTER INSERT ON history_events
    FOR EACH ROW WHEN ({COMPLETED}) EXECUTE FUNCTION kap12_case_work();
"""

CASE_WORK_SQLITE = f"""
CREATE TRIGGER history_events_case_work AFTER INSERT ON history_events WHEN {COMPLETED}
BEGIN{RECORD_WORK}END
"""

# Every completion already recorded; a case notified now was notified for good (a notice is never
# withdrawn), so it counts as notified whenever the work was done.
BACKFILL = """
INSERT INTO case_work (user_id, case_id, school_id, county_id, notified)
SELECT DISTINCT history_events.actor_id, cases.id, cases.school_id, cases.county_id,
       cases.owner_notified_at IS NOT NULL
FROM history_events JOIN cases ON cases.id = history_events.case_id
WHERE history_events.kind = 'task_completed' AND history_events.actor_id IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        'case_work',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('cases.id'), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('notified', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'case_id'),
    )
    op.create_index('ix_case_work_person', 'case_work', ['user_id', 'notified', 'county_id', 'school_id', 'case_id'])
    # The trigger first, in the same transaction as the copy. On PostgreSQL creating it locks the
    # history against writes until the commit, so no completion falls between the two: the
    # release before waits the seconds the copy takes (at 100,000 cases, a few), nothing fails.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CASE_WORK_PG)
    else:
        op.execute(CASE_WORK_SQLITE)
    op.execute(BACKFILL + " ON CONFLICT (user_id, case_id) DO NOTHING")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS history_events_case_work" +
               (" ON history_events" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS kap12_case_work()")
    op.drop_index('ix_case_work_person', table_name='case_work')
    op.drop_table('case_work')

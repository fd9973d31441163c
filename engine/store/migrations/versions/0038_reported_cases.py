"""each case a person reported, in the case list's order (newest first) of each status and of all, kept
by the database, so that a reporter's Saker and the API's case list read a page of their reports
from an index instead of every case they ever reported: a teacher who had reported 2,500 cases
had their ids read, written into the list's statement and looked up one by one on each look at
the list (6 ms of her Saker at 100,000 cases), and her open cases were found among all 2,500.

A row is added by the database in the same statement as what makes it, as the tallies of 0036
are: a ``case_parties`` row of relation 'reporter' (which a report writes once) adds one with
its case's status and moment of creation, and goes when the party goes. A case that closes or
opens again moves its reporters' rows to the new status; a case's moment of creation is never
changed by kap12, and a change by hand moves the rows too. So the release before this one,
serving until its workers restart, keeps the rows right.

Revision ID: 0038_reported_cases
Revises: 0037_school_cases_index
"""
import sqlalchemy as sa
from alembic import op

revision = '0038_reported_cases'
down_revision = '0037_school_cases_index'
branch_labels = None
depends_on = None


def _add(party: str) -> str:
    return (f"INSERT INTO reported_cases (user_id, status, created_at, case_id) "
            f"SELECT {party}.user_id, cases.status, cases.created_at, cases.id FROM cases "
            f"WHERE cases.id = {party}.case_id AND {party}.relation = 'reporter' AND {party}.user_id IS NOT NULL;")


def _remove(party: str) -> str:
    # By the whole key (the case's status and moment from the case, which outlives its parties).
    return (f"DELETE FROM reported_cases WHERE user_id = {party}.user_id AND case_id = {party}.case_id "
            f"AND (status, created_at) IN (SELECT status, created_at FROM cases WHERE cases.id = {party}.case_id) "
            f"AND {party}.relation = 'reporter';")


# The reporters' rows of a case that moved: found by their whole key, the reporters from the parties.
MOVE = ("UPDATE reported_cases SET status = NEW.status, created_at = NEW.created_at "
        "WHERE user_id IN (SELECT user_id FROM case_parties WHERE case_parties.case_id = NEW.id "
        "AND case_parties.relation = 'reporter') AND status = OLD.status AND created_at = OLD.created_at "
        "AND case_id = NEW.id;")

ROWS_PG = f"""
CREATE FUNCTION kap12_reported_case_party() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {_remove("OLD")} END IF;
    IF TG_OP <> 'DELETE' THEN {_add("NEW")} END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER case_parties_reported_case AFTER INSERT OR UPDATE OR DELETE ON case_parties
    FOR EACH ROW EXECUTE FUNCTION kap12_reported_case_party();
CREATE FUNCTION kap12_reported_case_moved() RETURNS trigger AS $$
BEGIN
    {MOVE}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_reported_case_moved AFTER UPDATE ON cases FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION kap12_reported_case_moved();
"""

ROWS_SQLITE = [
    f"CREATE TRIGGER case_parties_reported_case_made AFTER INSERT ON case_parties BEGIN {_add('NEW')} END",
    f"CREATE TRIGGER case_parties_reported_case_deleted AFTER DELETE ON case_parties BEGIN {_remove('OLD')} END",
    f"CREATE TRIGGER case_parties_reported_case_changed AFTER UPDATE ON case_parties "
    f"BEGIN {_remove('OLD')} {_add('NEW')} END",
    f"CREATE TRIGGER cases_reported_case_moved AFTER UPDATE ON cases "
    f"WHEN OLD.status IS NOT NEW.status OR OLD.created_at IS NOT NEW.created_at BEGIN {MOVE} END",
]

SQLITE_TRIGGERS = ("case_parties_reported_case_made", "case_parties_reported_case_deleted",
                   "case_parties_reported_case_changed", "cases_reported_case_moved")

BACKFILL = ("INSERT INTO reported_cases (user_id, status, created_at, case_id) "
            "SELECT case_parties.user_id, cases.status, cases.created_at, cases.id "
            "FROM case_parties JOIN cases ON cases.id = case_parties.case_id "
            "WHERE case_parties.relation = 'reporter' AND case_parties.user_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        'reported_cases',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('user_id', 'status', 'created_at', 'case_id'),
    )
    op.create_index('ix_reported_cases_person', 'reported_cases', ['user_id', 'created_at', 'case_id'])
    # The triggers first, in the same transaction as the copy (as 0036's): on PostgreSQL the
    # upgrade holds every table (engine/store/schema_upgrade.py), so no report comes between.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ROWS_PG)
    else:
        for statement in ROWS_SQLITE:
            op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_parties_reported_case ON case_parties")
        op.execute("DROP TRIGGER IF EXISTS cases_reported_case_moved ON cases")
        op.execute("DROP FUNCTION IF EXISTS kap12_reported_case_party()")
        op.execute("DROP FUNCTION IF EXISTS kap12_reported_case_moved()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_reported_cases_person', table_name='reported_cases')
    op.drop_table('reported_cases')

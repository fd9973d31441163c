"""the number of cases each person reported, by county, school, procedure, whether the school owner
was told (the dims the access policy's roles ask of a case), kind and status, kept by the database
as signed rows, so that Saker's tabs and school filter add a reporter's own cases from a few rows
instead of reading every case they ever reported (a teacher who had reported 2,500 read all 2,500
on each look at the list: 9 ms of the page at 100,000 cases)

Rows are added by the database in the same statement as what changes them, as the status
tallies' of 0025: a reporter named (a ``case_parties`` row of relation 'reporter', which a report
writes once), a reported case moving to other dims or status; and taken away as such a row is
deleted (while its case still exists: the parties hold a key to it). So the release before this
one, serving until its workers restart, keeps them right too.

Revision ID: 0036_reported_tallies
Revises: 0035_task_role_index_cases
"""
import sqlalchemy as sa
from alembic import op

revision = '0036_reported_tallies'
down_revision = '0035_task_role_index_cases'
branch_labels = None
depends_on = None

GROUP = ("county_id", "school_id", "kind", "procedure", "notified", "status")
COLUMNS = "user_id, " + ", ".join(GROUP)
PLAIN = [c for c in GROUP if c != "notified"]  # the case's own columns; "notified" is worked out


def _values(case: str) -> str:
    return ", ".join(f"{case}.owner_notified_at IS NOT NULL" if column == "notified" else f"{case}.{column}"
                     for column in GROUP)


def _for_party(party: str, n: int) -> str:
    """A row for the reporter ``party`` (OLD or NEW of ``case_parties``), with their case's dims."""
    return (f"INSERT INTO reported_tallies ({COLUMNS}, n) SELECT {party}.user_id, {_values('cases')}, {n} "
            f"FROM cases WHERE cases.id = {party}.case_id AND {party}.relation = 'reporter' "
            f"AND {party}.user_id IS NOT NULL;")


def _for_case(case: str, n: int) -> str:
    """A row for each reporter of the case ``case`` (OLD or NEW of ``cases``), with its dims."""
    return (f"INSERT INTO reported_tallies ({COLUMNS}, n) SELECT case_parties.user_id, {_values(case)}, {n} "
            f"FROM case_parties WHERE case_parties.case_id = {case}.id AND case_parties.relation = 'reporter' "
            f"AND case_parties.user_id IS NOT NULL;")


MOVED_PG = (" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in PLAIN)
            + " OR (OLD.owner_notified_at IS NULL) <> (NEW.owner_notified_at IS NULL)")
MOVED_SQLITE = (" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in PLAIN)
                + " OR (OLD.owner_notified_at IS NULL) IS NOT (NEW.owner_notified_at IS NULL)")

TALLY_PG = f"""
CREATE FUNCTION kap12_reported_tally_party() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {_for_party("OLD", -1)} END IF;
    IF TG_OP <> 'DELETE' THEN {_for_party("NEW", 1)} END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER case_parties_reported_tally AFTER INSERT OR UPDATE OR DELETE ON case_parties
    FOR EACH ROW EXECUTE FUNCTION kap12_reported_tally_party();
CREATE FUNCTION kap12_reported_tally_case() RETURNS trigger AS $$
BEGIN
    {_for_case("OLD", -1)}
    {_for_case("NEW", 1)}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_reported_tally_moved AFTER UPDATE ON cases FOR EACH ROW WHEN ({MOVED_PG})
    EXECUTE FUNCTION kap12_reported_tally_case();
"""

TALLY_SQLITE = [
    f"CREATE TRIGGER case_parties_reported_tally_made AFTER INSERT ON case_parties BEGIN {_for_party('NEW', 1)} END",
    f"CREATE TRIGGER case_parties_reported_tally_deleted AFTER DELETE ON case_parties BEGIN {_for_party('OLD', -1)} END",
    f"CREATE TRIGGER case_parties_reported_tally_changed AFTER UPDATE ON case_parties "
    f"BEGIN {_for_party('OLD', -1)} {_for_party('NEW', 1)} END",
    f"CREATE TRIGGER cases_reported_tally_moved AFTER UPDATE ON cases WHEN {MOVED_SQLITE} "
    f"BEGIN {_for_case('OLD', -1)} {_for_case('NEW', 1)} END",
]

BACKFILL = (f"INSERT INTO reported_tallies ({COLUMNS}, n) SELECT case_parties.user_id, {_values('cases')}, count(*) "
            f"FROM case_parties JOIN cases ON cases.id = case_parties.case_id "
            f"WHERE case_parties.relation = 'reporter' AND case_parties.user_id IS NOT NULL "
            f"GROUP BY case_parties.user_id, {', '.join('cases.' + c for c in PLAIN)}, cases.owner_notified_at IS NOT NULL")

SQLITE_TRIGGERS = ("case_parties_reported_tally_made", "case_parties_reported_tally_deleted",
                   "case_parties_reported_tally_changed", "cases_reported_tally_moved")


def upgrade() -> None:
    op.create_table(
        'reported_tallies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('procedure', sa.String(length=1), nullable=False),
        sa.Column('notified', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reported_tallies_user', 'reported_tallies', ['user_id'])
    # The triggers first, in the same transaction as the copy (as 0025's): on PostgreSQL the
    # upgrade holds every table (engine/store/schema_upgrade.py), so no report comes between.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TALLY_PG)
    else:
        for statement in TALLY_SQLITE:
            op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_parties_reported_tally ON case_parties")
        op.execute("DROP TRIGGER IF EXISTS cases_reported_tally_moved ON cases")
        op.execute("DROP FUNCTION IF EXISTS kap12_reported_tally_party()")
        op.execute("DROP FUNCTION IF EXISTS kap12_reported_tally_case()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_reported_tallies_user', table_name='reported_tallies')
    op.drop_table('reported_tallies')

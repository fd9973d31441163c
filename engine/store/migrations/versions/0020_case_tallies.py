"""the number of cases by county, version, kind, procedure and status, kept by the database as
signed rows beside the cases, so that the process list and an auditor's versions count a few
rows instead of every case ever made

Revision ID: 0020_case_tallies
Revises: 0019_case_work
"""
import sqlalchemy as sa
from alembic import op

revision = '0020_case_tallies'
down_revision = '0019_case_work'
branch_labels = None
depends_on = None

GROUP = ("county_id", "definition_id", "kind", "procedure", "status")
COLUMNS = ", ".join(GROUP)


def _row(side: str, n: int) -> str:
    values = ", ".join(f"{side}.{column}" for column in GROUP)
    return f"INSERT INTO case_tallies ({COLUMNS}, n) VALUES ({values}, {n});"


# Made by the database, in the same statement as the case row, by triggers: the release before
# this one (still serving until its workers restart) makes and closes cases too, and none may be
# missed. An update adds rows only when it moves the case to another group.
TALLY_PG = f"""
CREATE FUNCTION kap12_case_tally() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {_row("OLD", -1)} END IF;
    IF TG_OP <> 'DELETE' THEN {_row("NEW", 1)} END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_tally_made AFTER INSERT OR DELETE ON cases FOR EACH ROW EXECUTE FUNCTION kap12_case_tally();
CREATE TRIGGER cases_tally_moved AFTER UPDATE ON cases FOR EACH ROW
    WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in GROUP)}) EXECUTE FUNCTION kap12_case_tally();
"""

TALLY_SQLITE = [
    f"CREATE TRIGGER cases_tally_made AFTER INSERT ON cases BEGIN {_row('NEW', 1)} END",
    f"CREATE TRIGGER cases_tally_deleted AFTER DELETE ON cases BEGIN {_row('OLD', -1)} END",
    f"CREATE TRIGGER cases_tally_moved AFTER UPDATE ON cases WHEN "
    f"{' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in GROUP)} BEGIN {_row('OLD', -1)} {_row('NEW', 1)} END",
]

BACKFILL = f"INSERT INTO case_tallies ({COLUMNS}, n) SELECT {COLUMNS}, count(*) FROM cases GROUP BY {COLUMNS}"


def upgrade() -> None:
    op.create_table(
        'case_tallies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('procedure', sa.String(length=1), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    # The triggers first, in the same transaction as the copy: on PostgreSQL creating them locks
    # the cases against writes until the commit, so no case is made between the two.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TALLY_PG)
    else:
        for statement in TALLY_SQLITE:
            op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS cases_tally_made ON cases")
        op.execute("DROP TRIGGER IF EXISTS cases_tally_moved ON cases")
        op.execute("DROP FUNCTION IF EXISTS kap12_case_tally()")
    else:
        for name in ("cases_tally_made", "cases_tally_deleted", "cases_tally_moved"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('case_tallies')

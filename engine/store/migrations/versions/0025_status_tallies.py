"""the number of cases by county, school, procedure, whether the school owner was told (the dims
the access policy's roles ask of a case), kind and status, kept by the database as signed rows
beside the cases, so that Saker's tabs count a person's cases from the tallies of their roles
(less the few outside their circle, plus those their own sets reach) instead of counting the
school's cases up to a thousand each

A table of its own beside the case tallies of 0020, not columns added to those: the release
before this one keeps reading and folding those as it always has while a county upgrades.

Revision ID: 0025_status_tallies
Revises: 0024_month_tallies
"""
import sqlalchemy as sa
from alembic import op

revision = '0025_status_tallies'
down_revision = '0024_month_tallies'
branch_labels = None
depends_on = None

GROUP = ("county_id", "school_id", "kind", "procedure", "notified", "status")
COLUMNS = ", ".join(GROUP)
PLAIN = [c for c in GROUP if c != "notified"]  # the case's own columns; "notified" is worked out


def _values(side: str) -> str:
    return ", ".join(f"{side}.owner_notified_at IS NOT NULL" if column == "notified" else f"{side}.{column}"
                     for column in GROUP)


def _row(side: str, n: int) -> str:
    return f"INSERT INTO status_tallies ({COLUMNS}, n) VALUES ({_values(side)}, {n});"


# As 0020's: made by the database in the same statement as the case row, so the release before
# this one (serving until its workers restart) keeps them too. An update adds rows only when it
# moves the case to another group.
TALLY_PG = f"""
CREATE FUNCTION kap12_status_tally() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {_row("OLD", -1)} END IF;
    IF TG_OP <> 'DELETE' THEN {_row("NEW", 1)} END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_status_tally_made AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION kap12_status_tally();
CREATE TRIGGER cases_status_tally_moved AFTER UPDATE ON cases FOR EACH ROW
    WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in PLAIN)}
          OR (OLD.owner_notified_at IS NULL) <> (NEW.owner_notified_at IS NULL))
    EXECUTE FUNCTION kap12_status_tally();
"""

TALLY_SQLITE = [
    f"CREATE TRIGGER cases_status_tally_made AFTER INSERT ON cases BEGIN {_row('NEW', 1)} END",
    f"CREATE TRIGGER cases_status_tally_deleted AFTER DELETE ON cases BEGIN {_row('OLD', -1)} END",
    f"CREATE TRIGGER cases_status_tally_moved AFTER UPDATE ON cases WHEN "
    f"{' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in PLAIN)} "
    f"OR (OLD.owner_notified_at IS NULL) IS NOT (NEW.owner_notified_at IS NULL) "
    f"BEGIN {_row('OLD', -1)} {_row('NEW', 1)} END",
]

BACKFILL = (f"INSERT INTO status_tallies ({COLUMNS}, n) SELECT {_values('cases')}, count(*) FROM cases "
            f"GROUP BY {', '.join(PLAIN)}, owner_notified_at IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        'status_tallies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('procedure', sa.String(length=1), nullable=False),
        sa.Column('notified', sa.Boolean(), nullable=False),
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
        op.execute("DROP TRIGGER IF EXISTS cases_status_tally_made ON cases")
        op.execute("DROP TRIGGER IF EXISTS cases_status_tally_moved ON cases")
        op.execute("DROP FUNCTION IF EXISTS kap12_status_tally()")
    else:
        for name in ("cases_status_tally_made", "cases_status_tally_deleted", "cases_status_tally_moved"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('status_tallies')

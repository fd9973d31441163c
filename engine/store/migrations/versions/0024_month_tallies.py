"""the weekly overview's figures of the school year (deadlines met and missed by month, the
reports' answers), kept by the database as signed rows by month and by the dims the access
policy's roles ask of a case, so that a school owner's figures sum a few hundred rows instead of
reading the year's every case and event (at 100,000 cases 40 ms of the page, growing with each)

Revision ID: 0024_month_tallies
Revises: 0023_case_marks
"""
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

revision = '0024_month_tallies'
down_revision = '0023_case_marks'
branch_labels = None
depends_on = None

COLUMNS = "county_id, school_id, kind, procedure, notified, month, measure, kind_answer, ongoing_answer, n"

@dataclass(frozen=True)
class Dialect:
    """How each database says what the rows are made of."""

    month: Callable[[str], str]  # the month of a time, in Norway's time ("YYYY-MM")
    counted: Callable[[str], str]  # an event the figures count
    answers: Callable[[str], tuple[str, str]]  # a case's two counted answers, as JSON text


# The events the figures count (``engine/store/counted_events.deadline_counted``, as it is now: a
# missed deadline is its own event; a met one a step done with a due time, by that time), and the
# answers, each written as that database's live queries say them, so the two agree on every value.
PG = Dialect(
    month=lambda at: f"to_char({at} AT TIME ZONE 'Europe/Oslo', 'YYYY-MM')",
    counted=lambda e: (f"{e}.case_id IS NOT NULL AND ({e}.kind = 'deadline_missed' OR ({e}.kind = 'task_completed' "
                       f"AND coalesce({e}.data ->> 'due_at', '') <> '' "
                       f"AND coalesce(CAST({e}.data ->> 'late_by_seconds' AS FLOAT), 0) <= 0))"),
    answers=lambda c: (f"CAST({c}.report_answers -> 'krenkelse_art' AS TEXT)",
                       f"CAST({c}.report_answers -> 'pagaar' AS TEXT)"),
)
# SQLite knows no time zones: Norway is an hour ahead of UTC, two in summer time (from the last
# Sunday of March to the last Sunday of October, both at 01:00 UTC) — so at the midnights that
# begin April to October two hours, at the others one; within a month the two shifts name the
# same month. (Norway's rules as they are; checked hour by hour against the time zone database
# around every month's start for years by tests/engine/test_month_tallies.py.)
SQLITE = Dialect(
    month=lambda at: (f"CASE WHEN strftime('%m', {at}, '+2 hours') BETWEEN '04' AND '10' "
                      f"THEN strftime('%Y-%m', {at}, '+2 hours') ELSE strftime('%Y-%m', {at}, '+1 hours') END"),
    counted=lambda e: (f"{e}.case_id IS NOT NULL AND ({e}.kind = 'deadline_missed' OR ({e}.kind = 'task_completed' "
                       f"""AND coalesce(CAST(JSON_EXTRACT({e}.data, '$."due_at"') AS VARCHAR), '') <> '' """
                       f"""AND coalesce(CAST(JSON_EXTRACT({e}.data, '$."late_by_seconds"') AS FLOAT), 0) <= 0))"""),
    answers=lambda c: (f"""CAST(JSON_QUOTE(JSON_EXTRACT({c}.report_answers, '$."krenkelse_art"')) AS TEXT)""",
                       f"""CAST(JSON_QUOTE(JSON_EXTRACT({c}.report_answers, '$."pagaar"')) AS TEXT)"""),
)


def _dims(c: str) -> str:
    return f"{c}.county_id, {c}.school_id, {c}.kind, {c}.procedure, {c}.owner_notified_at IS NOT NULL"


def _report(db: Dialect, c: str, sign: int) -> str:
    """The row of a case's report: the month it was made, its two answers (none kept: "unkept")."""
    return (f"INSERT INTO month_tallies ({COLUMNS}) SELECT {_dims(c)}, {db.month(f'{c}.created_at')}, "
            f"CASE WHEN {c}.report_answers IS NULL THEN 'reported_unkept' ELSE 'reported' END, "
            f"{', '.join(db.answers(c))}, {sign};")


def _events(db: Dialect, c: str, sign: int) -> str:
    """The rows of a case's counted events, by month and kind."""
    return (f"INSERT INTO month_tallies ({COLUMNS}) SELECT {_dims(c)}, m, k, NULL, NULL, {sign} * count(*) "
            f"FROM (SELECT {db.month('e.at')} AS m, e.kind AS k FROM history_events e "
            f"WHERE e.case_id = {c}.id AND {db.counted('e')}) AS counted GROUP BY m, k;")


def _event_row(db: Dialect) -> str:
    return (f"INSERT INTO month_tallies ({COLUMNS}) SELECT {_dims('cases')}, {db.month('NEW.at')}, NEW.kind, "
            "NULL, NULL, 1 FROM cases WHERE cases.id = NEW.case_id;")


# A case moves to other dims when reclassified or notified to the school owner: its report and
# events leave the old rows and join the new. (A case with events is never deleted: the history
# is append-only and points at it; one made and deleted takes its report row with it.)
MOVED_PG = ("OLD.county_id <> NEW.county_id OR OLD.school_id <> NEW.school_id OR OLD.kind <> NEW.kind "
            "OR OLD.procedure <> NEW.procedure OR (OLD.owner_notified_at IS NULL) <> (NEW.owner_notified_at IS NULL) "
            "OR OLD.created_at <> NEW.created_at OR OLD.report_answers::text IS DISTINCT FROM NEW.report_answers::text")
MOVED_SQLITE = ("OLD.county_id IS NOT NEW.county_id OR OLD.school_id IS NOT NEW.school_id OR OLD.kind IS NOT NEW.kind "
                "OR OLD.procedure IS NOT NEW.procedure "
                "OR (OLD.owner_notified_at IS NULL) IS NOT (NEW.owner_notified_at IS NULL) "
                "OR OLD.created_at IS NOT NEW.created_at OR OLD.report_answers IS NOT NEW.report_answers")

# Made by the database in the same statement as the event or the case row, as the case tallies
# (0020) and marks (0023) are: the release before this one, still serving until its workers
# restart, records events and makes cases too, and none may be missed.
TALLY_PG = f"""
CREATE FUNCTION kap12_month_tally_event() RETURNS trigger AS $$
BEGIN
    {_event_row(PG)}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_events_month_tally AFTER INSERT ON history_events
    FOR EACH ROW WHEN ({PG.counted('NEW')}) EXECUTE FUNCTION kap12_month_tally_event();
CREATE FUNCTION kap12_month_tally_case() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {_report(PG, 'OLD', -1)} END IF;
    IF TG_OP = 'UPDATE' THEN {_events(PG, 'OLD', -1)} {_events(PG, 'NEW', 1)} END IF;
    IF TG_OP <> 'DELETE' THEN {_report(PG, 'NEW', 1)} END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_month_tally_made AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION kap12_month_tally_case();
CREATE TRIGGER cases_month_tally_moved AFTER UPDATE ON cases
    FOR EACH ROW WHEN ({MOVED_PG}) EXECUTE FUNCTION kap12_month_tally_case();
"""

TALLY_SQLITE = [
    f"CREATE TRIGGER history_events_month_tally AFTER INSERT ON history_events WHEN {SQLITE.counted('NEW')} "
    f"BEGIN {_event_row(SQLITE)} END",
    f"CREATE TRIGGER cases_month_tally_made AFTER INSERT ON cases BEGIN {_report(SQLITE, 'NEW', 1)} END",
    f"CREATE TRIGGER cases_month_tally_deleted AFTER DELETE ON cases BEGIN {_report(SQLITE, 'OLD', -1)} END",
    f"CREATE TRIGGER cases_month_tally_moved AFTER UPDATE ON cases WHEN {MOVED_SQLITE} BEGIN "
    f"{_report(SQLITE, 'OLD', -1)} {_events(SQLITE, 'OLD', -1)} {_events(SQLITE, 'NEW', 1)} "
    f"{_report(SQLITE, 'NEW', 1)} END",
]


def _backfill(db: Dialect) -> list[str]:
    """Every counted event and every case so far, one row per group."""
    group = "county_id, school_id, kind, procedure, notified, m, k"
    kind_answer, ongoing_answer = db.answers("c")
    return [
        f"INSERT INTO month_tallies ({COLUMNS}) SELECT {group}, NULL, NULL, count(*) "
        f"FROM (SELECT {_dims('c')} AS notified, {db.month('e.at')} AS m, e.kind AS k "
        f"FROM history_events e JOIN cases c ON c.id = e.case_id WHERE {db.counted('e')}) AS counted GROUP BY {group}",
        f"INSERT INTO month_tallies ({COLUMNS}) SELECT {group}, a, o, count(*) "
        f"FROM (SELECT {_dims('c')} AS notified, {db.month('c.created_at')} AS m, "
        "CASE WHEN c.report_answers IS NULL THEN 'reported_unkept' ELSE 'reported' END AS k, "
        f"{kind_answer} AS a, {ongoing_answer} AS o FROM cases c) AS made GROUP BY {group}, a, o",
    ]


def upgrade() -> None:
    op.create_table(
        'month_tallies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('procedure', sa.String(length=1), nullable=False),
        sa.Column('notified', sa.Boolean(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('measure', sa.String(length=30), nullable=False),
        sa.Column('kind_answer', sa.Text(), nullable=True),
        sa.Column('ongoing_answer', sa.Text(), nullable=True),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_month_tallies_month', 'month_tallies', ['month', 'county_id'])
    # The triggers first, in the same transaction as the copy: on PostgreSQL creating them locks
    # the cases and the history against writes until the commit, so nothing falls between the two.
    if op.get_bind().dialect.name == "postgresql":
        # Both tables at once, in the order a step writes them (the case row, then its events):
        # creating the history's trigger first and the cases' after could deadlock with a step of
        # the release still serving, and abort the upgrade.
        op.execute("LOCK TABLE cases, history_events IN SHARE ROW EXCLUSIVE MODE")
        op.execute(TALLY_PG)
        backfill = _backfill(PG)
    else:
        for statement in TALLY_SQLITE:
            op.execute(statement)
        backfill = _backfill(SQLITE)
    for statement in backfill:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS history_events_month_tally ON history_events")
        op.execute("DROP TRIGGER IF EXISTS cases_month_tally_made ON cases")
        op.execute("DROP TRIGGER IF EXISTS cases_month_tally_moved ON cases")
        op.execute("DROP FUNCTION IF EXISTS kap12_month_tally_event()")
        op.execute("DROP FUNCTION IF EXISTS kap12_month_tally_case()")
    else:
        for name in ("history_events_month_tally", "cases_month_tally_made", "cases_month_tally_deleted",
                     "cases_month_tally_moved"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_month_tallies_month', table_name='month_tallies')
    op.drop_table('month_tallies')

"""the role indexes of the task lists also hold each row's case and its procedure, so that a list
reads the tasks open to a role at a school (or in a county) from the index alone, in order, and
stops at the page's end. Each row is asked whether its case is one the person may not work in (a
case where they are the accused, a C case their school's leadership is bypassed in): with the case
only in the table, PostgreSQL preferred to gather every row of the role (rektor's 629 at 100,000
cases in the benchmark county), look each up in the table and sort them for a page of a hundred
(1.5 ms; from the index, 1.0). The reach of a person's tasks (``access.with_reach``) asks of the
same rows whether a role of theirs reaches the procedure anyway: from the index 0.36 ms, against
0.49 reading each row in the table. (The table is still read for the rows on pages written
since autovacuum last went through it; and a list still looks up each task's own row, to leave
out those someone has taken.)
Trailing key columns, not INCLUDE, so that SQLite's index is the same.

Revision ID: 0035_task_role_index_cases
Revises: 0034_school_open_cases_index
"""
from alembic import op

revision = '0035_task_role_index_cases'
down_revision = '0034_school_open_cases_index'
branch_labels = None
depends_on = None

ORDER = ["due_order", "opened_at", "task_id"]
PLACES = (("ix_open_task_roles_school", "school_id"), ("ix_open_task_roles_county", "county_id"))


def _swap(with_case: bool) -> None:
    columns = ORDER + ["case_id", "procedure"] if with_case else ORDER
    if op.get_bind().dialect.name != "postgresql":
        for name, place in PLACES:
            op.drop_index(name, table_name="open_task_roles")
            op.create_index(name, "open_task_roles", ["role", place, *columns])
        return
    # Both new indexes are built under other names before either old one is dropped. A build
    # holds writes to the table, not reads; a drop holds reads too. All of an upgrade's
    # migrations run in one transaction (``Database.upgrade``), so each holds until the upgrade
    # commits: reads of the table wait only from the first drop, after both builds, to the
    # commit (right after, unless later migrations are pending).
    for name, place in PLACES:
        op.create_index(f"{name}_new", "open_task_roles", ["role", place, *columns])
    for name, _place in PLACES:
        op.drop_index(name, table_name="open_task_roles")
        op.execute(f"ALTER INDEX {name}_new RENAME TO {name}")


def upgrade() -> None:
    _swap(with_case=True)


def downgrade() -> None:
    _swap(with_case=False)

"""a person's work by school: the access policy asks for the cases a school leader completed a
task in outside their schools (the "work done" branch; in their own schools the leadership's role
reaches every case anyway). It asked for them as ``school_id NOT IN (…)`` over the index of the
person's rows, which read every row and dropped those of their schools: a rektor's 2,158 rows
at 100,000 cases, on every page, more with every year. It now asks for the ranges around their
schools (``id_sets.ranges_outside``), which this index answers without reading those rows.
The school owner's ranges (around their counties, among the notified cases) are answered by the
index that was there (``ix_case_work_person``). A completion that is a person's first in a case
writes one entry more.

Revision ID: 0033_case_work_by_school
Revises: 0032_accused_without_account
"""
from alembic import op

revision = '0033_case_work_by_school'
down_revision = '0032_accused_without_account'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CREATE INDEX holds writes to case_work (task completions) while it reads the table, never reads.
    op.create_index("ix_case_work_school", "case_work", ["user_id", "school_id", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_work_school", table_name="case_work")

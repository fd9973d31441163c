"""the cases' single-column indexes on school, county and kind: each column begins another index
(school, procedure, status) and (school, status, stage); (county, procedure) and (county,
notified); (kind, created) and (kind, status, closed), which answers whatever the single one
would. An update that changes an indexed column (a step that moves the case's stage or next
deadline) writes a new entry in every index of the row: three fewer to keep up.
Unread in the scale benchmark's whole run at 100,000 cases, every page as every role.

Revision ID: 0028_redundant_case_indexes
Revises: 0027_school_procedure_index
"""
from alembic import op

revision = '0028_redundant_case_indexes'
down_revision = '0027_school_procedure_index'
branch_labels = None
depends_on = None

REDUNDANT = {"ix_cases_school_id": "school_id", "ix_cases_county_id": "county_id", "ix_cases_kind": "kind"}


def upgrade() -> None:
    for name in REDUNDANT:
        op.drop_index(name, table_name="cases")


def downgrade() -> None:
    for name, column in REDUNDANT.items():
        op.create_index(name, "cases", [column])

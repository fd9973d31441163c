"""a school's cases of one procedure: the bypassed leadership's open C cases, which every task
list and read of theirs leaves out (``access._bypassed``), were found by ANDing the school's open
cases with every C case the county ever had (0.7 ms of a 1.0 ms task list at 100,000 cases)

Revision ID: 0027_school_procedure_index
Revises: 0026_open_stage_index
"""
from alembic import op

revision = '0027_school_procedure_index'
down_revision = '0026_open_stage_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CREATE INDEX holds writes to the cases while it runs (63 ms at 100,000 cases), never reads.
    op.create_index("ix_cases_school_procedure", "cases", ["school_id", "procedure", "status"])


def downgrade() -> None:
    op.drop_index("ix_cases_school_procedure", table_name="cases")

"""A closed case's measures are no longer current (``measures.current``): the step that closes a
case retires them from now on, and this retires those of the cases closed before. Nothing reads
them as current once the case is closed; «Mine tiltak» then finds a person's measures by its
index without visiting each closed case. The downgrade leaves them retired: an earlier release
reads them only with the case open.

Revision ID: 0048_closed_case_measures
Revises: 0047_first_passwords
"""
from alembic import op

revision = '0048_closed_case_measures'
down_revision = '0047_first_passwords'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE measures SET current = false WHERE current = true "
               "AND case_id IN (SELECT id FROM cases WHERE status = 'closed')")


def downgrade() -> None:
    pass

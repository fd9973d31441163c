"""a school owner's open tasks of one procedure, by index: Mine oppgaver offers the procedures the
viewer has tasks in, asking for one task of each; for a procedure they had none of, PostgreSQL read
every open task's role rows to be sure (30,000 at 100,000 cases, 2 ms a page). The index answers
it; the statistics tell the planner that a role's rows are not spread evenly over the procedures
(a school owner's are mostly B and C), without which it guessed a thousand rows to pick from and
read the table anyway

Revision ID: 0022_task_procedure_index
Revises: 0021_closed_index
"""
from alembic import op

revision = '0022_task_procedure_index'
down_revision = '0021_closed_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_open_task_roles_procedure", "open_task_roles", ["role", "county_id", "procedure"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE STATISTICS open_task_roles_role_procedure (mcv) ON role, county_id, procedure "
                   "FROM open_task_roles")
        op.execute("ANALYZE open_task_roles")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS open_task_roles_role_procedure")
    op.drop_index("ix_open_task_roles_procedure", table_name="open_task_roles")

"""each open task's role rows carry the task's place (case, school, county), its case's procedure
and its place in the task lists' order (deadline, opened), with an index per role and place in that order: a task
list reads the tasks open to a role in order and stops at the page's end

Revision ID: 0018_task_role_order
Revises: 0017_report_answers
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0018_task_role_order'
down_revision = '0017_report_answers'
branch_labels = None
depends_on = None

# As engine/store/task_order.py names it when this was written: no deadline sorts last.
NEVER_DUE = datetime(9999, 12, 31, tzinfo=timezone.utc)
UNPLACED = sa.text("county_id IS NULL")


def upgrade() -> None:
    # Nullable: the release before keeps writing role rows without them until its workers are
    # restarted; every sweep fills those (engine/write/task_roles.py).
    for name, kind in (("case_id", sa.Integer()), ("school_id", sa.Integer()), ("county_id", sa.Integer()),
                       ("procedure", sa.String(10)), ("due_order", sa.DateTime(timezone=True)), ("opened_at", sa.DateTime(timezone=True))):
        op.add_column('open_task_roles', sa.Column(name, kind, nullable=True))
    roles = sa.table('open_task_roles', sa.column('task_id', sa.String), sa.column('case_id', sa.Integer),
                     sa.column('school_id', sa.Integer), sa.column('county_id', sa.Integer),
                     sa.column('procedure', sa.String), sa.column('due_order', sa.DateTime(timezone=True)),
                     sa.column('opened_at', sa.DateTime(timezone=True)))
    tasks = sa.table('open_tasks', sa.column('id', sa.String), sa.column('case_id', sa.Integer),
                     sa.column('due_at', sa.DateTime(timezone=True)), sa.column('opened_at', sa.DateTime(timezone=True)))
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('school_id', sa.Integer),
                     sa.column('county_id', sa.Integer), sa.column('procedure', sa.String))
    bind = op.get_bind()
    # SQLite keeps times as naive UTC text (engine/store/models.py UTCDateTime).
    never = NEVER_DUE.replace(tzinfo=None) if bind.dialect.name == "sqlite" else NEVER_DUE

    def of_task(column: str) -> sa.ScalarSelect:
        return sa.select(tasks.c[column]).where(tasks.c.id == roles.c.task_id).scalar_subquery()

    def of_case(column: str) -> sa.ScalarSelect:
        return (sa.select(cases.c[column]).join(tasks, tasks.c.case_id == cases.c.id)
                .where(tasks.c.id == roles.c.task_id).scalar_subquery())

    # One statement: there are as many rows as open tasks' roles (tens of thousands in a county).
    bind.execute(roles.update().values(
        case_id=of_task('case_id'), school_id=of_case('school_id'), county_id=of_case('county_id'),
        procedure=of_case('procedure'), due_order=sa.func.coalesce(of_task('due_at'), sa.literal(never, sa.DateTime(timezone=True))),
        opened_at=of_task('opened_at')))
    op.create_index('ix_open_task_roles_school', 'open_task_roles',
                    ['role', 'school_id', 'due_order', 'opened_at', 'task_id'])
    op.create_index('ix_open_task_roles_county', 'open_task_roles',
                    ['role', 'county_id', 'due_order', 'opened_at', 'task_id'])
    op.create_index('ix_open_task_roles_unplaced', 'open_task_roles', ['task_id'],
                    postgresql_where=UNPLACED, sqlite_where=UNPLACED)
    op.drop_index('ix_open_task_roles_role', table_name='open_task_roles')


def downgrade() -> None:
    op.create_index('ix_open_task_roles_role', 'open_task_roles', ['role'])
    for name in ('ix_open_task_roles_unplaced', 'ix_open_task_roles_county', 'ix_open_task_roles_school'):
        op.drop_index(name, table_name='open_task_roles')
    for name in ('opened_at', 'due_order', 'procedure', 'county_id', 'school_id', 'case_id'):
        op.drop_column('open_task_roles', name)

"""the case's stage as a code (the weekly overview counts and pages stages in SQL), and
indexes for the overview's figures of the school year

Revision ID: 0014_case_stage
Revises: 0013_measures
"""
from alembic import op
import sqlalchemy as sa

# The vocabulary the steps use from now on; the migration sorts the cases already open the same
# way, from the open tasks and waiting timers they have now. It imports the live rule rather
# than a frozen copy on purpose: the stage is a projection that every step rewrites, so a later
# vocabulary is the right one for a database upgraded later, and a copy would be a second rule
# to keep in step (a later change of vocabulary needs its own migration either way).
from processes.stages import stage_of


revision = '0014_case_stage'
down_revision = '0013_measures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('stage_code', sa.String(length=20), nullable=False, server_default='annet'))
    op.create_index('ix_cases_school_stage', 'cases', ['school_id', 'status', 'stage_code'])
    op.create_index('ix_history_events_case_kind_at', 'history_events', ['case_id', 'kind', 'at'])
    op.create_index('ix_history_events_kind_at', 'history_events', ['kind', 'at'])
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE cases SET stage_code = 'avsluttet' WHERE status = 'closed'"))
    tasks: dict[int, list[tuple[str, str]]] = {}
    timers: dict[int, list[tuple[str, str]]] = {}
    for case_id, element, title in bind.execute(sa.text(
            "SELECT t.case_id, t.element_id, t.title FROM open_tasks t JOIN cases c ON c.id = t.case_id "
            "WHERE c.status = 'open'")):
        tasks.setdefault(case_id, []).append((element, title))
    for case_id, element, name in bind.execute(sa.text(
            "SELECT t.case_id, t.element_id, t.name FROM pending_timers t JOIN cases c ON c.id = t.case_id "
            "WHERE c.status = 'open'")):
        timers.setdefault(case_id, []).append((element, name))
    for case_id in set(tasks) | set(timers):
        bind.execute(sa.text("UPDATE cases SET stage_code = :code WHERE id = :id"),
                     {"code": stage_of(tasks.get(case_id, []), timers.get(case_id, [])), "id": case_id})


def downgrade() -> None:
    op.drop_index('ix_history_events_kind_at', table_name='history_events')
    op.drop_index('ix_history_events_case_kind_at', table_name='history_events')
    op.drop_index('ix_cases_school_stage', table_name='cases')
    op.drop_column('cases', 'stage_code')

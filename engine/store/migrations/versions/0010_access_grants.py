"""access grants per case, and when the school owner was notified

Revision ID: 0010_access_grants
Revises: 0009_malform
Create Date: 2026-12-02 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_access_grants'
down_revision = '0009_malform'
branch_labels = None
depends_on = None

# The same rule as engine.write.unit_of_work.owner_notice, read from the recorded history.
_NOTICE_FORMS = ("varsle_skoleeier",)


def _notified(kind: str, data: dict) -> bool:
    if kind == "task_completed":
        return data.get("form") in _NOTICE_FORMS
    if kind == "task_opened":
        return "skoleeier" in (data.get("roles") or [])
    if kind == "escalated":
        return data.get("recipient_role") == "skoleeier"
    return False


def upgrade() -> None:
    op.create_table('case_access_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('procedure', sa.String(length=1), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_case_access_grants_case_id', 'case_access_grants', ['case_id'])
    op.create_index('ix_case_access_grants_user_id', 'case_access_grants', ['user_id'])
    # Plain ADD/DROP COLUMN (SQLite 3.35+): a batch copy of cases would trip the rows that point at it.
    op.add_column('cases', sa.Column('owner_notified_at', sa.DateTime(timezone=True), nullable=True))
    # Cases already running: the first recorded notice, from their history.
    bind = op.get_bind()
    events = sa.table('history_events', sa.column('case_id', sa.Integer), sa.column('seq', sa.Integer),
                      sa.column('kind', sa.String), sa.column('at', sa.DateTime(timezone=True)),
                      sa.column('data', sa.JSON))
    cases = sa.table('cases', sa.column('id', sa.Integer),
                     sa.column('owner_notified_at', sa.DateTime(timezone=True)))
    first: dict[int, object] = {}
    rows = bind.execute(sa.select(events.c.case_id, events.c.kind, events.c.at, events.c.data)
                        .where(events.c.case_id.is_not(None),
                               events.c.kind.in_(("task_completed", "task_opened", "escalated")))
                        .order_by(events.c.case_id, events.c.seq))
    for case_id, kind, at, data in rows:
        if case_id not in first and _notified(kind, data or {}):
            first[case_id] = at
    for case_id, at in first.items():
        bind.execute(cases.update().where(cases.c.id == case_id).values(owner_notified_at=at))


def downgrade() -> None:
    op.drop_index('ix_case_access_grants_user_id', 'case_access_grants')
    op.drop_index('ix_case_access_grants_case_id', 'case_access_grants')
    op.drop_table('case_access_grants')
    op.drop_column('cases', 'owner_notified_at')

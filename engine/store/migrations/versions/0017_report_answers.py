"""the two answers of a case's report that the weekly overview counts (the kind of offence,
whether it was still going on), kept on the case: copied from each report already made

Revision ID: 0017_report_answers
Revises: 0016_figure_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_report_answers'
down_revision = '0016_figure_indexes'
branch_labels = None
depends_on = None

# As the report form named them when this was written (engine/write/cases.py REPORT_COUNTED).
COUNTED = ("krenkelse_art", "pagaar")
BATCH = 1000


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite 3.35+): a batch copy of cases would trip the rows that point at it.
    op.add_column('cases', sa.Column('report_answers', sa.JSON(), nullable=True))
    bind = op.get_bind()
    events = sa.table('history_events', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
                      sa.column('kind', sa.String), sa.column('data', sa.JSON))
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('report_answers', sa.JSON))
    update = cases.update().where(cases.c.id == sa.bindparam('case_id')).values(report_answers=sa.bindparam('answers'))
    # Each case's report, a batch at a time (a county's history need not fit in memory).
    last = 0
    while True:
        rows = bind.execute(sa.select(events.c.id, events.c.case_id, events.c.data)
                            .where(events.c.kind == "reported", events.c.case_id.is_not(None), events.c.id > last)
                            .order_by(events.c.id).limit(BATCH)).all()
        if not rows:
            break
        last = rows[-1].id
        bind.execute(update, [{"case_id": case_id, "answers": _answers(data)} for _, case_id, data in rows])


def _answers(data: dict | None) -> dict:
    report = (data or {}).get("report") or {}
    return {name: report[name] for name in COUNTED if name in report}


def downgrade() -> None:
    op.drop_column('cases', 'report_answers')

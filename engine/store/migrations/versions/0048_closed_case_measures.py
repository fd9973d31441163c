"""Measures no longer in a case's plan are no longer current (``measures.current``): from this
release the step that closes a case retires its measures, and so does a reclassification to
another procedure (which starts the new procedure from its receipt, with a new circle). This
retires those that earlier releases left current: the measures of every closed case, and those of
a plan made before the case moved to another procedure. «Mine tiltak» then finds a person's
measures by its index without visiting each closed case, and the owner of a measure of an earlier
procedure's plan (perhaps outside the new circle) no longer sees or records it. The downgrade
leaves them retired: an earlier release reads none of them as it should.

Revision ID: 0048_closed_case_measures
Revises: 0047_first_passwords
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0048_closed_case_measures'
down_revision = '0047_first_passwords'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE measures SET current = false WHERE current = true "
               "AND case_id IN (SELECT id FROM cases WHERE status = 'closed')")
    conn = op.get_bind()
    moved: dict[int, int] = {}  # case → the seq of its last move to another procedure
    for case_id, seq, data in conn.execute(sa.text(
            "SELECT case_id, seq, data FROM history_events WHERE kind = 'reclassified' ORDER BY seq")):
        data = json.loads(data) if isinstance(data, str) else (data or {})
        if data.get("from_procedure") != data.get("to_procedure"):
            moved[case_id] = seq
    for case_id, seq in moved.items():
        later = set()
        for (data,) in conn.execute(sa.text(
                "SELECT data FROM history_events WHERE case_id = :case AND kind = 'task_completed' AND seq > :seq"),
                {"case": case_id, "seq": seq}):
            data = json.loads(data) if isinstance(data, str) else (data or {})
            later.add(str(data.get("task_id")))
        for measure_id, plan_task_id in conn.execute(sa.text(
                "SELECT id, plan_task_id FROM measures WHERE case_id = :case AND current = true"), {"case": case_id}):
            if plan_task_id not in later:
                conn.execute(sa.text("UPDATE measures SET current = false WHERE id = :id"), {"id": measure_id})


def downgrade() -> None:
    pass

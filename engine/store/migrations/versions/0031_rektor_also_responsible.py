"""rektor may do the follow-up of an A case: from this release the tasks of the responsible lane
open to rektor beside avdelingsleder (``processes/roles.py`` ``ALSO_RESPONSIBLE``), as rektor is
responsible for every case. Each step writes its case's task roles anew; this gives the tasks
already open the same, so an A case at a school without an avdelingsleder, standing still since
its receipt, can be taken up now. The downgrade takes the rows it added away again (those of
the responsible lane's tasks whose avdelingsleder row is there too).

Revision ID: 0031_rektor_also_responsible
Revises: 0030_take_back_notices
"""
from alembic import op

revision = '0031_rektor_also_responsible'
down_revision = '0030_take_back_notices'
branch_labels = None
depends_on = None

_LEADER_ROWS = """
    FROM open_task_roles r JOIN open_tasks t ON t.id = r.task_id
    WHERE t.lane = 'Saksansvarlig' AND r.role = 'avdelingsleder'"""


def upgrade() -> None:
    op.execute(f"""
        INSERT INTO open_task_roles (task_id, role, case_id, school_id, county_id, procedure, due_order, opened_at)
        SELECT r.task_id, 'rektor', r.case_id, r.school_id, r.county_id, r.procedure, r.due_order, r.opened_at
        {_LEADER_ROWS}
          AND NOT EXISTS (SELECT 1 FROM open_task_roles x WHERE x.task_id = r.task_id AND x.role = 'rektor')""")


def downgrade() -> None:
    op.execute(f"""
        DELETE FROM open_task_roles WHERE role = 'rektor' AND task_id IN (SELECT r.task_id {_LEADER_ROWS})""")

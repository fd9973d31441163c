"""notices taken back from those outside a case's circle: from this release a step that names
someone the accused, or moves a case to C, takes back the case's notices to the accused (and in
C to the school's leadership that no grant lets in). This does the same once for the cases
where that happened before, so that no accused still finds «Ny oppgave i sak …» under Varsler.
Nothing of the record is touched: the notices are pointers, and the history keeps what
happened. The downgrade gives nothing back (the notices are gone, as the step would have made
them).

Revision ID: 0030_take_back_notices
Revises: 0029_open_counts_index
"""
from alembic import op

revision = '0030_take_back_notices'
down_revision = '0029_open_counts_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        DELETE FROM notifications WHERE EXISTS (
            SELECT 1 FROM case_parties p
            WHERE p.case_id = notifications.case_id AND p.user_id = notifications.user_id
              AND p.relation = 'accused')""")
    op.execute("""
        DELETE FROM notifications WHERE EXISTS (
            SELECT 1 FROM cases c JOIN role_grants r ON r.school_id = c.school_id
            WHERE c.id = notifications.case_id AND c.procedure = 'C'
              AND r.user_id = notifications.user_id AND r.role IN ('rektor', 'avdelingsleder')
              AND NOT EXISTS (SELECT 1 FROM case_access_grants g
                              WHERE g.case_id = c.id AND g.user_id = notifications.user_id
                                AND g.procedure = 'C' AND g.withdrawn_at IS NULL
                                AND g.ends_at > CURRENT_TIMESTAMP))""")


def downgrade() -> None:
    pass  # what was taken back is not given back

"""indexes by person: their parties in cases (the policy's "accused in", "reported"), and their
unread notices (the count on every page); and for the school owner's circle (B, C, notified)

Revision ID: 0015_person_indexes
Revises: 0014_case_stage
"""
import sqlalchemy as sa
from alembic import op


revision = '0015_person_indexes'
down_revision = '0014_case_stage'
branch_labels = None
depends_on = None

UNREAD = sa.text("read_at IS NULL")


def upgrade() -> None:
    # Leads with the person, so it serves every lookup the old index did.
    op.create_index("ix_case_parties_person", "case_parties", ["user_id", "relation", "case_id"])
    op.drop_index("ix_case_parties_user_id", table_name="case_parties")
    op.create_index("ix_notifications_unread", "notifications", ["user_id", "id"],
                    postgresql_where=UNREAD, sqlite_where=UNREAD)
    op.create_index("ix_cases_county_procedure", "cases", ["county_id", "procedure"])
    op.create_index("ix_cases_county_notified", "cases", ["county_id", "owner_notified_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_county_notified", table_name="cases")
    op.drop_index("ix_cases_county_procedure", table_name="cases")
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.create_index("ix_case_parties_user_id", "case_parties", ["user_id"])
    op.drop_index("ix_case_parties_person", table_name="case_parties")

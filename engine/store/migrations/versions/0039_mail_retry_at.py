"""when a notice whose mail the server refused may be tried again: the tries of a mail are spread
over an hour and more (``engine.write.outputs.RETRY_AFTER``) instead of coming one a sweeper
round, so that a server that says "try later" (a relay's rate limit, greylisting) is tried later,
not five times in a minute and then given up.

Only adds a column: the release before this one, serving until its workers restart, does not
know it and tries as it did.

Revision ID: 0039_mail_retry_at
Revises: 0038_reported_cases
"""
import sqlalchemy as sa
from alembic import op

revision = '0039_mail_retry_at'
down_revision = '0038_reported_cases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite 3.35+), as 0023: no copy of the table.
    op.add_column('notifications', sa.Column('mail_retry_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('notifications', 'mail_retry_at')

"""A first password an administrator gives is temporary: valid for a few days and only to
choose one's own (``users.password_temporary_until``). Null for every password before it.

Revision ID: 0047_first_passwords
Revises: 0046_system_event_counties
"""
import sqlalchemy as sa
from alembic import op

revision = '0047_first_passwords'
down_revision = '0046_system_event_counties'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('password_temporary_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('users', 'password_temporary_until')

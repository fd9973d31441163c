"""the school's language form (målform) for letters to families

Revision ID: 0009_malform
Revises: 0008_chain_heads
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_malform'
down_revision = '0008_chain_heads'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite 3.35+): a batch copy of schools would trip the rows that point at it.
def upgrade() -> None:
    op.add_column('schools', sa.Column('malform', sa.String(length=2), nullable=False, server_default='nb'))


def downgrade() -> None:
    op.drop_column('schools', 'malform')

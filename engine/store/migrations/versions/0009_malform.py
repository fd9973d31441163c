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


def upgrade() -> None:
    with op.batch_alter_table('schools') as batch:
        batch.add_column(sa.Column('malform', sa.String(length=2), nullable=False, server_default='nb'))


def downgrade() -> None:
    with op.batch_alter_table('schools') as batch:
        batch.drop_column('malform')

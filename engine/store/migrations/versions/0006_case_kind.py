"""case kind

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 16:12:10.815765
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='sak', nullable=False))
        batch_op.create_index(batch_op.f('ix_cases_kind'), ['kind'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_kind'))
        batch_op.drop_column('kind')

    

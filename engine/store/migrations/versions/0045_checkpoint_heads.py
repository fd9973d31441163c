"""The chain heads folded through the latest checkpoint, kept in a table of their own: the hourly
checkpoint read and folded every checkpoint ever written (with a county's reads, a few million
heads after a year, and the system chain's lock held meanwhile). The tables start empty; the next
checkpoint written folds the ones before it once and fills them.

Revision ID: 0045_checkpoint_heads
Revises: 0044_outbox_stage_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = '0045_checkpoint_heads'
down_revision = '0044_outbox_stage_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkpoint_heads',
                    sa.Column('chain', sa.String(length=40), nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('hash', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('chain'))
    op.create_table('checkpoint_folds',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('through_seq', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('checkpoint_folds')
    op.drop_table('checkpoint_heads')

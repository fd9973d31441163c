"""chain heads on the case row, and which key signed each history event

Each case row gets the head of its history chain (the last event's number and hash), filled
in from the chains as they stand; history events get ``key_id`` (empty for the plain SHA-256
events written so far).

Revision ID: 0008_chain_heads
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_chain_heads'
down_revision = '0007'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

# The last event of each case's chain; ``'case:' || id`` is the chain name on both databases.
BACKFILL = """
UPDATE cases SET
    chain_seq = COALESCE((SELECT MAX(h.seq) FROM history_events h WHERE h.chain = 'case:' || cases.id), 0),
    chain_hash = COALESCE((SELECT h.hash FROM history_events h WHERE h.chain = 'case:' || cases.id
                           ORDER BY h.seq DESC LIMIT 1), :genesis)
"""


def upgrade() -> None:
    op.add_column('cases', sa.Column('chain_seq', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('cases', sa.Column('chain_hash', sa.String(length=64), nullable=False, server_default=GENESIS))
    op.add_column('history_events', sa.Column('key_id', sa.String(length=16), nullable=True))
    op.get_bind().execute(sa.text(BACKFILL), {"genesis": GENESIS})


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of history_events would lose its triggers.
    op.drop_column('history_events', 'key_id')
    op.drop_column('cases', 'chain_hash')
    op.drop_column('cases', 'chain_seq')

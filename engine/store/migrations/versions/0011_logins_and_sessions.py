"""log-in counters and server-side web sessions

``login_counters`` holds the log-in throttle's counts per account and per address, shared by
every web worker; ``web_sessions`` holds one row per logged-in browser (the cookie carries only
a random token whose SHA-256 is the row's key).

Revision ID: 0011_logins_and_sessions
Revises: 0010_access_grants
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_logins_and_sessions'
down_revision = '0010_access_grants'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_counters',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('agent', sa.String(length=200), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])
    op.create_index('ix_web_sessions_ended_at', 'web_sessions', ['ended_at'])


def downgrade() -> None:
    op.drop_index('ix_web_sessions_ended_at', table_name='web_sessions')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_table('login_counters')

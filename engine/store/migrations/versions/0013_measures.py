"""measures of action plans, with the colleague responsible and what was carried out

Revision ID: 0013_measures
Revises: 0012_list_indexes
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_measures'
down_revision = '0012_list_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('plan_task_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('when_text', sa.Text(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('responsible_text', sa.Text(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_measures_case_id', 'measures', ['case_id'])
    op.create_index('ix_measures_responsible', 'measures', ['responsible_id', 'current', 'case_id'])
    # Plans made before this release keep their measures in the history only; their cases show
    # them as before, and a revised plan starts the rows.


def downgrade() -> None:
    op.drop_index('ix_measures_responsible', 'measures')
    op.drop_index('ix_measures_case_id', 'measures')
    op.drop_table('measures')

"""an accused without an account in kap12: from this release the identification in B and C may
name an accused who is not in the school's list of staff (an agency substitute, a student
teacher, a former employee). They are a party to the case like any accused, without a user:
``case_parties.user_id`` may be empty for them. The party is what lets grants take effect
(nobody with an account can be the accused then); their name and tie to the school are in the
identification's event. The downgrade removes such rows (the history keeps the event), and
grants in those cases wait again for an accused from the list.

Revision ID: 0032_accused_without_account
Revises: 0031_rektor_also_responsible
"""
import sqlalchemy as sa
from alembic import op

revision = '0032_accused_without_account'
down_revision = '0031_rektor_also_responsible'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM case_parties WHERE user_id IS NULL")
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)

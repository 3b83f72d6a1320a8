"""pulse responses unlinked: a worker's pulse response loses its respondent when its round
closes (no one can resume it then) and gets a random id instead (respondent_ref).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:55:52

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import db.types


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('respondent_ref', sa.String(length=16), nullable=True))



def downgrade() -> None:
    # In place (SQLite 3.35+ drops a column itself): a copy of the table would break the
    # survey views built on it (migration 0007).
    with op.batch_alter_table('survey_responses', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('respondent_ref')


"""late rounds: a month opened late on purpose asks only those who were members by its end
(survey_rounds.members_until).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:50:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import db.types


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('survey_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('members_until', db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place: a copy of the table would break the survey views built on it (migration 0007).
    with op.batch_alter_table('survey_rounds', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('members_until')

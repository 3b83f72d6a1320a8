"""no conversation states: every conversation is a flow whose state is in the user's draft
(chat/flow.py, user_drafts); no ConversationHandler has written conversation_states since the
flows replaced them. A downgrade brings the table back empty.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 20:50:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import db.types


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_table('conversation_states')


def downgrade() -> None:
    op.create_table('conversation_states',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'key', name=op.f('pk_conversation_states'))
    )

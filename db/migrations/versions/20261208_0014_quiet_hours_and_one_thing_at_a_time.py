"""quiet hours and one thing at a time: a broadcast may be urgent (sent at night and into
conversations), an outbox group says whether it is bulk (its rows wait while their recipient
is in a conversation), and a draft says when its open flow was last touched.

Existing groups of broadcasts and survey rounds are bulk. Existing drafts get `flow_at` the
next time their user writes to the bot: until then they count as idle.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:42:05

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import db.types


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default=sa.text('(false)'),
                                      nullable=False))

    with op.batch_alter_table('outbox_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bulk', sa.Boolean(), server_default=sa.text('(false)'),
                                      nullable=False))
    op.execute("UPDATE outbox_groups SET bulk = true WHERE kind IN ('broadcast', 'survey')")

    with op.batch_alter_table('user_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow_at', db.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_user_drafts_flow_at', ['flow_at'], unique=False,
                              postgresql_where=sa.text('flow_at IS NOT NULL'),
                              sqlite_where=sa.text('flow_at IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('user_drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_user_drafts_flow_at',
                            postgresql_where=sa.text('flow_at IS NOT NULL'),
                            sqlite_where=sa.text('flow_at IS NOT NULL'))
        batch_op.drop_column('flow_at')

    with op.batch_alter_table('outbox_groups', schema=None) as batch_op:
        batch_op.drop_column('bulk')

    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_column('urgent')

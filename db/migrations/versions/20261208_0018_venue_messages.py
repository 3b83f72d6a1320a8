"""venue messages: the outbox's media kinds gain "venue"

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 09:00:00.000000

A workshop's map pin goes to each invitee as a Telegram venue, a message of its own in the
outbox: its point, name and address are stored as the media of the message (kind "venue").
The kinds are a CHECK constraint (db.models._enum, no native enum type), so the constraint
is replaced; on SQLite batch mode copies `outbox_media`, which no SQL view reads.
"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_KINDS = "'photo', 'document'"
NEW_KINDS = OLD_KINDS + ", 'venue'"


def _kinds(kinds: str) -> None:
    with op.batch_alter_table('outbox_media', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_media_media_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_media_media_kind'),
                                         f"kind IN ({kinds})")


def upgrade() -> None:
    _kinds(NEW_KINDS)


def downgrade() -> None:
    # Venue messages become empty text messages: the old kinds cannot hold them.
    op.execute("UPDATE outbox_contents SET media_id = NULL WHERE media_id IN "
               "(SELECT id FROM outbox_media WHERE kind = 'venue')")
    op.execute("DELETE FROM outbox_media WHERE kind = 'venue'")
    _kinds(OLD_KINDS)

"""one outbox for every message: groups, shared contents and media, expiry; staff notices in it

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 16:08:22.075569

The text, parse mode and buttons of each row move to `outbox_contents` (one content row per
old row, reusing its id), whose group is the broadcast's (`broadcast:<id>`, from
`broadcast_id`) or, for rows without one, `legacy:outbox`. Staff notices already sent become
sent rows of the group `enrolment:<id>` with their message ids, so a decision still edits
them. `outbox.state` gains "expired": the states are a CHECK constraint (db.models._enum, no
native enum type), so the constraint is replaced.
"""
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import db.types


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OLD_STATES = "'pending', 'sending', 'sent', 'failed', 'skipped'"
NEW_STATES = OLD_STATES + ", 'expired'"


def _now() -> sa.BindParameter[datetime]:
    # The one wall-clock read outside chat/clock.py: a migration runs before the bot and
    # without its clock (`score-bot db upgrade`, alembic), and stamps the rows it copies with
    # when the copy was made.
    return sa.bindparam('now', datetime.now(timezone.utc), type_=db.types.UTCDateTime())


def _advance_sequence(table: str) -> None:
    """Ids were inserted by hand: PostgreSQL's sequence must continue after them."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                   f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")


def upgrade() -> None:
    op.create_table('outbox_groups',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_groups')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_groups_key'))
    )
    op.create_table('outbox_media',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('kind', sa.Enum('photo', 'document', name='media_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('file_ref', sa.String(length=200), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_media')),
    sa.UniqueConstraint('sha256', 'kind', name='uq_outbox_media_sha256_kind')
    )
    op.create_table('outbox_contents',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('group_id', BigId, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('parse_mode', sa.String(length=16), nullable=True),
    sa.Column('buttons', sa.JSON(), nullable=True),
    sa.Column('media_id', BigId, nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['outbox_groups.id'], name=op.f('fk_outbox_contents_group_id_outbox_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['media_id'], ['outbox_media.id'], name=op.f('fk_outbox_contents_media_id_outbox_media')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_contents'))
    )
    with op.batch_alter_table('outbox_contents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_contents_group_id'), ['group_id'], unique=False)

    # Groups: one per broadcast (a scheduled one's is used when it is queued), one for rows
    # without a broadcast, one per enrolment with staff notices.
    op.execute("INSERT INTO outbox_groups (key, kind, created_at, cancelled_at) "
               "SELECT 'broadcast:' || CAST(id AS VARCHAR(20)), 'broadcast', created_at, "
               "cancelled_at FROM broadcasts")
    op.execute(sa.text("INSERT INTO outbox_groups (key, kind, created_at) "
                       "SELECT 'legacy:outbox', 'legacy', :now WHERE EXISTS "
                       "(SELECT 1 FROM outbox WHERE broadcast_id IS NULL)").bindparams(_now()))
    op.execute(sa.text("INSERT INTO outbox_groups (key, kind, created_at) "
                       "SELECT DISTINCT 'enrolment:' || CAST(enterprise_id AS VARCHAR(20)), "
                       "'enrolment', :now FROM staff_notices").bindparams(_now()))
    # The rows' contents, one each, under the row's own id.
    op.execute("INSERT INTO outbox_contents (id, group_id, text, parse_mode, buttons, "
               "created_at) SELECT o.id, COALESCE((SELECT g.id FROM outbox_groups g "
               "WHERE g.key = 'broadcast:' || CAST(o.broadcast_id AS VARCHAR(20))), "
               "(SELECT g.id FROM outbox_groups g WHERE g.key = 'legacy:outbox')), "
               "o.text, o.parse_mode, o.buttons, o.created_at FROM outbox o")
    _advance_sequence('outbox_contents')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('expires_at', db.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE outbox SET content_id = id")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('content_id', existing_type=BigId, nullable=False)
        batch_op.drop_index('ix_outbox_broadcast_state')
        batch_op.create_index('ix_outbox_content_state', ['content_id', 'state'], unique=False)
        batch_op.create_index('ix_outbox_expiry', ['expires_at'], unique=False, postgresql_where=sa.text('expires_at IS NOT NULL'), sqlite_where=sa.text('expires_at IS NOT NULL'))
        batch_op.drop_constraint(op.f('fk_outbox_broadcast_id_broadcasts'), type_='foreignkey')
        batch_op.create_foreign_key(op.f('fk_outbox_content_id_outbox_contents'), 'outbox_contents', ['content_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_constraint(op.f('ck_outbox_outbox_state'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_outbox_state'), f"state IN ({NEW_STATES})")
        batch_op.drop_column('text')
        batch_op.drop_column('broadcast_id')
        batch_op.drop_column('buttons')
        batch_op.drop_column('parse_mode')

    # Staff notices already sent: sent rows of their enrolment's group, to be edited later.
    op.execute(sa.text("INSERT INTO outbox_contents (group_id, text, parse_mode, created_at) "
                       "SELECT id, 'staff notice sent before the outbox', NULL, :now "
                       "FROM outbox_groups WHERE kind = 'enrolment'").bindparams(_now()))
    op.execute(sa.text(
        "INSERT INTO outbox (dedup_key, recipient_id, content_id, priority, state, attempts, "
        "next_attempt_at, message_id, created_at, sent_at) "
        "SELECT 'enrol' || CAST(n.enterprise_id AS VARCHAR(20)) || 'legacy' || "
        "CAST(n.id AS VARCHAR(20)) || ':' || CAST(n.chat_id AS VARCHAR(20)), n.chat_id, c.id, "
        "10, 'sent', 1, :now, n.message_id, :now, :now FROM staff_notices n "
        "JOIN outbox_groups g ON g.key = 'enrolment:' || CAST(n.enterprise_id AS VARCHAR(20)) "
        "JOIN outbox_contents c ON c.group_id = g.id").bindparams(_now()))

    with op.batch_alter_table('staff_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_notices_enterprise_id'))
    op.drop_table('staff_notices')


def downgrade() -> None:
    op.create_table('staff_notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_staff_notices_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_notices'))
    )
    with op.batch_alter_table('staff_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_notices_enterprise_id'), ['enterprise_id'], unique=False)
    op.execute("INSERT INTO staff_notices (enterprise_id, chat_id, message_id) "
               "SELECT CAST(SUBSTR(g.key, 11) AS INTEGER), o.recipient_id, o.message_id "
               "FROM outbox o JOIN outbox_contents c ON c.id = o.content_id "
               "JOIN outbox_groups g ON g.id = c.group_id "
               "WHERE g.kind = 'enrolment' AND o.state = 'sent' AND o.message_id IS NOT NULL")
    op.execute("DELETE FROM outbox WHERE content_id IN (SELECT c.id FROM outbox_contents c "
               "JOIN outbox_groups g ON g.id = c.group_id WHERE g.kind = 'enrolment')")
    op.execute("UPDATE outbox SET state = 'skipped', last_error = 'expired' "
               "WHERE state = 'expired'")

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parse_mode', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('buttons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('broadcast_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))
    op.execute("UPDATE outbox SET "
               "text = (SELECT c.text FROM outbox_contents c WHERE c.id = outbox.content_id), "
               "parse_mode = (SELECT c.parse_mode FROM outbox_contents c "
               "WHERE c.id = outbox.content_id), "
               "buttons = (SELECT c.buttons FROM outbox_contents c "
               "WHERE c.id = outbox.content_id), "
               "broadcast_id = (SELECT CAST(SUBSTR(g.key, 11) AS INTEGER) FROM outbox_contents c "
               "JOIN outbox_groups g ON g.id = c.group_id "
               "WHERE c.id = outbox.content_id AND g.kind = 'broadcast')")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('text', existing_type=sa.Text(), nullable=False)
        batch_op.drop_constraint(op.f('ck_outbox_outbox_state'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_outbox_state'), f"state IN ({OLD_STATES})")
        batch_op.drop_constraint(op.f('fk_outbox_content_id_outbox_contents'), type_='foreignkey')
        batch_op.create_foreign_key(op.f('fk_outbox_broadcast_id_broadcasts'), 'broadcasts', ['broadcast_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_index('ix_outbox_content_state')
        batch_op.drop_index('ix_outbox_expiry', postgresql_where=sa.text('expires_at IS NOT NULL'), sqlite_where=sa.text('expires_at IS NOT NULL'))
        batch_op.create_index('ix_outbox_broadcast_state', ['broadcast_id', 'state'], unique=False)
        batch_op.drop_column('expires_at')
        batch_op.drop_column('content_id')

    op.drop_table('outbox_contents')
    op.drop_table('outbox_media')
    op.drop_table('outbox_groups')

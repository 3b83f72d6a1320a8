"""pulse releases: what an enterprise may read of a closed pulse round, released once with
differential-privacy noise and kept (domain/owner_totals.py), so asking again cannot average
the noise away. Rounds closed before it are released at the next look.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 22:48:09

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import db.types


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('pulse_releases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('exact_responses', sa.Integer(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('epsilon', sa.Float(), nullable=False),
    sa.Column('released_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_pulse_releases_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_pulse_releases_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pulse_releases')),
    sa.UniqueConstraint('round_id', 'enterprise_id', name=op.f('uq_pulse_releases_round_id'))
    )
    with op.batch_alter_table('pulse_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_releases_enterprise_id'), ['enterprise_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pulse_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_releases_enterprise_id'))

    op.drop_table('pulse_releases')

"""approved enterprises unique by name and city, waiting ones may share them: an enrolment
still waiting (by anyone, owner or not) no longer keeps the real owner from enrolling; staff
see both and approve one. A downgrade fails while two enterprises share a name and city.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:49:18.463803

"""
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _views() -> ModuleType:
    """Migration 0007, whose views read enterprises: SQLite's batch mode rebuilds the table,
    which it refuses while a view names it, so they are dropped first and made again after
    (the same frozen SQL)."""
    path = Path(__file__).with_name("20261129_0007_survey_views.py")
    spec = importlib.util.spec_from_file_location("survey_views_0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    """Upgrade schema."""
    views = _views()
    views.downgrade()
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_enterprises_name_city'), type_='unique')
        batch_op.create_index('ix_enterprises_name_city', ['name_key', 'city_key'], unique=False)
        batch_op.create_index('uq_enterprises_approved_name_city', ['name_key', 'city_key'], unique=True, postgresql_where=sa.text("status = 'approved'"), sqlite_where=sa.text("status = 'approved'"))
    views.upgrade()


def downgrade() -> None:
    """Downgrade schema."""
    views = _views()
    views.downgrade()
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index('uq_enterprises_approved_name_city', postgresql_where=sa.text("status = 'approved'"), sqlite_where=sa.text("status = 'approved'"))
        batch_op.drop_index('ix_enterprises_name_city')
        batch_op.create_unique_constraint(batch_op.f('uq_enterprises_name_city'), ['name_key', 'city_key'])
    views.upgrade()

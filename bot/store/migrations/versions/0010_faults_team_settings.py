"""team_settings: settings of the whole team, first the ops lead (运营主管) who gets escalations

Revision ID: 0010_faults
Revises: 0001
Create Date: 2026-12-08
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0010_faults'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('team_settings',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('updated_at', bot.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('team_settings')

"""calendar_days, calendar_years, calendar_changes, calendar_imports (holiday arrangements, /节假日)

Revision ID: 0009_times_calendar
Revises: 0001
Create Date: 2026-11-26
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0009_times_calendar'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('updated_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day')
    )
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.create_index('ix_calendar_days_year', ['year'], unique=False)

    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('updated_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('calendar_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('calendar_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('days', sa.JSON(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('calendar_imports')
    op.drop_table('calendar_changes')
    op.drop_table('calendar_years')
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.drop_index('ix_calendar_days_year')
    op.drop_table('calendar_days')

"""timers (the timer engine), reminders and reminder_log (/提醒)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:34:07.702485
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('reminder_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reminder_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('due', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('until', bot.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reminder_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_log_reminder_id'), ['reminder_id'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('creator_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('everyone', sa.Boolean(), nullable=False),
    sa.Column('timer_id', sa.Integer(), nullable=True),
    sa.Column('source_message_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_chat_id'), ['chat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_timer_id'), ['timer_id'], unique=False)

    op.create_table('timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('next_due', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=True),
    sa.Column('tz', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('fire_count', sa.Integer(), nullable=False),
    sa.Column('last_fired_at', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('stale_after_seconds', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timers_ref'), ['ref'], unique=False)
        batch_op.create_index('ix_timers_state_due', ['state', 'next_due'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_state_due')
        batch_op.drop_index(batch_op.f('ix_timers_ref'))

    op.drop_table('timers')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_timer_id'))
        batch_op.drop_index(batch_op.f('ix_reminders_chat_id'))

    op.drop_table('reminders')
    with op.batch_alter_table('reminder_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_log_reminder_id'))

    op.drop_table('reminder_log')

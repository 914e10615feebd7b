"""Feishu-native features: stream calendar, Bitable bindings, task mirrors, satisfaction survey

Revision ID: 0010_native
Revises: 0001
Create Date: 2026-11-26
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0010_native'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = ('0003', '0006')


def _s(n: int):
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def upgrade() -> None:
    ts = bot.store.types.UTCDateTime
    op.create_table('stream_calendar_settings',
    sa.Column('chat_id', _s(128), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('per_room', sa.Boolean(), nullable=False),
    sa.Column('reminder_minutes', sa.Integer(), nullable=False),
    sa.Column('sync_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_by', _s(128), nullable=False),
    sa.Column('updated_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id')
    )
    op.create_table('stream_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_key', _s(200), nullable=False),
    sa.Column('chat_id', _s(128), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('summary', _s(255), nullable=False),
    sa.Column('calendar_id', _s(200), nullable=True),
    sa.Column('status', _s(16), nullable=False),
    sa.Column('create_key', _s(250), nullable=False),
    sa.Column('created_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope_key')
    )
    op.create_index('ix_stream_calendars_chat_id', 'stream_calendars', ['chat_id'], unique=False)
    op.create_table('stream_calendar_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=False),
    sa.Column('scope_key', _s(200), nullable=False),
    sa.Column('create_key', _s(200), nullable=False),
    sa.Column('event_id', _s(200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sent', sa.JSON(), nullable=False),
    sa.Column('seen', sa.JSON(), nullable=False),
    sa.Column('state', _s(16), nullable=False),
    sa.Column('updated_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stream_id')
    )
    op.create_index('ix_stream_calendar_events_scope_key', 'stream_calendar_events', ['scope_key'], unique=False)
    op.create_table('bitable_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', _s(128), nullable=False),
    sa.Column('app_token', _s(128), nullable=False),
    sa.Column('table_id', _s(64), nullable=False),
    sa.Column('link', _s(500), nullable=False),
    sa.Column('status', _s(16), nullable=False),
    sa.Column('every_minutes', sa.Integer(), nullable=False),
    sa.Column('writeback', sa.JSON(), nullable=False),
    sa.Column('problem', _s(64), nullable=False),
    sa.Column('created_by', _s(128), nullable=False),
    sa.Column('created_at', ts(), nullable=False),
    sa.Column('confirmed_at', ts(), nullable=True),
    sa.Column('synced_at', ts(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_bitable_bindings_chat_id', 'bitable_bindings', ['chat_id'], unique=False)
    op.create_table('bitable_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('binding_id', sa.Integer(), nullable=False),
    sa.Column('record_id', _s(64), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', _s(64), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('binding_id', 'record_id')
    )
    op.create_index('ix_bitable_rows_binding_id', 'bitable_rows', ['binding_id'], unique=False)
    op.create_table('task_mirrors',
    sa.Column('task_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('summary', _s(3000), nullable=False),
    sa.Column('due_ms', sa.BigInteger(), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', ts(), nullable=True),
    sa.PrimaryKeyConstraint('task_id')
    )
    op.create_table('survey_settings',
    sa.Column('chat_id', _s(128), nullable=False),
    sa.Column('contacts', sa.JSON(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('remind_days', sa.Integer(), nullable=False),
    sa.Column('updated_by', _s(128), nullable=False),
    sa.Column('updated_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id')
    )
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', _s(128), nullable=False),
    sa.Column('month', _s(7), nullable=False),
    sa.Column('sent_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id', 'month')
    )
    op.create_table('survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('open_id', _s(128), nullable=False),
    sa.Column('dept', _s(64), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_at', ts(), nullable=True),
    sa.Column('reminded', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('survey_id', 'open_id')
    )
    op.create_index('ix_survey_answers_survey_id', 'survey_answers', ['survey_id'], unique=False)


def downgrade() -> None:
    for index, table in (('ix_survey_answers_survey_id', 'survey_answers'),
                         ('ix_bitable_rows_binding_id', 'bitable_rows'),
                         ('ix_bitable_bindings_chat_id', 'bitable_bindings'),
                         ('ix_stream_calendar_events_scope_key', 'stream_calendar_events'),
                         ('ix_stream_calendars_chat_id', 'stream_calendars')):
        op.drop_index(index, table_name=table)
    for table in ('survey_answers', 'surveys', 'survey_settings', 'task_mirrors', 'bitable_rows',
                  'bitable_bindings', 'stream_calendar_events', 'stream_calendars', 'stream_calendar_settings'):
        op.drop_table(table)

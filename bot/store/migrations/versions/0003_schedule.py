"""schedule: rooms, staff (people and job titles), streams, stream_changes

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 15:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0003'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('field_chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('open_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('added_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_id')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_name'), ['name'], unique=False)

    op.create_table('streams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('ends_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('streamer_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('assistant_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('field_control_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('console_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('tech_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('brand', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('theme', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('target_gmv', sa.BigInteger(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actual_start', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('actual_end', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('streams', schema=None) as batch_op:
        batch_op.create_index('ix_streams_room_start', ['room_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_streams_start_end', ['starts_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_streams_streamer_id'), ['streamer_id'], unique=False)

    op.create_table('stream_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('at', bot.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['stream_id'], ['streams.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stream_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stream_changes_stream_id'), ['stream_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stream_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stream_changes_stream_id'))

    op.drop_table('stream_changes')
    with op.batch_alter_table('streams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_streams_streamer_id'))
        batch_op.drop_index('ix_streams_start_end')
        batch_op.drop_index('ix_streams_room_start')

    op.drop_table('streams')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_name'))

    op.drop_table('staff')
    op.drop_table('rooms')

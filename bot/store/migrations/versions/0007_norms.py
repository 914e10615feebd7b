"""norm_settings, stream_checkpoints, product_explanations (stream norms)

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-26
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0007'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('norm_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('updated_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope', 'key')
    )
    op.create_table('stream_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('owner_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('done_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('done_at', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('failed_at', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('override_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('escalated_at', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('card_message_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stream_id', 'kind')
    )
    with op.batch_alter_table('stream_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stream_checkpoints_stream_id'), ['stream_id'], unique=False)
    op.create_table('product_explanations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=True),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('product', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('started_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('ended_at', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('seconds', sa.Integer(), nullable=True),
    sa.Column('lower_min', sa.Integer(), nullable=False),
    sa.Column('upper_min', sa.Integer(), nullable=False),
    sa.Column('overtime', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('product_explanations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_explanations_chat_id'), ['chat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_explanations_stream_id'), ['stream_id'], unique=False)


def downgrade() -> None:
    op.drop_table('product_explanations')
    op.drop_table('stream_checkpoints')
    op.drop_table('norm_settings')

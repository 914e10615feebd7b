"""faults, fault_events, oncall_rotations, oncall_overrides (fault response, /故障 /值班)

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-26 15:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0005'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    ts = bot.store.types.UTCDateTime
    op.create_table('faults',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', _s(16), nullable=False),
    sa.Column('category', _s(32), nullable=False),
    sa.Column('severity', _s(4), nullable=False),
    sa.Column('base_severity', _s(4), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('room_name', _s(64), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=True),
    sa.Column('live', _s(16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('locale', _s(8), nullable=False),
    sa.Column('chat_id', _s(128), nullable=False),
    sa.Column('report_message_id', _s(128), nullable=False),
    sa.Column('reporter_id', _s(128), nullable=False),
    sa.Column('card_key', _s(200), nullable=False),
    sa.Column('mode', _s(16), nullable=False),
    sa.Column('group_chat_id', _s(128), nullable=False),
    sa.Column('group_card_key', _s(200), nullable=False),
    sa.Column('group_name', _s(200), nullable=False),
    sa.Column('oncall_ids', sa.JSON(), nullable=False),
    sa.Column('backup_ids', sa.JSON(), nullable=False),
    sa.Column('field_control_id', _s(128), nullable=False),
    sa.Column('lead_ids', sa.JSON(), nullable=False),
    sa.Column('tech_lead_ids', sa.JSON(), nullable=False),
    sa.Column('acked_by', _s(128), nullable=False),
    sa.Column('acked_at', ts(), nullable=True),
    sa.Column('resolved_by', _s(128), nullable=False),
    sa.Column('resolved_at', ts(), nullable=True),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.Column('fix', sa.Text(), nullable=False),
    sa.Column('ack_breached', sa.Boolean(), nullable=False),
    sa.Column('resolve_breached', sa.Boolean(), nullable=False),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('created_at', ts(), nullable=False),
    sa.Column('updated_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('faults', schema=None) as batch_op:
        batch_op.create_index('ix_faults_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_faults_room_cat', ['room_id', 'category', 'created_at'], unique=False)

    op.create_table('fault_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fault_id', sa.Integer(), nullable=False),
    sa.Column('kind', _s(16), nullable=False),
    sa.Column('by', _s(128), nullable=False),
    sa.Column('at', ts(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fault_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fault_events_fault_id'), ['fault_id'], unique=False)

    op.create_table('oncall_rotations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', _s(32), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('starts_on', _s(10), nullable=False),
    sa.Column('period_days', sa.Integer(), nullable=False),
    sa.Column('created_by', _s(128), nullable=False),
    sa.Column('created_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('category')
    )
    op.create_table('oncall_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', _s(10), nullable=False),
    sa.Column('category', _s(32), nullable=False),
    sa.Column('open_id', _s(128), nullable=False),
    sa.Column('replaces', _s(128), nullable=False),
    sa.Column('created_by', _s(128), nullable=False),
    sa.Column('created_at', ts(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('oncall_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oncall_overrides_day'), ['day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oncall_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oncall_overrides_day'))
    op.drop_table('oncall_overrides')
    op.drop_table('oncall_rotations')
    with op.batch_alter_table('fault_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fault_events_fault_id'))
    op.drop_table('fault_events')
    with op.batch_alter_table('faults', schema=None) as batch_op:
        batch_op.drop_index('ix_faults_room_cat')
        batch_op.drop_index('ix_faults_status_created')
    op.drop_table('faults')

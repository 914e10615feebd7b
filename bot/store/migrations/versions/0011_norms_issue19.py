"""comment_alerts, task_plans, emergencies, departures, newbie_plans (the rest of the work norms, issue 19)

Revision ID: 0011_norms
Revises: 0007
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0011_norms'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString
T = bot.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table('comment_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', S(length=128), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=True),
    sa.Column('room_name', S(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reported_by', S(length=128), nullable=False),
    sa.Column('owner_id', S(length=128), nullable=False),
    sa.Column('created_at', T(), nullable=False),
    sa.Column('due_at', T(), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('handled_by', S(length=128), nullable=True),
    sa.Column('handled_at', T(), nullable=True),
    sa.Column('escalated_at', T(), nullable=True),
    sa.Column('lead_ids', sa.JSON(), nullable=False),
    sa.Column('card_key', S(length=200), nullable=False),
    sa.Column('idem_key', S(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key')
    )
    with op.batch_alter_table('comment_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_alerts_chat_id'), ['chat_id'], unique=False)
    op.create_table('task_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', S(length=128), nullable=False),
    sa.Column('asked_at', T(), nullable=False),
    sa.Column('due_at', T(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('finish_at', T(), nullable=True),
    sa.Column('submitted_by', S(length=128), nullable=True),
    sa.Column('submitted_at', T(), nullable=True),
    sa.Column('reminded_at', T(), nullable=True),
    sa.Column('escalated_at', T(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id')
    )
    op.create_table('emergencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', S(length=16), nullable=False),
    sa.Column('chat_id', S(length=128), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=True),
    sa.Column('fault_id', sa.Integer(), nullable=True),
    sa.Column('room_name', S(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reported_by', S(length=128), nullable=False),
    sa.Column('oncall_ids', sa.JSON(), nullable=False),
    sa.Column('people', sa.JSON(), nullable=False),
    sa.Column('started_at', T(), nullable=False),
    sa.Column('due_at', T(), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('outcome', S(length=16), nullable=False),
    sa.Column('note', S(length=500), nullable=False),
    sa.Column('resolved_by', S(length=128), nullable=True),
    sa.Column('resolved_at', T(), nullable=True),
    sa.Column('escalated_at', T(), nullable=True),
    sa.Column('lead_ids', sa.JSON(), nullable=False),
    sa.Column('card_key', S(length=200), nullable=False),
    sa.Column('idem_key', S(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key')
    )
    with op.batch_alter_table('emergencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergencies_chat_id'), ['chat_id'], unique=False)
    op.create_table('departures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('open_id', S(length=128), nullable=False),
    sa.Column('name', S(length=100), nullable=False),
    sa.Column('chat_id', S(length=128), nullable=False),
    sa.Column('leave_on', S(length=10), nullable=False),
    sa.Column('due_at', T(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('created_by', S(length=128), nullable=False),
    sa.Column('created_at', T(), nullable=False),
    sa.Column('done_at', T(), nullable=True),
    sa.Column('escalated_at', T(), nullable=True),
    sa.Column('card_key', S(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departures_open_id'), ['open_id'], unique=False)
    op.create_table('newbie_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('open_id', S(length=128), nullable=False),
    sa.Column('chat_id', S(length=128), nullable=False),
    sa.Column('starts_on', S(length=10), nullable=False),
    sa.Column('ends_on', S(length=10), nullable=False),
    sa.Column('task_ids', sa.JSON(), nullable=False),
    sa.Column('created_by', S(length=128), nullable=False),
    sa.Column('created_at', T(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('newbie_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_newbie_plans_open_id'), ['open_id'], unique=False)


def downgrade() -> None:
    for name in ('newbie_plans', 'departures', 'emergencies', 'task_plans', 'comment_alerts'):
        op.drop_table(name)

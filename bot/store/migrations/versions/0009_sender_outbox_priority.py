"""outbox priority (pages first) and the failure digest flag; faults.buzz_fallback

Revision ID: 0009_sender
Revises: 0001
Depends on: 0005 (faults)
Create Date: 2026-11-27
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0009_sender'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = '0005'


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.SmallInteger(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('reported', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_outbox_status_priority_id', ['status', 'priority', 'id'], unique=False)
    with op.batch_alter_table('faults', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buzz_fallback', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('faults', schema=None) as batch_op:
        batch_op.drop_column('buzz_fallback')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_priority_id')
        batch_op.drop_column('reported')
        batch_op.drop_column('priority')

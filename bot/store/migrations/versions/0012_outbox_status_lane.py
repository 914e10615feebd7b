"""outbox index (status, lane, id) in place of (lane, status, id): the sender's look walks the
lanes with a waiting row, one probe each (bot.sendstore.claim_ids_by_lane); the old index's
lookups (a lane's rows of a status) are served by the new one as well

Revision ID: 0012_outbox_lanes
Revises: 0009_sender
Create Date: 2026-12-06
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0012_outbox_lanes'
down_revision: Union[str, None] = '0009_sender'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_outbox_status_lane_id', 'outbox', ['status', 'lane', 'id'], unique=False)
    op.drop_index('ix_outbox_lane_status_id', table_name='outbox')


def downgrade() -> None:
    op.create_index('ix_outbox_lane_status_id', 'outbox', ['lane', 'status', 'id'], unique=False)
    op.drop_index('ix_outbox_status_lane_id', table_name='outbox')

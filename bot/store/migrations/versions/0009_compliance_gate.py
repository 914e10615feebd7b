"""compliance_records.card_key (a reply to a check card re-checks it) and
stream_checkpoints.gate_record_id (which script check let the T-2d review be confirmed)

Revision ID: 0009_compliance_gate
Revises: 0004
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009_compliance_gate'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = ('0007',)


def upgrade() -> None:
    with op.batch_alter_table('compliance_records') as batch:
        batch.add_column(sa.Column('card_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    with op.batch_alter_table('stream_checkpoints') as batch:
        batch.add_column(sa.Column('gate_record_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stream_checkpoints') as batch:
        batch.drop_column('gate_record_id')
    with op.batch_alter_table('compliance_records') as batch:
        batch.drop_column('card_key')

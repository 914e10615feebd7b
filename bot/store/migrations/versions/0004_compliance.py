"""compliance: check records, team terms, exemptions, audit log

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-26
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0004'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('compliance_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('retention_until', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('compliance_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_audit_retention_until'), ['retention_until'], unique=False)

    op.create_table('compliance_exemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('phrase', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team', 'phrase')
    )
    op.create_table('compliance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('source_message_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('block_count', sa.Integer(), nullable=False),
    sa.Column('warn_count', sa.Integer(), nullable=False),
    sa.Column('total_count', sa.Integer(), nullable=False),
    sa.Column('hits', sa.JSON(), nullable=False),
    sa.Column('exempted', sa.JSON(), nullable=False),
    sa.Column('line_labels', sa.JSON(), nullable=True),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('stream_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('overridden_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('overridden_at', bot.store.types.UTCDateTime(), nullable=True),
    sa.Column('override_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('retention_until', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('compliance_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_records_previous_id'), ['previous_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_records_retention_until'), ['retention_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_records_stream_id'), ['stream_id'], unique=False)
        batch_op.create_index('ix_compliance_records_team_chat_id', ['team', 'chat_id', 'id'], unique=False)
        batch_op.create_index('ix_compliance_records_team_created', ['team', 'created_at'], unique=False)

    op.create_table('compliance_team_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('term', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', bot.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team', 'term')
    )


def downgrade() -> None:
    op.drop_table('compliance_team_terms')
    with op.batch_alter_table('compliance_records', schema=None) as batch_op:
        batch_op.drop_index('ix_compliance_records_team_created')
        batch_op.drop_index('ix_compliance_records_team_chat_id')
        batch_op.drop_index(batch_op.f('ix_compliance_records_stream_id'))
        batch_op.drop_index(batch_op.f('ix_compliance_records_retention_until'))
        batch_op.drop_index(batch_op.f('ix_compliance_records_previous_id'))

    op.drop_table('compliance_records')
    op.drop_table('compliance_exemptions')
    with op.batch_alter_table('compliance_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_audit_retention_until'))
        batch_op.drop_index(batch_op.f('ix_compliance_audit_at'))

    op.drop_table('compliance_audit')

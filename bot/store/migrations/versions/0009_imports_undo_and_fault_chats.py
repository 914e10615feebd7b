"""data imports can be undone or replaced; fault groups are not internal

Revision ID: 0009_imports
Revises: 0008
Create Date: 2026-12-06

- data_imports gains ``state`` (active | undone | replaced), ``before`` (what the import
  overwrote), ``undone_at`` and ``undone_by``.
- Fault-response groups were created with ``internal = true``, which showed sales figures to
  anyone pulled into one (a fault reporter from outside the team): they are not internal.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
import bot.store.types
from alembic import op


revision: str = '0009_imports'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('data_imports') as batch:
        batch.add_column(sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False,
                                   server_default='active'))
        batch.add_column(sa.Column('before', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('undone_at', bot.store.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('undone_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False,
                                   server_default=''))
    chats = sa.table('chats', sa.column('kind', sa.String), sa.column('internal', sa.Boolean))
    op.execute(chats.update().where(chats.c.kind == 'fault').values(internal=False))


def downgrade() -> None:
    with op.batch_alter_table('data_imports') as batch:
        batch.drop_column('undone_by')
        batch.drop_column('undone_at')
        batch.drop_column('before')
        batch.drop_column('state')

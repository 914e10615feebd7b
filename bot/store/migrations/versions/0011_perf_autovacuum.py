"""inbox_lanes (workers pick lanes, not rows: bot.store.inbox) and, on PostgreSQL, per-table
autovacuum thresholds for the queue tables

Revision ID: 0011_perf
Revises: 0001
Create Date: 2026-12-06

The inbox and the outbox are queues: every event is inserted, updated twice and deleted by
housekeeping after BOT_KEEP_DAYS, and every inbox event moves its lane's row. With the
default thresholds (20 % of the table changed) a 200,000-row inbox is vacuumed after 40,000
dead rows; these settings vacuum and re-analyse after a few thousand, so the claim queries'
index walks stay short and the planner's statistics describe today's queue. Housekeeping also
runs VACUUM (ANALYZE) on these tables after pruning (bot/housekeeping.py), so a server with
autovacuum turned off still gets its queue tables cleaned. SQLite: the table only.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import bot.store.types

revision: str = '0011_perf'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# ALTER TABLE ... SET (...) storage parameters; docs/deployment-postgres.md lists them.
AUTOVACUUM = {
    "inbox": {"autovacuum_vacuum_scale_factor": "0.02", "autovacuum_vacuum_threshold": "1000",
              "autovacuum_vacuum_insert_scale_factor": "0.05", "autovacuum_vacuum_insert_threshold": "1000",
              "autovacuum_analyze_scale_factor": "0.02", "autovacuum_analyze_threshold": "1000"},
    "outbox": {"autovacuum_vacuum_scale_factor": "0.02", "autovacuum_vacuum_threshold": "1000",
               "autovacuum_vacuum_insert_scale_factor": "0.05", "autovacuum_vacuum_insert_threshold": "1000",
               "autovacuum_analyze_scale_factor": "0.02", "autovacuum_analyze_threshold": "1000"},
    # a handful of live rows, rewritten by every event: vacuum it after a few hundred changes
    "inbox_lanes": {"autovacuum_vacuum_scale_factor": "0", "autovacuum_vacuum_threshold": "500",
                    "autovacuum_analyze_scale_factor": "0", "autovacuum_analyze_threshold": "500"},
}


def upgrade() -> None:
    op.create_table(
        'inbox_lanes',
        sa.Column('lane', sa.String(length=128), nullable=False),
        sa.Column('head', sa.Integer(), nullable=True),
        sa.Column('held_by', sa.String(length=64), nullable=True),
        sa.Column('held_until', bot.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('lane'),
    )
    op.create_index('ix_inbox_lanes_head', 'inbox_lanes', ['head'], unique=False)
    # Lanes with events waiting when the upgrade runs (a bot stopped with a backlog).
    op.execute("INSERT INTO inbox_lanes (lane, head) SELECT lane, MIN(id) FROM inbox "
               "WHERE status IN ('pending', 'claimed') GROUP BY lane")
    if op.get_bind().dialect.name == "postgresql":
        for table, options in AUTOVACUUM.items():
            op.execute(f"ALTER TABLE {table} SET ({', '.join(f'{k} = {v}' for k, v in options.items())})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, options in AUTOVACUUM.items():
            if table != "inbox_lanes":
                op.execute(f"ALTER TABLE {table} RESET ({', '.join(options)})")
    op.drop_index('ix_inbox_lanes_head', table_name='inbox_lanes')
    op.drop_table('inbox_lanes')

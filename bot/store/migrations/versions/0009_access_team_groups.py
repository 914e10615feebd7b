"""access: the groups an installation already works in become team groups (bot.access)

Before declared scopes, any group could be used; a group that already holds the team's
streams, tasks, reviews or reminders is one of the team's groups, so its members keep working
after the upgrade. New groups become team groups when someone with a role adds the bot or
marks them with /群.

Revision ID: 0009
Revises: 0002, 0003, 0006
Create Date: 2026-12-06
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = ('0002', '0003', '0006')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("""
        UPDATE chats SET kind = 'team'
        WHERE kind = '' AND chat_type = 'group' AND chat_id IN (
            SELECT chat_id FROM streams UNION SELECT chat_id FROM tasks
            UNION SELECT chat_id FROM reviews UNION SELECT chat_id FROM reminders)
    """)


def downgrade() -> None:
    pass  # kinds set by people afterwards cannot be told apart; nothing to undo

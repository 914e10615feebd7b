"""Who gets an escalation: the ops lead (运营主管), for checkpoints, faults, tasks and reviews
alike, through one function, ``escalation_targets``.

The ops lead is a team setting (``/主管 设置 @王运营``), not a role. Roles (bot.roles) are
permissions: what someone may do. Being the one who hears about overdue work grants nothing,
the ops lead usually holds the ops role already, and "运营主管" typed in /角色 keeps meaning
the ops role. A setting names a person exactly, so escalations stop going to whoever happens
to hold the ops role — in the demo that is the 场控, whose own overdue checkpoint escalated
to himself.

``escalation_targets(session, chat_id=..., late=[...], admins=...)`` takes the first of these
that leaves somebody once the late people are taken out (never escalate to the person who is
late):

1. the group's own 主管 (``/任务 设置 主管 @某人``, per team group, bot.tasks);
2. the team's ops lead(s) (this setting);
3. holders of the ops role;
4. the admins (BOT_ADMINS).

When every candidate is late, nobody is returned: the caller still posts in the group.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Optional

from sqlalchemy import JSON, Column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from bot import roles
from bot.store.models import RoleGrant
from bot.store.types import UTCDateTime

OPS_LEAD = "ops_lead"


class TeamSetting(SQLModel, table=True):
    """A setting of the whole team (one installation), by key; the value is JSON."""

    __tablename__ = "team_settings"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(default=None, sa_column=Column(JSON))
    updated_by: str = Field(default="", max_length=128)
    updated_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


async def team_ops_leads(session: AsyncSession) -> list[str]:
    row = await session.get(TeamSetting, OPS_LEAD)
    value = row.value if row is not None else None
    return [str(x) for x in value if x] if isinstance(value, list) else []


async def set_team_ops_leads(session: AsyncSession, open_ids: list[str], *, by: str, now: datetime) -> None:
    """Set (or, with an empty list, clear) the team's ops lead(s)."""
    row = await session.get(TeamSetting, OPS_LEAD)
    ids = list(dict.fromkeys(i for i in open_ids if i))
    if row is None:
        session.add(TeamSetting(key=OPS_LEAD, value=ids, updated_by=by, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = ids, by, now
    await session.flush()


async def chat_lead(session: AsyncSession, chat_id: str) -> str:
    """The group's own 主管 (bot.tasks' per-group setting), or ""."""
    if not chat_id:
        return ""
    from bot.tasks.models import TaskSettings

    row = await session.get(TaskSettings, chat_id)
    return (row.ops_lead or "") if row is not None else ""


async def ops_holders(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(RoleGrant.open_id).where(RoleGrant.role == roles.OPS)
                                       .order_by(RoleGrant.id))).scalars())


async def escalation_targets(session: AsyncSession, *, chat_id: str = "", late: Iterable[str] = (),
                             admins: Iterable[str] = ()) -> list[str]:
    """Who to escalate to: see the module docstring. ``late`` are the people whose work is
    overdue (a checkpoint's owner, a task's owners, the on-call who did not ack)."""
    skip = {x for x in late if x}

    def fresh(ids: Iterable[str]) -> list[str]:
        return [i for i in dict.fromkeys(ids) if i and i not in skip]

    for source in (lambda: _one(chat_lead(session, chat_id)), lambda: team_ops_leads(session),
                   lambda: ops_holders(session)):
        found = fresh(await source())
        if found:
            return found
    return fresh(admins)


async def _one(pending) -> list[str]:
    found = await pending
    return [found] if found else []

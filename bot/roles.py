"""Roles and who holds them. Admins come from BOT_ADMINS; the rest are granted in chat."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import RoleGrant

ADMIN, OPS, TECH, STREAMER, MEMBER = "admin", "ops", "tech", "streamer", "member"
GRANTABLE = (OPS, TECH, STREAMER)
ALL = (ADMIN, OPS, TECH, STREAMER, MEMBER)
RANK = {MEMBER: 0, STREAMER: 1, TECH: 1, OPS: 2, ADMIN: 3}  # for ordering only; allowed() decides
# What people type in chat, in both languages.
NAMES = {"管理员": ADMIN, "admin": ADMIN, "运营": OPS, "ops": OPS, "运营主管": OPS,
         "技术": TECH, "tech": TECH, "主播": STREAMER, "streamer": STREAMER,
         "成员": MEMBER, "member": MEMBER}


def role_from_text(text: str) -> str | None:
    return NAMES.get(text.strip().lower())


_HELD = select(RoleGrant.__table__.c.role).where(RoleGrant.__table__.c.open_id == bindparam("id"))


async def roles_of(session: AsyncSession, open_id: str, admins: tuple[str, ...]) -> set[str]:
    conn = await session.connection()
    return set((await conn.execute(_HELD, {"id": open_id})).scalars()) | without_grants(open_id, admins)


def without_grants(open_id: str, admins: tuple[str, ...]) -> set[str]:
    """What everyone holds, plus admin for the people BOT_ADMINS names."""
    return {MEMBER, ADMIN} if open_id in admins else {MEMBER}


def granted(held: set[str]) -> bool:
    """Holds any role beyond being a member."""
    return bool(held - {MEMBER})


def allowed(held: set[str], required: str) -> bool:
    """Admins may do everything; ops may also do what needs tech or streamer (they run the
    team); everyone else holds exactly the roles granted to them."""
    if required == MEMBER or ADMIN in held or required in held:
        return True
    return required in (TECH, STREAMER) and OPS in held


async def grant(session: AsyncSession, open_id: str, role: str, by: str, now: datetime) -> bool:
    exists = (await session.execute(select(RoleGrant.id).where(
        RoleGrant.open_id == open_id, RoleGrant.role == role))).first()
    if exists:
        return False
    session.add(RoleGrant(open_id=open_id, role=role, granted_by=by, granted_at=now))
    return True


async def revoke(session: AsyncSession, open_id: str, role: str) -> bool:
    result = await session.execute(delete(RoleGrant).where(RoleGrant.open_id == open_id,
                                                           RoleGrant.role == role))
    return bool(result.rowcount)


async def holders(session: AsyncSession) -> list[RoleGrant]:
    return list((await session.execute(select(RoleGrant).order_by(RoleGrant.role, RoleGrant.open_id))).scalars())

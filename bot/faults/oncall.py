"""Who is on call: weekly rotations (per category, or one for all) and one-day overrides.

``on_call(rotations, overrides, category, day)`` is pure: the rotation of the category (else
the one for all) gives the week's primary and the next member as backup; an override for
that day replaces the person it names (or the primary when it names nobody).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.faults.models import OncallOverride, OncallRotation

ALL = ""


@dataclass(frozen=True)
class Duty:
    primary: str = ""
    backup: str = ""
    category: str = ALL  # the rotation that answered ("" = the one for all)
    override: bool = False

    @property
    def people(self) -> list[str]:
        return [p for p in (self.primary, self.backup) if p]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def pick_rotation(rotations: list[OncallRotation], category: str) -> OncallRotation | None:
    by_cat = {r.category: r for r in rotations if r.members}
    return by_cat.get(category) or by_cat.get(ALL)


def on_call(rotations: list[OncallRotation], overrides: list[OncallOverride], category: str,
            day: date) -> Duty:
    rotation = pick_rotation(rotations, category)
    primary = backup = ""
    used = ALL
    if rotation is not None:
        members = list(rotation.members)
        start = date.fromisoformat(rotation.starts_on)
        index = ((day - start).days // max(1, rotation.period_days)) % len(members)
        primary = members[index]
        backup = members[(index + 1) % len(members)] if len(members) > 1 else ""
        used = rotation.category
    overridden = False
    iso = day.isoformat()
    for ov in overrides:
        if ov.day != iso or ov.category not in (ALL, category):
            continue
        if ov.replaces and ov.replaces == backup:
            backup, overridden = ov.open_id, True
        elif not ov.replaces or ov.replaces == primary:
            primary, overridden = ov.open_id, True
    if backup == primary:
        backup = ""
    return Duty(primary, backup, used, overridden)


# -- the store ------------------------------------------------------------------------------------
async def rotations(session: AsyncSession) -> list[OncallRotation]:
    return list((await session.execute(select(OncallRotation).order_by(OncallRotation.category))).scalars())


async def overrides(session: AsyncSession, start: date, days: int = 1) -> list[OncallOverride]:
    wanted = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    return list((await session.execute(select(OncallOverride).where(OncallOverride.day.in_(wanted))
                                       .order_by(OncallOverride.day, OncallOverride.id))).scalars())


async def duty_at(session: AsyncSession, category: str, when: datetime, tz) -> Duty:
    day = when.astimezone(tz).date()
    return on_call(await rotations(session), await overrides(session, day), category, day)


async def set_rotation(session: AsyncSession, *, category: str, members: list[str], starts_on: date,
                       by: str, now: datetime) -> OncallRotation:
    row = (await session.execute(select(OncallRotation).where(OncallRotation.category == category))).scalar_one_or_none()
    if row is None:
        row = OncallRotation(category=category, members=members, starts_on=starts_on.isoformat(),
                             created_by=by, created_at=now)
        session.add(row)
    else:
        row.members, row.starts_on, row.created_by, row.created_at = members, starts_on.isoformat(), by, now
    await session.flush()
    return row


async def clear_rotation(session: AsyncSession, category: str) -> bool:
    result = await session.execute(delete(OncallRotation).where(OncallRotation.category == category))
    return bool(result.rowcount)


async def add_override(session: AsyncSession, *, day: date, open_id: str, replaces: str, category: str,
                       by: str, now: datetime) -> OncallOverride:
    # One override per (day, category, person replaced): the newest wins.
    await session.execute(delete(OncallOverride).where(
        OncallOverride.day == day.isoformat(), OncallOverride.category == category,
        OncallOverride.replaces == replaces))
    row = OncallOverride(day=day.isoformat(), category=category, open_id=open_id, replaces=replaces,
                         created_by=by, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def seed_demo(session: AsyncSession, members: list[str], now: datetime, tz) -> None:
    """The sandbox's rotation: the technicians take turns week by week, starting this week."""
    if members and not await rotations(session):
        await set_rotation(session, category=ALL, members=members, starts_on=monday(now.astimezone(tz).date()),
                           by="sandbox", now=now)

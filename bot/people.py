"""Names of people: from the table, refreshed from the contact API when unknown."""
from __future__ import annotations

import logging

from sqlalchemy import select

from bot.context import Ctx
from bot.store.models import Person

log = logging.getLogger("bot.people")


async def display_name(ctx: Ctx, open_id: str) -> str:
    person = await ctx.session.get(Person, open_id)
    if person is not None and person.name:
        return person.name
    try:
        name = await ctx.svc.platform.user_name(open_id)
    except Exception:  # noqa: BLE001 - a name is nice to have, never worth failing for
        log.warning("contact lookup failed", extra={"open_id": open_id})
        name = ""
    if name and person is not None:
        person.name = name[:100]
    return name


async def names(ctx: Ctx, open_ids: list[str]) -> dict[str, str]:
    rows = (await ctx.session.execute(select(Person).where(Person.open_id.in_(open_ids)))).scalars()
    known = {p.open_id: p.name for p in rows if p.name}
    for open_id in open_ids:
        if open_id not in known:
            known[open_id] = await display_name(ctx, open_id) or open_id[-6:]
    return known

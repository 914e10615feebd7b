"""Telling people about tasks: assignment, reminders, overdue notices, escalation, and the
optional mirror into Feishu Tasks (task v2, outbox op ``create_task``)."""
from __future__ import annotations

import logging

from sqlalchemy import select

from bot import outbox
from bot.context import Ctx
from bot.i18n import t as translate
from bot.leads import escalation_targets
from bot.sender import on_sent
from bot.store.models import Chat
from bot.norms.adhoc import plan_of  # an ad-hoc task's plan (issue 19)
from bot.tasks import cards, mirror as feishu, service
from bot.tasks.show import card_for
from bot.tasks.models import Task, TaskSettings

log = logging.getLogger("bot.tasks")


async def assigned(ctx: Ctx, task: Task, *, announce: bool = True, notify_owners: list[str] | None = None) -> None:
    """The new task's card in the group (kept as ``card_key``), a DM to each owner, the mirror."""
    card, owners, names = await card_for(ctx, task)
    if announce:
        key = await ctx.reply(card=card) if ctx.chat_id == task.chat_id else await ctx.send(task.chat_id, card=card)
        task.card_key = key
    for owner in notify_owners if notify_owners is not None else owners:
        if owner == ctx.user_id and announce and ctx.chat_id == task.chat_id:
            continue  # they just made it themselves, in front of them
        dm, _, _ = await card_for(ctx, task, banner=ctx.t("tasks.assigned_banner", by=names.get(ctx.user_id, "")
                                                         or ctx.t("tasks.someone")))
        await ctx.dm(owner, card=dm)
    settings = await service.settings_for(ctx.session, task.chat_id)
    if settings.mirror and not task.feishu_guid:
        await mirror(ctx, task, owners)


async def remind(ctx: Ctx, task: Task, stage: str) -> None:
    card, owners, _ = await card_for(ctx, task, banner=ctx.t(f"tasks.remind_{stage}"))
    for owner in owners:
        await ctx.dm(owner, card=card)


async def overdue(ctx: Ctx, task: Task, day: int) -> None:
    card, owners, _ = await card_for(ctx, task, banner=ctx.t("tasks.overdue_banner", days=day))
    for owner in owners:
        await ctx.dm(owner, card=card)


async def escalate(ctx: Ctx, task: Task, day: int, settings: TaskSettings) -> None:
    owners = (await service.owners_of(ctx.session, [task.id]))[task.id]
    # the group's 主管, else the team's ops lead, … (bot.leads), never an owner who is late
    leads = await escalation_targets(ctx.session, chat_id=task.chat_id, late=owners, admins=ctx.svc.settings.admins)
    card, _, names = await card_for(ctx, task, banner=ctx.t("tasks.escalate_banner", days=day),
                                    extra_names=leads)
    for lead in leads:
        await ctx.dm(lead, card=card)
    mentions = " ".join(outbox.mention(o, names.get(o, "")) for o in leads + owners)
    await ctx.send(task.chat_id, ctx.t("tasks.escalate_group", id=task.id, title=task.title[:60], days=day,
                                       mentions=mentions))


# --------------------------------------------------------------------------- Feishu Tasks mirror

async def mirror(ctx: Ctx, task: Task, owners: list[str]) -> None:
    """The Feishu copy; later changes follow it (bot.tasks.mirror)."""
    await feishu.create(ctx.session, task, owners, ctx.t("tasks.mirror_description", id=task.id), ctx.now())


@on_sent("tasks.mirrored")
async def mirrored(svc, row, result: dict) -> None:
    """Keep the Feishu task's guid and link, and show the link on the group card."""
    session = result["session"]
    try:
        task_id = int(row.key.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return
    task = await session.get(Task, task_id)
    if task is None:
        return
    task.feishu_guid, task.feishu_url = result.get("guid") or None, result.get("url") or None
    if not task.card_key:
        return
    locale = (await session.execute(select(Chat.locale).where(Chat.chat_id == task.chat_id))).scalar() \
        or svc.settings.locale
    owners = (await service.owners_of(session, [task.id]))[task.id]
    from bot.store.models import Person

    people = (await session.execute(select(Person).where(Person.open_id.in_(owners)))).scalars()
    names = {p.open_id: p.name for p in people if p.name}

    def t(key: str, **values: object) -> str:
        return translate(locale, key, **values)

    entries = await service.history(session, task.id)
    card = cards.task_card(t, task, owners, names, svc.tz, locale, svc.clock.now(), log=entries,
                           plan=await plan_of(session, task.id))
    await outbox.to(session).patch(f"task-mirror:{task.id}:patch", f"@{task.card_key}", card, chat=task.chat_id)

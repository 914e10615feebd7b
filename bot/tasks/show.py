"""The task card as people see it: built from the database (``card_for``: owners, history, the
ad-hoc plan) and refreshed where it is shown (``refresh``). Used by the /任务 command, the
notices (bot.tasks.notify), the Feishu Tasks mirror and the ad-hoc plan norm."""
from __future__ import annotations

from bot.context import Ctx
from bot.norms.adhoc import plan_of  # an ad-hoc task's plan (issue 19)
from bot.people import names as names_of
from bot.tasks import cards, service
from bot.tasks.models import Task


async def card_for(ctx: Ctx, task: Task, *, banner: str = "", extra_names: list[str] | None = None):
    owners = (await service.owners_of(ctx.session, [task.id]))[task.id]
    entries = await service.history(ctx.session, task.id)
    ids = sorted(set(owners) | {e.by for e in entries if e.by} | set(extra_names or [])
                 | {o for e in entries for o in (e.data.get("to") or []) if isinstance(e.data.get("to"), list)}
                 | ({task.completed_by} if task.completed_by else set()))
    names = await names_of(ctx, ids) if ids else {}
    return cards.task_card(ctx.t, task, owners, names, ctx.svc.tz, ctx.locale, ctx.now(), banner=banner,
                           log=entries, plan=await plan_of(ctx.session, task.id)), owners, names


async def refresh(ctx: Ctx, task: Task, card_message: str | None) -> None:
    card, _, _ = await card_for(ctx, task)
    if card_message:
        await ctx.update_card(card_message, card)
    if task.card_key:
        await ctx.update_card(f"@{task.card_key}", card, chat_id=task.chat_id)

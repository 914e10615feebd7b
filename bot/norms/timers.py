"""Timer handlers of the norms that need more than their own module: ``norms.adhoc`` (an ad-hoc
task's plan is due: remind the owners, later tell the ops lead; planned by bot.norms.adhoc)."""
from __future__ import annotations

from datetime import datetime

from bot import outbox, timers
from bot.context import Ctx
from bot.leads import escalation_targets
from bot.norms.adhoc import KIND, plan_of
from bot.tasks import service
from bot.tasks.models import OPEN, Task
from bot.tasks.show import card_for


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    task = await ctx.session.get(Task, int(timer.payload.get("task", 0)))
    plan = await plan_of(ctx.session, task.id) if task is not None else None
    if task is None or plan is None or plan.submitted_at is not None or task.status not in OPEN:
        return
    owners = (await service.owners_of(ctx.session, [task.id]))[task.id]
    stage = timer.payload.get("stage", "remind")
    if stage == "remind":
        plan.reminded_at = ctx.now()
        card, _, _ = await card_for(ctx, task, banner=ctx.t("more.plan_remind_banner", id=task.id))
        for owner in owners:
            await ctx.dm(owner, card=card)
        await ctx.send(task.chat_id, ctx.t("more.plan_remind_text", id=task.id, title=task.title[:60],
                                           who=" ".join(outbox.mention(o) for o in owners)))
        return
    leads = await escalation_targets(ctx.session, chat_id=task.chat_id, late=owners, admins=ctx.svc.settings.admins)
    plan.escalated_at = ctx.now()
    card, _, _ = await card_for(ctx, task, banner=ctx.t("more.plan_escalate_banner", id=task.id),
                                       extra_names=leads)
    for lead in leads:
        await ctx.dm(lead, card=card)
    await ctx.send(task.chat_id, ctx.t("more.plan_escalate_text", id=task.id, title=task.title[:60],
                                       who=" ".join(outbox.mention(o) for o in [*leads, *owners])))

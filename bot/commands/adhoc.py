"""The ad-hoc task's plan form (bot.norms.adhoc): its owner (or ops) submits the plan and the
expected finish on the task card; the plan is kept with the task and shown on its card."""
from __future__ import annotations

from bot.commands.task import may_change
from bot.tasks.show import refresh
from bot.context import Ctx
from bot.errors import UserError
from bot.feishu.events import CardAction
from bot.norms import adhoc
from bot.timeparse.parser import format_local
from bot.tasks import cards, parse, service


@cards.PLAN.handle
async def plan_pressed(ctx: Ctx, act: CardAction) -> None:
    task = await service.get_task(ctx.session, int(ctx.ref or 0))
    await may_change(ctx, task)
    form = act.form_value or {}
    text, finish_text = (str(form.get(k) or "").strip() for k in ("plan", "finish"))
    if not text:
        raise UserError("more.plan_need_text")
    if not finish_text:
        raise UserError("more.plan_need_finish")
    finish, _ = parse.deadline_in(ctx, finish_text)
    plan = await adhoc.submit(ctx, task, text, finish)
    await service.comment(ctx.session, task, ctx.t("more.plan_log", plan=plan.plan[:200]), by=ctx.user_id, now=ctx.now())
    await refresh(ctx, task, act.message_id)
    when = format_local(finish, str(ctx.svc.tz), ctx.locale)
    ctx.toast(ctx.t("more.plan_saved", id=task.id, finish=when), "success")
    if task.chat_id and task.chat_id != ctx.chat_id:
        await ctx.send(task.chat_id, ctx.t("more.plan_saved", id=task.id, finish=when))

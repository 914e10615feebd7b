"""Timer handlers of tasks (planned by bot.tasks.reminders): ``task.remind`` (1 day and 2 hours
before, and at the deadline) and ``task.overdue`` (once a day while overdue, escalating from the
chat's ``escalate_after_days``). A fire re-checks the task, so a timer that outlived a change
does nothing."""
from __future__ import annotations

from datetime import datetime

from bot import timers
from bot.tasks import notify, service
from bot.tasks.models import OPEN, Task
from bot.tasks.reminders import schedule_overdue


async def _current(ctx, timer) -> Task | None:
    task = await ctx.session.get(Task, int(timer.payload.get("task", 0)))
    if task is None or task.status not in OPEN or task.due_at.isoformat() != timer.payload.get("due"):
        return None  # done, cancelled or re-planned since: nothing to say
    return task


@timers.handler("task.remind")
async def fire_remind(ctx, timer, *, due: datetime, late: bool) -> None:
    task = await _current(ctx, timer)
    if task is None:
        return
    await notify.remind(ctx, task, str(timer.payload.get("stage", "due")))


@timers.handler("task.overdue")
async def fire_overdue(ctx, timer, *, due: datetime, late: bool) -> None:
    task = await _current(ctx, timer)
    if task is None:
        return
    day = int(timer.payload.get("day", 1))
    settings = await service.settings_for(ctx.session, task.chat_id)
    await notify.overdue(ctx, task, day)
    if day >= settings.escalate_after_days and task.escalated_at is None:
        await notify.escalate(ctx, task, day, settings)
        task.escalated_at = ctx.now()
    await schedule_overdue(ctx.session, task, day + 1)

"""A task's reminders, all on the timer engine (ref ``task:{id}``):

* 1 day before, 2 hours before and at the deadline (kind ``task.remind``), each only if
  still ahead when planned;
* then once a day while overdue (kind ``task.overdue``, key ``task:{id}:overdue:{n}``, each
  fire plans the next day); from day N (the chat's ``escalate_after_days``, default 2) the
  ops lead is told once.

``plan`` cancels everything and plans afresh (creation, extension, reassignment, reopening);
``stop`` cancels everything (done, cancelled): a completed task stops its reminders at once.
The handlers are in bot.tasks.timers; a fire re-checks the task, so a timer that outlived a
change does nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timers
from bot.tasks.models import OPEN, Task

STAGES = (("d1", timedelta(days=1)), ("h2", timedelta(hours=2)), ("due", timedelta(0)))
DAY = timedelta(days=1)


def ref(task_id: int) -> str:
    return f"task:{task_id}"


async def stop(session: AsyncSession, task: Task) -> int:
    return await timers.cancel_ref(session, ref(task.id))


async def plan(session: AsyncSession, task: Task, now: datetime) -> None:
    await stop(session, task)
    if task.status not in OPEN:
        return
    stamp = task.due_at.isoformat()
    for stage, before in STAGES:
        at = task.due_at - before
        if at > now:
            await timers.schedule(session, key=f"{ref(task.id)}:{stage}", kind="task.remind", due=at,
                                  payload={"task": task.id, "stage": stage, "due": stamp},
                                  chat_id=task.chat_id, ref=ref(task.id), created_by=task.created_by)
    day = 1
    while task.due_at + day * DAY <= now:
        day += 1
    await schedule_overdue(session, task, day)


async def schedule_overdue(session: AsyncSession, task: Task, day: int) -> None:
    await timers.schedule(session, key=f"{ref(task.id)}:overdue:{day}", kind="task.overdue",
                          due=task.due_at + day * DAY,
                          payload={"task": task.id, "day": day, "due": task.due_at.isoformat()},
                          chat_id=task.chat_id, ref=ref(task.id), created_by=task.created_by)


async def pending(session: AsyncSession, task_id: int) -> list[timers.Timer]:
    """The task's timers still to fire (for tests and /任务 #id)."""
    q = select(timers.Timer).where(timers.Timer.ref == ref(task_id), timers.Timer.state == timers.ACTIVE)
    return list((await session.execute(q.order_by(timers.Timer.next_due))).scalars())

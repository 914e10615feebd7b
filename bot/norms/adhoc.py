"""Ad-hoc tasks answered with a plan within 30 minutes (seed 二(一): "临时任务 30 分钟内响应并给出方案").

A task is ad hoc when it is created with 临时任务 / 临时 in its text or with 紧急 / 加急 /
urgent (``is_adhoc``). ``start`` records a ``TaskPlan`` due ``adhoc.plan`` minutes later
(default 30; 0 switches the norm off) and plans two timers (kind ``norms.adhoc``, ref
``adhoc:{task_id}``, apart from the task's own ``task:{id}`` reminders): at the deadline the
owners are reminded, ``adhoc.escalate`` minutes later (default 15) the ops lead hears
(bot.leads.escalation_targets). The task card shows a form (plan text, expected finish) until
the plan is in, then the plan itself (bot.tasks.cards). ``share_in_time`` feeds /数据 运营.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Ctx
from bot.errors import UserError
from bot.norms import config
from bot.norms.more_models import TaskPlan
from bot import timers
from bot.tasks.models import Task

KIND = "norms.adhoc"
ADHOC = re.compile(r"临时任务|临时|紧急|加急|\burgent\b|\bad[- ]?hoc\b", re.I)
MAX_PLAN = 1000


def is_adhoc(text: str) -> bool:
    return bool(ADHOC.search(text or ""))


def ref(task_id: int) -> str:
    return f"adhoc:{task_id}"


async def plan_of(session: AsyncSession, task_id: int) -> TaskPlan | None:
    return (await session.execute(select(TaskPlan).where(TaskPlan.task_id == task_id))).scalars().first()


async def start(session: AsyncSession, task: Task, now: datetime) -> TaskPlan | None:
    """Ask the new task's owners for a plan; None when the norm is off or it is asked already."""
    cfg = await config.effective(session)
    minutes = int(cfg["adhoc.plan"] or 0)
    if not minutes or await plan_of(session, task.id) is not None:
        return None
    plan = TaskPlan(task_id=task.id, chat_id=task.chat_id, asked_at=now, due_at=now + timedelta(minutes=minutes))
    session.add(plan)
    await session.flush()
    stages = {"remind": plan.due_at}
    if cfg["adhoc.escalate"]:
        stages["escalate"] = plan.due_at + timedelta(minutes=int(cfg["adhoc.escalate"]))
    for stage, due in stages.items():
        await timers.schedule(session, key=f"{ref(task.id)}:{stage}", kind=KIND, due=due,
                              payload={"task": task.id, "stage": stage}, chat_id=task.chat_id, ref=ref(task.id),
                              created_by=task.created_by)
    return plan


async def submit(ctx: Ctx, task: Task, text: str, finish: datetime) -> TaskPlan:
    plan = await plan_of(ctx.session, task.id)
    if plan is None:
        raise UserError("more.plan_not_asked", id=task.id)
    text = text.strip()
    if not text:
        raise UserError("more.plan_need_text")
    if finish <= ctx.now():
        raise UserError("more.plan_finish_past")
    plan.plan, plan.finish_at = text[:MAX_PLAN], finish
    first = plan.submitted_at is None
    plan.submitted_by = ctx.user_id
    if first:
        plan.submitted_at = ctx.now()
    await timers.cancel_ref(ctx.session, ref(task.id))
    return plan


async def share_in_time(session: AsyncSession, start: datetime, end: datetime, now: datetime) -> tuple[int, int]:
    """(plans in by the deadline, ad-hoc tasks asked in [start, end) whose deadline passed or that have a plan)."""
    rows = (await session.execute(select(TaskPlan).where(TaskPlan.asked_at >= start,
                                                         TaskPlan.asked_at < end))).scalars().all()
    counted = [p for p in rows if p.submitted_at is not None or p.due_at <= now]
    good = sum(1 for p in counted if p.submitted_at is not None and p.submitted_at <= p.due_at)
    return good, len(counted)

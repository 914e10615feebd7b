"""Feishu Tasks kept in step with the bot's tasks (Tasks v2), both ways.

Out: a task of a group with the mirror on (``/任务 设置 飞书任务 开``) is created in Feishu Tasks
(outbox ``create_task``, key ``task-mirror:{id}``, client_token from the key so a retry never
makes a second one). Every later change — completed, reopened, cancelled (completed there: a
Feishu task has no "cancelled"), deadline, owners (reassign, hand-over) — is compared with what
Feishu was last told (``TaskMirror``) and only the difference is sent: ``patch_task`` (summary,
due, completed_at), ``add_task_members`` / ``remove_task_members``. Until the task exists in
Feishu the changes target "@task-mirror:{id}" and wait for it, in one lane, in order.

In: a task ticked or unticked in Feishu Tasks is completed or reopened here. "任务信息变更"
task.task.updated_v1 (task-v1/task/events/updated) tells an app about changes to the tasks it
created, with only ``task_id`` and ``obj_type`` (5 完成, 6 取消完成): the bot reads the task
(GET /task/v2/tasks/:guid) and acts on what it says. Without that event (it needs the task:task
scope) a periodic check reads the open mirrored tasks every ``BOT_TASK_CHECK_MINUTES`` (10).
While a change of ours is still on its way to Feishu, what Feishu says is not acted on.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.commands.registry import on_event, on_startup
from bot.context import Ctx
from bot import timers
from bot.timers.recurrence import Recurrence
from bot.store.models import Chat, OutboxMessage
from bot.tasks import service
from bot.tasks.show import refresh  # the task card in its group, as any change refreshes it
from bot.tasks.mirror_models import TaskMirror
from bot.tasks.models import CANCELLED, DONE, OPEN, Task

log = logging.getLogger("bot.tasks.mirror")
LANE = "feishu-tasks"
EVENT = "task.task.updated_v1"
CHECK = "tasks.feishu_check"
DEFAULT_CHECK_MINUTES = 10
MAX_CHECKS = 100  # tasks read per periodic check (each a GET)


def create_key(task_id: int) -> str:
    return f"task-mirror:{task_id}"


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def desired(task: Task, owners: list[str], now: datetime) -> dict:
    """What the Feishu copy should say now."""
    return {"summary": task.title[:3000], "due_ms": ms(task.due_at), "done": task.status in (DONE, CANCELLED),
            "members": list(dict.fromkeys(owners))}


def members(ids: list[str]) -> list[dict]:
    return [{"id": o, "type": "user", "role": "assignee"} for o in ids]


async def create(session: AsyncSession, task: Task, owners: list[str], description: str, now: datetime) -> None:
    """The task's Feishu copy (once: the key is the task's)."""
    want = desired(task, owners, now)
    payload = {"summary": want["summary"], "description": description,
               "due": {"timestamp": str(want["due_ms"]), "is_all_day": False}, "members": members(want["members"])}
    await outbox.to(session).create_task(create_key(task.id), lane=LANE, task=payload, callback="tasks.mirrored")
    if await session.get(TaskMirror, task.id) is None:
        session.add(TaskMirror(task_id=task.id, summary=want["summary"], due_ms=want["due_ms"], done=False,
                               members=want["members"], version=0, updated_at=now))
        await session.flush()


@service.on_task_change
async def push(session: AsyncSession, task: Task, kind: str, now: datetime) -> None:
    """Send Feishu what changed since it was last told (nothing for a task never mirrored)."""
    row = await session.get(TaskMirror, task.id)
    if row is None:
        return
    owners = (await service.owners_of(session, [task.id]))[task.id]
    want = desired(task, owners, now)
    target = task.feishu_guid or f"@{create_key(task.id)}"
    fields, body = [], {}
    if want["summary"] != row.summary:
        fields.append("summary")
        body["summary"] = want["summary"]
    if want["due_ms"] != row.due_ms:
        fields.append("due")
        body["due"] = {"timestamp": str(want["due_ms"]), "is_all_day": False}
    if want["done"] != row.done:
        fields.append("completed_at")
        body["completed_at"] = str(ms(now)) if want["done"] else "0"
    added = [o for o in want["members"] if o not in row.members]
    removed = [o for o in row.members if o not in want["members"]]
    if not (fields or added or removed):
        return
    row.version += 1
    key = f"{create_key(task.id)}:v{row.version}"
    if fields:
        await outbox.to(session).patch_task(f"{key}:patch", target, lane=LANE, task=body, fields=fields)
    if added:  # before removing, so the task always keeps an assignee
        await outbox.to(session).add_task_members(f"{key}:add", target, members(added), lane=LANE)
    if removed:
        await outbox.to(session).remove_task_members(f"{key}:remove", target, members(removed), lane=LANE)
    row.summary, row.due_ms, row.done, row.members, row.updated_at = (
        want["summary"], want["due_ms"], want["done"], want["members"], now)


# -- in: completed (or reopened) in Feishu Tasks --------------------------------------------------------
async def _in_flight(session: AsyncSession, task_id: int) -> bool:
    """A change of ours still on its way to Feishu: what Feishu says now is older than it."""
    key = create_key(task_id)
    found = await session.execute(select(OutboxMessage.id).where(
        or_(OutboxMessage.key == key, OutboxMessage.key.startswith(key + ":v", autoescape=True)),
        OutboxMessage.status.in_(("pending", "sending"))).limit(1))
    return found.first() is not None


async def remote_task(ctx: Ctx, guid: str) -> dict | None:
    result = await ctx.svc.platform.call("GET", "/open-apis/task/v2/tasks/:guid", paths={"guid": guid},
                                         query={"user_id_type": "open_id"})
    if not result.ok:
        log.info("feishu task not readable", extra={"guid": guid, "code": result.code})
        return None
    return result.data.get("task") or None


async def follow(ctx: Ctx, task: Task, remote: dict) -> str:
    """Complete or reopen ``task`` as its Feishu copy says; returns what happened ("" nothing)."""
    if await _in_flight(ctx.session, task.id):
        return ""
    done = str(remote.get("completed_at") or "0") not in ("", "0")
    row = await ctx.session.get(TaskMirror, task.id)
    if done and task.status in OPEN:
        if row is not None:
            row.done = True  # Feishu already says so: nothing to send back
        await service.complete(ctx.session, task, by="", now=ctx.now())
        await _tell(ctx, task, "tasks.feishu_done")
        return "done"
    if not done and task.status == DONE and row is not None and row.done:
        row.done = False
        await service.reopen(ctx.session, task, by="", now=ctx.now())
        await _tell(ctx, task, "tasks.feishu_reopened")
        return "reopened"
    return ""


async def _tell(ctx: Ctx, task: Task, key: str) -> None:
    if task.chat_id:
        locale = (await ctx.session.execute(select(Chat.locale).where(Chat.chat_id == task.chat_id))).scalar()
        ctx.locale = locale or ctx.locale
        await refresh(ctx, task, None)
        await ctx.send(task.chat_id, ctx.t(key, id=task.id, title=task.title[:60]))


@on_event(EVENT)
async def feishu_changed(ctx: Ctx, event) -> None:
    """task.task.updated_v1: obj_type 5 (完成) / 6 (取消完成) — read the task and follow it."""
    guid = str(event.data.get("task_id") or "")
    if not guid or event.data.get("obj_type") not in (5, 6):
        return
    task = (await ctx.session.execute(select(Task).where(Task.feishu_guid == guid))).scalars().first()
    if task is None:
        return
    remote = await remote_task(ctx, guid)
    if remote is not None:
        await follow(ctx, task, remote)


@timers.handler(CHECK)
async def check(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    """The periodic check: open mirrored tasks (and those done in the last week) as Feishu has them."""
    week = ctx.now() - timedelta(days=7)
    tasks = list((await ctx.session.execute(select(Task).where(
        Task.feishu_guid.is_not(None),
        or_(Task.status.in_(OPEN), Task.updated_at >= week)).order_by(Task.updated_at.desc())
        .limit(MAX_CHECKS))).scalars())
    for task in tasks:
        remote = await remote_task(ctx, task.feishu_guid or "")
        if remote is not None:
            await follow(ctx, task, remote)


def check_minutes(svc) -> int:
    from bot.feature_settings import TaskSettings, of

    return of(svc.settings, TaskSettings).task_check_minutes


@on_startup
async def plan(svc, session) -> None:
    current = await timers.get(session, CHECK)
    if current is not None and current.state == timers.ACTIVE:
        return
    await timers.schedule(session, key=CHECK, kind=CHECK, due=svc.clock.now() + timedelta(minutes=check_minutes(svc)),
                          rule=Recurrence.interval(check_minutes(svc), tz=svc.settings.timezone), ref=CHECK,
                          stale_after=timedelta(minutes=check_minutes(svc)))

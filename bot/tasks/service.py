"""Task service: plain functions over an AsyncSession (no sending here).

Creating: ``create_task`` (idempotent by ``idem_key``). Changing: ``start``, ``complete``,
``reopen``, ``cancel``, ``reassign``, ``extend``, ``comment``, ``handover``. Each change is
logged in ``task_log`` and re-plans the task's reminders (bot.tasks.reminders). Reading:
``get_task``, ``owners_of``, ``mine``, ``in_chat``, ``overdue``, ``month_stats``.
Refusals raise ``UserError`` with a "tasks.*" key so a handler's writes roll back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.timeparse import workdays
from bot.tasks import reminders
from bot.tasks.models import (CANCELLED, DOING, DONE, MANUAL, NORMAL, OPEN, REVIEW, TODO, Task, TaskLog,
                              TaskOwner, TaskSettings)

HANDOVER_WORKING_DAYS = 3  # the seed's hand-over norm: within 3 working days
MAX_TITLE = 500
# Told after a task is completed, reopened, cancelled, reassigned, handed over or extended, in
# the same transaction: ``async fn(session, task, kind, now)`` (bot.tasks.mirror keeps the
# Feishu copy in step here).
_LISTENERS: list = []


def on_task_change(fn):
    if fn not in _LISTENERS:
        _LISTENERS.append(fn)
    return fn


async def _changed(session: AsyncSession, task: Task, kind: str, now: datetime) -> None:
    for fn in list(_LISTENERS):
        await fn(session, task, kind, now)


# --------------------------------------------------------------------------- settings

async def settings_for(session: AsyncSession, chat_id: str) -> TaskSettings:
    found = await session.get(TaskSettings, chat_id) if chat_id else None
    return found or TaskSettings(chat_id=chat_id)


async def save_settings(session: AsyncSession, chat_id: str, *, by: str, now: datetime,
                        **values: object) -> TaskSettings:
    row = await session.get(TaskSettings, chat_id)
    if row is None:
        row = TaskSettings(chat_id=chat_id, updated_at=now)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = by, now
    await session.flush()
    return row


# --------------------------------------------------------------------------- reading

async def get_task(session: AsyncSession, task_id: int) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise UserError("tasks.not_found", id=task_id)
    return task


async def owners_of(session: AsyncSession, task_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(task_ids)
    out: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.execute(select(TaskOwner).where(TaskOwner.task_id.in_(ids)).order_by(TaskOwner.id))
    for row in rows.scalars():
        out[row.task_id].append(row.open_id)
    return out


async def mine(session: AsyncSession, open_id: str) -> list[Task]:
    q = (select(Task).join(TaskOwner, TaskOwner.task_id == Task.id)
         .where(TaskOwner.open_id == open_id, Task.status.in_(OPEN)).order_by(Task.due_at))
    return list((await session.execute(q)).scalars())


async def in_chat(session: AsyncSession, chat_id: str) -> list[Task]:
    q = select(Task).where(Task.chat_id == chat_id, Task.status.in_(OPEN)).order_by(Task.due_at)
    return list((await session.execute(q)).scalars())


async def overdue(session: AsyncSession, chat_id: str, now: datetime) -> list[Task]:
    q = (select(Task).where(Task.chat_id == chat_id, Task.status.in_(OPEN), Task.due_at < now)
         .order_by(Task.due_at))
    return list((await session.execute(q)).scalars())


async def history(session: AsyncSession, task_id: int) -> list[TaskLog]:
    q = select(TaskLog).where(TaskLog.task_id == task_id).order_by(TaskLog.id)
    return list((await session.execute(q)).scalars())


# --------------------------------------------------------------------------- changing

async def _log(session: AsyncSession, task: Task, kind: str, *, by: str, at: datetime, text: str = "",
               data: dict | None = None) -> None:
    session.add(TaskLog(task_id=task.id, kind=kind, by=by, at=at, text=text[:1000], data=data or {}))


async def _set_owners(session: AsyncSession, task: Task, owners: list[str]) -> None:
    await session.execute(delete(TaskOwner).where(TaskOwner.task_id == task.id))
    for open_id in dict.fromkeys(owners):
        session.add(TaskOwner(task_id=task.id, open_id=open_id))
    await session.flush()


def check_due(due: datetime, now: datetime) -> None:
    if due <= now:
        raise UserError("tasks.deadline_past")


async def create_task(session: AsyncSession, *, chat_id: str, title: str, owners: list[str], due: datetime,
                      by: str, now: datetime, priority: str = NORMAL, source: str = MANUAL,
                      source_ref: str = "", review_id: int | None = None, review_item_id: int | None = None,
                      stream_id: int | None = None, idem_key: str | None = None) -> tuple[Task, bool]:
    """A new task with its reminders; (task, False) when ``idem_key`` already made one."""
    if idem_key:
        found = (await session.execute(select(Task).where(Task.idem_key == idem_key))).scalar_one_or_none()
        if found is not None:
            return found, False
    title = " ".join(title.split())[:MAX_TITLE]
    if not title:
        raise UserError("tasks.need_title")
    if not owners:
        raise UserError("tasks.need_owner")
    check_due(due, now)
    task = Task(chat_id=chat_id, title=title, priority=priority, source=source, source_ref=source_ref[:128],
                review_id=review_id, review_item_id=review_item_id, stream_id=stream_id, due_at=due,
                created_by=by, created_at=now, updated_at=now, idem_key=idem_key)
    session.add(task)
    await session.flush()
    await _set_owners(session, task, owners)
    await _log(session, task, "created", by=by, at=now, data={"owners": owners, "due": due.isoformat()})
    await reminders.plan(session, task, now)
    return task, True


def _open(task: Task) -> None:
    if task.status not in OPEN:
        raise UserError("tasks.not_open", id=task.id)


async def start(session: AsyncSession, task: Task, *, by: str, now: datetime) -> bool:
    _open(task)
    if task.status == DOING:
        return False
    task.status, task.updated_at = DOING, now
    await _log(session, task, "started", by=by, at=now)
    return True


async def complete(session: AsyncSession, task: Task, *, by: str, now: datetime) -> bool:
    """Done, and every reminder stops at once; False if it was already done."""
    if task.status == DONE:
        return False
    if task.status == CANCELLED:
        raise UserError("tasks.not_open", id=task.id)
    task.status, task.completed_at, task.completed_by, task.updated_at = DONE, now, by, now
    await _log(session, task, "done", by=by, at=now, data={"on_time": now <= task.due_at})
    await reminders.stop(session, task)
    await _changed(session, task, "done", now)
    return True


async def reopen(session: AsyncSession, task: Task, *, by: str, now: datetime) -> bool:
    if task.status in OPEN:
        return False
    task.status, task.completed_at, task.completed_by, task.updated_at = TODO, None, None, now
    task.escalated_at = None
    await _log(session, task, "reopened", by=by, at=now)
    await reminders.plan(session, task, now)
    await _changed(session, task, "reopened", now)
    return True


async def cancel(session: AsyncSession, task: Task, *, by: str, now: datetime, reason: str = "") -> bool:
    if task.status == CANCELLED:
        return False
    task.status, task.updated_at = CANCELLED, now
    await _log(session, task, "cancelled", by=by, at=now, text=reason)
    await reminders.stop(session, task)
    await _changed(session, task, "cancelled", now)
    return True


async def reassign(session: AsyncSession, task: Task, owners: list[str], *, by: str, now: datetime,
                   reason: str = "", kind: str = "reassigned") -> list[str]:
    """New owners (replacing the old ones); returns the previous owners."""
    _open(task)
    if not owners:
        raise UserError("tasks.need_owner")
    before = (await owners_of(session, [task.id]))[task.id]
    await _set_owners(session, task, owners)
    task.updated_at, task.escalated_at = now, None
    await _log(session, task, kind, by=by, at=now, text=reason, data={"from": before, "to": owners})
    await reminders.plan(session, task, now)
    await _changed(session, task, kind, now)
    return before


async def extend(session: AsyncSession, task: Task, due: datetime, *, reason: str, by: str,
                 now: datetime) -> datetime:
    """A new deadline, with the reason recorded; returns the old deadline."""
    _open(task)
    if not reason.strip():
        raise UserError("tasks.need_reason")
    check_due(due, now)
    before = task.due_at
    task.due_at, task.updated_at, task.escalated_at = due, now, None
    await _log(session, task, "extended", by=by, at=now, text=reason,
               data={"from": before.isoformat(), "to": due.isoformat()})
    await reminders.plan(session, task, now)
    await _changed(session, task, "extended", now)
    return before


async def comment(session: AsyncSession, task: Task, text: str, *, by: str, now: datetime) -> None:
    if not text.strip():
        raise UserError("tasks.need_comment")
    task.updated_at = now
    await _log(session, task, "comment", by=by, at=now, text=text.strip())


def handover_due(now: datetime, tz: ZoneInfo) -> datetime:
    """The earliest deadline a hand-over leaves the new owner: 3 working days, 18:00."""
    day = workdays.add_working_days(now.astimezone(tz).date(), HANDOVER_WORKING_DAYS)
    return datetime.combine(day, time(18, 0), tzinfo=tz).astimezone(now.tzinfo)


@dataclass
class Handover:
    tasks: list[Task] = field(default_factory=list)
    moved_due: list[int] = field(default_factory=list)  # tasks whose deadline was pushed out
    floor: datetime | None = None


async def handover(session: AsyncSession, leaver: str, receiver: str, *, by: str, now: datetime,
                   tz: ZoneInfo) -> Handover:
    """Every open task of ``leaver`` goes to ``receiver``; deadlines sooner than the hand-over
    norm (3 working days) are moved out to it so the receiver has time to take over."""
    if leaver == receiver:
        raise UserError("tasks.handover_same")
    floor = handover_due(now, tz)
    out = Handover(floor=floor)
    for task in await mine(session, leaver):
        owners = [receiver if o == leaver else o for o in (await owners_of(session, [task.id]))[task.id]]
        await reassign(session, task, owners, by=by, now=now, kind="handover")
        if task.due_at is not None and task.due_at < floor:
            before = task.due_at
            task.due_at = floor
            await _log(session, task, "extended", by=by, at=now, text="handover",
                       data={"from": before.isoformat(), "to": floor.isoformat()})
            await reminders.plan(session, task, now)
            await _changed(session, task, "extended", now)
            out.moved_due.append(task.id)
        out.tasks.append(task)
    return out


# --------------------------------------------------------------------------- KPI

def month_bounds(text: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, str]:
    """本月 / 上月 / 2026-11 / 11月 → (start, end, "2026-11") in UTC."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    text = text.strip().lower()
    if text in ("上月", "上个月", "last month", "last"):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    elif m := re.fullmatch(r"(\d{4})[-/年.](\d{1,2})月?", text):
        year, month = int(m.group(1)), int(m.group(2))
    elif m := re.fullmatch(r"(\d{1,2})月", text):
        month = int(m.group(1))
    elif text not in ("", "本月", "这个月", "this month", "month", "this"):
        raise UserError("tasks.bad_month", text=text[:20])
    if not 1 <= month <= 12:
        raise UserError("tasks.bad_month", text=text[:20])
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=tz)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    end = datetime.combine(nxt, time(0), tzinfo=tz)
    return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo), f"{year}-{month:02d}"


@dataclass
class PersonStats:
    open_id: str
    due: int = 0  # tasks whose deadline fell in the month (not cancelled)
    on_time: int = 0  # done by the deadline
    late: int = 0  # done after the deadline
    overdue: int = 0  # still open past the deadline
    pending: int = 0  # still open, deadline not reached
    review_due: int = 0
    review_on_time: int = 0

    @property
    def rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def review_rate(self) -> float | None:
        return self.review_on_time / self.review_due if self.review_due else None


async def month_stats(session: AsyncSession, *, chat_id: str, start: datetime, end: datetime,
                      now: datetime) -> tuple[list[PersonStats], PersonStats]:
    """Per owner, tasks of this chat due in [start, end): on time, late, overdue, pending.
    The seed's efficiency KPI is the share of review tasks done on time (``review_rate``)."""
    q = select(Task).where(Task.chat_id == chat_id, Task.due_at >= start, Task.due_at < end,
                           Task.status != CANCELLED)
    tasks = list((await session.execute(q)).scalars())
    owners = await owners_of(session, [t.id for t in tasks])
    people: dict[str, PersonStats] = {}
    total = PersonStats("")
    for task in tasks:
        on_time = task.status == DONE and task.completed_at is not None and task.completed_at <= task.due_at
        for stats in [people.setdefault(o, PersonStats(o)) for o in owners[task.id]] + [total]:
            stats.due += 1
            if task.status == DONE:
                if on_time:
                    stats.on_time += 1
                else:
                    stats.late += 1
            elif task.due_at < now:
                stats.overdue += 1
            else:
                stats.pending += 1
            if task.source == REVIEW:
                stats.review_due += 1
                stats.review_on_time += int(on_time)
    ordered = sorted(people.values(), key=lambda s: (-(s.rate or 0), -s.due, s.open_id))
    return ordered, total


def is_overdue(task: Task, now: datetime) -> bool:
    return task.status in OPEN and task.due_at < now


def overdue_days(task: Task, now: datetime) -> int:
    return max(0, int((now - task.due_at) / timedelta(days=1)))

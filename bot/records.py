"""Every kind of record the access checks know, and who takes part in it (bot.access).

One loader per kind: the record's chats (where it was created, plus e.g. its fault group or
its room's field group) and its people. Covering roles see every record of the kind.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.access import Owned, record_kind


def _owned(chats, people) -> Owned:
    return Owned(frozenset(c for c in chats if c), frozenset(p for p in people if p))


async def _task(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.tasks.models import Task, TaskOwner

    task = await session.get(Task, record_id)
    if task is None:
        return None
    owners = (await session.execute(select(TaskOwner.open_id).where(TaskOwner.task_id == record_id))).scalars()
    return _owned([task.chat_id], [task.created_by, *owners])


async def _stream_chats(session: AsyncSession, stream) -> list[str]:
    from bot.schedule.models import Room

    room = await session.get(Room, stream.room_id)
    return [stream.chat_id, room.field_chat_id if room else ""]


async def _stream(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.schedule.models import Stream

    stream = await session.get(Stream, record_id)
    if stream is None:
        return None
    return _owned(await _stream_chats(session, stream), stream.people().values())


async def _fault(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.faults.models import Fault

    f = await session.get(Fault, record_id)
    if f is None:
        return None
    return _owned([f.chat_id, f.group_chat_id],
                  [f.reporter_id, f.field_control_id, f.acked_by, f.resolved_by, *f.oncall_ids, *f.backup_ids,
                   *f.lead_ids, *f.tech_lead_ids])


async def _review(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.reviews.models import Review
    from bot.schedule.models import Stream

    review = await session.get(Review, record_id)
    if review is None:
        return None
    people = [review.created_by]
    stream = await session.get(Stream, review.stream_id) if review.stream_id else None
    if stream is not None:
        people += list(stream.people().values())
    return _owned([review.chat_id], people)


async def _reminder(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.reminders.models import Reminder

    rem = await session.get(Reminder, record_id)
    if rem is None:
        return None
    return _owned([rem.chat_id], [rem.created_by, *(str(t.get("id", "")) for t in rem.targets or ())])


async def _check(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.compliance.models import ComplianceRecord

    rec = await session.get(ComplianceRecord, record_id)
    if rec is None:
        return None
    return _owned([rec.chat_id], [rec.user_id])


async def _checkpoint(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.norms.models import Checkpoint
    from bot.schedule.models import Stream

    cp = await session.get(Checkpoint, record_id)
    if cp is None:
        return None
    stream = await session.get(Stream, cp.stream_id)
    chats = [cp.chat_id] + (await _stream_chats(session, stream) if stream else [])
    return _owned(chats, [cp.owner_id or "", *(stream.people().values() if stream else ())])


async def _comment_alert(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.norms.more_models import CommentAlert

    row = await session.get(CommentAlert, record_id)
    if row is None:
        return None
    return _owned([row.chat_id], [row.reported_by, row.owner_id, row.handled_by or ""])


async def _emergency(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.norms.more_models import Emergency

    row = await session.get(Emergency, record_id)
    if row is None:
        return None
    return _owned([row.chat_id], [row.reported_by, *row.oncall_ids, *row.people, *row.lead_ids])


async def _departure(session: AsyncSession, record_id: int) -> Owned | None:
    from bot.norms.more_models import Departure

    row = await session.get(Departure, record_id)
    if row is None:
        return None
    return _owned([row.chat_id], [row.open_id, row.created_by])


TASK = record_kind("task", ("任务", "task"), _task)
STREAM = record_kind("stream", ("场次", "stream"), _stream)
FAULT = record_kind("fault", ("故障", "fault"), _fault, covered_by=(roles.OPS, roles.TECH))
REVIEW = record_kind("review", ("复盘", "review"), _review)
REMINDER = record_kind("reminder", ("提醒", "reminder"), _reminder)
CHECK = record_kind("check", ("检查记录", "check record"), _check)
CHECKPOINT = record_kind("checkpoint", ("检查点", "checkpoint"), _checkpoint)
COMMENT_ALERT = record_kind("comment_alert", ("舆情", "comment alert"), _comment_alert)
EMERGENCY = record_kind("emergency", ("应急", "emergency"), _emergency)
DEPARTURE = record_kind("departure", ("离职交接", "hand-over"), _departure)

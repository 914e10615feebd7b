"""Checkpoints before a stream (T-2d script, T-1d venue, T-2h equipment, T-1h onsite) and
the deadlines after it (T+1h data export, T+24h review): planning, firing, confirming.

Planning (``plan_stream``) runs whenever the schedule adds, changes, cancels or imports a
stream (a listener on bot.schedule.service): each checkpoint gets a row and up to three
timers ``stream:{id}:cp:{kind}:{card|remind|escalate}`` (ref ``stream:{id}:cp:{kind}``).
A moved stream moves them (same keys, new times); a cancelled one cancels them. A
checkpoint whose card time is already past when the stream is planned is recorded as
``skipped`` (no burst of overdue cards after an import); one already posted stays as it is.

Firing (timer kind ``norms.cp``) re-reads the row and the stream, so a stream cancelled or
a checkpoint confirmed while its timers were in flight sends nothing. Before-stream
checkpoints go quiet once the stream is live.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Ctx
from bot.leads import escalation_targets
from bot.norms import config
from bot.norms.models import CANCELLED, DONE, OPEN, SKIPPED, Checkpoint
from bot import timers
from bot.schedule import service as schedule
from bot.schedule.models import CANCELLED as S_CANCELLED, ENDED, LIVE, Stream

KIND = "norms.cp"
BEFORE = config.CHECKPOINTS
STAGES = ("card", "remind", "escalate")


def cp_ref(stream_id: int, kind: str) -> str:
    return f"stream:{stream_id}:cp:{kind}"


async def staff_with(session: AsyncSession, *titles: str) -> str | None:
    for title in titles:
        for person in await schedule.list_staff(session, title=title):
            return person.open_id
    return None


async def owner_of(session: AsyncSession, stream: Stream, kind: str) -> str | None:
    """The person a checkpoint is for (None: the ops leads take it)."""
    if kind == "script":
        return await staff_with(session, "编导", "文案") or stream.created_by or None
    if kind == "venue":
        return stream.field_control_id or stream.created_by or None
    if kind == "equipment":
        return stream.tech_id or await staff_with(session, "技术")
    if kind == "onsite":
        return stream.created_by or await staff_with(session, "运营") or stream.field_control_id
    return stream.created_by or await staff_with(session, "运营") or stream.field_control_id


async def get_checkpoint(session: AsyncSession, stream_id: int, kind: str) -> Checkpoint | None:
    return (await session.execute(select(Checkpoint).where(Checkpoint.stream_id == stream_id,
                                                           Checkpoint.kind == kind))).scalars().first()


async def checkpoints_of(session: AsyncSession, stream_id: int) -> list[Checkpoint]:
    rows = (await session.execute(select(Checkpoint).where(Checkpoint.stream_id == stream_id))).scalars()
    order = {k: i for i, k in enumerate((*BEFORE, *config.AFTER))}
    return sorted(rows, key=lambda c: order.get(c.kind, 99))


async def _arm(session: AsyncSession, cp: Checkpoint, stream: Stream, cfg: dict[str, Any],
               stages: dict[str, timedelta]) -> None:
    ref = cp_ref(stream.id, cp.kind)
    await timers.cancel_ref(session, ref)
    for stage, after in stages.items():
        await timers.schedule(session, key=f"{ref}:{stage}", kind=KIND, due=cp.due_at + after, ref=ref,
                              payload={"cp": cp.id, "stage": stage}, chat_id=stream.chat_id,
                              created_by=stream.created_by)


def before_stages(cfg: dict[str, Any]) -> dict[str, timedelta]:
    stages = {"card": timedelta(0)}
    if cfg["cp.remind"]:
        stages["remind"] = timedelta(minutes=cfg["cp.remind"])
    if cfg["cp.escalate"]:
        stages["escalate"] = timedelta(minutes=cfg["cp.escalate"])
    return stages


async def plan_stream(session: AsyncSession, stream: Stream, now: datetime) -> None:
    """Create, move or cancel the before-stream checkpoints of ``stream``."""
    if stream.id is None:
        await session.flush()
    if stream.status in (S_CANCELLED, ENDED):
        for kind in BEFORE:
            await timers.cancel_ref(session, cp_ref(stream.id, kind))
        for cp in await checkpoints_of(session, stream.id):
            if cp.kind in BEFORE and cp.status == OPEN:
                cp.status = CANCELLED
        return
    if stream.status == LIVE:
        return
    cfg = await config.effective(session, stream.room_id)
    for kind in BEFORE:
        offset = int(cfg[f"cp.{kind}"] or 0)
        cp = await get_checkpoint(session, stream.id, kind)
        if cp is not None and cp.status == DONE:
            continue
        if not offset:
            if cp is not None and cp.status == OPEN:
                cp.status = CANCELLED
                await timers.cancel_ref(session, cp_ref(stream.id, kind))
            continue
        due = stream.starts_at - timedelta(minutes=offset)
        posted = cp is not None and cp.status == OPEN and cp.due_at <= now
        if posted and due <= now:
            continue  # its card is out already: keep reminding as planned
        owner = await owner_of(session, stream, kind)
        if cp is None:
            cp = Checkpoint(stream_id=stream.id, kind=kind, due_at=due, owner_id=owner, chat_id=stream.chat_id)
            session.add(cp)
        cp.due_at, cp.owner_id, cp.chat_id = due, owner, stream.chat_id
        if due <= now:
            cp.status = SKIPPED
            await timers.cancel_ref(session, cp_ref(stream.id, kind))
            continue
        cp.status, cp.reminders, cp.escalated_at = OPEN, 0, None
        await session.flush()
        await _arm(session, cp, stream, cfg, before_stages(cfg))


async def on_stream_change(session: AsyncSession, stream: Stream, kind: str, now: datetime) -> None:
    """The schedule's listener: added / changed / cancelled / imported streams."""
    if kind in ("added", "imported", "changed", "cancelled", "confirmed"):
        await plan_stream(session, stream, now)
    from bot.norms import announce  # the weekly/monthly announcement timers exist once streams do

    await announce.ensure(session, now)


schedule.on_stream_change(on_stream_change)


async def plan_after(session: AsyncSession, stream: Stream, ended_at: datetime) -> None:
    """/下播: the data export deadline (reminded, escalated) and the review deadline (the
    reviews feature reminds that one: bot.reviews.service.stream_ended)."""
    cfg = await config.effective(session, stream.room_id)
    for kind, due, owner in (("export", ended_at + timedelta(minutes=cfg["after.export"]),
                              await owner_of(session, stream, "export")),
                             ("review", ended_at + timedelta(hours=24), await owner_of(session, stream, "review"))):
        cp = await get_checkpoint(session, stream.id, kind)
        if cp is None:
            cp = Checkpoint(stream_id=stream.id, kind=kind, due_at=due, chat_id=stream.chat_id)
            session.add(cp)
        cp.due_at, cp.owner_id, cp.status = due, owner, OPEN
        await session.flush()
        if kind == "export":
            stages = {"card": timedelta(0)}
            if cfg["after.escalate"]:
                stages["escalate"] = timedelta(minutes=cfg["after.escalate"])
            await _arm(session, cp, stream, cfg, stages)


async def mark_done(session: AsyncSession, stream_id: int, kind: str, *, by: str = "",
                    at: datetime | None = None) -> bool:
    """Mark a checkpoint or after-stream deadline done (the review and data features call this
    with kind "review" / "export"); its reminders stop. False when there is nothing open."""
    cp = await get_checkpoint(session, stream_id, kind)
    await timers.cancel_ref(session, cp_ref(stream_id, kind))
    if cp is None or cp.status == DONE:
        return False
    cp.status, cp.done_by, cp.done_at = DONE, by or None, at
    return True


# -- firing -------------------------------------------------------------------------------------
@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    from bot.norms import cards

    cp = await ctx.session.get(Checkpoint, int(timer.payload.get("cp", 0)))
    if cp is None or cp.status != OPEN:
        return
    stream = await schedule.stream_by_id(ctx.session, cp.stream_id)
    if stream is None or stream.status == S_CANCELLED:
        return
    if cp.kind in BEFORE and stream.status in (LIVE, ENDED):
        return
    stage = timer.payload.get("stage", "card")
    cfg = await config.effective(ctx.session, stream.room_id)
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    # escalated to the ops lead (bot.leads), never to the owner who is late
    leads = await escalation_targets(ctx.session, chat_id=stream.chat_id, late=[cp.owner_id or ""],
                                     admins=ctx.svc.settings.admins) if stage == "escalate" else []
    if stage == "remind":
        cp.reminders += 1
    if stage == "escalate":
        cp.escalated_at = ctx.now()
    names = await schedule.names_of(ctx.session, [x for x in (cp.owner_id, *leads) if x])
    card = cards.checkpoint_card(ctx, cp, stream, room, names, cfg, stage=stage, leads=leads)
    await ctx.send(stream.chat_id or timer.chat_id, card=card)



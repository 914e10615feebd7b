"""The in-stream cadence: interaction prompt (5 min), data check (15 min), lucky bag (30 min).

Started by /开播, stopped by /下播 (not by the scheduled times). Each nudge is a repeating
timer ``stream:{id}:live:{what}`` (ref ``stream:{id}:live``) on an interval rule: it fires on
the clock's steps (19:05, 19:10 … for 5 minutes; a step that does not divide 24 h restarts at
midnight), goes to the room's field-control group (else the team group), and is skipped when
the engine gets to it more than half a step late (after downtime nothing is sent in a burst).
The handler re-reads the stream: once it is no longer live, the nudges cancel themselves.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.context import Ctx
from bot.norms import config
from bot import timers
from bot.timers.models import ACTIVE, PAUSED, Timer
from bot.timers.recurrence import Recurrence, next_fire
from bot.schedule import service as schedule
from bot.schedule.models import LIVE, Room, Stream

KIND = "norms.cadence"


def live_ref(stream_id: int) -> str:
    return f"stream:{stream_id}:live"


def target_chat(stream: Stream, room: Room | None) -> str:
    return (room.field_chat_id if room and room.field_chat_id else "") or stream.chat_id


async def start(session: AsyncSession, stream: Stream, room: Room | None, now: datetime, tz: str) -> list[str]:
    """Plan the nudges of a stream that just went live; returns the kinds started."""
    cfg = await config.effective(session, stream.room_id)
    chat = target_chat(stream, room)
    started = []
    for what in config.CADENCE:
        every = int(cfg[f"cadence.{what}"] or 0)
        if not every:
            continue
        rule = Recurrence.interval(every, tz=tz)
        due = next_fire(rule, now)
        if due is None:
            continue
        await timers.schedule(session, key=f"{live_ref(stream.id)}:{what}", kind=KIND, due=due, rule=rule,
                              payload={"stream": stream.id, "what": what, "every": every}, chat_id=chat,
                              ref=live_ref(stream.id), created_by=stream.created_by,
                              stale_after=max(60, every * 30))
        started.append(what)
    return started


async def stop(session: AsyncSession, stream_id: int) -> int:
    return await timers.cancel_ref(session, live_ref(stream_id))


async def pause(session: AsyncSession, stream_id: int) -> int:
    n = 0
    for what in config.CADENCE:
        n += await timers.pause(session, f"{live_ref(stream_id)}:{what}")
    return n


async def resume(session: AsyncSession, stream_id: int, now: datetime) -> int:
    n = 0
    for what in config.CADENCE:
        if await timers.resume(session, f"{live_ref(stream_id)}:{what}", now=now) is not None:
            n += 1
    return n


async def state(session: AsyncSession, stream_id: int) -> dict[str, Timer]:
    out = {}
    for what in config.CADENCE:
        timer = await timers.get(session, f"{live_ref(stream_id)}:{what}")
        if timer is not None and timer.state in (ACTIVE, PAUSED):
            out[what] = timer
    return out


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: Timer, *, due: datetime, late: bool) -> None:
    stream = await schedule.stream_by_id(ctx.session, int(timer.payload.get("stream", 0)))
    if stream is None or stream.status != LIVE:
        await timers.cancel_ref(ctx.session, timer.ref or live_ref(int(timer.payload.get("stream", 0))))
        return
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    what = timer.payload.get("what", "interact")
    local = due.astimezone(ctx.svc.tz)
    with outbox.priority(outbox.BULK):  # routine nudges: pages and answers go first
        await ctx.send(timer.chat_id, ctx.t(f"norms.nudge.{what}", room=room.name if room else "?", id=stream.id,
                                        time=f"{local:%H:%M}", every=timer.payload.get("every", "")))

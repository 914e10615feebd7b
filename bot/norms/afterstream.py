"""During and after the stream: the product explanation timer (/讲解), schedule accuracy,
and what other features read (overtime explanations for the review).

* ``start_explanation`` / ``end_explanation``: one explanation runs per chat; starting a new
  one ends the running one. Timers ``explain:{id}:warn`` (lower bound) and ``explain:{id}:over``
  (upper bound) are kind ``norms.explain``; reaching the upper bound marks the row overtime.
* ``overtime_explanations(session, stream_id)``: explanations of a stream that ran over.
* ``schedule_accuracy(session, start, end, tolerance_minutes=5)``: of the streams scheduled
  to start in [start, end) (cancelled ones left out), how many went live within the
  tolerance of their scheduled start. Streams not started at all count as not on time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Ctx
from bot.norms.models import Explanation
from bot import timers
from bot.schedule.models import CANCELLED, Stream

KIND = "norms.explain"
HERO, TRAFFIC = "hero", "traffic"


async def running_explanation(session: AsyncSession, chat_id: str) -> Explanation | None:
    return (await session.execute(select(Explanation).where(Explanation.chat_id == chat_id,
                                                            Explanation.ended_at.is_(None))
                                  .order_by(Explanation.id.desc()))).scalars().first()


async def end_explanation(session: AsyncSession, chat_id: str, now: datetime) -> Explanation | None:
    row = await running_explanation(session, chat_id)
    if row is None:
        return None
    row.ended_at = now
    row.seconds = int((now - row.started_at).total_seconds())
    row.overtime = row.overtime or row.seconds > row.upper_min * 60
    await timers.cancel_ref(session, f"explain:{row.id}")
    return row


async def start_explanation(session: AsyncSession, *, chat_id: str, stream_id: int | None, kind: str,
                            product: str, by: str, now: datetime, bounds: tuple[int, int]
                            ) -> tuple[Explanation, Explanation | None]:
    """Start timing; returns (the new one, the one it ended or None)."""
    previous = await end_explanation(session, chat_id, now)
    row = Explanation(stream_id=stream_id, chat_id=chat_id, kind=kind, product=product[:200], started_by=by,
                      started_at=now, lower_min=bounds[0], upper_min=bounds[1])
    session.add(row)
    await session.flush()
    ref = f"explain:{row.id}"
    for stage, mins in (("warn", bounds[0]), ("over", bounds[1])):
        await timers.schedule(session, key=f"{ref}:{stage}", kind=KIND, due=now + timedelta(minutes=mins),
                              payload={"id": row.id, "stage": stage}, chat_id=chat_id, ref=ref, created_by=by)
    return row, previous


async def overtime_explanations(session: AsyncSession, stream_id: int) -> list[Explanation]:
    return list((await session.execute(select(Explanation).where(
        Explanation.stream_id == stream_id, Explanation.overtime.is_(True)).order_by(Explanation.id))).scalars())


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    row = await ctx.session.get(Explanation, int(timer.payload.get("id", 0)))
    if row is None or row.ended_at is not None:
        return
    stage = timer.payload.get("stage", "warn")
    if stage == "over":
        row.overtime = True
    await ctx.send(timer.chat_id, ctx.t(f"norms.explain_{stage}", product=row.product,
                                        kind=ctx.t(f"norms.explain_kind.{row.kind}"),
                                        lower=row.lower_min, upper=row.upper_min))


@dataclass
class Accuracy:
    total: int = 0
    on_time: int = 0
    late: list[tuple[int, int | None]] = field(default_factory=list)  # (stream id, minutes late; None = never started)

    @property
    def rate(self) -> float | None:
        return self.on_time / self.total if self.total else None


def started_on_time(stream: Stream, tolerance: timedelta) -> bool:
    return stream.actual_start is not None and abs(stream.actual_start - stream.starts_at) <= tolerance


async def schedule_accuracy(session: AsyncSession, start: datetime, end: datetime, *,
                            tolerance_minutes: int = 5) -> Accuracy:
    rows = (await session.execute(select(Stream).where(Stream.starts_at >= start, Stream.starts_at < end,
                                                       Stream.status != CANCELLED)
                                  .order_by(Stream.starts_at, Stream.id))).scalars()
    tol = timedelta(minutes=tolerance_minutes)
    out = Accuracy()
    for s in rows:
        out.total += 1
        if started_on_time(s, tol):
            out.on_time += 1
        else:
            late = None if s.actual_start is None else int((s.actual_start - s.starts_at).total_seconds() // 60)
            out.late.append((s.id, late))
    return out

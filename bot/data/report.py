"""KPI reports: one stream, a period (week / month, all or one room or streamer), and the
operator KPIs the bot computes from what it records itself."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.data import kpi, store
from bot.data.kpi import Figure
from bot.data.models import ProductFigures, TrendPoint
from bot.schedule.models import Stream

SCRIPT_GRACE = timedelta(hours=1)  # a checkpoint answered within an hour of its card is on time
NEWBIE_DAYS = 90


@dataclass
class StreamReport:
    stream: Stream
    values: dict
    figures: dict[str, Figure]
    products: list[ProductFigures]
    trend: list[TrendPoint]

    @property
    def has_data(self) -> bool:
        return bool(self.values) or bool(self.products) or bool(self.trend)


@dataclass
class PeriodReport:
    start: datetime
    end: datetime
    streams: list[tuple[Stream, dict]]
    figures: dict[str, Figure]
    days: list[tuple[date, dict]] = field(default_factory=list)  # per local day: summed values

    @property
    def with_data(self) -> int:
        return sum(1 for _, v in self.streams if v)


async def stream_report(session: AsyncSession, stream: Stream, *, max_points: int = 240) -> StreamReport:
    values = await store.values_of(session, stream.id)
    targets = await store.targets_for(session, stream=stream)
    return StreamReport(stream, values, kpi.figures(values, targets), await store.products_of(session, stream.id),
                        await store.trend_of(session, stream.id, max_points))


async def period_report(session: AsyncSession, start: datetime, end: datetime, tz: ZoneInfo, *,
                        room_id: int | None = None, streamer_id: str | None = None) -> PeriodReport:
    rows = await store.streams_between(session, start, end, room_id=room_id, streamer_id=streamer_id)
    target_rows = await store.all_targets(session)
    targets = store.resolve(target_rows, room_id=room_id, streamer_id=streamer_id)
    with_data = [v for _, v in rows if v]
    # a period's GMV target is the sum of its streams' targets (their 目标GMV, else the
    # configured per-stream target); when any stream with a GMV has none, there is no target
    per_stream = [s.target_gmv or store.resolve(target_rows, room_id=s.room_id, streamer_id=s.streamer_id).get("gmv")
                  for s, v in rows if v.get("gmv") is not None]
    targets.pop("gmv", None)
    if per_stream and all(per_stream):
        targets["gmv"] = float(sum(per_stream))
    figs = kpi.figures(kpi.total(with_data), targets)
    by_day: dict[date, list[dict]] = {}
    for s, v in rows:
        by_day.setdefault(s.starts_at.astimezone(tz).date(), []).append(v)
    days = [(d, kpi.total(vs)) for d, vs in sorted(by_day.items())]
    return PeriodReport(start, end, rows, figs, days)


async def month_fans(session: AsyncSession, month_start: datetime, month_end: datetime, *,
                     room_id: int | None = None, streamer_id: str | None = None) -> Figure:
    rows = await store.streams_between(session, month_start, month_end, room_id=room_id, streamer_id=streamer_id)
    targets = await store.targets_for(session, room_id=room_id, streamer_id=streamer_id)
    fans = [v["new_fans"] for _, v in rows if v.get("new_fans") is not None]
    if not fans:
        return Figure("new_fans_month", None, "missing", ("new_fans",), targets.get("new_fans_month"))
    return Figure("new_fans_month", float(sum(fans)), target=targets.get("new_fans_month"))


# -- operator KPIs ----------------------------------------------------------------------------------
async def operator_kpis(session: AsyncSession, start: datetime, end: datetime, now: datetime,
                        tolerance_minutes: int = 5) -> dict[str, Figure]:
    from bot.faults import stats
    from bot.faults.models import Fault
    from bot.norms.afterstream import schedule_accuracy
    from bot.norms.models import DONE as CP_DONE, SKIPPED, CANCELLED as CP_CANCELLED, Checkpoint
    from bot.tasks.models import CANCELLED as T_CANCELLED, Task

    targets = store.resolve(await store.all_targets(session))
    acc = await schedule_accuracy(session, start, min(end, now), tolerance_minutes=tolerance_minutes)
    out = {"schedule_accuracy": kpi.share("schedule_accuracy", acc.on_time, acc.total, targets["schedule_accuracy"])}

    cps = (await session.execute(select(Checkpoint).where(
        Checkpoint.kind == "script", Checkpoint.due_at >= start, Checkpoint.due_at < min(end, now),
        Checkpoint.status.not_in((SKIPPED, CP_CANCELLED))))).scalars().all()
    on_time = sum(1 for c in cps if c.status == CP_DONE and c.done_at and c.done_at <= c.due_at + SCRIPT_GRACE)
    out["script_on_time"] = kpi.share("script_on_time", on_time, len(cps), targets["script_on_time"])

    faults = (await session.execute(select(Fault).where(Fault.created_at >= start, Fault.created_at < end))).scalars()
    records = [stats.Record(category=f.category, room=f.room_name, tech=f.acked_by or f.resolved_by,
                            created_at=f.created_at, acked_at=f.acked_at, resolved_at=f.resolved_at,
                            ack_breached=f.ack_breached, resolve_breached=f.resolve_breached) for f in faults]
    fig = stats.figures(records)
    out["fault_within_10"] = kpi.share("fault_within_10", fig.within_kpi, fig.resolved, targets["fault_within_10"])

    tasks = (await session.execute(select(Task).where(
        Task.review_id.is_not(None), Task.due_at >= start, Task.due_at < min(end, now),
        Task.status != T_CANCELLED))).scalars().all()
    done = sum(1 for t in tasks if t.completed_at and t.completed_at <= t.due_at)
    out["review_tasks_on_time"] = kpi.share("review_tasks_on_time", done, len(tasks), targets["review_tasks_on_time"])
    return out


@dataclass
class Newbie:
    streamer_id: str
    first: datetime
    figure: Figure
    first_conv: float | None
    last_conv: float | None


def _conv(rows: list[dict]) -> float | None:
    summed = kpi.total(rows)
    return kpi.ratio("view_conv", summed, "buyers", "uv").value


async def newbies(session: AsyncSession, now: datetime) -> list[Newbie]:
    """Streamers whose first stream with figures is within the last 90 days: view-conversion
    of their first 30 days vs their latest 30 days (target +30% within 3 months)."""
    since = now - timedelta(days=NEWBIE_DAYS)
    rows = await store.streams_between(session, datetime(2000, 1, 1, tzinfo=now.tzinfo), now)
    by_streamer: dict[str, list[tuple[Stream, dict]]] = {}
    for s, v in rows:
        if s.streamer_id and v:
            by_streamer.setdefault(s.streamer_id, []).append((s, v))
    out = []
    for sid, items in by_streamer.items():
        first = items[0][0].starts_at
        if first < since:
            continue
        month1 = [v for s, v in items if s.starts_at < first + timedelta(days=30)]
        window_end = min(now, first + timedelta(days=NEWBIE_DAYS))
        latest = [v for s, v in items if s.starts_at >= max(first + timedelta(days=30), window_end - timedelta(days=30))]
        a, b = _conv(month1), _conv(latest) if latest else None
        fig = kpi.growth(a, b) if latest else Figure("newbie_growth", None, "young", (), kpi.METRICS["newbie_growth"][2])
        out.append(Newbie(sid, first, fig, a, b))
    return out


# -- periods ----------------------------------------------------------------------------------------
def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def day_of(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)

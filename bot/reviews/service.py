"""Review service: plain functions over an AsyncSession.

Reviews work without stream data: the schedule's tables are read inside a savepoint, so a
missing table or an unknown stream only means "a review of no particular stream".

Hooks for other features:
* ``stream_ended(session, stream_id=..., ended_at=..., chat_id=...)`` - call from /下播 (or
  wherever a stream is marked ended): plans the 24-hour missing-review reminder (T+24h to the
  ops owner, T+48h to the ops lead). ``sweep`` does the same for ended streams that were
  never announced (run by the hourly "reviews.sweep" timer, planned by ``ensure_sweep``).
* ``stream_shortcomings(session, stream)`` - pre-filled 不足: the stream's fault tickets
  (bot.faults), its missed checkpoints and its overtime product explanations (bot.norms,
  ``checkpoint_shortcomings``).
* ``kpi_suggestions(session, stream)`` - pre-filled from the stream's imported data (bot.data):
  each KPI with a target (GMV attainment, 观看-成交转化率, 人均观看时长, and any other the team
  set a target for) becomes a 不足 suggestion when missed and a 亮点 suggestion when beaten,
  stored with source "kpi" and shown marked 建议. Their text never holds an amount (GMV as its
  attainment rate): a review card may be shown where sales figures may not (bot.data.fmt).
  Added when the review is opened, or later once the data is imported (``prefill_kpis``).
* ``stream_figures(session, stream, locale, masked=...)`` - the key figures against their
  targets for the card's header, amounts hidden when ``masked``.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.i18n import t
from bot import timers
from bot.timers.recurrence import Recurrence
from bot.reviews.models import DONE, HIGHLIGHT, IMPROVEMENT, KINDS, OPEN, SHORTCOMING, Review, ReviewItem

log = logging.getLogger("bot.reviews")
REVIEW_WITHIN = timedelta(hours=24)  # the seed: a review within 24 hours of the stream
ESCALATE_AFTER = timedelta(hours=48)
SWEEP_KEY = "reviews.sweep"
MAX_ITEM = 500
KPI = "kpi"  # ReviewItem.source of the data's suggestions


# --------------------------------------------------------------------------- streams (optional)

async def _guarded(session: AsyncSession, fn) -> Any:
    """Run a read of another feature's tables in a savepoint: absent tables give None."""
    try:
        async with session.begin_nested():
            return await fn()
    except Exception:  # noqa: BLE001 - the other feature is missing or broken: carry on without it
        log.warning("stream data unavailable", exc_info=True)
        return None


async def get_stream(session: AsyncSession, stream_id: int) -> Any:
    async def read():
        from bot.schedule.models import Stream

        return await session.get(Stream, stream_id)

    return await _guarded(session, read)


async def latest_ended_stream(session: AsyncSession, chat_id: str) -> Any:
    async def read():
        from bot.schedule.models import ENDED, Stream

        q = (select(Stream).where(Stream.chat_id == chat_id, Stream.status == ENDED)
             .order_by(func.coalesce(Stream.actual_end, Stream.ends_at).desc()).limit(1))
        return (await session.execute(q)).scalar_one_or_none()

    return await _guarded(session, read)


async def find_stream(session: AsyncSession, chat_id: str, text: str, now: datetime, tz) -> Any:
    """A room name ("1号间") or a date ("11月26日", "昨天") → the latest ended stream there/then."""
    async def read():
        from bot.timeparse.parser import parse
        from bot.schedule.models import ENDED, Stream
        from bot.schedule.service import room_by_name

        q = select(Stream).where(Stream.status == ENDED)
        room = await room_by_name(session, text)
        if room is not None:
            q = q.where(Stream.room_id == room.id)
        else:
            try:
                day = parse(text, now - timedelta(days=400), str(tz)).when.astimezone(tz).date()
            except Exception:  # noqa: BLE001
                return None
            start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            q = q.where(Stream.starts_at >= start, Stream.starts_at < start + timedelta(days=1))
        q = q.order_by(Stream.starts_at.desc()).limit(1)
        return (await session.execute(q)).scalar_one_or_none()

    return await _guarded(session, read)


async def stream_label(session: AsyncSession, stream: Any, tz) -> str:
    async def room_name():
        from bot.schedule.models import Room

        room = await session.get(Room, stream.room_id)
        return room.name if room else ""

    name = await _guarded(session, room_name) or ""
    local = stream.starts_at.astimezone(tz)
    extra = " ".join(x for x in (stream.brand, stream.theme) if x)
    return " ".join(x for x in (name, f"{local:%m-%d %H:%M}", extra) if x)


async def stream_shortcomings(session: AsyncSession, stream: Any) -> list[str]:
    return (await fault_shortcomings(session, stream)) + (await checkpoint_shortcomings(session, stream))


async def fault_shortcomings(session: AsyncSession, stream: Any) -> list[str]:
    """The stream's fault tickets as 不足 lines (faults linked to it, or in its room while it ran)."""
    async def read():
        from sqlalchemy import and_, or_

        from bot.faults.models import Fault

        start = stream.actual_start or stream.starts_at
        end = stream.actual_end or stream.ends_at
        q = select(Fault).where(or_(Fault.stream_id == stream.id,
                                    and_(Fault.room_id == stream.room_id, Fault.created_at >= start,
                                         Fault.created_at <= end))).order_by(Fault.created_at)
        rows = list((await session.execute(q)).scalars())
        out = []
        for f in rows:
            minutes = ""
            if f.resolved_at is not None:
                minutes = f"，{max(1, round((f.resolved_at - f.created_at).total_seconds() / 60))} 分钟处理完"
            out.append(f"故障#{f.id}（{f.severity}）{' '.join(f.text.split())[:80]}{minutes}")
        return out

    return await _guarded(session, read) or []


async def checkpoint_shortcomings(session: AsyncSession, stream: Any) -> list[str]:
    """bot.norms as 不足 lines: checkpoints not confirmed in time (never confirmed by the end
    of the stream, reminded or escalated; the review's own deadline aside) and overtime
    product explanations (/讲解)."""
    async def read():
        from bot.i18n import t
        from bot.norms.afterstream import overtime_explanations
        from bot.norms.models import DONE as CP_DONE, OPEN as CP_OPEN, Checkpoint

        end = stream.actual_end or stream.ends_at
        q = (select(Checkpoint).where(Checkpoint.stream_id == stream.id, Checkpoint.kind != "review",
                                      Checkpoint.status.in_((CP_OPEN, CP_DONE)))
             .order_by(Checkpoint.due_at, Checkpoint.id))
        out = []
        for cp in (await session.execute(q)).scalars():
            never = cp.status == CP_OPEN and cp.due_at <= end
            if not (never or cp.reminders or cp.escalated_at is not None):
                continue
            how = "已升级" if cp.escalated_at is not None else ("未确认" if never else "超时确认")
            out.append(f"检查点未按时确认：{t('zh_CN', f'norms.cp.{cp.kind}')}（{how}）")
        for e in await overtime_explanations(session, stream.id):
            took = f"{e.seconds // 60}分{e.seconds % 60:02d}秒" if e.seconds is not None else "未结束"
            kind = t("zh_CN", f"norms.explain_kind.{e.kind}")
            out.append(f"讲解超时：{e.product[:60]}（{kind}）用时 {took}，上限 {e.upper_min} 分钟")
        return out

    return await _guarded(session, read) or []


HEADER_KPIS = ("gmv", "view_conv", "avg_dwell")  # the seed's per-stream KPIs


async def _stream_kpis(session: AsyncSession, stream: Any) -> tuple[dict, dict]:
    """(values, figures) of the stream's imported data against its targets; empty without data."""
    async def read():
        from bot.data import kpi, store

        values = await store.values_of(session, stream.id)
        return values, kpi.figures(values, await store.targets_for(session, stream=stream))

    return await _guarded(session, read) or ({}, {})


async def stream_figures(session: AsyncSession, stream: Any, locale: str = "zh_CN", *,
                         masked: bool = True) -> list[tuple[str, str]]:
    """(label, value) lines of the key figures against their targets (bot.data.fmt: amounts
    hidden when ``masked``, GMV then shown as its attainment only). Before any data is
    imported, only the GMV target (when the stream has one)."""
    from bot.data import fmt
    from bot.data.kpi import Figure

    values, figures = await _stream_kpis(session, stream)
    if not values:
        if not getattr(stream, "target_gmv", None):
            return []
        target = Figure("gmv", None, "missing", ("gmv",), float(stream.target_gmv))
        shown = t(locale, "data.masked") if masked else fmt.target_text(target, locale)
        return [(t(locale, "reviews.figure.target_gmv"), shown)]
    return [(fmt.label(m, locale), fmt.show(figures[m], locale, masked=masked)) for m in HEADER_KPIS
            if m in figures and (figures[m].value is not None or figures[m].target is not None)]


async def kpi_suggestions(session: AsyncSession, stream: Any, locale: str = "zh_CN") -> list[tuple[str, str]]:
    """(kind, text): 不足 for each KPI missed, 亮点 for each beaten (see the module docstring)."""
    from bot.data import fmt, kpi

    values, figures = await _stream_kpis(session, stream)
    if not values:
        return []
    order = [*HEADER_KPIS, *(m for m in figures if m not in HEADER_KPIS)]
    out: list[tuple[str, str]] = []
    for metric in order:
        fig = figures.get(metric)
        if fig is None or fig.met is None:
            continue
        if metric == "gmv":
            shown = t(locale, "data.achievement", pct=f"{fig.achievement * 100:.0f}%")
        elif metric in kpi.SALES:  # an amount: only whether it met its target
            shown = ""
        else:
            shown = f"{fmt.number(fig.value, fig.kind, locale)}（{fmt.target_text(fig, locale)}）"
        key = "reviews.kpi_beaten" if fig.met else "reviews.kpi_missed"
        out.append((HIGHLIGHT if fig.met else SHORTCOMING,
                    t(locale, key, metric=fmt.label(metric, locale), value=shown).strip()))
    return out


async def prefill_kpis(session: AsyncSession, review: Review, stream: Any, now: datetime,
                       locale: str = "zh_CN") -> int:
    """Add the data's suggestions to an open review that has none yet (idempotent)."""
    if review.status != OPEN or stream is None:
        return 0
    have = (await session.execute(select(func.count()).select_from(ReviewItem).where(
        ReviewItem.review_id == review.id, ReviewItem.source == KPI))).scalar_one()
    if have:
        return 0
    found = await kpi_suggestions(session, stream, locale)
    for kind, text in found:
        session.add(ReviewItem(review_id=review.id, kind=kind, text=text[:MAX_ITEM], by="", at=now, source=KPI))
    await session.flush()
    return len(found)


# --------------------------------------------------------------------------- reviews

async def review_for_stream(session: AsyncSession, stream_id: int) -> Review | None:
    q = select(Review).where(Review.stream_id == stream_id).order_by(Review.id.desc()).limit(1)
    return (await session.execute(q)).scalar_one_or_none()


async def latest_open(session: AsyncSession, chat_id: str) -> Review | None:
    q = (select(Review).where(Review.chat_id == chat_id, Review.status == OPEN)
         .order_by(Review.id.desc()).limit(1))
    return (await session.execute(q)).scalar_one_or_none()


async def by_ref(session: AsyncSession, chat_id: str, ref: str) -> Review | None:
    """"#8" (the review of stream 8) or "R3" (review 3)."""
    m = re.fullmatch(r"[#＃](\d{1,9})|[Rr](\d{1,9})", ref.strip())
    if not m:
        return None
    if m.group(1):
        return await review_for_stream(session, int(m.group(1)))
    review = await session.get(Review, int(m.group(2)))
    return review


async def open_review(session: AsyncSession, *, chat_id: str, stream: Any, by: str, now: datetime,
                      tz, locale: str = "zh_CN") -> tuple[Review, bool]:
    """The stream's review (created with its pre-filled shortcomings and the data's
    suggestions if there is none yet), or a review of no stream when ``stream`` is None."""
    if stream is not None:
        found = await review_for_stream(session, stream.id)
        if found is not None:
            await prefill_kpis(session, found, stream, now, locale)
            return found, False
        title = await stream_label(session, stream, tz)
        review = Review(chat_id=chat_id or stream.chat_id, stream_id=stream.id, title=title, created_by=by,
                        created_at=now, stream_ended_at=stream.actual_end or stream.ends_at)
    else:
        review = Review(chat_id=chat_id, title=f"{now.astimezone(tz):%m-%d}", created_by=by, created_at=now)
    session.add(review)
    await session.flush()
    if stream is not None:
        for text in await stream_shortcomings(session, stream):
            session.add(ReviewItem(review_id=review.id, kind=SHORTCOMING, text=text, by="", at=now,
                                   source="fault" if text.startswith("故障#") else "checkpoint"))
        await session.flush()
        await prefill_kpis(session, review, stream, now, locale)
    return review, True


async def items_of(session: AsyncSession, review_id: int) -> list[ReviewItem]:
    q = select(ReviewItem).where(ReviewItem.review_id == review_id).order_by(ReviewItem.id)
    return list((await session.execute(q)).scalars())


async def add_item(session: AsyncSession, review: Review, kind: str, text: str, *, by: str, now: datetime,
                   owner_id: str | None = None, due: datetime | None = None) -> ReviewItem:
    if kind not in KINDS:
        raise ValueError(kind)
    text = " ".join(text.split())[:MAX_ITEM]
    if not text:
        raise UserError("reviews.need_text")
    item = ReviewItem(review_id=review.id, kind=kind, text=text, by=by, at=now, owner_id=owner_id, due_at=due)
    session.add(item)
    await session.flush()
    return item


async def get_item(session: AsyncSession, item_id: int) -> ReviewItem:
    item = await session.get(ReviewItem, item_id)
    if item is None:
        raise UserError("reviews.item_not_found", id=item_id)
    if item.kind != IMPROVEMENT:
        raise UserError("reviews.item_not_improvement", id=item_id)
    return item


async def finish(session: AsyncSession, review: Review, *, by: str, now: datetime) -> bool:
    if review.status == DONE:
        return False
    if not await items_of(session, review.id):
        raise UserError("reviews.empty")
    review.status, review.finished_at, review.finished_by = DONE, now, by
    if review.stream_id is not None:
        await timers.cancel_ref(session, f"review-due:{review.stream_id}")
    return True


async def list_reviews(session: AsyncSession, chat_id: str, limit: int = 20) -> list[Review]:
    q = select(Review).where(Review.chat_id == chat_id).order_by(Review.id.desc()).limit(limit)
    return list((await session.execute(q)).scalars())


async def counts(session: AsyncSession, review_ids: list[int]) -> dict[int, dict[str, int]]:
    out = {i: {k: 0 for k in KINDS} for i in review_ids}
    if review_ids:
        q = (select(ReviewItem.review_id, ReviewItem.kind, func.count()).where(ReviewItem.review_id.in_(review_ids))
             .group_by(ReviewItem.review_id, ReviewItem.kind))
        for rid, kind, n in (await session.execute(q)).all():
            out[rid][kind] = n
    return out


# --------------------------------------------------------------------------- the 24-hour rule

async def stream_ended(session: AsyncSession, *, stream_id: int, ended_at: datetime, chat_id: str = "") -> None:
    """Plan the missing-review reminder (T+24h) and escalation (T+48h) of an ended stream."""
    ref = f"review-due:{stream_id}"
    for stage, after in (("remind", REVIEW_WITHIN), ("escalate", ESCALATE_AFTER)):
        await timers.schedule(session, key=f"{ref}:{stage}", kind="review.missing", due=ended_at + after,
                              payload={"stream": stream_id, "stage": stage}, chat_id=chat_id, ref=ref)


async def ensure_sweep(session: AsyncSession, now: datetime) -> None:
    """The hourly sweep that finds ended streams nobody announced (idempotent)."""
    if await timers.get(session, SWEEP_KEY) is None:
        rule = Recurrence(kind="interval", every_minutes=60)
        await timers.schedule(session, key=SWEEP_KEY, kind=SWEEP_KEY, due=now + timedelta(minutes=1), rule=rule)


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Plan the missing-review timers of streams ended in the last 3 days that have none."""
    async def read():
        from bot.schedule.models import ENDED, Stream

        q = select(Stream).where(Stream.status == ENDED, Stream.ends_at >= now - timedelta(days=3))
        return list((await session.execute(q)).scalars())

    planned = 0
    for stream in await _guarded(session, read) or []:
        ended = stream.actual_end or stream.ends_at
        if await timers.get(session, f"review-due:{stream.id}:remind") is None and \
                await review_for_stream(session, stream.id) is None:
            await stream_ended(session, stream_id=stream.id, ended_at=max(ended, now - REVIEW_WITHIN),
                               chat_id=stream.chat_id)
            planned += 1
    return planned

"""Reading and writing stream data, targets, the import ledger and the data audit log."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.data import kpi
from bot.data.models import DataAudit, DataImport, KpiTarget, ProductFigures, StreamFigures, TrendPoint
from bot.schedule.models import CANCELLED, Stream

TEAM = "team"
TREND_FIELDS = ("online", "entering", "leaving", "gmv", "orders", "new_fans")
CHUNK = 2000


def room_scope(room_id: int) -> str:
    return f"room:{room_id}"


def streamer_scope(open_id: str) -> str:
    return f"streamer:{open_id}"


# -- targets ----------------------------------------------------------------------------------------
async def all_targets(session: AsyncSession) -> list[KpiTarget]:
    return list((await session.execute(select(KpiTarget).order_by(KpiTarget.scope, KpiTarget.metric))).scalars())


def defaults() -> dict[str, float]:
    return {m: spec[2] for m, spec in kpi.METRICS.items() if spec[2] is not None}


def resolve(rows: Iterable[KpiTarget], *, room_id: int | None = None, streamer_id: str | None = None) -> dict[str, float]:
    """Effective targets: defaults < team < room < streamer (the most specific wins)."""
    out = defaults()
    by_scope: dict[str, dict[str, float]] = {}
    for r in rows:
        by_scope.setdefault(r.scope, {})[r.metric] = r.value
    for scope in (TEAM, room_scope(room_id) if room_id else None, streamer_scope(streamer_id) if streamer_id else None):
        if scope:
            out.update(by_scope.get(scope, {}))
    return out


async def targets_for(session: AsyncSession, *, room_id: int | None = None, streamer_id: str | None = None,
                      stream: Stream | None = None) -> dict[str, float]:
    if stream is not None:
        room_id, streamer_id = stream.room_id, stream.streamer_id
    out = resolve(await all_targets(session), room_id=room_id, streamer_id=streamer_id)
    if stream is not None and stream.target_gmv:
        out["gmv"] = float(stream.target_gmv)  # the stream's own 目标GMV wins
    return out


async def set_target(session: AsyncSession, scope: str, metric: str, value: float | None, *, by: str,
                     now: datetime) -> None:
    row = (await session.execute(select(KpiTarget).where(KpiTarget.scope == scope, KpiTarget.metric == metric))
           ).scalar_one_or_none()
    if value is None:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        session.add(KpiTarget(scope=scope, metric=metric, value=value, updated_by=by, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = value, by, now
    await session.flush()


# -- figures ----------------------------------------------------------------------------------------
async def figures_row(session: AsyncSession, stream_id: int) -> StreamFigures | None:
    return (await session.execute(select(StreamFigures).where(StreamFigures.stream_id == stream_id))).scalar_one_or_none()


async def values_of(session: AsyncSession, stream_id: int) -> dict:
    row = await figures_row(session, stream_id)
    return dict(row.values) if row else {}


async def save_values(session: AsyncSession, stream_id: int, values: dict[str, Any], *, source: str, by: str,
                      now: datetime, force_source: bool = False) -> dict[str, tuple[Any, Any]]:
    """Merge ``values`` (None = leave as is) into the stream's figures; returns what changed
    (field → (before, after)). ``force_source``: an unchanged value takes ``source`` too (an
    import owns every figure it wrote, see bot.data.ledger)."""
    row = await figures_row(session, stream_id)
    if row is None:
        row = StreamFigures(stream_id=stream_id, values={}, sources={}, updated_by=by, updated_at=now)
        session.add(row)
    merged, sources = dict(row.values), dict(row.sources)
    changed = {}
    for key, value in values.items():
        if value is None:
            continue
        if merged.get(key) == value:
            if force_source:
                sources[key] = source
            continue
        changed[key] = (merged.get(key), value)
        merged[key], sources[key] = value, source
    if changed or (force_source and sources != row.sources):
        row.values, row.sources, row.updated_by, row.updated_at = merged, sources, by, now
    await session.flush()
    return changed


def product_key(row: dict) -> str:
    return str(row.get("product_id") or row.get("name") or "").strip()[:128]


async def save_products(session: AsyncSession, stream_id: int, rows: list[dict], *,
                        keys: list[str] | None = None) -> int:
    """Upsert products by 商品编号 (else name), or by ``keys`` (one a row, chosen by the
    importer); returns how many rows changed."""
    existing = {p.product_key: p for p in (await session.execute(
        select(ProductFigures).where(ProductFigures.stream_id == stream_id))).scalars()}
    changed = 0
    for i, r in enumerate(rows):
        key = keys[i] if keys is not None else product_key(r)
        if not key:
            continue
        values = {k: v for k, v in r.items() if k not in ("product_id", "name") and v is not None}
        row = existing.get(key)
        if row is None:
            row = ProductFigures(stream_id=stream_id, product_key=key, name=str(r.get("name") or key)[:300], values=values)
            session.add(row)
            existing[key] = row
            changed += 1
        elif row.values != {**row.values, **values}:
            row.values = {**row.values, **values}
            changed += 1
    await session.flush()
    return changed


async def products_of(session: AsyncSession, stream_id: int) -> list[ProductFigures]:
    rows = list((await session.execute(select(ProductFigures).where(ProductFigures.stream_id == stream_id))).scalars())
    rows.sort(key=lambda p: -(p.values.get("gmv") or 0))
    return rows


async def save_trend(session: AsyncSession, stream_id: int, rows: list[dict]) -> int:
    """Replace the stream's minutes covered by ``rows`` (a newer export of the same minutes
    wins); rows without a minute are skipped. Bulk insert in chunks."""
    points = {}
    for r in rows:
        minute = r.get("minute")
        if minute is not None:
            points[minute] = {"stream_id": stream_id, "minute": minute,
                              **{f: r.get(f) for f in TREND_FIELDS}}
    if not points:
        return 0
    first, last = min(points), max(points)
    await session.execute(delete(TrendPoint).where(TrendPoint.stream_id == stream_id,
                                                   TrendPoint.minute >= first, TrendPoint.minute <= last))
    batch = [points[k] for k in sorted(points)]
    for i in range(0, len(batch), CHUNK):
        await session.execute(TrendPoint.__table__.insert(), batch[i:i + CHUNK])  # Core executemany
    return len(batch)


async def trend_of(session: AsyncSession, stream_id: int, max_points: int = 240) -> list[TrendPoint]:
    """The stream's per-minute trend, thinned to at most ``max_points`` evenly spaced rows."""
    count = (await session.execute(select(func.count()).select_from(TrendPoint)
                                   .where(TrendPoint.stream_id == stream_id))).scalar_one()
    if not count:
        return []
    query = select(TrendPoint).where(TrendPoint.stream_id == stream_id).order_by(TrendPoint.minute)
    if count <= max_points:
        return list((await session.execute(query)).scalars())
    step = -(-count // max_points)
    numbered = select(TrendPoint.id, func.row_number().over(order_by=TrendPoint.minute).label("n")) \
        .where(TrendPoint.stream_id == stream_id).subquery()
    ids = select(numbered.c.id).where((numbered.c.n - 1) % step == 0)
    return list((await session.execute(query.where(TrendPoint.id.in_(ids)))).scalars())


# -- ledger and audit -------------------------------------------------------------------------------
async def imported(session: AsyncSession, digest: str, stream_id: int, kind: str) -> DataImport | None:
    return (await session.execute(select(DataImport).where(
        DataImport.digest == digest, DataImport.stream_id == stream_id, DataImport.kind == kind))).scalar_one_or_none()


async def record_import(session: AsyncSession, **values: Any) -> None:
    session.add(DataImport(**values))
    await session.flush()


async def audit(session: AsyncSession, *, action: str, now: datetime, user_id: str, chat_id: str, what: str,
                detail: dict | None = None, rows: int | None = None) -> None:
    session.add(DataAudit(at=now, user_id=user_id, chat_id=chat_id, action=action, what=what[:300],
                          detail=detail or {}, rows=rows))
    await session.flush()


async def audit_log(session: AsyncSession, limit: int = 20) -> list[DataAudit]:
    return list((await session.execute(select(DataAudit).order_by(DataAudit.id.desc()).limit(limit))).scalars())


# -- streams with their figures -------------------------------------------------------------------
async def streams_between(session: AsyncSession, start: datetime, end: datetime, *, room_id: int | None = None,
                          streamer_id: str | None = None) -> list[tuple[Stream, dict]]:
    """Streams starting in [start, end) (not cancelled), each with its figures ({} if none)."""
    query = (select(Stream, StreamFigures.values)
             .outerjoin(StreamFigures, StreamFigures.stream_id == Stream.id)
             .where(and_(Stream.starts_at >= start, Stream.starts_at < end, Stream.status != CANCELLED)))
    if room_id is not None:
        query = query.where(Stream.room_id == room_id)
    if streamer_id is not None:
        query = query.where(Stream.streamer_id == streamer_id)
    rows = (await session.execute(query.order_by(Stream.starts_at, Stream.id))).all()
    return [(s, dict(v or {})) for s, v in rows]

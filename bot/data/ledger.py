"""The import ledger: what each import wrote and overwrote, so a wrong import can be undone
or replaced.

    row, state = await write(session, part_kind, rows, stream, digest=..., ...)   # "new" | "replaced" | "unchanged"
    undone = await undo_file(session, stream_id, digest=None, by=..., now=...)    # the stream's latest file

Every import is a ``DataImport`` row per (file, stream, kind) holding ``before``: for a summary
the fields it set with their earlier value and source; for a product table the products it
touched as they were; for a trend the minutes it covered and the points there before (up to
``KEEP_POINTS``). Values an import writes carry its source tag ``import#<id>:<file>``, so undoing
restores only what is still as the import left it (a later manual figure stays).

A new file of the same kind for the same stream replaces the earlier one: the earlier import is
undone first (state "replaced"), then the new one is written. The same file again while its
import is in effect changes nothing ("unchanged"); after an undo or a replacement it is taken
again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.data import parse, store
from bot.data.models import DataImport, ProductFigures, TrendPoint

ACTIVE, UNDONE, REPLACED = "active", "undone", "replaced"
KEEP_POINTS = 5000
NOT_VALUES = {"date", "start", "end", "room", "title"}


def source_tag(row: DataImport) -> str:
    return f"import#{row.id}:{row.file_name[:50]}"


async def active_of(session: AsyncSession, stream_id: int, kind: str) -> list[DataImport]:
    return list((await session.execute(select(DataImport).where(
        DataImport.stream_id == stream_id, DataImport.kind == kind, DataImport.state == ACTIVE)
        .order_by(DataImport.id.desc()))).scalars())


async def write(session: AsyncSession, kind: str, rows: list[dict], stream_id: int, *, digest: str, file_name: str,
                chat_id: str, by: str, now: datetime, rejected: int = 0,
                keys: list[str] | None = None) -> tuple[DataImport | None, str, list[str], str]:
    """Store one part for one stream. Returns (ledger row, "new" | "replaced" | "unchanged",
    the summary fields whose earlier values were overwritten, the file name replaced)."""
    existing = (await session.execute(select(DataImport).where(
        DataImport.digest == digest, DataImport.stream_id == stream_id, DataImport.kind == kind))).scalar_one_or_none()
    if existing is not None and existing.state == ACTIVE:
        return existing, "unchanged", [], ""
    replaced_file = ""
    earlier = [r for r in await active_of(session, stream_id, kind) if kind != parse.TREND or _overlaps(r, rows)]
    for old in earlier:  # newest first
        await undo(session, old, by=by, now=now, state=REPLACED)
        replaced_file = replaced_file or old.file_name
    if existing is None:
        existing = DataImport(digest=digest, stream_id=stream_id, kind=kind, file_name=file_name[:300])
        session.add(existing)
    existing.file_name, existing.rows, existing.rejected = file_name[:300], len(rows), rejected
    existing.chat_id, existing.by, existing.at, existing.state = chat_id, by, now, ACTIVE
    existing.undone_at, existing.undone_by = None, ""
    await session.flush()
    tag = source_tag(existing)
    overwritten: list[str] = []
    if kind == parse.SUMMARY:
        values = {k: v for k, v in rows[0].items()
                  if k not in NOT_VALUES and isinstance(v, (int, float)) and not isinstance(v, bool)}
        current = await store.figures_row(session, stream_id)
        sources = dict(current.sources) if current else {}
        known = dict(current.values) if current else {}
        existing.before = {"values": {k: [known.get(k), sources.get(k)] for k in values}}
        changed = await store.save_values(session, stream_id, values, source=tag, by=by, now=now, force_source=True)
        overwritten = [k for k, (before, _) in changed.items() if before is not None]
    elif kind == parse.PRODUCTS:
        existing.before = {"products": await _products_before(session, stream_id, keys or [])}
        await store.save_products(session, stream_id, rows, keys=keys)
    else:
        points = [r for r in rows if isinstance(r.get("minute"), datetime)]
        first, last = min(r["minute"] for r in points), max(r["minute"] for r in points)
        old = list((await session.execute(select(TrendPoint).where(
            TrendPoint.stream_id == stream_id, TrendPoint.minute >= first, TrendPoint.minute <= last))).scalars())
        values = await store.values_of(session, stream_id)
        row = await store.figures_row(session, stream_id)
        existing.before = {"first": first.isoformat(), "last": last.isoformat(),
                           "points": [_point(p) for p in old] if len(old) <= KEEP_POINTS else None,
                           "values": {"peak_online": [values.get("peak_online"),
                                                      (row.sources if row else {}).get("peak_online")]}}
        await store.save_trend(session, stream_id, points)
        online = [p["online"] for p in points if p.get("online") is not None]
        if online and values.get("peak_online") is None:
            await store.save_values(session, stream_id, {"peak_online": max(online)}, source=tag, by=by, now=now)
    await session.flush()
    return existing, ("replaced" if earlier else "new"), overwritten, replaced_file


def _overlaps(row: DataImport, rows: list[dict]) -> bool:
    """A trend replaces an earlier trend of the stream when their minutes overlap."""
    before = row.before or {}
    if "first" not in before:
        return True
    minutes = [r["minute"] for r in rows if isinstance(r.get("minute"), datetime)]
    if not minutes:
        return False
    first, last = datetime.fromisoformat(before["first"]), datetime.fromisoformat(before["last"])
    return min(minutes) <= last and max(minutes) >= first


def _point(p: TrendPoint) -> dict:
    return {"minute": p.minute.isoformat(), **{f: getattr(p, f) for f in store.TREND_FIELDS}}


async def _products_before(session: AsyncSession, stream_id: int, keys: list[str]) -> list[dict]:
    existing = {p.product_key: p for p in (await session.execute(
        select(ProductFigures).where(ProductFigures.stream_id == stream_id))).scalars()}
    out = []
    for key in dict.fromkeys(keys):
        p = existing.get(key)
        out.append({"key": key, "absent": True} if p is None else
                   {"key": key, "name": p.name, "values": dict(p.values)})
    return out


async def undo(session: AsyncSession, row: DataImport, *, by: str, now: datetime, state: str = UNDONE) -> None:
    """Put back what ``row`` overwrote, where nothing newer has changed it since."""
    before = row.before or {}
    tag = source_tag(row)
    if "values" in before:
        figures = await store.figures_row(session, row.stream_id)
        if figures is not None:
            values, sources = dict(figures.values), dict(figures.sources)
            for key, (value, source) in before["values"].items():
                if sources.get(key) != tag:
                    continue  # changed since (a manual figure, a later file): keep it
                if value is None:
                    values.pop(key, None)
                    sources.pop(key, None)
                else:
                    values[key], sources[key] = value, source
            figures.values, figures.sources, figures.updated_by, figures.updated_at = values, sources, by, now
    if "products" in before:
        current = {p.product_key: p for p in (await session.execute(
            select(ProductFigures).where(ProductFigures.stream_id == row.stream_id))).scalars()}
        for item in before["products"]:
            p = current.get(item["key"])
            if item.get("absent"):
                if p is not None:
                    await session.delete(p)
            elif p is None:
                session.add(ProductFigures(stream_id=row.stream_id, product_key=item["key"], name=item["name"],
                                           values=item["values"]))
            else:
                p.name, p.values = item["name"], item["values"]
    if "first" in before:
        first, last = datetime.fromisoformat(before["first"]), datetime.fromisoformat(before["last"])
        await session.execute(delete(TrendPoint).where(TrendPoint.stream_id == row.stream_id,
                                                       TrendPoint.minute >= first, TrendPoint.minute <= last))
        points = [{"stream_id": row.stream_id, **p, "minute": datetime.fromisoformat(p["minute"])}
                  for p in before.get("points") or []]
        if points:
            await session.execute(TrendPoint.__table__.insert(), points)
    row.state, row.undone_at, row.undone_by = state, now, by
    await session.flush()


async def latest_file(session: AsyncSession, stream_id: int) -> list[DataImport]:
    """The stream's most recent imported file still in effect: its ledger rows (one a kind)."""
    last = (await session.execute(select(DataImport).where(
        DataImport.stream_id == stream_id, DataImport.state == ACTIVE, DataImport.kind != "manual")
        .order_by(DataImport.at.desc(), DataImport.id.desc()).limit(1))).scalar_one_or_none()
    if last is None:
        return []
    return await file_rows(session, stream_id, last.digest)


async def file_rows(session: AsyncSession, stream_id: int, digest: str) -> list[DataImport]:
    return list((await session.execute(select(DataImport).where(
        DataImport.stream_id == stream_id, DataImport.digest.startswith(digest), DataImport.state == ACTIVE)
        .order_by(DataImport.id.desc()))).scalars())


async def undo_file(session: AsyncSession, stream_id: int, *, digest: str | None, by: str,
                    now: datetime) -> list[DataImport]:
    """Undo one file's import into a stream (the latest when ``digest`` is None); returns the
    ledger rows undone (none when there is nothing to undo)."""
    rows = await file_rows(session, stream_id, digest) if digest else await latest_file(session, stream_id)
    for row in rows:  # newest first
        await undo(session, row, by=by, now=now)
    return rows

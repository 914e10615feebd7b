"""Copy every row from one database to another (``liveops copy-data``), e.g. SQLite to PostgreSQL.

The target is migrated to the newest schema first, must be empty unless ``force`` (then its rows
are deleted first), tables are copied parent-first in batches with their primary keys kept, and on
PostgreSQL each ``id`` sequence is moved past the copied ids. The copy into the target is one
transaction: it lands whole or not at all. Stop the bot while copying.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import Integer, Table, delete, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from bot.config import normalise_db_url
from bot.store.db import Database

BATCH = 1000


class CopyError(Exception):
    """The copy was refused or did not verify; the message is one line for the operator."""


def _tables() -> list[Table]:
    import bot.store.tables  # noqa: F401 - registers every table in the metadata

    return list(SQLModel.metadata.sorted_tables)


def _show(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _counts(conn: AsyncConnection, tables: list[Table]) -> dict[str, int]:
    return {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one() for t in tables}


async def _batches(conn: AsyncConnection, table: Table, size: int):
    """Yield lists of row dicts, keyset-paged on a one-column primary key (else offset-paged)."""
    pk = list(table.primary_key.columns)
    cols = list(table.columns)
    last = None
    offset = 0
    while True:
        query = select(*cols).order_by(*pk).limit(size)
        if len(pk) == 1 and last is not None:
            query = query.where(pk[0] > last)
        elif len(pk) != 1:
            query = query.offset(offset)
        rows = (await conn.execute(query)).all()
        if not rows:
            return
        yield [{c.key: row._mapping[c] for c in cols} for row in rows]
        if len(rows) < size:
            return
        offset += len(rows)
        if len(pk) == 1:
            last = rows[-1]._mapping[pk[0]]


async def _reset_sequences(conn: AsyncConnection, tables: list[Table]) -> None:
    for t in tables:
        col = t.columns.get("id")
        if col is None or not isinstance(col.type, Integer):
            continue
        name = t.name.replace('"', '""')
        await conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:t, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
            f'FROM "{name}"'), {"t": f'"{name}"'})


async def copy_data(src_url: str, dst_url: str, *, force: bool = False,
                    out: Callable[[str], object] = print, batch_size: int = BATCH) -> dict[str, int]:
    """Copy all rows of ``src_url`` into ``dst_url``; returns {table: rows copied}.

    Raises ``bot.config.ConfigError`` for a URL that is neither PostgreSQL nor SQLite and
    ``CopyError`` when the target already holds data (without ``force``) or counts differ."""
    src_url, dst_url = normalise_db_url(src_url), normalise_db_url(dst_url)
    if make_url(src_url) == make_url(dst_url):
        raise CopyError("copy-data: --from and --to are the same database")
    tables = _tables()
    src, dst = Database(src_url), Database(dst_url)
    try:
        # Both sides at the newest schema, so every table and column exists on both.
        await src.migrate()
        await dst.migrate()
        out(f"copying {_show(src_url)} -> {_show(dst_url)}")
        async with dst.engine.connect() as probe:
            existing = {k: v for k, v in (await _counts(probe, tables)).items() if v}
        if existing and not force:
            listed = ", ".join(f"{k} ({v})" for k, v in list(existing.items())[:5])
            more = ", ..." if len(existing) > 5 else ""
            raise CopyError(f"copy-data: the target already has rows in {len(existing)} table(s): "
                            f"{listed}{more}; rerun with --force to replace them")
        copied: dict[str, int] = {}
        async with src.engine.connect() as sconn, dst.engine.begin() as dconn:
            if existing:
                for t in reversed(tables):
                    await dconn.execute(delete(t))
            for t in tables:
                n = 0
                async for rows in _batches(sconn, t, batch_size):
                    await dconn.execute(t.insert(), rows)
                    n += len(rows)
                copied[t.name] = n
                out(f"  {t.name}: {n}")
            if dst.dialect == "postgresql":
                await _reset_sequences(dconn, tables)
            await sconn.rollback()
        async with src.engine.connect() as sconn, dst.engine.connect() as dconn:
            want, got = await _counts(sconn, tables), await _counts(dconn, tables)
        wrong = [f"{k} {want[k]}->{got.get(k)}" for k in want if want[k] != got.get(k)]
        if wrong:
            raise CopyError("copy-data: row counts differ after the copy (source changed while copying?): "
                            + ", ".join(wrong))
        out(f"done: {sum(copied.values())} rows in {len(copied)} tables, counts verified")
        return copied
    finally:
        await src.close()
        await dst.close()

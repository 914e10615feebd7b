"""The webhook's burst write on PostgreSQL: its one statement (``write_burst``), and the
connections it keeps for it, used through asyncpg itself.

A batch of events stored in a burst (bot.store.inbox.InboxWriter, when no worker sleeps to take
a hand-over) is one statement in autocommit. On asyncpg itself, on a
connection kept between batches, it costs the bot about half the CPU it did through SQLAlchemy's
pool checkout, compilation and result handling (tests/bench/bench_pg_write.py; the figures are
in docs/benchmarks.md). The connections still come from the engine's pool, so they are made the
way every other one is, and they go back to it on ``close``, or when unused for HELD_IDLE.

A kept connection can die with the server. The write that meets a dead one drops it, and every
other kept one, and tries once more on a connection taken from the pool, pinged through
SQLAlchemy first. A statement the server refuses leaves its connection kept. A pooled one
that died too fails the ping as a disconnect: SQLAlchemy discards the pool's older connections
and InboxWriter tries the batch once more. A database that is really down fails again, and the
webhook answers 503 (tests/test_outage.py).
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any

import asyncpg
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.models import InboxEvent

log = logging.getLogger("bot.store")


# A kept connection unused for this long goes back to the pool, where SQLAlchemy's pool_recycle
# applies, and the next write takes a pinged one: a connection idle for hours may have been
# dropped by something between the bot and the server.
HELD_IDLE = 60.0


class _Held:
    __slots__ = ("conn", "raw", "used")

    def __init__(self, conn: AsyncConnection, raw: Any) -> None:
        self.conn, self.raw, self.used = conn, raw, time.monotonic()


class HeldConnections:
    """A free list of pooled connections held out of the pool, with their asyncpg connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._free: list[_Held] = []
        self._closed = False

    async def fetch(self, sql: str, *args) -> list:
        """``sql`` with ``args`` on a held connection, in autocommit; its rows. After ``close``
        it refuses (the webhook answers 503: Feishu retries after the restart)."""
        for attempt in (1, 2):
            if self._closed:
                raise ConnectionError("the database is closing")
            held = await self._kept() if attempt == 1 else None
            fresh = held is None
            if held is None:
                held = await self._take()
            try:
                rows = await held.raw.fetch(sql, *args)
            except asyncpg.PostgresError:
                if held.raw.is_closed():  # (the server ended the session: a shutdown, a restart)
                    await self._lost(held)
                    if not fresh:
                        continue
                else:  # the statement failed, the connection is fine
                    await self._keep(held)
                raise
            except Exception:  # noqa: BLE001 - the connection itself failed (closed, reset, refused)
                await self._lost(held)
                if not fresh:
                    log.info("a held database connection failed; trying a fresh one")
                    continue
                raise
            except BaseException:  # cancelled mid-statement: its state is unknown
                await self._drop(held)
                raise
            await self._keep(held)
            return rows
        raise AssertionError("unreachable")

    async def _keep(self, held: _Held) -> None:
        if self._closed:  # (closed while this one was out: it never goes back)
            await self._drop(held)
            return
        held.used = time.monotonic()
        self._free.append(held)

    async def _lost(self, held: _Held) -> None:
        """A connection failed: it and every other kept one go (they usually die together, with
        the server), and the retry takes a fresh one from the pool."""
        await self._drop(held)
        while self._free:
            await self._drop(self._free.pop())

    async def _kept(self) -> _Held | None:
        """The connection used last, if it was used within HELD_IDLE; older ones go back to
        the pool."""
        while self._free:
            held = self._free.pop()
            if time.monotonic() - held.used <= HELD_IDLE:
                return held
            await held.conn.close()
        return None

    async def _take(self) -> _Held:
        """A connection from the pool, pinged through SQLAlchemy: one that died with a restart
        fails here as a DBAPIError with ``connection_invalidated``, SQLAlchemy discards the
        pool's older connections, and the caller's write tries once more (InboxWriter)."""
        conn = await self.engine.connect()
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")  # the pool restores it
            await conn.exec_driver_sql("SELECT 1")
            raw = await conn.get_raw_connection()
        except BaseException:
            await conn.close()
            raise
        return _Held(conn, raw.driver_connection)

    async def _drop(self, held: _Held) -> None:
        try:
            await held.conn.invalidate()
            await held.conn.close()
        except Exception:  # noqa: BLE001 - it is being thrown away
            log.debug("closing a failed held connection failed", exc_info=True)

    async def close(self) -> None:
        """Give every held connection back to the pool (before the engine is disposed); a write
        still out closes its connection when it ends, and later writes are refused."""
        self._closed = True
        while self._free:
            await self._free.pop().conn.close()


async def write_burst(held: HeldConnections, rows: list[dict]) -> tuple[set[str], dict[int, str]]:
    """The events and their lanes in one statement: one round trip for the whole batch instead
    of BEGIN, the INSERT, the lanes' UPSERT and COMMIT. The same rows and lanes as
    ``InboxWriter._write``; the ids stored and the fresh pending rows (row id -> event id)."""
    result = await held.fetch(STORE_BURST, *burst_args(rows))
    return {row[0] for row in result}, {row_id: event_id for event_id, row_id, _lane, status in result
                                        if status == "pending"}


def burst_args(rows: list[dict]) -> list[list]:
    """STORE_BURST's parameters: one array per column, each value bound as its column binds it
    (the payload as JSON text, the times as naive UTC)."""
    columns = [[row[column] for row in rows] for column in COLUMNS]
    for i, bind in _BINDS:
        columns[i] = [bind(value, None) for value in columns[i]]
    return columns


# What InboxWriter.store gives each row: the batch goes as one array per column (unnest), so the
# statement is the same whatever the batch's size. Each array is cast to its column's type.
COLUMNS = ("event_id", "event_type", "message_id", "payload", "source", "lane", "status", "attempts",
           "received_at", "done_at")
_BINDS = [(i, InboxEvent.__table__.c[c].type.process_bind_param) for i, c in enumerate(COLUMNS)
          if c in ("payload", "received_at", "done_at")]


def _array_type(column: str) -> str:
    """An array of the column's type, without a length: a cast to varchar(n) would cut a longer
    value where the INSERT must refuse it, as it does the one-row write's."""
    return re.sub(r"\(\d+\)", "", InboxEvent.__table__.c[column].type.compile(dialect=postgresql.dialect())) + "[]"


# ``InboxWriter._write``'s INSERT and lanes' UPSERT (bot.store.inbox ``_lanes_upsert``) as one
# statement: data-modifying CTEs both run, in one snapshot, all or nothing; lanes in one order,
# as there (code points: COLLATE "C").
STORE_BURST = (
    "WITH stored AS (INSERT INTO inbox (" + ", ".join(COLUMNS) + ") SELECT * FROM unnest("
    + ", ".join(f"${n}::{_array_type(c)}" for n, c in enumerate(COLUMNS, 1))
    + ") ON CONFLICT DO NOTHING RETURNING event_id, id, lane, status), "
    "heads AS (INSERT INTO inbox_lanes (lane, head) SELECT lane, min(id) FROM stored WHERE status = 'pending' "
    "GROUP BY lane ORDER BY lane COLLATE \"C\" ON CONFLICT (lane) DO UPDATE SET head = excluded.head "
    "WHERE inbox_lanes.head IS NULL OR (inbox_lanes.held_by IS NULL AND excluded.head < inbox_lanes.head)) "
    "SELECT event_id, id, lane, status FROM stored")

"""SQLite on the loop's thread (bot/store/sqlite_inline.py): transactions of one process wait
for each other as coroutines, another process's lock is waited out without stopping the loop,
and a wait that exceeds the busy timeout fails as SQLite's own would."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.store import db as dbmod
from bot.store.db import Database
from bot.store.sqlite_inline import InlineConnection


@pytest.fixture
async def sqlite_db(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
        await conn.execute(text("INSERT INTO t (id, v) VALUES (1, 0)"))
    yield db
    await db.close()


async def ticking(stop: asyncio.Event) -> int:
    """How many times the loop ran other work while a transaction waited."""
    n = 0
    while not stop.is_set():
        n += 1
        await asyncio.sleep(0)
    return n


async def test_the_connection_runs_inline_with_wal(sqlite_db):
    async with sqlite_db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, InlineConnection)
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 0


async def test_two_transactions_of_one_process_take_turns_without_blocking_the_loop(sqlite_db):
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with sqlite_db.session() as s:
            await s.execute(text("UPDATE t SET v = v + 1 WHERE id = 1"))
            order.append("first holds")
            first_in.set()
            await release.wait()  # holds the write lock across an await
            order.append("first commits")

    async def second() -> None:
        await first_in.wait()
        async with sqlite_db.session() as s:
            await s.execute(text("UPDATE t SET v = v * 10 WHERE id = 1"))  # BEGIN IMMEDIATE, then this
            order.append("second wrote")

    stop = asyncio.Event()
    ticker = asyncio.create_task(ticking(stop))
    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_in.wait()
    for _ in range(20):
        await asyncio.sleep(0)
    assert order == ["first holds"]  # the second waits for the lock as a coroutine
    release.set()
    await asyncio.gather(*tasks)
    stop.set()
    assert await ticker > 20
    assert order == ["first holds", "first commits", "second wrote"]
    async with sqlite_db.session() as s:
        assert (await s.execute(text("SELECT v FROM t"))).scalar() == 10


async def test_another_process_holding_the_lock_is_waited_out_as_a_coroutine(sqlite_db, tmp_path):
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE t SET v = 5 WHERE id = 1")

    async def write() -> int:
        async with sqlite_db.session() as s:
            await s.execute(text("UPDATE t SET v = v + 1 WHERE id = 1"))
            return (await s.execute(text("SELECT v FROM t"))).scalar()

    stop = asyncio.Event()
    ticker = asyncio.create_task(ticking(stop))
    task = asyncio.create_task(write())
    for _ in range(5):
        await asyncio.sleep(0.005)  # a few retry rounds; the loop keeps running meanwhile
    assert not task.done()
    other.execute("COMMIT")
    other.close()
    assert await task == 6
    stop.set()
    assert await ticker > 5


async def test_a_wait_longer_than_the_busy_timeout_fails_like_sqlite(tmp_path, monkeypatch):
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT", 0.05)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        other = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(Exception, match="locked"):
            async with db.session() as s:
                await s.execute(text("INSERT INTO t (id) VALUES (1)"))
        other.execute("ROLLBACK")
        other.close()
        async with db.session() as s:  # the lock was given back: the next transaction runs
            await s.execute(text("INSERT INTO t (id) VALUES (2)"))
            assert (await s.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await db.close()


async def test_a_failed_transaction_gives_the_lock_back(sqlite_db):
    with pytest.raises(IntegrityError):
        async with sqlite_db.session() as s:
            await s.execute(text("INSERT INTO t (id, v) VALUES (1, 1)"))  # duplicate key
    async with sqlite_db.session() as s:  # would wait forever if the lock were still held
        await s.execute(text("INSERT INTO t (id, v) VALUES (2, 2)"))
    async with sqlite_db.session() as s:
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar() == 2


async def test_a_bulk_insert_runs_off_the_loop(sqlite_db):
    """An import's many-row insert goes to a thread; the loop keeps running meanwhile."""
    from bot.store import sqlite_inline

    calls: list[str] = []
    real = asyncio.to_thread

    async def spy(fn, *args, **kwargs):
        calls.append(getattr(fn, "__name__", ""))
        return await real(fn, *args, **kwargs)

    rows = [{"id": i, "v": i} for i in range(2, 2 + sqlite_inline.BULK_ROWS)]
    old, asyncio.to_thread = asyncio.to_thread, spy
    try:
        async with sqlite_db.session() as s:
            await s.execute(text("INSERT INTO t (id, v) VALUES (:id, :v)"), rows)
            await s.execute(text("INSERT INTO t (id, v) VALUES (:id, :v)"), [{"id": 10_000, "v": 1}])
    finally:
        asyncio.to_thread = old
    assert calls == ["executemany"]  # the small one stayed inline
    async with sqlite_db.session() as s:
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar() == 2 + sqlite_inline.BULK_ROWS


async def test_a_raw_transaction_borrows_the_connection_that_committed_last(sqlite_db):
    """Each sqlite3 connection keeps its own page cache, and another connection's commit makes
    all of it stale. The intake's and the marks' transactions (RawTransactions) run on the pooled
    connection that committed last, idle while they hold the write lock, so the intake, a
    handler's session and a mark taking turns keep one warm cache (48 page reads a command in
    the CPU bench before, under 2 after)."""
    async with sqlite_db.session() as s:
        await s.execute(text("UPDATE t SET v = 1 WHERE id = 1"))
        pooled = (await s.connection()).sync_connection.connection.dbapi_connection
    assert await sqlite_db.raw.run(lambda conn: conn) is pooled
    assert await sqlite_db.raw.run(lambda conn: conn.execute("SELECT v FROM t").fetchone()[0]) == 1
    async with sqlite_db.session() as s:  # and the session after it finds the raw write
        await s.execute(text("SELECT 1"))
        assert (await s.connection()).sync_connection.connection.dbapi_connection is pooled

    await sqlite_db.engine.dispose()  # closed: forgotten, and the raw writer uses its own again
    assert sqlite_db.write_lock.last is None
    own = await sqlite_db.raw.run(lambda conn: conn)
    assert own is not pooled and sqlite_db.write_lock.last is own
    busy = sqlite3.connect(":memory:", isolation_level=None)
    busy.execute("BEGIN")
    sqlite_db.write_lock.last = busy  # (a connection inside a transaction is never borrowed)
    assert await sqlite_db.raw.run(lambda conn: conn) is own
    busy.close()


async def test_a_savepoint_undoes_only_its_own_writes(sqlite_db):
    """Savepoints go straight to the connection (InlineDialect): a handler's failure undoes its
    writes and keeps the transaction's earlier ones."""
    async with sqlite_db.session() as s:
        await s.execute(text("UPDATE t SET v = 7 WHERE id = 1"))
        savepoint = await s.begin_nested()
        await s.execute(text("INSERT INTO t (id, v) VALUES (2, 2)"))
        await savepoint.rollback()
        nested = await s.begin_nested()
        await s.execute(text("INSERT INTO t (id, v) VALUES (3, 3)"))
        await nested.commit()
    async with sqlite_db.session() as s:
        assert (await s.execute(text("SELECT id, v FROM t ORDER BY id"))).all() == [(1, 7), (3, 3)]

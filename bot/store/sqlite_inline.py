"""SQLite on the event loop's own thread, behind aiosqlite's interface.

aiosqlite runs every call (open a cursor, execute, fetch, close, commit) on a thread of its own
and hands each result back through the loop: three to five thread round trips per statement.
Profiled under the bot's steady load (tests/bench/bench_cpu.py) those hand-offs, not SQLite,
were most of the bot's CPU: SQLite answers the bot's indexed lookups in microseconds, while each
hand-off costs a queue put, a thread wake-up and a loop wake-up (~0.1 ms of CPU). Here the calls
run inline, where SQLAlchemy's aiosqlite dialect awaits them, and nothing else changes: the same
dialect, SQL, pragmas and transactions (every transaction still begins IMMEDIATE).

What a thread used to do for us is done explicitly:

* Two transactions of this process never wait on SQLite's lock, which would stop the loop: a
  transaction takes the database's asyncio lock at BEGIN and gives it back at COMMIT, ROLLBACK
  or close, so a second one waits as a coroutine. The wait is bounded by the configured busy
  timeout and then fails as SQLite's own would ("database is locked").
* Another process holding the lock (``liveops migrate`` from a shell, a second bot on the same
  file) is waited for the same way: SQLite's busy timeout is 0, and a statement refused with
  SQLITE_BUSY (which means it did not run) is retried after a short asynchronous sleep.

The trade: a statement that runs long holds the loop for its duration. The bot's statements are
indexed point lookups and small writes. A bulk insert (an import's ``executemany`` of
``BULK_ROWS`` rows or more) still goes to a thread, with the session's connection its own
meanwhile; deployments with heavy data belong on PostgreSQL (docs/deployment-postgres.md).
"""
from __future__ import annotations

import asyncio
import collections
import functools
import sqlite3
import time
from typing import Any, Callable, NamedTuple

import aiosqlite

RETRY_FIRST, RETRY_MAX = 0.001, 0.05  # seconds between attempts while another process writes
BULK_ROWS = 200  # an executemany of this many rows or more runs on a thread (an import's insert)


class WriteLock:
    """One per database file in a process: the asyncio lock its transactions take at BEGIN.
    Made again when the running loop changes (asyncio locks belong to one loop)."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite.Connection whose calls run inline (no worker thread)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], lock: WriteLock, busy_timeout: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._write_lock = lock
        self._busy_timeout = busy_timeout
        self._held: asyncio.Lock | None = None

    # -- aiosqlite's single entry point --------------------------------------------------------
    async def _execute(self, fn, *args, **kwargs):
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        if args and isinstance(args[0], str) and args[0].lstrip()[:5].upper() == "BEGIN":
            self._held = await take(self._write_lock, self._busy_timeout)
            try:
                return await self._retry_busy(fn, *args, **kwargs)
            except BaseException:
                self._give_lock()
                raise
        return await self._retry_busy(fn, *args, **kwargs)

    async def _retry_busy(self, fn, *args, **kwargs):
        if getattr(fn, "__name__", "") == "executemany" and len(args) > 1 and _many(args[1]):
            # the session has this connection to itself meanwhile: nothing else touches it
            return await retry_busy(lambda: asyncio.to_thread(fn, *args, **kwargs), self._busy_timeout)
        return await retry_busy(lambda: fn(*args, **kwargs), self._busy_timeout)

    def _give_lock(self) -> None:
        held, self._held = self._held, None
        if held is not None and held.locked():
            held.release()

    # -- transaction ends release the lock ------------------------------------------------------
    async def commit(self) -> None:
        await self._execute(self._conn.commit)
        if not self._conn.in_transaction:
            self._give_lock()

    async def rollback(self) -> None:
        try:
            await self._execute(self._conn.rollback)
        finally:
            if self._connection is None or not self._connection.in_transaction:
                self._give_lock()

    # -- no thread to start or stop -------------------------------------------------------------
    def __await__(self):
        return self._connect().__await__()

    async def _connect(self) -> "InlineConnection":
        if self._connection is None:
            self._connection = self._connector()
        return self

    def stop(self) -> None:  # type: ignore[override]
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._give_lock()
        return None

    async def close(self) -> None:
        self.stop()


async def take(write_lock: WriteLock, busy_timeout: float) -> asyncio.Lock:
    """The process's write lock, waited for as a coroutine at most ``busy_timeout`` seconds
    (then SQLite's own "database is locked")."""
    lock = write_lock.get()
    try:  # (a free lock with a woken waiter still queues: the timeout holds on every path)
        async with asyncio.timeout(busy_timeout):
            await lock.acquire()
    except TimeoutError:
        raise sqlite3.OperationalError("database is locked") from None
    return lock


async def retry_busy(call: Callable[[], Any], busy_timeout: float) -> Any:
    """``call()`` (awaited if it returns a coroutine) again after a short asynchronous sleep while
    another process holds SQLite's lock (SQLITE_BUSY: it did not run), at most ``busy_timeout``."""
    delay, deadline = RETRY_FIRST, time.monotonic() + busy_timeout
    while True:
        try:
            result = call()
            return await result if asyncio.iscoroutine(result) else result
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)


def _many(rows: Any) -> bool:
    try:
        return len(rows) >= BULK_ROWS
    except TypeError:  # a generator: its size is unknown, assume large
        return True


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def inline_creator(path: str, lock: WriteLock, busy_timeout: float) -> Callable[[], Any]:
    """SQLAlchemy's ``async_creator`` for a file (or ":memory:"): autocommit mode (SQLAlchemy
    issues BEGIN IMMEDIATE and COMMIT itself) and no busy wait inside SQLite."""

    def connector() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=0")
        return conn

    async def create() -> InlineConnection:
        return await InlineConnection(connector, lock, busy_timeout)

    return create


class RawTransactions:
    """Transactions on a ``sqlite3`` connection of their own, for the writes every event and
    every send makes: the intake's (bot.store.inbox) and the sender's "sent" marks
    (bot.sendstore), Core statements run through RawConnection. Through SQLAlchemy's async
    engine a one-row insert's transaction cost 365-500 µs of CPU back to back and 1,150 µs after
    50 ms of sleep (each chatter event at 20 a second); straight on ``sqlite3``, 66 and 341 µs. A
    command's intake with its lane went from 932 to 273 µs, a mark from 906-1,030 to 236-250
    (docs/benchmarks.md). The rules are the inline connection's: the process's write lock from
    BEGIN to COMMIT, BEGIN IMMEDIATE, another process's lock waited for as a coroutine. A file
    database only (":memory:" would be another database)."""

    def __init__(self, path: str, lock: WriteLock, busy_timeout: float) -> None:
        self.path, self._lock, self._busy_timeout = path, lock, busy_timeout
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
            for pragma in ("busy_timeout=0", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                conn.execute(f"PRAGMA {pragma}")
            self._conn = conn
        return self._conn

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(conn, *args)`` in one transaction, committed when it returns."""
        lock = await take(self._lock, self._busy_timeout)
        try:
            conn = self._connection()
            await retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"), self._busy_timeout)
            try:
                result = fn(conn, *args)
                conn.execute("COMMIT")
            except BaseException:
                try:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                except sqlite3.Error:  # a connection that cannot roll back is not used again
                    self.close()
                raise
            return result
        finally:
            lock.release()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class RawStatement(NamedTuple):
    """A Core statement compiled for ``sqlite3`` itself, run by RawTransactions: its SQL, its
    parameters in order, their types' bind processors, the values fixed at build time, and the
    columns it returns with their result processors (so a row is stored and read exactly as
    through the engine)."""

    sql: str
    names: tuple[str, ...]
    processors: dict[str, Callable[[Any], Any]]
    fixed: dict[str, Any]
    row: Any  # a namedtuple class of the returned columns (None: returns nothing)
    results: tuple[Callable[[Any], Any] | None, ...]

    def args(self, params: dict) -> tuple:
        processors, fixed = self.processors, self.fixed
        return tuple((processors[n](params[n]) if n in processors else params[n]) if n in params else fixed[n]
                     for n in self.names)

    def rows(self, fetched: list[tuple]) -> list:
        results, make = self.results, self.row
        return [make(*(f(v) if f is not None else v for f, v in zip(results, values))) for values in fetched]


@functools.lru_cache(maxsize=256)
def raw_statement(statement: Any, dialect: Any, column_keys: tuple[str, ...] | None = None) -> RawStatement:
    """``statement`` compiled with ``dialect`` (the engine's: its JSON serializer included)."""
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
    if compiled.insert_prefetch or compiled.update_prefetch:  # the engine computes these per row
        raise ValueError("a raw statement must be given every column that has a Python-side default: "
                         + ", ".join(c.key for c in [*compiled.insert_prefetch, *compiled.update_prefetch]))
    processors = dict(compiled._bind_processors)
    fixed = {}
    for name, bind in compiled.binds.items():
        if not bind.required:
            value = bind.effective_value
            fixed[name] = processors[name](value) if name in processors else value
    returned = compiled._result_columns
    row = collections.namedtuple("Row", [c.keyname for c in returned], rename=True) if returned else None
    results = tuple(c.type._cached_result_processor(dialect, None) for c in returned)
    return RawStatement(compiled.string, tuple(compiled.positiontup or ()), processors, fixed, row, results)


class RawResult:
    """What ``RawConnection.execute`` returns: the part of SQLAlchemy's Result the bot uses."""

    def __init__(self, rows: list) -> None:
        self._rows = rows

    def all(self) -> list:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None


class RawConnection:
    """A ``sqlite3`` connection inside RawTransactions.run that takes Core statements as
    SQLAlchemy's Connection does (``execute(statement, params or [params, ...])``), each
    compiled once, so one function can run on either: the engine's connection on PostgreSQL,
    this on a SQLite file."""

    def __init__(self, conn: sqlite3.Connection, dialect: Any) -> None:
        self.conn, self.dialect = conn, dialect

    def execute(self, statement: Any, params: dict | list[dict] | None = None) -> RawResult:
        many = isinstance(params, list)
        first = (params[0] if params else {}) if many else (params or {})
        raw = raw_statement(statement, self.dialect, tuple(first) if getattr(statement, "is_insert", False) else None)
        if not many:
            fetched = self.conn.execute(raw.sql, raw.args(first)).fetchall()
        elif raw.row is None:
            self.conn.executemany(raw.sql, [raw.args(p) for p in params])
            return RawResult([])
        else:  # sqlite3's executemany returns no rows: one at a time
            fetched = [values for p in params for values in self.conn.execute(raw.sql, raw.args(p)).fetchall()]
        # a statement without typed columns (text()) gives its values as sqlite3 reads them
        return RawResult(raw.rows(fetched) if raw.row is not None else fetched)

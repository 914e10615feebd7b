"""SQLite on the event loop's own thread, straight from SQLAlchemy's greenlet.

aiosqlite runs every call (open a cursor, execute, fetch, close, commit) on a thread of its own
and hands each result back through the loop: three to five thread round trips per statement.
Profiled under the bot's steady load (tests/bench/bench_cpu.py) those hand-offs, not SQLite,
were most of the bot's CPU: SQLite answers the bot's indexed lookups in microseconds, while each
hand-off costs a queue put, a thread wake-up and a loop wake-up (~0.1 ms of CPU). Run inline
behind aiosqlite's interface, each driver call still cost two greenlet switches and a stack of
coroutines (18 a /ping handler). So SQLAlchemy's asyncio layer here runs its own pysqlite
dialect (``InlineDialect``): the same compiler, types, SQL, pragmas and transactions (every
transaction still begins IMMEDIATE), ``sqlite3``'s calls made where SQLAlchemy makes them,
and only waits go through the loop.

What a thread used to do for us is done explicitly, as coroutines awaited from the greenlet:

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
import logging
import sqlite3
import time
from typing import Any, Callable, NamedTuple

from greenlet import getcurrent
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool
from sqlalchemy.util import await_

from bot.store.sqlite_wal import SAFETY_PAGES, Checkpoints

log = logging.getLogger("bot.store")
RETRY_FIRST, RETRY_MAX = 0.001, 0.05  # seconds between attempts while another process writes
MULTI_ROWS = 100  # rows per multi-row INSERT ... RETURNING (its parameters stay far under SQLite's 32,766)
BULK_ROWS = 200  # an executemany of this many rows or more runs on a thread (an import's insert)


class WriteLock:
    """One per database file in a process: the asyncio lock its transactions take at BEGIN.
    Made again when the running loop changes (asyncio locks belong to one loop)."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # The connection whose transaction committed last. Each connection keeps its own page
        # cache, and another connection's commit makes all of it stale: RawTransactions writes on
        # this one while it is free, so the intake, a handler's session and a mark, taking turns,
        # keep one warm cache instead of re-reading the pages each time (48 preads a command).
        self.last: sqlite3.Connection | None = None
        self.checkpoints: Checkpoints | None = None  # a file's WAL checkpoints (bot.store.sqlite_wal)

    def committed(self, conn: sqlite3.Connection) -> None:
        """After a commit, the lock still held: a WAL checkpoint asked for when one is due.
        Never raises: the commit happened, whatever the checkpoints' trouble."""
        if self.checkpoints is not None:
            try:
                self.checkpoints.committed(conn)
            except Exception:  # noqa: BLE001
                log.warning("WAL checkpoint not asked for", exc_info=True)

    def get(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock


class InlineCursor(sqlite3.Cursor):
    """sqlite3's cursor, as SQLAlchemy's asyncio layer expects an async driver's to be."""

    async def _async_soft_close(self) -> None:
        """(SQLAlchemy closes an async driver's cursor before a result leaves the greenlet.)
        sqlite3 reads the rows on demand on this thread: nothing to do."""
        return None


class InlineConnection(sqlite3.Connection):
    """A ``sqlite3`` connection that knows the process's write lock: taken at BEGIN (waited for
    as a coroutine, through the greenlet SQLAlchemy runs its sync code in), given back when the
    transaction ends or the connection closes."""

    write_lock: WriteLock
    busy_timeout: float
    held: asyncio.Lock | None = None

    def cursor(self, factory: Any = InlineCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def begin_immediate(self) -> None:
        self.held = await_(take(self.write_lock, self.busy_timeout))
        try:
            wait_busy(lambda: self.execute("BEGIN IMMEDIATE"), self.busy_timeout)
        except BaseException:
            self.give_lock()
            raise

    def give_lock(self) -> None:
        held, self.held = self.held, None
        if held is not None and held.locked():
            held.release()

    def close(self) -> None:
        if self.write_lock.last is self:
            self.write_lock.last = None
        try:
            super().close()
        finally:
            self.give_lock()


def wait_busy(call: Callable[[], Any], busy_timeout: float) -> Any:
    """``call()``, again after a short asynchronous sleep (through the greenlet) while another
    process holds SQLite's lock: the sync twin of ``retry_busy``."""
    delay, deadline = RETRY_FIRST, None
    while True:
        try:
            return call()
        except sqlite3.OperationalError as exc:
            deadline = deadline or time.monotonic() + busy_timeout
            if not _busy(exc) or time.monotonic() + delay > deadline:
                raise
        await_(asyncio.sleep(delay))
        delay = min(delay * 2, RETRY_MAX)


async def _nothing() -> None:
    return None


def _awaited_once() -> None:
    """SQLAlchemy's AsyncConnection.execute insists its call awaited something (a sync driver
    would otherwise be a mistake); here that is by design. One empty await per call."""
    current = getcurrent()
    if not getattr(current, "_inline_awaited", False):
        current._inline_awaited = True
        await_(_nothing())


class InlineDialect(SQLiteDialect_pysqlite):
    """SQLAlchemy's own pysqlite dialect, run by its asyncio layer (``is_async``): sqlite3's
    calls made straight from the greenlet, the write lock and another process's lock waited for
    as coroutines. Registered as ``sqlite+inline``; ``Database`` uses it for every
    ``sqlite+aiosqlite`` URL."""

    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: Any) -> type:
        return AsyncAdaptedQueuePool if cls._is_url_file_db(url) else StaticPool

    def do_execute(self, cursor, statement, parameters, context=None) -> None:
        _awaited_once()
        wait_busy(lambda: cursor.execute(statement, parameters), cursor.connection.busy_timeout)

    def do_execute_no_params(self, cursor, statement, context=None) -> None:
        _awaited_once()
        wait_busy(lambda: cursor.execute(statement), cursor.connection.busy_timeout)

    def do_executemany(self, cursor, statement, parameters, context=None) -> None:
        _awaited_once()
        if _many(parameters):  # an import's insert: on a thread, the session's connection its own meanwhile
            wait_busy(lambda: await_(asyncio.to_thread(cursor.executemany, statement, parameters)),
                      cursor.connection.busy_timeout)
        else:
            wait_busy(lambda: cursor.executemany(statement, parameters), cursor.connection.busy_timeout)

    def do_begin(self, dbapi_connection) -> None:
        """BEGIN IMMEDIATE, the process's write lock first, so claim-then-update never deadlocks
        between processes (pysqlite's own BEGIN is none: the connection is in autocommit mode)."""
        _unproxied(dbapi_connection).begin_immediate()

    # Savepoints straight on the connection: every handler runs in one (bot.router), and through
    # Connection.execute each of SAVEPOINT and RELEASE cost the whole machinery of a query.
    def do_savepoint(self, connection, name) -> None:
        _unproxied(connection.connection).execute(f"SAVEPOINT {self.identifier_preparer.quote(name)}")

    def do_rollback_to_savepoint(self, connection, name) -> None:
        _unproxied(connection.connection).execute(f"ROLLBACK TO SAVEPOINT {self.identifier_preparer.quote(name)}")

    def do_release_savepoint(self, connection, name) -> None:
        _unproxied(connection.connection).execute(f"RELEASE SAVEPOINT {self.identifier_preparer.quote(name)}")

    def do_commit(self, dbapi_connection) -> None:
        conn = _unproxied(dbapi_connection)
        conn.commit()
        if not conn.in_transaction:
            conn.write_lock.last = conn
            conn.write_lock.committed(conn)
            conn.give_lock()

    def do_rollback(self, dbapi_connection) -> None:
        conn = _unproxied(dbapi_connection)
        try:
            conn.rollback()
        finally:
            if not conn.in_transaction:
                conn.give_lock()


def _unproxied(conn: Any) -> InlineConnection:
    """The connection itself, not the pool's proxy of it (which forgets it when given back)."""
    return conn if isinstance(conn, InlineConnection) else conn.dbapi_connection


registry.register("sqlite.inline", __name__, "InlineDialect")


def inline_url(url: str) -> str:
    """``sqlite+aiosqlite:///…`` (or ``sqlite:///…``) as this dialect's URL."""
    return "sqlite+inline://" + url.split("://", 1)[1]


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


def inline_creator(path: str, lock: WriteLock, busy_timeout: float) -> Callable[[], InlineConnection]:
    """SQLAlchemy's ``creator`` for a file (or ":memory:"): autocommit mode (BEGIN IMMEDIATE and
    COMMIT are the dialect's), no busy wait inside SQLite (waits are coroutines), WAL, and
    checkpoints left to a thread where one makes them (bot.store.sqlite_wal)."""

    def create() -> InlineConnection:
        pragmas = ("busy_timeout=0", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   *((f"wal_autocheckpoint={SAFETY_PAGES}",) if lock.checkpoints is not None else ()))
        conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False,
                               factory=InlineConnection)
        conn.write_lock, conn.busy_timeout = lock, busy_timeout
        for pragma in pragmas:
            conn.execute(f"PRAGMA {pragma}")
        return conn

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
            self._conn = inline_creator(self.path, self._lock, self._busy_timeout)()
        return self._conn

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(conn, *args)`` in one transaction, committed when it returns. It runs on the
        connection that committed last (``WriteLock.last``), usually a pooled one: while this
        holds the write lock no other transaction of the process is open, and every pooled
        transaction holds it from BEGIN to its end, so that connection is idle. Its own
        connection otherwise."""
        lock = await take(self._lock, self._busy_timeout)
        try:
            conn = self._lock.last
            if conn is None or conn.in_transaction:
                conn = self._connection()
            await retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"), self._busy_timeout)
            try:
                result = fn(conn, *args)
                conn.execute("COMMIT")
                self._lock.committed(conn)
            except BaseException:
                try:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                except sqlite3.Error:  # a connection that cannot roll back is not used again
                    self._forget(conn)
                raise
            self._lock.last = conn
            return result
        finally:
            lock.release()

    def _forget(self, conn: sqlite3.Connection) -> None:
        if self._lock.last is conn:
            self._lock.last = None
        if conn is self._conn:
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            if self._lock.last is self._conn:
                self._lock.last = None
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

    def args(self, params: dict) -> list:
        processors, fixed = self.processors, self.fixed
        return [(processors[n](params[n]) if n in processors else params[n]) if n in params else fixed[n]
                for n in self.names]

    def rows(self, fetched: list[tuple]) -> list:
        results, make = self.results, self.row
        if not any(results):  # (strings and integers: read as sqlite3 gives them)
            return [make(*values) for values in fetched]
        return [make(*[f(v) if f is not None else v for f, v in zip(results, values)]) for values in fetched]

    def multi(self, n: int) -> str | None:
        """This INSERT's SQL for ``n`` rows in one statement (one VALUES group per row), or None
        when its SQL has not exactly one plain VALUES group of its parameters."""
        return None if self.fixed else _multi_sql(self.sql, len(self.names), n)


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


@functools.lru_cache(maxsize=1024)  # a few INSERTs, at most MULTI_ROWS sizes each
def _multi_sql(sql: str, width: int, n: int) -> str | None:
    group = "(" + ", ".join("?" * width) + ")"
    if not width or sql.count(f" VALUES {group}") != 1:
        return None
    return sql.replace(f" VALUES {group}", " VALUES " + ", ".join([group] * n))


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
        else:  # sqlite3's executemany returns no rows: many rows in one statement (the webhook's batch)
            fetched = []
            for start in range(0, len(params), MULTI_ROWS):
                chunk = params[start:start + MULTI_ROWS]
                sql = raw.multi(len(chunk))
                if sql is None:
                    fetched += [values for p in chunk for values in self.conn.execute(raw.sql, raw.args(p)).fetchall()]
                else:
                    fetched += self.conn.execute(sql, [a for p in chunk for a in raw.args(p)]).fetchall()
        # a statement without typed columns (text()) gives its values as sqlite3 reads them
        return RawResult(raw.rows(fetched) if raw.row is not None else fetched)

"""The async engine, sessions, and migrations applied at start-up."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Callable, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn

from bot.store.pg_held import HeldConnections
from bot.store.sqlite_wal import Checkpoints
from bot.store.sqlite_inline import RawTransactions, WriteLock, inline_creator, inline_url

MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")
BUSY_TIMEOUT = 30.0  # seconds a SQLite transaction waits for the write lock before failing


class Database:
    """One engine and its session factory. ``dialect`` is "sqlite" or "postgresql"."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.raw: RawTransactions | None = None
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[1] if ":///" in url else ""
            on_file = bool(path) and path != ":memory:"
            if on_file:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Calls run on the loop's thread, not aiosqlite's (bot.store.sqlite_inline says why).
            # LIFO pool: the connection just given back is the next one out. Each connection has its
            # own page cache, which any other connection's commit makes stale, so taking the pool's
            # connections in turn (FIFO) re-read the pages each transaction touches: 32 pread
            # calls per timer firing in the CPU bench before, 1 after.
            self.write_lock = WriteLock()
            # the intake's writes and the sends' marks run on sqlite3 itself (RawTransactions)
            if on_file:
                self.raw = RawTransactions(path, self.write_lock, BUSY_TIMEOUT)
                self.write_lock.checkpoints = Checkpoints(path)  # off the loop (bot.store.sqlite_wal)
            self.engine: AsyncEngine = create_async_engine(
                inline_url(url), echo=echo, creator=inline_creator(path or ":memory:", self.write_lock, BUSY_TIMEOUT),
                pool_use_lifo=True)
        else:
            # No pre-ping (a round trip before every transaction): a connection that died with
            # the server fails its first use, SQLAlchemy then discards every older pooled
            # connection, and callers retry (the webhook answers 503, loops back off).
            self.engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=10,
                                              pool_recycle=1800)
        self.dialect = self.engine.dialect.name
        # the webhook's burst writes on PostgreSQL run on asyncpg itself (bot.store.pg_held)
        self.held = HeldConnections(self.engine) if self.dialect == "postgresql" else None
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back on error."""
        async with self.sessions() as session:
            async with session.begin():
                yield session

    async def transact(self, fn: Callable[..., T], *args) -> T:
        """``fn(conn, *args)`` in one transaction on a Core connection (SQLAlchemy's sync API),
        committed when it returns. All of it runs in one greenlet, as AsyncConnection.run_sync
        runs its function: the async API spends a greenlet on every call (connect, begin, each
        execute, commit, close), which cost the webhook's insert 38 % of its CPU. For the hot
        paths of Core statements only (bot.store.inbox, bot.sendstore)."""
        def run() -> T:
            with self.engine.sync_engine.begin() as conn:
                return fn(conn, *args)
        return await greenlet_spawn(run)

    async def connected(self, fn: Callable[..., T], *args) -> T:
        """``fn(conn, *args)`` on one pooled Core connection, in one greenlet as ``transact``;
        ``fn`` begins and commits what it writes itself (bot.sendstore: a write, then a read
        after its commit, on one connection)."""
        def run() -> T:
            with self.engine.sync_engine.connect() as conn:
                return fn(conn, *args)
        return await greenlet_spawn(run)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - readiness only reports
            return False

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        if self.held is not None:
            await self.held.close()
        if self.raw is not None:
            self.raw.close()
        await self.engine.dispose()
        if self.raw is not None and self.write_lock.checkpoints is not None:
            self.write_lock.checkpoints.close()


def dialect_insert(dialect: str):
    """The INSERT construct with ON CONFLICT support for "postgresql" or "sqlite"."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


_CLAIM_SETTINGS = text("SELECT set_config('enable_bitmapscan', 'off', true), "
                       "set_config('enable_seqscan', 'off', true), "
                       "set_config('enable_sort', 'off', true), "
                       "set_config('jit', 'off', true), "
                       "set_config('plan_cache_mode', 'force_custom_plan', true), "
                       "set_config('synchronous_commit', 'off', true)")


async def claim_settings(conn) -> None:
    """For the rest of a queue-claim transaction on PostgreSQL (one round trip):

    * walk an index in order ("the first claimable row by id"). The statistics describe the
      queue when it was last analysed, usually empty; from those PostgreSQL chose to read the
      whole backlog, filter it and sort it (22-45 ms a claim at a 3,000-event backlog instead
      of 0.1 ms), the cost growing with the backlog exactly when the bot is busiest. Sorting is
      off too: a probe of "the first row of this chat" then follows the index whose order it
      asks for, where from those statistics it had read every waiting row per probe (the
      sender's look, 146 ms at 15,000 waiting rows, bot.sendstore);
    * a plan made for this execution, not the connection's cached generic one (a statement with
      parameters; the claims' all have some). asyncpg prepares each statement once per
      connection, and after five runs PostgreSQL may keep a generic plan, made for the table as
      it was then, until its statistics change: a bot started with an empty outbox kept, for the
      life of its pooled connections, a plan for the sender's look (``claim_ids_by_lane``) that
      read 16,449 rows (66-71 ms) a look once 8,000 rows waited, against 256 rows (4-7 ms)
      planned afresh; in the webhook bench's drain the looks took most of the server's 1.3 cores;
    * no JIT: a plan that still needs a sequential scan (a small table without a fitting index)
      is costed at 10^10 once seqscan is "off", far above ``jit_above_cost``, and PostgreSQL's
      JIT (on by default) then spent 100-400 ms compiling a query that runs in 0.05 ms;
    * commit without waiting for the WAL flush. A claim lost in a server crash only puts the
      row back to pending, and the handler's own commit, which does wait, flushes the WAL up
      to and including the claim, so nothing can depend on a lost claim. One fsync wait less
      per event.

    SQLite needs neither."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_CLAIM_SETTINGS)


def insert_ignore(db: "Database | str", model, **values):
    """INSERT ... ON CONFLICT DO NOTHING for either dialect (a Database or a dialect name)."""
    dialect = db if isinstance(db, str) else db.dialect
    return dialect_insert(dialect)(model).values(**values).on_conflict_do_nothing()


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    # "heads": features add their tables in their own migration branches off the core.
    command.upgrade(alembic_config(connection), "heads")

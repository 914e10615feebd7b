"""The webhook's kept PostgreSQL connections (bot.store.pg_held), against the real server: what
happens when they die, when a statement fails, when a write is cancelled, and after close."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import asyncpg
import pytest

from bot.feishu import events
from bot.store.inbox import InboxWriter

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)
NOW = datetime.now(timezone.utc)


def ev(name: str) -> dict:
    return {"event_id": name, "event_type": events.MESSAGE, "payload": "{}", "lane": "oc_held"}


async def _two_kept(database) -> list[int]:
    """Two writes at once: two kept connections; their server pids."""
    await asyncio.gather(database.held.fetch("SELECT pg_sleep(0.1)"), database.held.fetch("SELECT pg_sleep(0.1)"))
    pids = [held.raw.get_server_pid() for held in database.held._free]
    assert len(set(pids)) == 2
    return pids


async def _terminate(database, pids: list[int]) -> None:
    admin = await asyncpg.connect(database.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for pid in pids:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.1)


async def test_both_kept_connections_dead_the_next_batch_is_still_stored(database):
    """A restart (or a failover) ends every kept connection at once: the write that meets the
    first dead one drops them all and stores the batch on a fresh one, first try."""
    writer = InboxWriter(database)  # no workers: every batch is a burst's
    await _terminate(database, await _two_kept(database))
    assert await writer.store(now=NOW, **ev("after-restart"))
    assert len(database.held._free) == 1


async def test_a_refused_statement_keeps_its_connection(database):
    """A statement the server refuses is the batch's problem, not the connection's: the error
    reaches the caller (the webhook answers 503) and the connection stays kept."""
    writer = InboxWriter(database)
    assert await writer.store(now=NOW, **ev("first"))
    pid = database.held._free[0].raw.get_server_pid()
    with pytest.raises(asyncpg.PostgresError):
        await writer.store(now=NOW, **ev("nul\x00byte"))  # text PostgreSQL cannot hold
    assert [held.raw.get_server_pid() for held in database.held._free] == [pid]
    assert await writer.store(now=NOW, **ev("second"))


async def test_a_cancelled_write_is_cancelled_not_retried(database):
    """Cancelled on a kept connection (a shutdown): the cancellation goes through, the write
    is not tried again, and the connection, in an unknown state, is dropped."""
    await database.held.fetch("SELECT 1")  # one kept
    fetch = asyncio.ensure_future(database.held.fetch("SELECT pg_sleep(2)"))
    await asyncio.sleep(0.2)
    fetch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await fetch
    assert database.held._free == []  # its connection's state is unknown: dropped


async def test_after_close_writes_are_refused(database):
    """Shutting down: a write still out gives its connection up when it ends, a later one is
    refused (the webhook answers 503 and Feishu delivers again after the restart)."""
    out = asyncio.ensure_future(database.held.fetch("SELECT pg_sleep(0.2)"))
    await asyncio.sleep(0.05)
    await database.held.close()
    assert len(await out) == 1 and database.held._free == []
    with pytest.raises(ConnectionError):
        await database.held.fetch("SELECT 1")

"""Stopping `liveops run` (bot.server.shut_down): no new events first, then the requests in hand
finish while the workers and the database are still there, then the bot stops."""
from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from sqlalchemy import select, text

from bot.server import shut_down
from bot.sim.events import EventPusher
from bot.store.models import InboxEvent
from tests.harness import ENCRYPT_KEY


async def _until(check, what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.01)


async def _refused(port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


@contextlib.asynccontextmanager
async def _another_writer(db):
    """Another process holds the database's write lock: the webhook's insert waits for it."""
    if db.dialect == "sqlite":
        other = sqlite3.connect(db.raw.path, isolation_level=None, timeout=0)  # never blocks the loop

        async def begun() -> bool:
            try:
                other.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # the bot is writing: in a moment
                return False
            return True

        await _until(begun, "the other writer takes the lock")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        async with db.engine.connect() as conn:
            await conn.execute(text("LOCK TABLE inbox IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await conn.rollback()


async def test_a_request_in_hand_at_shutdown_is_stored_and_answered_before_the_bot_stops(harness):
    h = harness
    url, h.sim.event_url = h.sim.event_url, None  # the message, not yet delivered: sent by hand below
    sent = await h.sim.send_text(h.chats["team"], h.users["ops"], "/在吗")
    h.sim.event_url = url
    envelope = sent["delivery"]["payload"]
    body, headers = EventPusher.encode(envelope, ENCRYPT_KEY)
    port = urlsplit(h.bot_url).port
    bot = h.bot
    async with aiohttp.ClientSession() as http:
        async with _another_writer(h.db):
            request = asyncio.create_task(http.post(f"{h.bot_url}/feishu/events", data=body, headers=headers))

            async def in_hand() -> bool:  # read, its insert waiting for the other writer
                return bot.ingress.storing == 1

            await _until(in_hand, "the bot is storing the event")
            stopping = asyncio.create_task(shut_down(bot, [h.runner], close_db=False))
            h.bot = None  # stopped here, not by the fixture

            async def refused() -> bool:
                return await _refused(port)

            await _until(refused, "the listening socket closes first")
            assert not stopping.done() and bot.started  # the workers run on while the request finishes
        async with await asyncio.wait_for(request, 10) as response:  # the other writer is gone: stored, 200
            assert response.status == 200
    await asyncio.wait_for(stopping, 30)
    assert not bot.started
    async with h.db.session() as session:
        stored = (await session.execute(select(InboxEvent.event_id).where(
            InboxEvent.event_id == envelope["header"]["event_id"]))).scalars().all()
    assert len(stored) == 1  # the 200 meant it: the event is in the inbox for the next start


async def test_the_bot_stops_even_when_a_server_fails_to(harness):
    """A listener that fails to close (an error, a cancelled wait) is logged; the workers, sender
    and database still stop."""
    class Failing(web.AppRunner):
        async def cleanup(self) -> None:
            await super().cleanup()
            raise RuntimeError("the site did not stop")

    failing = Failing(web.Application())
    await failing.setup()
    bot, harness.bot = harness.bot, None  # stopped here, not by the fixture
    await asyncio.wait_for(shut_down(bot, [harness.runner, failing], close_db=False), 30)
    assert not bot.started and bot.workers.stopping and not bot.sender.running

"""A real PostgreSQL outage: the bot reaches its database through a TCP proxy that this test
cuts (every open connection reset, new ones refused) and restores, in real wall time.

During the outage the webhook answers 503 (Feishu retries events) and /readyz says not
ready; a card press, which Feishu never re-pushes, is answered 200 with a toast asking to
press again and leaves the card as it was; after it, Feishu's retries are handled exactly once, nothing that
was accepted before the outage is lost, a reminder that fell due during the outage fires
once, and the outbox sender, the inbox workers and the timer engine carry on without a
restart.

The outage lasts LIVEOPS_OUTAGE_SECONDS (default 8 s in the suite; the issue's 30 s runs
with LIVEOPS_OUTAGE_SECONDS=30, and tests/bench/bench_outage.py runs 30 s and prints the
recovery times). Nothing the bot does depends on the outage's length below its lease and
backoff caps, so 8 s already crosses every retry loop several times.
"""
from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.reminders.models import Reminder
from bot.timers.models import PAUSED, Timer
from bot.sim.cards import buttons
from bot.store.db import Database
from bot.store.models import InboxEvent
from tests.conftest import START
from tests.harness import Harness

OUTAGE_SECONDS = float(os.environ.get("LIVEOPS_OUTAGE_SECONDS", "8"))


class TcpProxy:
    """127.0.0.1:<port> forwarded to the database. ``cut`` resets every open connection and
    closes the listening socket (new connections are refused, as when PostgreSQL is down or
    restarting); ``restore`` listens again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.AbstractServer | None = None
        self.pipes: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.connections = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for down, up in list(self.pipes):
            down.transport.abort()
            up.transport.abort()
        self.pipes.clear()
        self.server = None

    async def restore(self) -> None:
        await self.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        pair = (writer, up_writer)
        self.pipes.add(pair)
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            self.pipes.discard(pair)
            writer.transport.abort()
            up_writer.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.transport.abort()


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


async def _get(url: str) -> tuple[int, dict | str]:
    async with aiohttp.ClientSession() as s:
        async with s.get(url) as r:
            text = await r.text()
            try:
                return r.status, await r.json(content_type=None)
            except ValueError:
                return r.status, text


async def wait_ready(h: Harness, timeout: float = 60) -> None:
    """Poll /readyz until it says ready (waiting for the reconnect, not measuring it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status, _ = await _get(f"{h.bot_url}/readyz")
        if status == 200:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the bot did not become ready after the database came back")


def reminder_cards(h: Harness) -> list[dict]:
    return [m for m in h.bot_messages() if m["msg_type"] == "interactive" and "<at id=" in h.text_of(m)]


def ping_answers(h: Harness) -> Counter:
    return Counter(m["parent_id"] for m in h.bot_messages()
                   if m["msg_type"] == "text" and m.get("parent_id") and "在" in h.text_of(m))


async def outage_scenario(direct: Database, outage: float) -> dict:
    """The whole run; returns figures (used by the bench too). ``direct`` is a migrated, empty
    PostgreSQL database; the bot reaches it only through the proxy."""
    parts = urlsplit(direct.url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    db = Database(through(direct.url, proxy.port))
    h = Harness(db, START, lease=timedelta(seconds=5))
    loop = asyncio.get_running_loop()
    figures: dict = {"outage_s": outage}
    try:
        await h.start()
        first = await h.say("member", "/在吗")
        await h.say("member", "/提醒 10分钟后 核对库存")  # due during the outage
        await h.say("member", "/提醒 明天 10:00 检查灯光")  # paused from its card during the outage
        card2 = [m for m in h.bot_messages() if "检查灯光" in h.text_of(m)][-1]
        pause2 = next(b["value"] for b in buttons(card2["content"]) if b["value"].get("a") == "remind.pause")

        # A burst accepted just before the cut: some are still waiting or being handled, and
        # the first answer is on the wire (held 2 s by Feishu, then a 504) when the cut comes.
        held = h.sim.faults.add("timeout", path_contains="/reply", times=1, seconds=2)
        before = await asyncio.gather(*(h.sim.send_text(h.chats["team"], h.users["member"], f"/在吗 前{i}")
                                        for i in range(30)))
        assert all(m["delivery"]["status"] == 200 for m in before)
        deadline = loop.time() + 30
        while not held.hits and loop.time() < deadline:  # the first answer reaches "Feishu"
            await asyncio.sleep(0.01)
        assert held.hits == 1
        await proxy.cut()
        cut_at = loop.time()

        status, body = await _get(f"{h.bot_url}/readyz")
        assert status == 503 and body["database"] is False, body
        during = []
        for i in range(10):
            msg = await h.sim.send_text(h.chats["team"], h.users["member"], f"/在吗 中{i}")
            during.append(msg)
            assert msg["delivery"]["status"] == 503, msg["delivery"]
            assert "retry" in str(msg["delivery"]["response"])
        h.sim.event_url = f"{h.bot_url}/feishu/cards"
        await h.sim.press_button(card2["message_id"], h.users["member"], pause2)
        press = h.sim.events()[-1]
        h.sim.event_url = f"{h.bot_url}/feishu/events"
        assert press["status"] == 200 and "再按一次" in str(press["response"]), press
        await h.clock.advance(15 * 60)  # reminder #1 falls due while nothing can be read
        status, body = await _get(f"{h.bot_url}/readyz")
        assert status == 503 and body["database"] is False, body
        for text in (str(m["delivery"]["response"]) for m in before + during):
            assert "Traceback" not in text
        await asyncio.sleep(max(0.0, outage - (loop.time() - cut_at)))  # the outage is real time

        await proxy.restore()
        back_at = loop.time()
        await wait_ready(h)
        figures["ready_after_s"] = loop.time() - back_at
        # The engine retries on its own (nothing else touches timers before this fires).
        try:
            await h.sim.wait_for_message(h.chats["team"], lambda m: "核对库存" in h.text_of(m)
                                         and "<at id=" in h.text_of(m), timeout=120)
        except TimeoutError:
            pass
        figures["timer_after_s"] = loop.time() - back_at
        # Feishu's retries of what got a 503, plus a few duplicates of what was accepted.
        retried = [m["delivery"]["event_id"] for m in during]
        for event_id in retried + [m["delivery"]["event_id"] for m in before[:5]]:
            info = await h.sim.redeliver(event_id)
            assert info["status"] == 200, info
        # Callbacks are not retried: the presser, told to, presses again.
        h.sim.event_url = f"{h.bot_url}/feishu/cards"
        await h.sim.press_button(card2["message_id"], h.users["member"], pause2)
        h.sim.event_url = f"{h.bot_url}/feishu/events"
        await h.settle(timeout=120)
        figures["drained_after_s"] = loop.time() - back_at

        expected = [m["message_id"] for m in before + during]
        answers = ping_answers(h)
        assert answers.pop(first["message_id"]) == 1
        figures["answered"] = len(set(expected) & set(answers))
        figures["expected"] = len(expected)
        figures["duplicates"] = sum(n - 1 for n in answers.values() if n > 1)
        figures["reminder_fires"] = len([m for m in reminder_cards(h) if "核对库存" in h.text_of(m)])
        async with direct.session() as s:
            statuses = dict((await s.execute(select(InboxEvent.status, func.count())
                                             .group_by(InboxEvent.status))).all())
            inbox_rows = (await s.execute(select(func.count()).select_from(InboxEvent))).scalar()
            rem1 = (await s.execute(select(Reminder).where(Reminder.id == 1))).scalar_one()
            timer1 = (await s.execute(select(Timer).where(Timer.id == rem1.timer_id))).scalar_one()
            rem2 = (await s.execute(select(Reminder).where(Reminder.id == 2))).scalar_one()
            timer2 = (await s.execute(select(Timer).where(Timer.id == rem2.timer_id))).scalar_one()
        figures.update(inbox=statuses, inbox_rows=inbox_rows, timer1_fires=timer1.fire_count,
                       timer2_state=timer2.state,
                       sends=[r for r in h.sim.requests("/reply") if r["status"] == 200],
                       background_alive=all(not t.done() for t in h.bot._tasks) and h.bot.sender.running
                       and h.bot.timers.running and h.bot.workers.alive == h.bot.workers.concurrency,
                       expected_ids=expected, answers=answers)
        figures["ready_now"] = (await _get(f"{h.bot_url}/readyz"))[0] == 200
        return figures
    finally:
        await h.stop()
        await db.close()
        await proxy.stop()


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_database_outage(database):
    f = await outage_scenario(database, OUTAGE_SECONDS)
    print({k: v for k, v in f.items() if k not in ("sends", "expected_ids", "answers")})
    # every message, accepted before the outage or retried after it, answered exactly once
    assert f["answered"] == f["expected"] == 40
    assert set(f["answers"]) == set(f["expected_ids"]) and f["duplicates"] == 0
    replies = [r for r in f["sends"] if r["path"].split("/")[-2] in set(f["expected_ids"])]
    assert len({r["json"]["uuid"] for r in replies}) == 40
    # the inbox holds each event once, all handled (3 set-up messages + 40 + the card press)
    assert f["inbox"] == {"done": 44} and f["inbox_rows"] == 44
    # the reminder that fell due during the outage fired once; the card press took effect once
    assert f["reminder_fires"] == 1 and f["timer1_fires"] == 1
    assert f["timer2_state"] == PAUSED
    # no restart: every background loop is still the one started before the outage
    assert f["background_alive"] and f["ready_now"]


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_first_event_after_a_database_restart_is_accepted(database):
    """The pool hands out connections without pinging them first (a round trip saved on every
    transaction). When the server restarts between two events (every pooled connection
    closed, the server already back), the next event is still accepted with a 200 on its
    first delivery: the inbox write retries once on a fresh connection (CI caught the first
    write landing on a closed connection and answering 503)."""
    parts = urlsplit(database.url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    db = Database(through(database.url, proxy.port))
    h = Harness(db, START)
    try:
        await h.start()
        await h.say("member", "/在吗 1")
        await proxy.cut()
        await proxy.restore()
        msg = await h.sim.send_text(h.chats["team"], h.users["member"], "/在吗 2")
        assert msg["delivery"]["status"] == 200, msg["delivery"]
        await h.settle(timeout=60)
        assert ping_answers(h)[msg["message_id"]] == 1
    finally:
        await h.stop()
        await db.close()
        await proxy.stop()


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_burst_write_survives_a_database_restart(database):
    """The burst write keeps its connections between batches (bot.store.pg_held). When the
    server restarts between two batches, the next batch is still stored on its first try: the
    dead connection is dropped and a fresh one, pinged through SQLAlchemy, takes the batch.
    The first batch after a restart, with nothing kept yet, meets the pool's dead connection at
    the ping and gets a fresh one. While the database is down the write fails (the webhook's
    503) and nothing is kept."""
    from datetime import datetime, timezone

    from sqlalchemy.exc import DBAPIError

    from bot.store.inbox import InboxWriter

    parts = urlsplit(database.url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    db = Database(through(database.url, proxy.port))
    writer = InboxWriter(db)  # no workers: every batch is a burst's
    now = datetime.now(timezone.utc)

    def ev(n: int) -> dict:
        return {"event_id": f"restart{n}", "event_type": "im.message.receive_v1", "payload": "{}", "lane": "oc_a"}

    async def pooled() -> None:  # one connection waiting in the pool, to die with the next cut
        async with db.session() as s:
            await s.execute(select(func.count()).select_from(InboxEvent))

    try:
        await pooled()
        await proxy.cut()
        await proxy.restore()
        assert await writer.store(now=now, **ev(1))  # nothing kept yet: the pooled one is dead
        await pooled()
        await proxy.cut()
        await proxy.restore()
        assert await writer.store(now=now, **ev(2))  # the kept and the pooled connection died
        await proxy.cut()
        with pytest.raises((DBAPIError, OSError)):  # down (refused): the caller answers 503
            await writer.store(now=now, **ev(3))
        await proxy.restore()
        assert await writer.store(now=now, **ev(4))
        assert not await writer.store(now=now, **ev(1))  # a redelivery: not new
    finally:
        await db.close()
        await proxy.stop()
    async with database.session() as s:
        ids = set((await s.execute(select(InboxEvent.event_id))).scalars())
    assert ids == {"restart1", "restart2", "restart4"}

"""The webhook's hot path kept cheap without changing what it decides (issue 20): the Encrypt
Key's padding checked by hand, the quick look before the intake reads a whole message event,
many inbox rows in one INSERT on SQLite, and the workers waiting for a burst to end."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import text

from bot.feishu import crypto, events
from bot.feishu.ingress import QUIET_GAP, Ingress
from bot.known import may_be_chatter
from bot.router import Router
from bot.store.inbox import _stored
from bot.store.sqlite_inline import MULTI_ROWS, RawConnection

KEY = "test-encrypt-key"


def raw_encrypt(key: str, padded: bytes) -> str:
    """AES-256-CBC of ``padded`` as it is (no padding added): forged or broken bodies."""
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(crypto._key(key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(padded) + enc.finalize()).decode()


def test_decrypt_round_trips_every_padding_length():
    for n in range(0, 40):
        plain = "飞" * (n % 5) + "x" * n
        assert crypto.decrypt(KEY, crypto.encrypt(KEY, plain)) == plain


@pytest.mark.parametrize("tail", [b"\x00", b"\x11", b"\x03\x02\x03", b"\x10" * 15 + b"\x0f"])
def test_decrypt_refuses_a_bad_padding(tail):
    block = b"{}" + b"a" * (46 - len(tail)) + tail  # three blocks, the last one's padding broken
    with pytest.raises(crypto.DecryptError):
        crypto.decrypt(KEY, raw_encrypt(KEY, block))


def test_decrypt_refuses_another_key_and_bytes_that_are_not_utf8():
    with pytest.raises(crypto.DecryptError):
        crypto.decrypt("another-key", crypto.encrypt(KEY, '{"a": 1}'))
    with pytest.raises(crypto.DecryptError):
        crypto.decrypt(KEY, raw_encrypt(KEY, b"\xff\xfe" + b"\x0e" * 14))


def message(text_: str = "今天灯光不错", *, chat_type: str = "group", msg_type: str = "text",
            mentions: list | None = None, content: str | None = None, sender_type: str = "user") -> dict:
    msg = {"message_id": "om_1", "chat_id": "oc_1", "chat_type": chat_type, "message_type": msg_type,
           "content": content if content is not None else json.dumps({"text": text_}, ensure_ascii=False)}
    if mentions:
        msg["mentions"] = mentions
    return {"schema": "2.0", "header": {"event_id": "e1", "event_type": events.MESSAGE},
            "event": {"sender": {"sender_id": {"open_id": "ou_1"}, "sender_type": sender_type}, "message": msg}}


CASES = [
    message(), message("/在吗"), message("  ／排期 本周"), message("在吗 /x"), message(chat_type="p2p"),
    message(msg_type="image", content='{"image_key": "img_1"}'), message(msg_type="file", content='{"file_key": "f"}'),
    message("@_user_1 看下", mentions=[{"key": "@_user_1", "id": {"open_id": "ou_2"}, "name": "张三"}]),
    message(msg_type="post", content=json.dumps({"title": "", "content": [[{"tag": "text", "text": "/在吗"}]]})),
    message(content="not json"), message(content='["a list"]'), message(content='{"text": 5}'),
    message(sender_type="app"),
]


async def test_the_quick_look_never_settles_what_the_router_would_not(harness):
    """may_be_chatter only ever says "not chatter" where Router.settled says False too; what it
    lets through, the full parse decides as before."""
    await harness.say("member", "大家好")  # a plain group message: the bot learns every message reaches it
    router: Router = harness.bot.router
    assert harness.bot.svc.group_messages_seen
    for body in CASES:
        event = events.parse(body, harness.bot.svc.bot.open_id)
        router.known.saw(event.chat_id, "team", event.sender_id)  # a known chat and person: settle-able
        if not may_be_chatter(body):
            assert not router.settled(event), body
    assert may_be_chatter(CASES[0]) and router.settled(events.parse(CASES[0], harness.bot.svc.bot.open_id))
    assert not may_be_chatter(message("/在吗")) and not may_be_chatter(message("  ／排期 本周"))
    assert may_be_chatter(message("在吗 /x"))


async def test_workers_wait_for_a_burst_to_end_but_not_for_a_lone_event():
    ingress = Ingress(encrypt_key="", verification_token="", store=None)
    ingress._busy(+1)
    ingress._busy(-1)
    assert ingress._quiet_now()  # one request, stored: a worker goes at once
    await ingress.quiet(10.0)  # (returns at once: the test would hang otherwise)
    ingress._busy(+1)
    ingress._busy(-1)  # a second request right after the first: a burst
    assert not ingress._quiet_now()
    ingress._arrived -= QUIET_GAP  # no request for QUIET_GAP: the burst is over
    assert ingress._quiet_now()
    ingress._busy(+1)  # a request being stored is always waited for
    assert not ingress._quiet_now()
    started = time.monotonic()
    await ingress.quiet(0.0)  # ... at most as long as the caller allows
    assert time.monotonic() - started < 5.0


def inbox_rows(n: int, tag: str) -> list[dict]:
    from bot.clock import wall_now

    now = wall_now()
    return [{"event_id": f"{tag}{i}", "event_type": events.MESSAGE, "message_id": f"om_{tag}{i}",
             "payload": '{"a": 1}', "source": "webhook", "lane": f"oc_{i % 3}", "status": "pending",
             "attempts": 0, "received_at": now, "done_at": None} for i in range(n)]


async def test_many_inbox_rows_go_in_as_few_statements_and_return_every_stored_row(sqlite_file_db):
    statements: list[str] = []

    def write(conn, rows):
        conn.set_trace_callback(statements.append)
        try:
            return RawConnection(conn, sqlite_file_db.engine.dialect).execute(_stored("sqlite"), rows).all()
        finally:
            conn.set_trace_callback(None)

    n = MULTI_ROWS * 2 + 7
    stored = await sqlite_file_db.raw.run(write, inbox_rows(n, "a"))
    assert sorted(r.event_id for r in stored) == sorted(f"a{i}" for i in range(n))
    assert len({r.id for r in stored}) == n and all(r.status == "pending" for r in stored)
    assert len([s for s in statements if s.startswith("INSERT")]) == 3  # 100 + 100 + 7 rows
    # a repeat (Feishu's retry) in the same batch as new rows: only the new ones come back
    again = inbox_rows(3, "a") + inbox_rows(2, "b")
    stored = await sqlite_file_db.raw.run(write, again)
    assert sorted(r.event_id for r in stored) == ["b0", "b1"]
    async with sqlite_file_db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar() == n + 2
        got = (await conn.execute(text("SELECT received_at, payload FROM inbox WHERE event_id = 'a5'"))).one()
    assert got.payload == '{"a": 1}' and got.received_at


async def test_postgresql_stores_a_burst_and_its_lanes_in_one_statement(database):
    """With no worker asleep to hand an event to, PostgreSQL stores a batch in one statement in
    autocommit, on asyncpg itself (bot.store.pg_held.write_burst): the rows, a lane for each chat
    with its first event as head, an idle lane's later head moved back, a held lane's left
    alone; a payload object stored as JSON text, times as naive UTC."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import select, text, update

    from bot.store import inbox
    from bot.store.models import InboxEvent, InboxLane

    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's one-statement write (SQLite writes on sqlite3 itself)")
    writer = inbox.InboxWriter(database)  # no workers: nobody asleep
    now = datetime.now(timezone(timedelta(hours=8)))  # a Beijing time: stored as its UTC

    def ev(n: int, lane: str) -> dict:
        return {"event_id": f"ev{n}", "event_type": events.MESSAGE, "message_id": f"om{n}",
                "payload": {"n": n}, "lane": lane}

    fresh = await asyncio.gather(*(writer.store(now=now, **ev(n, f"oc_{n % 2}")) for n in range(5)),
                                 writer.store(now=now, done=True, **ev(9, "oc_9")))
    assert fresh == [True] * 6
    assert len(database.held._free) == 1  # written on a kept asyncpg connection
    async with database.engine.connect() as conn:  # one batch, one statement: one transaction
        assert (await conn.execute(text("SELECT count(DISTINCT xmin::text) FROM inbox"))).scalar() == 1
        stored = (await conn.execute(text("SELECT received_at, payload FROM inbox WHERE event_id = 'ev1'"))).one()
    assert stored.received_at == now.astimezone(timezone.utc).replace(tzinfo=None) and stored.payload == '{"n":1}'
    assert await writer.store(now=now, **ev(0, "oc_0")) is False  # a redelivery: not new
    async with database.session() as s:
        rows = {r.event_id: r for r in (await s.execute(select(InboxEvent))).scalars()}
        lanes = {lane.lane: lane.head for lane in (await s.execute(select(InboxLane))).scalars()}
        assert lanes == {"oc_0": min(rows[f"ev{n}"].id for n in (0, 2, 4)), "oc_1": min(rows[f"ev{n}"].id for n in (1, 3))}
        assert rows["ev9"].status == "done" and rows["ev0"].payload == {"n": 0}
        await s.execute(update(InboxLane).where(InboxLane.lane == "oc_0").values(head=10**9))  # idle, later head
        await s.execute(update(InboxLane).where(InboxLane.lane == "oc_1").values(head=10**9, held_by="w"))
    assert await writer.store(now=now, **ev(5, "oc_0")) and await writer.store(now=now, **ev(6, "oc_1"))
    async with database.session() as s:
        lanes = {lane.lane: lane.head for lane in (await s.execute(select(InboxLane))).scalars()}
        new = {r.event_id: r.id for r in (await s.execute(select(InboxEvent))).scalars()}
    assert lanes == {"oc_0": new["ev5"], "oc_1": 10**9}



async def test_a_chats_events_are_never_in_two_batches_written_at_once(database):
    """PostgreSQL writes two batches at once; a chat's events still get ids in the order they
    arrived, because no two batches being written share a lane (SQLite writes one at a time)."""
    from datetime import datetime, timezone

    from sqlalchemy import select

    from bot.store import inbox
    from bot.store.models import InboxEvent

    writer = inbox.InboxWriter(database, max_batch=7)
    assert writer.writes == (inbox.WRITES_AT_ONCE if database.dialect == "postgresql" else 1)
    writing: list[set[str]] = []
    overlaps: list[tuple[set[str], set[str]]] = []
    real = writer._insert

    async def watched(rows):  # records which lanes are being written at once (the write is the real one)
        lanes = {row["lane"] for row in rows}
        overlaps.extend((lanes, other) for other in writing if lanes & other)
        writing.append(lanes)
        try:
            return await real(rows)
        finally:
            writing.remove(lanes)

    writer._insert = watched
    now = datetime.now(timezone.utc)
    order = [f"e{i:03d}" for i in range(120)]
    lane_of = {e: f"oc_{i % 3 if i % 10 else 'x'}" for i, e in enumerate(order)}

    async def wave(ids):
        return await asyncio.gather(*(writer.store(now=now, event_id=e, event_type=events.MESSAGE, message_id=f"om_{e}",
                                                   payload={"e": e}, lane=lane_of[e]) for e in ids))

    results = []
    for start in range(0, 120, 30):  # waves that arrive while the last is still being written
        results.append(asyncio.ensure_future(wave(order[start:start + 30])))
        await asyncio.sleep(0)
    assert all(all(r) for r in await asyncio.gather(*results))
    assert not overlaps
    async with database.session() as s:
        ids = {r.event_id: r.id for r in (await s.execute(select(InboxEvent))).scalars()}
    for lane in set(lane_of.values()):
        arrived = [e for e in order if lane_of[e] == lane]
        assert sorted(arrived, key=ids.__getitem__) == arrived, lane


async def test_a_stream_of_requests_shares_batches_and_a_lone_event_is_written_at_once(database, monkeypatch):
    """A write that starts within STREAM_GAP of the last one waits one turn of the loop, so the
    requests read in that turn join its batch; a writer with no write behind it writes at once."""
    from datetime import datetime, timezone

    from bot.store import inbox

    monkeypatch.setattr(inbox, "STREAM_GAP", 60.0)  # (the rule, not this machine's speed)
    now = datetime.now(timezone.utc)

    def ev(n: int) -> dict:
        return {"event_id": f"stream{n}", "event_type": events.MESSAGE, "message_id": f"om_stream{n}",
                "payload": "{}", "lane": f"oc_{n}"}

    async def two_turns(writer: inbox.InboxWriter, first: int) -> list[int]:
        """One store, another a turn of the loop later; the batches' sizes."""
        batches: list[int] = []
        real = writer._insert

        async def watched(rows):
            batches.append(len(rows))
            return await real(rows)

        writer._insert = watched  # type: ignore[method-assign]
        one = asyncio.ensure_future(writer.store(now=now, **ev(first)))
        await asyncio.sleep(0)  # the first store runs and starts its write
        two = asyncio.ensure_future(writer.store(now=now, **ev(first + 1)))
        assert await one and await two
        return batches

    assert await two_turns(inbox.InboxWriter(database), 0) == [1, 1]  # nothing written before: at once
    streaming = inbox.InboxWriter(database)
    assert await streaming.store(now=now, **ev(10))
    assert await two_turns(streaming, 11) == [2]  # just wrote: the next turn's request joins


async def test_a_kept_connection_idle_too_long_goes_back_to_the_pool(database, monkeypatch):
    """The burst write's kept connection (bot.store.pg_held) is reused while it is in use, and
    given back to the pool (where pool_recycle applies) once unused for HELD_IDLE; the next
    write takes a pinged one. Closing the database gives back the rest."""
    from datetime import datetime, timezone

    from sqlalchemy import event

    from bot.store import inbox, pg_held

    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's kept connections (SQLite writes on sqlite3 itself)")
    pool = database.engine.sync_engine.pool
    back: list[object] = []
    event.listen(pool, "checkin", lambda *args: back.append(args))
    writer = inbox.InboxWriter(database)  # no workers: every batch is a burst's
    now = datetime.now(timezone.utc)

    def ev(n: int) -> dict:
        return {"event_id": f"idle{n}", "event_type": events.MESSAGE, "payload": "{}", "lane": "oc_idle"}

    assert await writer.store(now=now, **ev(1)) and await writer.store(now=now, **ev(2))
    assert back == [] and pool.checkedout() == 1  # kept between batches
    monkeypatch.setattr(pg_held, "HELD_IDLE", 0.0)
    assert await writer.store(now=now, **ev(3))
    assert len(back) == 1 and pool.checkedout() == 1  # the idle one went back, a fresh one is kept
    await database.held.close()
    assert len(back) == 2 and pool.checkedout() == 0

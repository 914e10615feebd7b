"""The sender's look (bot.sendstore.claimable) on both databases: it picks each lane's first
live row, most urgent first, whatever the shape of the queue; and a busy chat's backlog costs
a look one probe per lane, not a walk over the backlog (issue 20)."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy import text as sql_text

from bot import outbox
from bot.clock import wall_now
from bot.sendstore import SCAN, claimable
from bot.store.db import claim_settings
from bot.store.models import OutboxMessage
from tests.test_sender_rules import bot_texts, text, until


def expected(rows: list[dict], kind: str, limit: int, now) -> list[int]:
    """The rule, written plainly: a lane's first pending-or-sending row, if it is of ``kind``."""
    first: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["status"] in ("pending", "sending"):
            first.setdefault(row["lane"], row)
    if kind == "stale":
        ok = [r for r in first.values() if r["status"] == "sending" and r["claimed_until"] < now]
    else:
        bulk = kind == "bulk"
        ok = [r for r in first.values() if r["status"] == "pending" and r["next_attempt_at"] <= now
              and (r["priority"] >= outbox.BULK) == bulk]
    return [r["id"] for r in sorted(ok, key=lambda r: (r["priority"], r["id"]))][:limit]


def shape(rng: random.Random, lanes: int, per_lane: int, now) -> list[dict]:
    """Rows of ``lanes`` chats in arrival order; some heads being sent (a lease live or run
    out), some rows sent or failed already, some due later, priorities mixed."""
    rows, n = [], 0
    order = [lane for lane in range(lanes) for _ in range(rng.randint(1, per_lane))]
    rng.shuffle(order)
    seen: set[int] = set()
    for lane in order:
        n += 1
        status = rng.choice(["pending"] * 6 + ["sent", "failed"])
        claimed_until = None
        if lane not in seen and rng.random() < 0.4:
            status, claimed_until = "sending", now + timedelta(seconds=rng.choice([-5, 30]))
        seen.add(lane)
        rows.append({"id": n, "key": f"k{n}", "op": "send", "lane": f"oc_{lane:03d}", "target": f"oc_{lane:03d}",
                     "payload": {}, "status": status, "attempts": 0, "created_at": now,
                     "next_attempt_at": now + timedelta(seconds=rng.choice([-1, -1, -1, 60])),
                     "priority": rng.choice([outbox.PAGE, outbox.PERSON, outbox.ROUTINE, outbox.BULK]),
                     "reported": False, "claimed_by": "other" if claimed_until else None,
                     "claimed_until": claimed_until})
    return rows


@pytest.mark.parametrize("lanes,per_lane", [(3, 400), (40, 30), (300, 1), (1, 2 * SCAN), (25, 3)])
async def test_the_look_takes_each_lanes_first_row_whatever_the_queue(database, lanes, per_lane):
    now = wall_now()
    rows = shape(random.Random(lanes * 1000 + per_lane), lanes, per_lane, now)
    async with database.engine.begin() as conn:
        await conn.execute(insert(OutboxMessage.__table__), rows)
    async with database.session() as session:
        await claim_settings(await session.connection())
        for kind in ("stale", "high", "bulk"):
            for limit in (1, 7, 64, 1000):
                assert await claimable(session, kind, limit, now) == expected(rows, kind, limit, now), (kind, limit)


async def test_a_quiet_chat_is_not_kept_behind_a_busy_chats_backlog(database):
    """Rows of a busy chat fill the first rows the look reads, its head is being sent: the quiet
    chat's row, queued after them, is still found (by walking the lanes)."""
    now = wall_now()
    busy = [{"key": f"busy:{i}", "op": "send", "lane": "oc_busy", "target": "oc_busy", "payload": {},
             "status": "sending" if i == 0 else "pending", "attempts": 0, "created_at": now, "next_attempt_at": now,
             "priority": outbox.PERSON, "reported": False, "claimed_by": "me" if i == 0 else None,
             "claimed_until": now + timedelta(seconds=60) if i == 0 else None} for i in range(3 * SCAN)]
    quiet = {**busy[1], "key": "quiet:0", "lane": "oc_quiet", "target": "oc_quiet", "priority": outbox.ROUTINE}
    async with database.engine.begin() as conn:
        await conn.execute(insert(OutboxMessage.__table__), busy + [quiet])
    async with database.session() as session:
        got = await claimable(session, "high", 10, now + timedelta(seconds=1))
        assert [(await session.get(OutboxMessage, i)).key for i in got] == ["quiet:0"]


@pytest.mark.feishu_pace
async def test_a_quiet_chats_send_goes_while_a_busy_chat_drains(harness):
    """Through the sender and the simulator: 200 bulk sends queued for one chat (sent at Feishu's
    pace for a chat), then one for another chat: that one goes at once. (Bulk rows are never
    claimed at their insert: the sender's look finds them.)"""
    h = harness
    busy = h.sim.add_chat("大促直播群", [h.users["ops"]], chat_id="oc_busy")["chat_id"]
    quiet = h.sim.add_chat("技术群", [h.users["ops"]], chat_id="oc_quiet")["chat_id"]
    async with h.db.session() as s:
        for i in range(200):
            await outbox.enqueue(s, key=f"busy:{i}", op="send", lane=busy, target=busy, payload=text(f"第{i}条"),
                                 priority=outbox.BULK)
        await outbox.enqueue(s, key="quiet:0", op="send", lane=quiet, target=quiet, payload=text("今日日报"),
                             priority=outbox.BULK)
    await until(h, lambda: bot_texts(h, quiet))
    assert len(bot_texts(h, busy)) < 100  # the busy chat is still draining at its own pace


async def test_a_look_planned_while_the_queue_was_small_still_walks_the_lanes_once_it_grows(database):
    """asyncpg prepares a statement once per connection and PostgreSQL may then keep one generic
    plan, made for the table as it was: here one chat's small backlog. The same connection's look
    after 8,000 more rows arrived must read no more than a new connection's (claim_settings plans
    each time); the plan kept from the small queue read 60 times as many (16,000 rows)."""
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's plan cache (SQLite plans every statement)")
    now = wall_now()

    def backlog(lanes: range, per_lane: int) -> list[dict]:  # each lane's head being sent
        return [{"key": f"k{lane}:{i}", "op": "send", "lane": f"oc_{lane:02d}", "target": f"oc_{lane:02d}",
                 "payload": {}, "status": "sending" if i == 0 else "pending", "attempts": 0, "created_at": now,
                 "next_attempt_at": now, "priority": outbox.PERSON, "reported": False,
                 "claimed_by": "me" if i == 0 else None,
                 "claimed_until": now + timedelta(seconds=60) if i == 0 else None}
                for lane in lanes for i in range(per_lane)]

    async def look(conn) -> tuple[list[int], int]:
        """The look's ids and the outbox rows it read (the statistics of this backend not yet
        reported: a difference within one transaction)."""
        read = sql_text("SELECT coalesce(sum(seq_tup_read + idx_tup_fetch), 0) FROM pg_stat_xact_user_tables "
                        "WHERE relname = 'outbox'")
        async with conn.begin():
            await claim_settings(conn)
            before = (await conn.execute(read)).scalar()
            got = await claimable(_Bound(conn), "high", 80, now + timedelta(seconds=1))
            return got, int((await conn.execute(read)).scalar() - before)

    generic = sql_text("SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements "
                       "WHERE statement LIKE 'WITH RECURSIVE heads%'")
    async with database.engine.begin() as conn:  # no ANALYZE in the middle to throw the cached plan away
        await conn.execute(sql_text("ALTER TABLE outbox SET (autovacuum_enabled = false)"))
        await conn.execute(insert(OutboxMessage.__table__), backlog(range(1), 2 * SCAN))
    try:
        async with database.engine.connect() as conn:
            for _ in range(8):  # past the five custom plans: the lane walk's plan, for one small lane
                assert (await look(conn))[0] == []
            async with database.engine.begin() as other:
                await other.execute(insert(OutboxMessage.__table__), backlog(range(1, 21), 400))
            got, read = await look(conn)
            assert (await conn.execute(generic)).scalar() == 0  # planned at every run
            await conn.rollback()
            async with database.engine.connect() as fresh:  # another connection (this one is still out):
                got_fresh, read_fresh = await look(fresh)  # its plan is made for the queue as it is now
    finally:
        async with database.engine.begin() as conn:
            await conn.execute(sql_text("ALTER TABLE outbox RESET (autovacuum_enabled)"))
    assert got == got_fresh == []  # every lane's head is being sent: nothing to claim
    assert read <= 1.2 * read_fresh, (read, read_fresh)  # the plan of the queue now, not of the small one


class _Bound:
    """A connection standing in for the sender's session: claimable() only executes on it and
    asks its dialect."""

    def __init__(self, conn) -> None:
        self.conn, self.bind = conn, conn

    async def execute(self, statement, params=None):
        return await self.conn.execute(statement, params)

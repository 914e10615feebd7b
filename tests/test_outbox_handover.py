"""Rows claimed at their insert and handed to this process's sender after the commit (bot.outbox,
issue 20): sent with no claim transaction, never when the transaction or its savepoint is
rolled back, in order behind a lane's unfinished row, and only to the sender of the same
database."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from bot import outbox
from bot.sendcalls import SEND_API
from bot.store.db import Database
from bot.store.models import OutboxMessage
from tests.test_sender_rules import bot_texts, text


async def rows(h, *keys: str) -> dict[str, OutboxMessage]:
    async with h.db.session() as s:
        found = (await s.execute(select(OutboxMessage).where(OutboxMessage.key.in_(keys)))).scalars()
        return {r.key: r for r in found}


async def test_a_row_queued_here_is_sent_without_a_look(harness):
    h = harness
    await h.settle()
    looks = h.bot.sender.looks
    async with h.db.session() as s:
        await outbox.to(s).send("hand:1", "oc_team", "直接交给发送")
        (row,) = (await s.execute(select(OutboxMessage).where(OutboxMessage.key == "hand:1"))).scalars()
        assert row.status == "sending" and row.claimed_by == h.bot.sender.worker_id  # claimed in the insert
    await h.settle()
    assert h.bot.sender.looks == looks
    assert bot_texts(h, "oc_team")[-1]["content"]["text"] == "直接交给发送"
    assert (await rows(h, "hand:1"))["hand:1"].status == "sent"


async def test_a_handed_row_is_the_row_as_stored(harness):
    """The handed row is built without SQLModel's __init__ (bot.outbox._handed): every column is
    what a load of the row gives, and the sender may still set attributes on it."""
    h = harness
    await h.settle()
    sender = h.bot.sender
    sender.limits.pause_api(SEND_API, 30.0)  # kept in hand, unsent, so the stored row stays as inserted
    handed: list[OutboxMessage] = []
    take = sender.take
    sender.take = lambda got: (handed.extend(got), take(got))[-1]
    async with h.db.session() as s:
        await outbox.to(s).send("as:stored", "oc_team", "原样", priority=outbox.PAGE)
    stored = (await rows(h, "as:stored"))["as:stored"]
    (row,) = handed
    assert isinstance(row, OutboxMessage)
    assert {f: getattr(row, f) for f in OutboxMessage.model_fields} == {
        f: getattr(stored, f) for f in OutboxMessage.model_fields}
    row.error_code, row.last_error = 1, "set on a handed row"
    assert (row.error_code, row.last_error) == (1, "set on a handed row")


async def test_nothing_is_handed_over_from_a_rolled_back_transaction_or_savepoint(harness):
    h = harness
    await h.settle()
    before = len(bot_texts(h, "oc_team"))
    with pytest.raises(RuntimeError):
        async with h.db.session() as s:
            await outbox.to(s).send("gone:1", "oc_team", "回滚的消息")
            raise RuntimeError("handler failed")
    async with h.db.session() as s:
        savepoint = await s.begin_nested()
        await outbox.to(s).send("gone:2", "oc_team", "存档点回滚")
        await savepoint.rollback()
        inner = await s.begin_nested()
        await outbox.to(s).send("kept:1", "oc_team", "保留的消息")
        await inner.commit()
    await h.settle()
    assert [m["content"]["text"] for m in bot_texts(h, "oc_team")[before:]] == ["保留的消息"]
    assert set(await rows(h, "gone:1", "gone:2", "kept:1")) == {"kept:1"}


async def test_rows_behind_an_unfinished_row_of_their_lane_wait_their_turn(harness):
    h = harness
    await h.settle()
    async with h.db.session() as s:
        for i in range(3):
            await outbox.to(s).send(f"line:{i}", "oc_team", f"第{i}条")
        states = [r.status for r in (await s.execute(select(OutboxMessage).where(
            OutboxMessage.key.like("line:%")).order_by(OutboxMessage.id))).scalars()]
    assert states == ["sending", "pending", "pending"]  # only the lane's first is claimed at once
    await h.settle()
    assert [m["content"]["text"] for m in bot_texts(h, "oc_team")[-3:]] == ["第0条", "第1条", "第2条"]


async def test_a_row_written_through_another_database_is_not_handed_over(harness, tmp_path):
    h = harness
    await h.settle()
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await other.migrate()
    try:
        async with other.session() as s:
            await outbox.to(s).send("elsewhere:1", "oc_team", "别的库")
        async with other.session() as s:
            (row,) = (await s.execute(select(OutboxMessage))).scalars()
        assert row.status == "pending" and row.claimed_by is None
    finally:
        await other.close()
    await h.settle()
    assert all(m["content"]["text"] != "别的库" for m in bot_texts(h, "oc_team"))


async def test_a_stopped_sender_takes_nothing_and_the_row_stays_due(harness):
    h = harness
    await h.settle()
    sender = h.bot.sender
    sender.stop()
    while sender.running:
        await asyncio.sleep(0.01)
    async with h.db.session() as s:
        await outbox.to(s).send("later:1", "oc_team", "稍后")
    row = (await rows(h, "later:1"))["later:1"]
    assert row.status == "pending" and row.claimed_by is None  # left for a look, not claimed


def texts(h, chat: str) -> list[str]:
    return [m["content"]["text"] for m in bot_texts(h, chat)]


async def test_postgres_two_open_transactions_on_one_lane_still_send_in_order(harness):
    """Neither transaction sees the other's row, so both rows are claimed at their insert; the
    first then meets a temporary error. The second must wait for it, not overtake it."""
    h = harness
    if h.db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers: the second insert always sees the first row")
    await h.settle()
    h.sim.faults.add("230049", path_contains="/open-apis/im/v1/messages", times=1)  # temporary: retried
    s1, s2 = h.db.sessions(), h.db.sessions()
    try:
        await outbox.to(s1).send("order:A", "oc_team", "A先")
        await outbox.to(s2).send("order:B", "oc_team", "B后")
        await s1.commit()
        await s2.commit()
    finally:
        await s1.close()
        await s2.close()
    for _ in range(3):  # the retry waits 0.5 s
        await h.settle()
        await asyncio.sleep(0.6)
    assert texts(h, "oc_team")[-2:] == ["A先", "B后"]


async def test_a_row_committed_after_the_sender_stopped_is_sent_at_once_after_a_restart(harness):
    h = harness
    await h.settle()
    sender = h.bot.sender
    async with h.db.session() as s:
        await outbox.to(s).send("strand:1", "oc_team", "停机前的回答")  # claimed for the running sender
        sender.stop()  # a graceful stop while the handler's transaction is still open
        while sender.running:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # the release runs
    row = (await rows(h, "strand:1"))["strand:1"]
    assert (row.status, row.claimed_by) == ("pending", h.bot.sender.worker_id)  # put back, not left to its lease
    await h.stop_bot()
    await h.start_bot()
    await h.settle(timeout=10)  # well inside the 60 s lease
    assert "停机前的回答" in texts(h, "oc_team")


async def test_one_transaction_is_handed_at_most_a_batch(harness):
    h = harness
    await h.settle()
    sender = h.bot.sender
    sender.batch = 2
    chats = [h.sim.add_chat(f"群{i}", [h.users["ops"]], chat_id=f"oc_many{i}")["chat_id"] for i in range(6)]
    sender.limits.pause_api(SEND_API, 30.0)  # a 429 on the send API: handed rows wait in hand
    handed: list[int] = []
    take = sender.take
    sender.take = lambda rows: (handed.append(len(rows)), take(rows))[-1]  # (the rows the commit hands over)
    async with h.db.session() as s:
        for i, chat in enumerate(chats):
            await outbox.to(s).send(f"many:{i}", chat, f"第{i}条")
        states = [r.status for r in (await s.execute(select(OutboxMessage).where(
            OutboxMessage.key.like("many:%")).order_by(OutboxMessage.id))).scalars()]
    assert states == ["sending"] * 2 + ["pending"] * 4  # the rest wait for a look, as before
    # (the look their commit wakes may take some of them at once: room is twice the batch)
    assert handed == [2] and sender._promised == 0


async def test_a_held_row_whose_lease_ran_out_is_not_taken_twice_by_its_own_sender(harness):
    h = harness
    await h.settle()
    sender = h.bot.sender
    sender.limits.pause_api(SEND_API, 2.0)
    async with h.db.session() as s:
        for i in range(3):  # three lanes, one chat
            await outbox.enqueue(s, key=f"twice:{i}", op="send", lane=f"oc_t{i}", target="oc_team",
                                 payload=text(f"两次{i}"))
    async with h.db.session() as s:  # as if its 60 s lease had run out while it waited in hand
        await s.execute(update(OutboxMessage).where(OutboxMessage.key.like("twice:%")).values(
            claimed_until=OutboxMessage.created_at))
    sender.wake()  # the look that takes over expired leases
    await asyncio.sleep(0.3)
    held = [j.row.id for j in sender.ready + sender._unverified]
    assert len(held) == 3 and len(set(held)) == 3
    await asyncio.sleep(2.0)
    await h.settle()
    assert {r.status for r in (await rows(h, "twice:0", "twice:1", "twice:2")).values()} == {"sent"}
    assert sorted(texts(h, "oc_team"))[-3:] == ["两次0", "两次1", "两次2"]
    assert len([t for t in texts(h, "oc_team") if t.startswith("两次")]) == 3  # each sent once


async def test_concurrent_transactions_are_handed_at_most_a_batch(harness):
    """The claim is counted before the INSERT's round trip, so transactions running side by side
    (PostgreSQL; SQLite takes turns) cannot all pass the check."""
    h = harness
    await h.settle()
    sender = h.bot.sender
    sender.batch = 2
    sender.limits.pause_api(SEND_API, 30.0)
    chats = [h.sim.add_chat(f"群{i}", [h.users["ops"]], chat_id=f"oc_conc{i}")["chat_id"] for i in range(6)]
    handed: list[int] = []
    take = sender.take
    sender.take = lambda got: (handed.extend(r.id for r in got), take(got))[-1]

    async def one(i: int, chat: str) -> None:
        async with h.db.session() as s:
            await outbox.to(s).send(f"conc:{i}", chat, f"第{i}条")

    await asyncio.gather(*(one(i, c) for i, c in enumerate(chats)))
    assert len(handed) == 2 and sender._promised == 0  # the other four wait for a look, as before
    await asyncio.sleep(0.2)
    states = [r.status for r in (await rows(h, *(f"conc:{i}" for i in range(6)))).values()]
    assert states.count("sending") <= 2 * sender.batch  # a look takes at most twice the batch

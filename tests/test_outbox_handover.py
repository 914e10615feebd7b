"""Rows claimed at their insert and handed to this process's sender after the commit (bot.outbox,
issue 20): sent with no claim transaction, never when the transaction or its savepoint is
rolled back, in order behind a lane's unfinished row, and only to the sender of the same
database."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot import outbox
from bot.store.db import Database
from bot.store.models import OutboxMessage
from tests.test_sender_rules import bot_texts


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

"""The sender's rules through the simulator (issues 13 and 20): pages before a fan-out, a 429
on one API leaves the others alone, temporary codes retried, one admin digest for permanent
failures, cards older than 14 days sent afresh, idle without database reads."""
from __future__ import annotations

import pytest

import asyncio

from sqlalchemy import event, select
from sqlalchemy.util import await_only

from bot import outbox
from bot.cards import Card
from bot.sendlimits import BULK_PER_SECOND
from bot.store.models import OutboxMessage

pytestmark = pytest.mark.feishu_pace  # the sender's rules, under Feishu's real per-chat limit


def text(value: str) -> dict:
    return {"receive_id_type": "chat_id", "msg_type": "text", "content": {"text": value}}


def card(title: str) -> dict:
    return Card(title).markdown(title).to_dict()


async def until(h, condition, timeout: float = 20.0) -> None:
    """Wait (on the bot's pulse, set whenever a send finishes) until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pulse = h.bot.svc.pulse
    while not condition():
        pulse.clear()
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        try:
            await asyncio.wait_for(pulse.wait(), 0.2)
        except asyncio.TimeoutError:
            pass


async def rows(h, prefix: str) -> list[OutboxMessage]:
    async with h.db.session() as s:
        return list((await s.execute(select(OutboxMessage).where(OutboxMessage.key.like(prefix + "%"))
                                     .order_by(OutboxMessage.id))).scalars())


def bot_texts(h, chat: str) -> list[dict]:
    return [m for m in h.sim.messages(chat) if m["sender"]["type"] == "app"]


async def test_a_page_goes_before_a_waiting_fanout(harness):
    h = harness
    chats = [h.sim.add_chat(f"直播群{i:03d}", [h.users["ops"]], chat_id=f"oc_fan{i:03d}")["chat_id"]
             for i in range(150)]
    async with h.db.session() as s:
        for i, chat in enumerate(chats):
            await outbox.enqueue(s, key=f"bulk:{i}", op="send", lane=chat, target=chat, payload=text(f"日报 {i}"),
                                 priority=outbox.BULK)
    await until(h, lambda: any(bot_texts(h, c) for c in chats))
    async with h.db.session() as s:  # the page, queued while the fan-out is under way
        waiting = set((await s.execute(select(OutboxMessage.key).where(
            OutboxMessage.key.like("bulk:%"), OutboxMessage.status == "pending"))).scalars())
        await outbox.enqueue(s, key="evt:page:1", op="send", lane="oc_team", target="oc_team",
                             payload=text("🚨 故障 #1"))
    assert len(waiting) > 50, "the fan-out should still be under way"
    await h.settle(timeout=30)
    (page,) = bot_texts(h, "oc_team")
    sent = {f"bulk:{i}": m["seq"] for i, c in enumerate(chats) for m in bot_texts(h, c)}
    assert len(sent) == 150
    ahead = [k for k in waiting if sent[k] < page["seq"]]
    assert len(ahead) <= BULK_PER_SECOND  # at most the sends already in hand; usually none
    assert h.sim.stats["rate_limited_app"] == 0 and h.sim.stats["rate_limited_chat"] == 0
    (row,) = await rows(h, "evt:page")
    assert row.priority == outbox.PERSON


async def test_a_429_on_one_api_does_not_stall_the_others(harness):
    h = harness
    msg = await h.sim.send_text(h.chats["team"], h.users["ops"], "看这条")
    h.sim.faults.add("429", path_contains="/im/v1/pins", times=3)
    async with h.db.session() as s:
        await outbox.enqueue(s, key="pin:1", op="pin", lane="oc_team", target=msg["message_id"], payload={})
        await outbox.enqueue(s, key="t:1", op="send", lane="oc_tech", target="oc_tech", payload=text("照常发送"))
    await until(h, lambda: bot_texts(h, "oc_tech"))
    (pin,) = await rows(h, "pin:")
    assert pin.status != "sent"  # its API is paused (x-ogw-ratelimit-reset), the send API is not
    limits = h.bot.sender.limits
    assert limits.apis["POST /open-apis/im/v1/pins"].paused_until > limits.apis[
        "POST /open-apis/im/v1/messages"].paused_until
    await h.settle(timeout=30)
    (pin,) = await rows(h, "pin:")
    assert pin.status == "sent" and h.sim.message(msg["message_id"])["pinned"]


async def test_temporary_codes_are_retried_never_failed(harness):
    h = harness
    h.sim.faults.add("230049", path_contains="/open-apis/im/v1/messages", times=2)
    h.sim.faults.add("232068", path_contains="/open-apis/im/v1/chats", times=1)
    h.sim.faults.add("1470422", path_contains="/open-apis/task/v2/tasks", times=1)
    async with h.db.session() as s:
        await outbox.enqueue(s, key="tmp:send", op="send", lane="oc_team", target="oc_team", payload=text("稍后重试"))
        await outbox.enqueue(s, key="tmp:chat", op="create_chat", lane="tmp:chat", payload={
            "name": "临时群", "user_id_list": [h.users["ops"]]})
        await outbox.enqueue(s, key="tmp:task", op="create_task", lane="tmp:task", payload={
            "summary": "检查灯光", "members": [{"id": h.users["tech"], "type": "user", "role": "assignee"}]})
    await h.settle(timeout=30)
    found = {r.key: r for r in await rows(h, "tmp:")}
    assert {k: r.status for k, r in found.items()} == {"tmp:send": "sent", "tmp:chat": "sent", "tmp:task": "sent"}
    assert found["tmp:send"].attempts == 3 and found["tmp:chat"].attempts == 2 and found["tmp:task"].attempts == 2
    assert [m["content"]["text"] for m in bot_texts(h, "oc_team")] == ["稍后重试"]


async def test_permanent_failures_make_one_hourly_digest_not_a_dm_each(harness):
    h = harness
    h.sim.faults.add("permanent", path_contains="/open-apis/im/v1/messages", times=5)
    async with h.db.session() as s:
        for i in range(5):
            chat = ("oc_team", "oc_tech")[i % 2]
            await outbox.enqueue(s, key=f"gone:{i}", op="send", lane=chat, target=chat, payload=text(f"发不出 {i}"))
    await h.settle()
    assert [r.status for r in await rows(h, "gone:")] == ["failed"] * 5
    admin_chat = h.sim.p2p_chat(h.users["admin"])["chat_id"]
    assert not bot_texts(h, admin_chat)
    await h.advance(11 * 60)
    (digest,) = bot_texts(h, admin_chat)
    body = h.text_of(digest)
    assert digest["msg_type"] == "interactive" and "5 条" in body
    assert "230002" in body and "× 3" in body and "× 2" in body  # counted by code and chat
    assert all(r.reported for r in await rows(h, "gone:"))

    h.sim.faults.add("permanent", path_contains="/open-apis/im/v1/messages", times=1)
    async with h.db.session() as s:
        await outbox.enqueue(s, key="gone:later", op="send", lane="oc_team", target="oc_team", payload=text("又一条"))
    await h.settle()
    await h.advance(11 * 60)
    assert len(bot_texts(h, admin_chat)) == 1  # at most one digest an hour
    await h.advance(40 * 60)
    assert len(bot_texts(h, admin_chat)) == 1
    await h.advance(10 * 60)  # an hour after the first
    assert len(bot_texts(h, admin_chat)) == 2 and "1 条" in h.text_of(bot_texts(h, admin_chat)[-1])


async def test_a_card_older_than_14_days_is_sent_afresh_and_the_record_follows_it(harness):
    h = harness
    async with h.db.session() as s:
        await outbox.enqueue(s, key="card:1", op="send", lane="oc_team", target="oc_team",
                             payload={"receive_id_type": "chat_id", "msg_type": "interactive", "content": card("v1")})
    await h.settle()
    (first,) = bot_texts(h, "oc_team")
    await h.advance(15 * 24 * 3600)
    async with h.db.session() as s:
        await outbox.enqueue(s, key="card:1:patch:1", op="patch", lane="oc_team", target="@card:1",
                             payload={"content": card("v2")})
    await h.settle()
    assert not [r for r in h.sim.requests(first["message_id"]) if r["method"] == "PATCH"]  # never patched
    first_now, fresh = bot_texts(h, "oc_team")
    assert "v1" in h.text_of(first_now) and "v2" in h.text_of(fresh)
    (origin,) = [r for r in await rows(h, "card:1") if r.key == "card:1"]
    assert origin.result["message_id"] == fresh["message_id"]  # whoever holds "@card:1" follows

    async with h.db.session() as s:
        await outbox.enqueue(s, key="card:1:patch:2", op="patch", lane="oc_team", target="@card:1",
                             payload={"content": card("v3")})
    await h.settle()
    assert len(bot_texts(h, "oc_team")) == 2
    assert "v3" in h.text_of(h.sim.message(fresh["message_id"]))  # the young card is patched


async def test_a_230031_answer_also_sends_a_fresh_card(harness):
    h = harness
    async with h.db.session() as s:
        await outbox.enqueue(s, key="card:2", op="send", lane="oc_team", target="oc_team",
                             payload={"receive_id_type": "chat_id", "msg_type": "interactive", "content": card("旧")})
    await h.settle()
    (first,) = bot_texts(h, "oc_team")
    h.sim.faults.add("230031", path_contains=first["message_id"])
    async with h.db.session() as s:
        await outbox.enqueue(s, key="card:2:patch", op="patch", lane="oc_team", target="@card:2",
                             payload={"content": card("新")})
    await h.settle()
    _, fresh = bot_texts(h, "oc_team")
    assert "新" in h.text_of(fresh)
    (patch,) = await rows(h, "card:2:patch")
    assert patch.status == "sent" and patch.result["replaced"] == first["message_id"]
    origin = [r for r in await rows(h, "card:2") if r.key == "card:2"][0]
    assert origin.result["message_id"] == fresh["message_id"]


async def test_idle_sender_reads_nothing_while_chatter_flows(harness):
    h = harness
    await h.settle()
    looks = h.bot.sender.looks
    for i in range(5):
        await h.say("member", f"今天的灯光不错 {i}")  # plain chatter: handled, ignored, nothing queued
    await h.settle()
    assert h.bot.sender.looks == looks
    async with h.db.session() as s:
        await outbox.enqueue(s, key="wake:1", op="send", lane="oc_team", target="oc_team", payload=text("醒来"))
    await h.settle()
    # queued in this process: claimed at the insert and handed over, still no look
    assert h.bot.sender.looks == looks and bot_texts(h, "oc_team")[-1]["content"]["text"] == "醒来"
    async with h.db.session() as s:  # bulk rows go through a look (the bulk share of the window)
        with outbox.priority(outbox.BULK):
            await outbox.enqueue(s, key="wake:2", op="send", lane="oc_team", target="oc_team", payload=text("群发"))
    await h.settle()
    assert h.bot.sender.looks > looks and bot_texts(h, "oc_team")[-1]["content"]["text"] == "群发"


async def test_a_retry_stays_due_when_other_rows_wake_the_sender_first(harness):
    h = harness
    h.sim.faults.add("5xx", path_contains="/open-apis/im/v1/messages", times=1)
    async with h.db.session() as s:
        await outbox.enqueue(s, key="retry:a", op="send", lane="oc_team", target="oc_team", payload=text("重试"))
    await until(h, lambda: h.sim.stats["faults_injected"] == 1)
    async with h.db.session() as s:  # another commit wakes the sender before the retry is due
        await outbox.enqueue(s, key="retry:b", op="send", lane="oc_tech", target="oc_tech", payload=text("别的群"))
    await h.settle(timeout=10)  # well before the once-a-minute poll: the retry's own time was kept
    assert [m["content"]["text"] for m in bot_texts(h, "oc_team")] == ["重试"]


async def test_answers_behind_one_being_sent_go_next_in_order(harness):
    """Rows queued, each in its own commit, behind their chat's row that is being sent (held by
    the simulator for a second) go right after it, in order: they wake the sender at the routine
    pace (a look that finds them behind a held row finds nothing), and the sender of the first
    looks behind it when it is done."""
    h = harness
    await h.settle()
    h.sim.faults.add("timeout", path_contains="/open-apis/im/v1/messages", times=1, seconds=1)
    async with h.db.session() as s:
        await outbox.enqueue(s, key="queue:1", op="send", lane="oc_team", target="oc_team", payload=text("第一条"))
    for i in (2, 3):
        async with h.db.session() as s:
            await outbox.enqueue(s, key=f"queue:{i}", op="send", lane="oc_team", target="oc_team",
                                 payload=text(f"第{'二三'[i - 2]}条"))
    assert [r.status for r in await rows(h, "queue:")] == ["sending", "pending", "pending"]
    await until(h, lambda: len(bot_texts(h, "oc_team")) >= 3)
    assert [m["content"]["text"] for m in bot_texts(h, "oc_team")][-3:] == ["第一条", "第二条", "第三条"]


async def test_a_row_behind_one_whose_reference_is_missing_goes_at_once(harness):
    """A look fails a row whose "@key" target does not exist; the page queued behind it in the
    same chat goes at once, not at the once-a-minute poll."""
    h = harness
    await h.settle()
    async with h.db.session() as s:
        await outbox.enqueue(s, key="dep:a", op="send", lane="oc_team", target="@no-such-row", payload=text("a"))
        await outbox.enqueue(s, key="dep:b", op="send", lane="oc_team", target="oc_team", payload=text("紧急"),
                             priority=outbox.PAGE)
    await until(h, lambda: any(m["content"]["text"] == "紧急" for m in bot_texts(h, "oc_team")), timeout=10)
    assert [r.status for r in await rows(h, "dep:")] == ["failed", "sent"]


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite's writers take turns (below)
async def test_a_row_queued_behind_one_while_its_mark_commits_goes_at_once(harness):
    """The race CI met on PostgreSQL: a row is queued behind its chat's row at the moment that
    row's "sent" is being committed. The queuing transaction sees the first row still live (so
    its row waits), the look its commit wakes runs before the mark commits (finds nothing free),
    and the mark's own look behind ran before the row existed. The row must go at once, not at
    the once-a-minute poll. Here the queuing commit and its look are placed at the last moment
    before the mark is seen by others (engine events): just before its transaction's COMMIT,
    or before its UPDATE when that runs in autocommit. On SQLite it cannot happen: the
    queuing transaction waits for the mark's write lock, then sees the first row sent."""
    h = harness
    await h.settle()
    engine = h.db.engine.sync_engine
    state: dict = {"conn": None, "done": False, "commits": 0}

    async def queue_behind() -> None:
        async with h.db.session() as s:
            await outbox.enqueue(s, key="race:b", op="send", lane="oc_team", target="oc_team", payload=text("第二条"))

    async def interleave() -> None:
        await queue_behind()  # commits while the mark is open
        seen = state["commits"]  # the look the queuing commit woke, to its end (its commit)
        for _ in range(500):
            if state["commits"] > seen:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("no look ran while the mark was open")

    def on_execute(conn, cursor, statement, params, context, executemany):
        if (state["conn"] is None and not state["done"] and statement.startswith("UPDATE outbox SET status")
                and any(m["content"].get("text") == "第一条" for m in bot_texts(h, "oc_team"))):
            if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
                state["done"] = True  # the UPDATE is the commit: the last moment is before it
                await_only(interleave())
            else:
                state["conn"] = conn  # the last moment is just before its transaction's COMMIT

    def on_commit(conn):
        if conn is not state["conn"]:
            state["commits"] += 1
            return
        state["conn"], state["done"] = None, True
        await_only(interleave())

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        async with h.db.session() as s:
            await outbox.enqueue(s, key="race:a", op="send", lane="oc_team", target="oc_team", payload=text("第一条"))
        await until(h, lambda: [m["content"].get("text") for m in bot_texts(h, "oc_team")][-1:] == ["第二条"],
                    timeout=10)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
    assert state["done"], "the mark's transaction was not seen"
    assert [m["content"].get("text") for m in bot_texts(h, "oc_team")][-2:] == ["第一条", "第二条"]

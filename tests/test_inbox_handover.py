"""Events claimed at the intake for a sleeping worker (bot.store.inbox.InboxWriter, issue 20): the
transaction that stores the event holds its lane and claims it, and the worker gets the row after
the commit, with no claim transaction. A lane already held keeps its order; a failed intake wakes
the worker it reserved instead of leaving it waiting."""
from __future__ import annotations

import asyncio

from bot.store import inbox
from tests.test_settled_chatter import rows


async def test_a_stored_command_is_handled_without_a_claim(harness):
    h = harness
    await h.say("tech", "/ping")
    claims = h.bot.workers.claims
    taken = []
    hand = h.bot.workers.hand
    h.bot.workers.hand = lambda sleeper, row: (taken.append(row), hand(sleeper, row))[-1]
    await h.say("ops", "/ping 交给睡着的工人")
    assert [r.payload["event"]["message"]["content"] for r in taken if r is not None] != []
    assert h.bot.workers.claims - claims <= 1  # at most the trailing look of the first /ping
    last = (await rows(h))[-1]
    assert (last.status, last.attempts) == ("done", 1)
    assert last.claimed_by.startswith(h.bot.worker_id + "/")
    assert h.bot_messages()[-1]["content"]["text"].startswith("在的")


async def test_events_of_a_busy_chat_wait_their_turn_in_order(harness):
    """Five messages into one chat at once: only a lane's head can be handed over; the others are
    taken in order by the worker that holds the lane."""
    h = harness
    await h.say("tech", "/ping")
    sends = [h.sim.send_text(h.chats["team"], h.users["ops"], f"/ping 第{i}条") for i in range(5)]
    await asyncio.gather(*sends)
    await h.settle()
    answers = [m["content"]["text"] for m in h.bot_messages()[-5:]]
    assert len(answers) == 5 and all(a.startswith("在的") for a in answers)
    pings = [r for r in await rows(h) if "第" in str(r.payload)]
    assert [(r.status, r.attempts) for r in pings] == [("done", 1)] * 5
    order = sorted(pings, key=lambda r: r.done_at)
    assert [r.id for r in order] == sorted(r.id for r in pings)  # handled in the order stored


async def test_an_intake_that_fails_after_reserving_a_worker_wakes_it(harness, monkeypatch):
    h = harness
    await h.say("tech", "/ping")
    real = inbox.InboxWriter._hand_over

    def failing(self, conn, heads, handed):  # (the intake's transaction is synchronous, in a greenlet)
        real(self, conn, heads, handed)
        raise ConnectionError("the database went away mid-write")

    monkeypatch.setattr(inbox.InboxWriter, "_hand_over", failing)
    result = await h.sim.send_text(h.chats["team"], h.users["ops"], "/ping 没存下")
    assert result["delivery"]["status"] == 503  # not stored: Feishu delivers it again
    monkeypatch.setattr(inbox.InboxWriter, "_hand_over", real)
    assert not any(s.handed is not None and not s.handed.done() for s in h.bot.workers._idle)
    await h.say("ops", "/ping 之后照常")  # the reserved worker was woken, not left waiting
    assert h.bot_messages()[-1]["content"]["text"].startswith("在的")
    assert all(r.status == "done" for r in await rows(h))


async def test_an_intake_whose_caller_stops_waiting_still_hands_its_event_over(harness):
    """The long connection gives up waiting for a store after its deadline (the task awaiting
    the write is cancelled, here at the very commit): the write is the writer's own task, so the
    event stored and claimed for a sleeping worker is still handed to it and handled at once,
    not left held until its lease ends."""
    from sqlalchemy import event as sa_event

    from bot.clock import wall_now
    h = harness
    await h.say("tech", "/ping")
    waiting: dict[str, asyncio.Task] = {}

    def on_commit(_conn):
        if "task" in waiting:
            asyncio.get_running_loop().call_soon(waiting.pop("task").cancel)

    engine = h.bot.db.engine.sync_engine
    sa_event.listen(engine, "commit", on_commit)
    raw = h.bot.db.raw  # a SQLite file: the intake commits on sqlite3 itself (RawTransactions)
    if raw is not None:
        run = raw.run

        async def committed(fn, *args):
            result = await run(fn, *args)
            on_commit(None)
            return result
        raw.run = committed
    try:
        sent = await h.sim.send_text(h.chats["team"], h.users["ops"], "/ping 先存下")  # the usual path, for its payload
        await h.settle()  # every worker asleep: the store below claims the event for one of them
        payload = (await rows(h))[-1].payload
        body = {**payload, "header": {**payload["header"], "event_id": "ev-cancelled"}}
        task = asyncio.create_task(h.bot.inbox_writer.store(
            now=wall_now(), event_id="ev-cancelled", event_type="im.message.receive_v1",
            lane=h.chats["team"], payload=body))
        waiting["task"] = task
        try:
            await task
        except asyncio.CancelledError:
            pass
    finally:
        sa_event.remove(engine, "commit", on_commit)
        if raw is not None:
            raw.run = run
    assert sent["delivery"]["status"] == 200
    await h.settle(timeout=10)  # well inside the 60 s lease
    stored = [r for r in await rows(h) if r.event_id == "ev-cancelled"]
    assert [(r.status, r.attempts) for r in stored] == [("done", 1)]

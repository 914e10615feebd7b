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

"""Plain group chatter the router would leave alone is stored done by the intake (bot.known),
and a worker whose event drained its lane sleeps without another claim (issue 20): both
databases, the real webhook and workers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import worker

from bot.known import FRESH, Known
from bot.store.models import InboxEvent, InboxLane, Person


async def rows(h) -> list[InboxEvent]:
    async with h.db.session() as s:
        return list((await s.execute(select(InboxEvent).order_by(InboxEvent.id))).scalars())


async def lanes(h) -> list[InboxLane]:
    async with h.db.session() as s:
        return list((await s.execute(select(InboxLane))).scalars())


def by_text(stored: list[InboxEvent], needle: str) -> InboxEvent:
    return next(r for r in stored if needle in str(r.payload))


@pytest.fixture
def fresh_looks(monkeypatch):
    """The last empty claim counts as fresh for the whole test: a loaded machine must not turn a
    skipped claim into a look (bot.worker.LOOK_FRESH)."""
    monkeypatch.setattr(worker, "LOOK_FRESH", 3600.0)


async def test_known_chatter_is_stored_done_and_anything_else_goes_to_a_worker(harness, fresh_looks):
    h = harness
    await h.say("member", "第一句：人还没有记录")  # a worker records the person
    await h.say("member", "第二句：群和人都已记录")  # a worker reads both as committed: now known
    claims = h.bot.workers.claims
    await h.say("member", "今天灯光不错")
    await h.say("member", "/ping")
    await h.say("ops", "@赵技术 看下声卡")  # mentions someone: names are learned by the router
    await h.say("tech", "路过说一句")  # a person not read yet: the usual way, and recorded
    await h.settle()
    stored = await rows(h)
    settled = by_text(stored, "今天灯光不错")
    assert (settled.status, settled.attempts, settled.claimed_by) == ("done", 0, None)
    assert settled.done_at is not None
    for needle in ("第一句", "第二句", "/ping", "看下声卡", "路过说一句"):
        row = by_text(stored, needle)
        assert (row.status, row.attempts) == ("done", 1), needle
    # The three that needed a worker were claimed for it by the intake, in the transaction that
    # stored them (no claim transaction), and at most one look found nothing (the first after
    # start-up, when no empty claim had looked yet); before: two claims per event, then one.
    assert h.bot.workers.claims - claims <= 1
    assert len(h.bot_messages()) == 1  # /ping answered; the rest left alone
    async with h.db.session() as s:
        assert await s.get(Person, h.users["tech"]) is not None
    assert await lanes(h) == []


async def test_a_redelivered_settled_event_is_still_a_duplicate(harness):
    h = harness
    await h.say("member", "先读一次")
    await h.say("member", "再读一次")
    sent = await h.say("member", "重复投递的一句")
    await h.settle()
    before = await rows(h)
    assert by_text(before, "重复投递的一句").attempts == 0  # it was settled
    again = await h.sim.redeliver(sent["delivery"]["event_id"])
    assert again["status"] == 200
    await h.settle()
    assert len(await rows(h)) == len(before)


async def test_chatter_in_a_fault_group_still_reaches_its_handler(harness):
    from tests.test_faults_e2e import fault_group, seed

    h = harness
    await seed(h)
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    group = fault_group(h)["chat_id"]
    await h.say("tech", "推流码过期了", chat=group)
    await h.say("tech", "正在换备用线路", chat=group)  # chat and person known: the kind still decides
    await h.settle()
    second = by_text(await rows(h), "正在换备用线路")
    assert second.attempts == 1


def test_known_forgets_after_fresh_seconds_and_needs_both_rows():
    now = [100.0]
    known = Known(mono=lambda: now[0])
    assert known.kind("oc_1", "ou_1") is None
    known.saw("oc_1", "team", "ou_1")
    assert known.kind("oc_1", "ou_1") == "team"
    assert known.kind("oc_1", "ou_2") is None  # this person was never read
    now[0] += FRESH + 0.1
    assert known.kind("oc_1", "ou_1") is None


async def test_a_worker_whose_lane_drained_sleeps_without_another_claim(harness, fresh_looks):
    h = harness
    await h.say("tech", "/ping")
    await h.settle()
    claims = h.bot.workers.claims
    for i in range(3):
        await h.say("tech", f"/ping {i}", chat="team" if i % 2 else "tech")
        await h.settle()
    # No claim: each event was handed to a sleeping worker by the intake, and none that found
    # nothing after the event that drained its lane (the first /ping's trailing look may land
    # inside the count); before: two per event, then one.
    assert h.bot.workers.claims - claims <= 1


async def test_an_unannounced_row_taken_first_does_not_swallow_an_announced_wake_up(harness):
    """A row nobody here announced (another replica stored it and died; a lapsed lease) is the
    oldest head: the worker woken for the new event takes it first. The new event must still be
    handled at once, not at the next safety look a minute later."""
    h = harness
    await h.say("tech", "/ping")
    workers = h.bot.workers
    reserve = workers.reserve
    workers.reserve = lambda: None  # no worker to hand events to at the intake: wake-ups only
    announce = workers.announce
    workers.announce = lambda *a, **k: None  # as if another replica had stored it
    try:
        await h.sim.send_text(h.chats["tech"], h.users["tech"], "/ping 别的副本收下的")
    finally:
        workers.announce = announce
    try:
        await h.sim.send_text(h.chats["team"], h.users["tech"], "/ping 这个副本收下的")
    finally:
        workers.reserve = reserve
    await h.settle(timeout=5)  # both answered well before the 60 s safety look
    assert all(r.status == "done" for r in await rows(h))

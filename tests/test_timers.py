"""The timer engine end to end: the real bot, a real database (SQLite and PostgreSQL), the
injected clock. Handlers of two test kinds record what they saw and send a text."""
from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from bot import timers
from bot.timers.engine import TimerEngine, cause_of
from bot.timers.models import ACTIVE, CANCELLED, DONE, PAUSED, Timer
from bot.timers.recurrence import Recurrence, next_fire
from bot.store.models import OutboxMessage

FIRED: list[tuple[str, datetime, bool]] = []


@timers.handler("test.echo")
async def echo(ctx, timer, *, due, late):
    FIRED.append((timer.key, due, late))
    await ctx.send(timer.chat_id, f"echo {timer.payload.get('text', '')}{' (late)' if late else ''}")


@timers.handler("test.boom")
async def boom(ctx, timer, *, due, late):
    FIRED.append((timer.key, due, late))
    await ctx.send(timer.chat_id, "never sent")
    raise RuntimeError("boom")


@timers.handler("test.again")
async def again(ctx, timer, *, due, late):
    """Reschedules itself with the same key: the engine must leave that alone."""
    FIRED.append((timer.key, due, late))
    await timers.schedule(ctx.session, key=timer.key, kind=timer.kind, due=due + timedelta(hours=3),
                          chat_id=timer.chat_id, payload=timer.payload)


@pytest.fixture(autouse=True)
def _clear():
    FIRED.clear()
    yield
    FIRED.clear()


async def add(h, key: str, seconds: float, kind: str = "test.echo", **kw) -> Timer:
    async with h.db.session() as s:
        return await timers.schedule(s, key=key, kind=kind, due=h.clock.now() + timedelta(seconds=seconds),
                                     chat_id=h.chats["team"], payload={"text": key}, **kw)


async def row(h, key: str) -> Timer:
    async with h.db.session() as s:
        timer = await timers.get(s, key)
    assert timer is not None
    return timer


def echoes(h) -> list[str]:
    return [h.text_of(m) for m in h.bot_messages() if h.text_of(m).startswith(("echo", "never"))]


async def test_fires_at_due_time_not_before(harness):
    await add(harness, "a", 600)
    await harness.advance(599)
    assert echoes(harness) == []
    await harness.advance(1)
    assert echoes(harness) == ["echo a"]
    t = await row(harness, "a")
    assert t.state == DONE and t.fire_count == 1 and t.last_fired_at == harness.clock.now()
    assert FIRED == [("a", t.next_due, False)]
    await harness.advance(3600)
    assert echoes(harness) == ["echo a"]


async def test_schedule_is_an_upsert_by_key(harness):
    first = await add(harness, "k", 600)
    second = await add(harness, "k", 1200)
    assert first.id == second.id and second.next_due == harness.clock.now() + timedelta(seconds=1200)
    await harness.advance(600)
    assert echoes(harness) == []
    await harness.advance(600)
    assert echoes(harness) == ["echo k"]
    async with harness.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Timer).where(Timer.key == "k"))).scalar() == 1


async def test_recurring_timer_advances(harness):
    rule = Recurrence.daily(time(15, 0))  # the harness starts on Thursday 14:00 Shanghai
    due = next_fire(rule, harness.clock.now())
    async with harness.db.session() as s:
        await timers.schedule(s, key="daily", kind="test.echo", due=due, rule=rule, chat_id=harness.chats["team"],
                              payload={"text": "daily"})
    await harness.advance(3600)
    assert echoes(harness) == ["echo daily"]
    t = await row(harness, "daily")
    assert t.state == ACTIVE and t.next_due == due + timedelta(days=1) and t.fire_count == 1
    await harness.advance(86400)
    assert echoes(harness) == ["echo daily", "echo daily"]
    assert (await row(harness, "daily")).next_due == due + timedelta(days=2)


async def test_working_days_rule_skips_the_weekend(harness):
    rule = Recurrence.daily(time(15, 0), working_days_only=True)
    due = next_fire(rule, harness.clock.now())  # Thu 15:00, then Fri, then Mon
    async with harness.db.session() as s:
        await timers.schedule(s, key="wd", kind="test.echo", due=due, rule=rule, chat_id=harness.chats["team"])
    await harness.advance(3600)
    await harness.advance(86400)
    assert (await row(harness, "wd")).next_due == due + timedelta(days=4)


async def test_missed_while_down_fires_once_late_at_start(harness):
    rule = Recurrence.interval(30)
    async with harness.db.session() as s:
        await timers.schedule(s, key="every30", kind="test.echo", due=next_fire(rule, harness.clock.now()),
                              rule=rule, chat_id=harness.chats["team"], payload={"text": "every30"})
    await add(harness, "once", 600)
    await add(harness, "soon", 120)
    await harness.advance(130)  # "soon" is 10 s late: on time, not late
    assert FIRED == [("soon", harness.clock.now() - timedelta(seconds=10), False)]
    await harness.stop_bot()
    await harness.clock.advance(3 * 3600)  # nobody listening: the bot is down
    assert len(FIRED) == 1
    await harness.start_bot()
    await harness.settle()
    assert sorted(k for k, _due, late in FIRED[1:] if late) == ["every30", "once"]
    assert len(FIRED) == 3  # six half-hours were missed: one late fire, no burst
    assert sorted(echoes(harness)) == ["echo every30 (late)", "echo once (late)", "echo soon"]
    t = await row(harness, "every30")
    assert t.next_due > harness.clock.now() and t.next_due - harness.clock.now() <= timedelta(minutes=30)
    await harness.advance(1800)
    assert echoes(harness)[-1] == "echo every30"


async def test_stale_fires_are_skipped(harness):
    await add(harness, "nudge", 60, stale_after=120)
    await add(harness, "fresh", 60, stale_after=120)
    rule = Recurrence.interval(5)
    async with harness.db.session() as s:
        await timers.schedule(s, key="cadence", kind="test.echo", due=next_fire(rule, harness.clock.now()),
                              rule=rule, chat_id=harness.chats["team"], stale_after=timedelta(minutes=1),
                              payload={"text": "cadence"})
    await harness.stop_bot()
    await harness.clock.advance(600)
    await harness.start_bot()
    await harness.settle()
    assert FIRED == [] and echoes(harness) == []
    assert (await row(harness, "nudge")).state == DONE
    cadence = await row(harness, "cadence")
    assert cadence.state == ACTIVE and cadence.next_due > harness.clock.now() and cadence.fire_count == 0
    await harness.advance(300)
    assert echoes(harness) == ["echo cadence"]  # back on time: fires again


async def test_cancel_pause_resume_snooze(harness):
    for key in ("c", "p", "s", "stream:1", "stream:1:t-2h", "stream:10"):
        await add(harness, key, 600, ref=key if key.startswith("stream") else "")
    async with harness.db.session() as s:
        assert await timers.cancel(s, "c")
        assert not await timers.cancel(s, "c")
        assert await timers.pause(s, "p")
        assert (await timers.snooze(s, "s", harness.clock.now() + timedelta(hours=1))).state == ACTIVE
        assert await timers.cancel_ref(s, "stream:1") == 2
        assert await timers.snooze(s, "nope", harness.clock.now()) is None
    await harness.advance(600)
    assert echoes(harness) == ["echo stream:10"]
    assert (await row(harness, "c")).state == CANCELLED and (await row(harness, "p")).state == PAUSED
    async with harness.db.session() as s:
        resumed = await timers.resume(s, "p", now=harness.clock.now())
        assert resumed is not None and resumed.state == ACTIVE
        assert await timers.resume(s, "p") is None  # not paused any more
    await harness.advance(0)  # overdue one-off: fires at once
    assert echoes(harness)[-1] == "echo p"
    await harness.advance(3000)
    assert echoes(harness)[-1] == "echo s"
    async with harness.db.session() as s:
        assert await timers.snooze(s, "s", harness.clock.now() + timedelta(minutes=5)) is not None  # done → again
    await harness.advance(300)
    assert echoes(harness).count("echo s") == 2


async def test_resume_of_a_repeating_timer_skips_what_it_missed(harness):
    rule = Recurrence.interval(10)
    async with harness.db.session() as s:
        await timers.schedule(s, key="r", kind="test.echo", due=next_fire(rule, harness.clock.now()), rule=rule,
                              chat_id=harness.chats["team"])
        await timers.pause(s, "r")
    await harness.advance(3600)
    async with harness.db.session() as s:
        resumed = await timers.resume(s, "r", now=harness.clock.now())
    assert resumed.next_due > harness.clock.now()
    await harness.advance(0)
    assert FIRED == []


async def test_a_handler_exception_does_not_stop_the_others(harness):
    await add(harness, "bad", 60, kind="test.boom")
    await add(harness, "good", 60)
    await add(harness, "unknown", 60, kind="test.nobody")
    await harness.advance(60)
    assert echoes(harness) == ["echo good"]  # the failed handler's send was rolled back
    bad = await row(harness, "bad")
    assert bad.state == DONE and bad.last_error and len(bad.last_error) == 8
    assert (await row(harness, "unknown")).state == DONE
    tries = [k for k, *_ in FIRED].count("bad")
    assert tries in (1, 2)  # 2: the batch's fast path, then alone in a savepoint
    await harness.advance(3600)
    assert [k for k, *_ in FIRED].count("bad") == tries  # not refired


async def test_a_handler_may_reschedule_its_own_timer(harness):
    await add(harness, "again", 60, kind="test.again")
    await harness.advance(60)
    t = await row(harness, "again")
    assert t.state == ACTIVE and t.next_due == harness.clock.now() + timedelta(hours=3) and t.fire_count == 1
    await harness.advance(3 * 3600)
    assert len(FIRED) == 2


async def test_a_redone_fire_sends_nothing_twice(harness):
    """A crash after sending but before the timer moved on: the redo reuses the outbox keys."""
    t = await add(harness, "once", 60)
    await harness.advance(60)
    async with harness.db.session() as s:
        await s.execute(update(Timer).where(Timer.id == t.id).values(state=ACTIVE, next_due=t.next_due))
    await harness.advance(0)
    assert len(FIRED) == 2 and echoes(harness) == ["echo once"]
    async with harness.db.session() as s:
        keys = (await s.execute(select(OutboxMessage.key).where(
            OutboxMessage.key.startswith(cause_of(t.id, t.next_due))))).scalars().all()
    assert len(keys) == 1


async def test_two_engines_never_fire_a_timer_twice(harness):
    for i in range(120):
        await add(harness, f"t{i}", 30 + i % 7)
    svc = harness.bot.svc
    await harness.stop_bot()
    await harness.clock.advance(60)
    engines = [TimerEngine(svc, worker_id=f"e{i}", batch=7) for i in range(3)]
    await asyncio.gather(*(e.run_due() for e in engines))
    assert sum(e.fired for e in engines) >= 120  # other features' timers may be due too
    assert sorted(k for k, *_ in FIRED) == sorted(f"t{i}" for i in range(120))
    async with harness.db.session() as s:
        counts = (await s.execute(select(Timer.fire_count, Timer.state).where(Timer.kind == "test.echo"))).all()
        sends = (await s.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.payload["content"]["text"].as_string().startswith("echo")))).scalar()
    assert len(counts) == 120 and {(c, st) for c, st in counts} == {(1, DONE)} and sends == 120
    async with harness.db.session() as s:  # 120 sends to one chat take 24 s at 5/s: skip them
        await s.execute(update(OutboxMessage).values(status="sent"))
    await harness.start_bot()
    await harness.settle()


async def test_the_wake_up_follows_the_earliest_timer(harness):
    engine = harness.bot.timers
    async with harness.db.session() as s:  # other features may keep timers of their own
        await s.execute(update(Timer).values(state=PAUSED))
    await add(harness, "later", 3600)
    await engine.plan()
    assert engine.planned == harness.clock.now() + timedelta(seconds=3600)
    await add(harness, "sooner", 90)
    await engine.plan()
    assert engine.planned == harness.clock.now() + timedelta(seconds=90)
    assert abs(engine.wake_in() - 90) < 5


async def test_the_wake_up_has_slack_except_for_exact_kinds(harness):
    """Timers due close together fire in one batch: the wake-up is set SLACK after the due time;
    a kind declared exact (the briefing fan-out's paced blocks) is woken for on time. Never early."""
    from bot.briefing import fanout
    from bot.timers.engine import SLACK

    engine = harness.bot.timers
    async with harness.db.session() as s:
        await s.execute(update(Timer).values(state=PAUSED))
    await add(harness, "routine", 30)
    await engine.plan()
    wake = engine.wake_in()
    assert 30 + SLACK - 1 < wake <= 30 + SLACK
    assert fanout.KIND in timers.EXACT
    await add(harness, "paced", 20, kind=fanout.KIND)
    await engine.plan()
    wake = engine.wake_in()
    assert 19 < wake <= 20

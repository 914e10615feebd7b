"""An honest sandbox (issue 18): a fast-forward fires what falls due on the way on time, a late
reminder keeps the lateness it was sent with, messages carry the sandbox time, a kept database
is not seeded twice. The page itself is checked in Chromium (tests/test_browser.py)."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import Settings
from bot.timers.models import Timer
from bot.sandbox import Sandbox, _saved_clock
from bot.schedule.models import Stream
from bot.store.models import OutboxMessage
from tests.test_remind import button, fired

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)


async def test_a_stepping_clock_stops_at_each_due_time():
    clock = ManualClock(T0, stepwise=True)
    due = [T0 + timedelta(minutes=m) for m in (10, 25, 25, 50, 90)]
    seen: list[datetime] = []

    async def next_due(now: datetime, until: datetime) -> datetime | None:
        return min((d for d in due if now < d <= until), default=None)

    clock.add_stop_source(next_due)
    clock.add_listener(seen.append)
    assert await clock.advance(3600) == T0 + timedelta(hours=1)
    assert seen == [due[0], due[1], due[3], T0 + timedelta(hours=1)]
    assert clock.jumps == [(T0, T0 + timedelta(hours=1))]
    plain = ManualClock(T0)  # tests' clocks jump in one go, as before
    plain.add_stop_source(next_due)
    plain.add_listener(seen.append)
    await plain.advance(3600)
    assert seen[-1] == T0 + timedelta(hours=1) and len(seen) == 5


@pytest.fixture
async def sandbox(tmp_path):
    box = Sandbox(Settings(sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"))
    url = await box.start("127.0.0.1", 0)
    yield box, url
    await box.stop()


async def call(method: str, url: str, body=None):
    async with aiohttp.ClientSession() as s:
        async with s.request(method, url, json=body) as r:
            assert r.status < 300, await r.text()
            return await r.json()


async def reminder_due(box: Sandbox) -> datetime:
    """Wait until the bot has handled the message and set the reminder's timer."""
    pulse = box.bot.svc.pulse
    for _ in range(100):
        pulse.clear()
        async with box.bot.db.session() as s:
            due = (await s.execute(select(Timer.next_due).where(Timer.kind == "reminder"))).scalar()
        if due is not None:
            return due
        try:
            await asyncio.wait_for(pulse.wait(), 0.25)
        except asyncio.TimeoutError:
            pass
    raise AssertionError("the reminder was not set")


async def test_fast_forward_fires_reminders_on_time_at_their_sandbox_time(sandbox):
    box, url = sandbox
    chat = box.chat_ids["运营群"]
    await call("POST", f"{url}_sim/chats/{chat}/messages", {"user": "ou_demo_li", "text": "/提醒 30分钟后 对样品"})
    due = await reminder_due(box)
    clock = await call("POST", f"{url}_sim/clock/advance", {"seconds": 3600})
    messages = await call("GET", f"{url}_sim/chats/{chat}/messages")
    (card,) = [m for m in messages if "⏰ 提醒 #1" in json.dumps(m["content"], ensure_ascii=False)]
    text = json.dumps(card["content"], ensure_ascii=False)
    assert "对样品" in text and "晚了" not in text and "不在线" not in text
    sent_at = datetime.fromisoformat(card["clock_time"])
    assert due <= sent_at < due + timedelta(seconds=5)  # on the sandbox clock, at its due time
    assert datetime.fromisoformat(card["create_time"]) < due  # while real time barely moved
    jump = clock["jumps"][-1]
    assert datetime.fromisoformat(jump["from"]) < sent_at <= datetime.fromisoformat(jump["to"])
    async with box.bot.db.session() as s:  # everything due on the way went out, nothing waits
        assert (await s.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(("pending", "sending"))))).scalar() == 0


async def test_keep_data_does_not_seed_the_demo_week_again(tmp_path):
    settings = Settings(sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}")
    counts = []
    later = None
    for run in range(2):
        box = Sandbox(settings, start_at=later)
        await box.start("127.0.0.1", 0)
        try:
            async with box.bot.db.session() as s:
                counts.append([(await s.execute(select(func.count()).select_from(table))).scalar()
                               for table in (Stream, Timer)])
            if run == 0:
                await box.clock.advance(3 * 3600)
                later = box.clock.now()
            else:
                assert box.clock.now() >= later  # the kept week goes on from where it was left
        finally:
            await box.stop()
    assert counts[0][0] > 20 and counts[1][0] == counts[0][0]


def test_saved_clock_file(tmp_path):
    path = tmp_path / "sandbox.clock.json"
    assert _saved_clock(path) is None
    path.write_text(json.dumps({"now": "2026-12-07T01:30:00+00:00"}))
    assert _saved_clock(path) == datetime(2026, 12, 7, 1, 30, tzinfo=timezone.utc)
    path.write_text("{broken")
    assert _saved_clock(path) is None


async def test_a_late_reminder_pressed_next_morning_says_how_late_it_was_sent(harness):
    await harness.say("member", "/提醒 每30分钟 看数据")
    await harness.stop_bot()
    await harness.clock.advance(2 * 3600 + 60)
    await harness.start_bot()
    await harness.settle()
    msg, = fired(harness)
    assert "晚了 1 小时 31 分钟" in harness.text_of(msg)
    await harness.clock.advance(19 * 3600)  # the next morning
    await harness.press(msg["message_id"], "member", button(msg, "remind.done"))
    pressed = harness.text_of(harness.sim.message(msg["message_id"]))
    assert "已完成" in pressed and "晚了 1 小时 31 分钟" in pressed
    assert "晚了 20" not in pressed


async def test_an_old_late_card_without_its_lateness_says_only_late(harness):
    await harness.say("member", "/提醒 10分钟后 喝水")
    await harness.stop_bot()
    await harness.clock.advance(3600)
    await harness.start_bot()
    await harness.settle()
    msg, = fired(harness)
    value = {**button(msg, "remind.done"), "late": 1}  # as cards sent before this change carry it
    await harness.sim.press_button(msg["message_id"], harness.users["member"], value, check=False)
    await harness.settle()
    pressed = harness.text_of(harness.sim.message(msg["message_id"]))
    assert "发出时已晚" in pressed and "晚了" not in pressed

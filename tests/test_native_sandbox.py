"""A newcomer in the sandbox, through its own HTTP API (/_sim), as the page would do it: binds the
demo Bitable the simulator serves, sees the preview, confirms, edits a row in the simulated
Bitable and sees the change notice; turns the calendar on and sees every stream in the
simulated calendar follow an edit and a cancellation."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from sqlalchemy import select

from tests import helpers
from bot.bitable.demo import DEMO_APP, DEMO_LINK, DEMO_TABLE
from bot.bitable.models import ACTIVE, BitableBinding
from bot.config import Settings
from bot.sandbox import Sandbox

OPS = "ou_demo_zhang"


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


def text(message: dict) -> str:
    return json.dumps(message["content"], ensure_ascii=False)


async def say(box: Sandbox, url: str, chat: str, words: str, expect: str) -> dict:
    """Post as ops and wait for the bot's answer containing ``expect``."""
    sent = await call("POST", f"{url}_sim/chats/{chat}/messages", {"user": OPS, "text": words})
    answer = await box.sim.wait_for_message(chat, lambda m: expect in text(m), after_seq=sent["seq"], timeout=15)
    await box._settle(box.clock.now())  # and what else it queued (calendar events) is sent
    return answer


async def bound(box: Sandbox) -> None:
    """Wait until the press was handled (the binding is active)."""
    pulse = box.bot.svc.pulse
    for _ in range(100):
        pulse.clear()
        async with box.bot.db.session() as s:
            if (await s.execute(select(BitableBinding.id).where(BitableBinding.status == ACTIVE))).first():
                return
        try:
            await asyncio.wait_for(pulse.wait(), 0.25)
        except asyncio.TimeoutError:
            pass
    raise AssertionError("the binding was not confirmed")


def value_of(message: dict, action: str) -> dict:
    return [b["behaviors"][0]["value"] for b in helpers.buttons(message)
            if b["behaviors"][0]["value"].get("a") == action][0]


async def test_a_newcomer_binds_the_demo_bitable_and_watches_the_calendar(sandbox):
    box, url = sandbox
    chat = box.chat_ids["运营群"]
    (base,) = [b for b in await call("GET", f"{url}_sim/bitable") if b["app_token"] == DEMO_APP]
    assert len(base["tables"][0]["records"]) == 4
    preview = await say(box, url, chat, f"/排期 绑定 多维表格 {DEMO_LINK}", "多维表格排期预览")
    assert "新增 **2** 场，修改 **1** 场" in text(preview) and "没有直播间「5号直播间」" in text(preview)
    await call("POST", f"{url}_sim/cards/{preview['message_id']}/actions",
               {"user": OPS, "value": value_of(preview, "bitable.confirm")})
    await bound(box)
    # a row edited in the simulated Bitable: the next read (10 minutes on) announces the change
    record = base["tables"][0]["records"][1]["record_id"]
    await call("POST", f"{url}_sim/bitable/{DEMO_APP}/tables/{DEMO_TABLE}/records/{record}",
               {"fields": {"开始时间": "09:00"}})
    last = (await call("GET", f"{url}_sim/chats/{chat}"))["last_seq"]
    await call("POST", f"{url}_sim/clock/advance", {"seconds": 601})
    notice = await box.sim.wait_for_message(chat, lambda m: "场次变更" in text(m), after_seq=last, timeout=15)
    assert "09:00" in text(notice) and "多维表格" in text(notice)
    # the calendar: every upcoming stream is an event there, and follows edits and cancellations
    # The calendar writes go out through the outbox after the reply: wait for them to land.
    await say(box, url, chat, "/排期 日历 开", "排期日历已开启")
    events = await calendar_until(url, lambda evs: len(evs) >= 10)
    assert all(e["status"] == "confirmed" for e in events)
    first = events[0]
    stream_id = int(first["description"].split("#", 1)[1].split(" ", 1)[0])

    def event(evs):
        return next(e for e in evs if e["event_id"] == first["event_id"])

    await say(box, url, chat, f"/排期 修改 #{stream_id} 品牌 测试品牌", "场次变更")
    await calendar_until(url, lambda evs: "测试品牌" in event(evs)["summary"])
    await say(box, url, chat, f"/排期 取消 #{stream_id} 原因 演示", "场次取消")
    await calendar_until(url, lambda evs: event(evs)["status"] == "cancelled")


async def calendar_until(url: str, ready, timeout: float = 20.0) -> list[dict]:
    """The simulated calendar's events once ``ready(events)`` holds (the sandbox runs in real
    time and its sender works after the reply); fails with what was there at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        events = await call("GET", f"{url}_sim/calendar/events")
        if ready(events) or loop.time() > deadline:
            assert ready(events), events
            return events
        await asyncio.sleep(0.1)

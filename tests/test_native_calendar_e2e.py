"""Streams in Feishu Calendar, end to end: the real bot, the strict simulator (calendar/v4 routes
built from the docs), both databases, the injected clock.

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai; "明天 19:00" is Fri 11-27 19:00 (11:00 UTC).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests import helpers
from bot.calendar.models import StreamCalendar, StreamEvent
from bot.schedule.models import Room, Stream
from bot.sim.calendar import events_view, hand_edit
from tests.test_schedule_service import local, seed_team

ADD = "/排期 添加 1号直播间 明天 19:00-23:00 主播 @李主播 场控 @张场控 品牌 花西子"
MINUTE = 60


@pytest.fixture
async def team(harness):
    harness.sim.scopes.add("calendar:calendar")  # the optional scope docs/feishu-native.md asks for
    async with harness.db.session() as s:
        await seed_team(s, harness.clock.now())
        await s.execute(update(Room).where(Room.name == "1号直播间").values(field_chat_id="oc_tech"))
    return harness


def events(h) -> list[dict]:
    """Every event in the simulated calendars (the /_sim/calendar/events view)."""
    return events_view(h.sim)


def live_events(h) -> list[dict]:
    return [e for e in events(h) if e["status"] != "cancelled"]


async def stream(h, stream_id: int) -> Stream:
    async with h.db.session() as s:
        return await s.get(Stream, stream_id)


async def test_every_stream_is_an_event_that_follows_changes_and_cancellation(team):
    h = team
    await h.say("ops", ADD)
    assert events(h) == []  # the calendar is off until ops turn it on
    await h.say("member", "/排期 日历")
    assert "还没有开启" in h.text_of(h.last_reply())
    await h.say("ops", "/排期 日历 开")
    assert "排期日历已开启" in h.text_of(h.last_reply())
    (cal,) = h.sim.calendar.calendars.values()
    assert cal["summary"] == "直播排期" and cal["permissions"] == "private" and cal["type"] == "shared"
    acls = h.sim.calendar.acls[cal["calendar_id"]]
    assert [(a["role"], a["scope"]["user_id"]) for a in acls] == [("reader", h.users["ops"])]  # who turned it on
    (ev,) = events(h)
    assert ev["summary"] == "1号直播间 · 李主播 · 花西子"
    assert int(ev["start_time"]["timestamp"]) == int(local(2026, 11, 27, 19).timestamp())
    assert int(ev["end_time"]["timestamp"]) == int(local(2026, 11, 27, 23).timestamp())
    assert ev["reminders"] == [{"minutes": 30}]
    assert sorted(ev["attendees"]) == sorted([h.users["streamer"], h.users["ops"]])
    assert "场控群：https://applink.feishu.cn/client/chat/open?openChatId=oc_tech" in ev["description"]
    assert "以机器人里的排期为准" in ev["description"]

    # a stream added while the calendar is on goes in at once
    await h.say("ops", "/排期 添加 2号直播间 明天 14:00-18:00 主播 @李主播 品牌 珀莱雅")
    assert len(live_events(h)) == 2
    # changes follow: time, people (attendees), brand (title)
    await h.say("ops", "/排期 修改 #1 开始 20:00 主播 @陈助播 品牌 完美日记")
    ev = next(e for e in events(h) if "完美日记" in e["summary"])
    assert ev["summary"] == "1号直播间 · 陈助播 · 完美日记"
    assert int(ev["start_time"]["timestamp"]) == int(local(2026, 11, 27, 20).timestamp())
    assert sorted(ev["attendees"]) == sorted([h.users["member"], h.users["ops"]])
    # cancelling a stream cancels its event (删除日程 notifies the attendees)
    await h.say("ops", "/排期 取消 #2 原因 品牌改期")
    assert [e["summary"] for e in live_events(h)] == ["1号直播间 · 陈助播 · 完美日记"]
    assert len(events(h)) == 2
    await h.say("member", "/排期 日历")
    text = h.text_of(h.last_reply())
    assert "直播排期" in text and "1 场" in text and cal["calendar_id"] in text


async def test_a_retry_after_a_lost_answer_does_not_make_a_second_event(team):
    h = team
    await h.say("ops", "/排期 日历 开")
    # Feishu creates the event but the answer never comes back: the outbox retries with the same
    # idempotency_key (创建日程), and Feishu answers with the event it already made.
    h.sim.faults.add("lost_answer", path_contains="/events", times=1)
    await h.say("ops", ADD)
    creates = [r for r in h.sim.requests("/calendar/v4/calendars/") if r["method"] == "POST"
               and r["path"].endswith("/events")]
    assert len(creates) == 2 and creates[0]["status"] == 504 and creates[1]["code"] == 0
    assert creates[0]["query"]["idempotency_key"] == creates[1]["query"]["idempotency_key"]
    assert len(events(h)) == 1 and h.sim.stats["calendar_events_created"] == 1
    async with h.db.session() as s:
        (row,) = (await s.execute(select(StreamEvent))).scalars().all()
    assert row.event_id == events(h)[0]["event_id"]
    assert sorted(events(h)[0]["attendees"]) == sorted([h.users["streamer"], h.users["ops"]])


async def test_a_hand_edit_is_reported_once_and_undone_and_ops_may_adopt_it(team):
    h = team
    await h.say("ops", ADD)
    await h.say("ops", "/排期 日历 开")
    (ev,) = events(h)
    start = int(ev["start_time"]["timestamp"])
    # someone drags the event an hour later in the calendar app
    hand_edit(h.sim, ev["event_id"], {"start_time": start + 3600, "end_time": start + 5 * 3600})
    before = len(h.bot_messages())
    await h.advance(10 * MINUTE + 1)  # the next sync
    report = h.bot_messages()[before:]
    assert len(report) == 1
    text = h.text_of(report[0])
    assert "日历里有人手动改了排期" in text and "#1" in text and "11-27 20:00–24:00" in text.replace("00:00(+1)", "24:00")
    assert "以机器人里的排期为准" in text
    (ev,) = events(h)
    assert int(ev["start_time"]["timestamp"]) == start  # put back: the schedule counts
    assert (await stream(h, 1)).starts_at == local(2026, 11, 27, 19)
    # the next sync says nothing more (reported once)
    await h.advance(10 * MINUTE)
    assert len(h.bot_messages()) == before + 1
    # ops decide the calendar was right: the button edits the stream like a typed edit
    button = next(b for b in _buttons(report[0]) if b.get("a") == "calendar.adopt")
    await h.press(report[0]["message_id"], "member", button)
    assert (await stream(h, 1)).starts_at == local(2026, 11, 27, 19)  # a member may not
    await h.press(report[0]["message_id"], "ops", button)
    assert (await stream(h, 1)).starts_at == local(2026, 11, 27, 20)
    notice = h.text_of(h.last_reply())
    assert "场次变更 #1" in notice and "张场控" in notice  # the change card, as for a typed edit
    (ev,) = events(h)
    assert int(ev["start_time"]["timestamp"]) == start + 3600
    # an event deleted by hand is made again and reported
    hand_edit(h.sim, ev["event_id"], {"status": "cancelled"})
    await h.advance(10 * MINUTE)
    assert "日程被删除了，已重新建上" in h.text_of(h.last_reply())
    assert len(live_events(h)) == 1 and len(events(h)) == 2


async def test_per_room_calendars_subscriptions_and_settings(team):
    h = team
    await h.say("ops", ADD)
    await h.say("ops", "/排期 添加 2号直播间 明天 14:00-18:00 主播 @李主播")
    await h.say("member", "/排期 日历 开")
    assert "「/排期 日历」需要运营权限" in h.text_of(h.last_reply()) and not h.sim.calendar.calendars  # ops only
    await h.say("ops", "/排期 日历 开 每个直播间")
    names = sorted(c["summary"] for c in h.sim.calendar.calendars.values())
    assert names == ["直播排期 · 1号直播间", "直播排期 · 2号直播间"]
    assert {e["calendar"] for e in events(h)} == set(names)
    await h.say("ops", "/排期 日历 订阅 @陈助播")
    assert "已让 陈助播 订阅排期日历" in h.text_of(h.last_reply())
    for cal_id in h.sim.calendar.calendars:
        assert h.users["member"] in [a["scope"]["user_id"] for a in h.sim.calendar.acls[cal_id]]
    await h.say("ops", "/排期 日历 提醒 abc")
    assert "不是有效的分钟数" in h.text_of(h.last_reply())
    await h.say("ops", "/排期 日历 提醒 60")
    await h.say("ops", "/排期 修改 #1 品牌 珀莱雅")
    ev = next(e for e in events(h) if "珀莱雅" in e["summary"])
    assert ev["reminders"] == [{"minutes": 60}]
    async with h.db.session() as s:
        cals = (await s.execute(select(StreamCalendar))).scalars().all()
    assert len(cals) == 2 and all(c.calendar_id for c in cals)
    await h.say("ops", "/排期 日历 关")
    await h.say("ops", "/排期 修改 #1 品牌 自然堂")
    assert not any("自然堂" in e["summary"] for e in events(h))  # off: no longer kept in step


async def test_without_the_calendar_scope_nothing_breaks(harness):
    h = harness
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    await h.say("ops", "/排期 日历 开")
    await h.say("ops", ADD)
    assert "新增场次 #1" in h.text_of(h.last_reply())
    denied = [r for r in h.sim.requests("/calendar/v4/calendars") if r["code"] == 99991672]
    assert denied and not h.sim.calendar.calendars
    # the admin grants the scope; turning the calendar on again asks again, and everything is there
    h.sim.scopes.add("calendar:calendar")
    await h.say("ops", "/排期 日历 开")
    (cal,) = h.sim.calendar.calendars.values()
    assert [e["summary"] for e in live_events(h)] == ["1号直播间 · 李主播 · 花西子"]
    assert [a["scope"]["user_id"] for a in h.sim.calendar.acls[cal["calendar_id"]]] == [h.users["ops"]]


def _buttons(message: dict) -> list[dict]:
    return [b["behaviors"][0]["value"] for b in helpers.buttons(message)]


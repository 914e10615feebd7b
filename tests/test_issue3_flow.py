"""Issue 3 "Done means", end to end as a user would do it, on SQLite and PostgreSQL:
import a week of streams from an uploaded CSV, see the weekly card (command and the Sunday
20:00 announcement), watch the T-2h equipment card appear, start and end a stream and see the
in-stream cadence begin and stop, and set and receive a `/提醒 30分钟后 …` (with a snooze).
Plus the issue's edges not covered elsewhere (a live stream across midnight, a cancelled stream
with a checkpoint reminder and an escalation still in flight).

The harness clock starts Thu 2026-11-26 14:00 Asia/Shanghai; the sheet holds next week
(Mon 2026-11-30 … Sun 2026-12-06), so the Sunday 29th 20:00 announcement lists it.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.sim.cards import buttons
from tests.helpers import advance_to, find, texts
from tests.test_schedule_service import local, seed_team

HOUR, MIN = 3600, 60
MONDAY = date(2026, 11, 30)
HEADER = "日期,星期,开始时间,结束时间,直播间,主播,助播,场控,中控,品牌,主题,目标GMV（元）,状态"
# (day offset from Monday, start, end, room, streamer, assistant, field, console, brand, theme, target, status)
ROWS = [
    (0, "19:00", "23:00", "1号直播间", "李主播", "陈助播", "张场控", "刘中控", "花西子", "双12预热", "50万", "已确认"),
    (0, "14:00", "18:00", "2号直播间", "周主播", "", "张场控", "", "珀莱雅", "新品首发", '"¥300,000"', "待确认"),
    (1, "19:00", "23:00", "1号直播间", "李主播", "陈助播", "张场控", "刘中控", "花西子", "双12预热", "50万", "已确认"),
    (2, "09:00", "13:00", "3号直播间", "周主播", "陈助播", "", "刘中控", "三只松鼠", "零食专场", "20万", "待确认"),
    (3, "19:00", "23:00", "1号直播间", "李主播", "陈助播", "张场控", "刘中控", "完美日记", "品牌日", "80万", "待确认"),
    (4, "14:00", "18:00", "2号直播间", "周主播", "", "张场控", "", "珀莱雅", "会员日", '"¥300,000"', "待确认"),
    (5, "22:00", "02:00", "3号直播间", "周主播", "陈助播", "张场控", "刘中控", "蕉下", "夜场福利", "30万", "待确认"),
    (6, "19:00", "23:00", "1号直播间", "李主播", "陈助播", "张场控", "刘中控", "花西子", "双12倒计时", "100万", "已确认"),
]
WEEKDAYS = "一二三四五六日"


def week_csv(monday: date = MONDAY) -> bytes:
    lines = [HEADER]
    for off, start, end, *rest in ROWS:
        d = monday + timedelta(days=off)
        lines.append(",".join([d.isoformat(), "周" + WEEKDAYS[d.weekday()], start, end, *rest]))
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
async def team(harness):
    async with harness.db.session() as s:
        await seed_team(s, harness.clock.now())
        await s.commit()
    return harness


def count(h, needle: str, chat: str = "team") -> int:
    return sum(needle in t for t in texts(h, chat))


async def confirm_far(h, action: str) -> None:
    """/开播 or /下播 far from the schedule asks first on a card: press its button."""
    ask = h.last_reply()
    [value] = [v for v in values(ask) if v.get("a") == action]
    await h.press(ask["message_id"], "ops", value)


def values(msg: dict) -> list[dict]:
    return [b["value"] for b in buttons(msg["content"])]


async def test_done_means_import_week_card_checkpoint_live_cadence_and_reminder(team):
    h = team
    # the room's field-control group is the tech chat, so in-stream nudges go there
    await h.say("admin", "/直播间 修改 1号直播间 场控群 本群", chat="tech")

    # 1. import a week of streams from an uploaded CSV
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "下周排期.csv", week_csv())
    await h.settle()
    summary = h.text_of(h.last_reply())
    assert "排期导入完成" in summary and "新增 **8** 场" in summary, summary

    # 2. the weekly schedule card, on demand …
    await h.say("member", "/排期 下周")
    week = h.text_of(h.last_reply())
    assert "共 8 场" in week and "11-30 周一" in week and "22:00–02:00(+1)" in week, week
    await h.say("member", "/排期 本周")
    assert "共 8 场" not in h.text_of(h.last_reply())
    # … and announced Sunday 20:00 for next week
    await advance_to(h, local(2026, 11, 29, 19, 59))
    assert not find(h, "下周直播排期")
    await h.advance(MIN)
    announced = find(h, "下周直播排期")
    assert len(announced) == 1 and "花西子" in h.text_of(announced[0]) and "#1" in h.text_of(announced[0])

    # 3. the T-2h equipment card of #1 (Mon 19:00, 1号直播间) appears at 17:00, for the technician
    def equipment_cards() -> list[dict]:
        return [m for m in find(h, "设备联调") if "#1" in h.text_of(m) and "再次提醒" not in h.text_of(m)
                and "已升级" not in h.text_of(m)]

    await advance_to(h, local(2026, 11, 30, 16, 59))
    assert not equipment_cards()
    await h.advance(MIN)
    cards = equipment_cards()
    assert len(cards) == 1
    card = h.text_of(cards[0])
    assert "ou_tech" in card and "1号直播间" in card and "200" in card, card
    assert any(v.get("a") == "norms.done" for v in values(cards[0]))

    # 4. /开播 → in-stream cadence in the field-control group
    await advance_to(h, local(2026, 11, 30, 19, 0))
    await h.say("ops", "/开播 #1")
    assert "准点开播" in h.text_of(h.last_reply())
    for _ in range(6):  # 19:05 … 19:30
        await h.advance(5 * MIN)
    assert count(h, "互动提醒（", "tech") == 6
    assert count(h, "数据检查（", "tech") == 2  # 19:15, 19:30
    assert count(h, "福袋提醒（", "tech") == 1  # 19:30
    assert count(h, "互动提醒（") == 0  # not in the team group

    # 5. /下播 → the cadence stops; the data export is reminded at T+1h
    await h.say("ops", "/下播 #1")  # 3½ hours before the scheduled end: asked first
    assert "确认现在下播" in h.text_of(h.last_reply())
    await confirm_far(h, "norms.end_confirm")
    assert "数据导出截止" in h.text_of(h.last_reply())
    before = len(h.bot_messages("tech"))
    await h.advance(30 * MIN)
    assert len(h.bot_messages("tech")) == before
    assert not find(h, "直播数据导出")
    await h.advance(30 * MIN)  # T+1h
    export = find(h, "直播数据导出")
    assert len(export) == 1 and "ou_ops" in h.text_of(export[0])
    assert len(h.bot_messages("tech")) == before

    # 6. /提醒 30分钟后 对样品 → the card arrives, with 已完成 / 稍后提醒; snooze 10 minutes
    await h.say("member", "/提醒 30分钟后 对样品")
    set_at = h.clock.now()

    def reminder_cards() -> list[dict]:
        return [m for m in h.bot_messages() if m["msg_type"] == "interactive" and "对样品" in h.text_of(m)
                and "<at id=" in h.text_of(m)]

    await h.advance(30 * MIN - 1)
    assert not reminder_cards()
    await h.advance(1)
    first, = reminder_cards()
    assert "ou_member" in h.text_of(first)
    shown = h.text_of(first)  # button labels are part of the card's text
    assert "已完成" in shown and "稍后提醒" in shown, shown
    snooze = next(v for v in values(first) if v.get("a") == "remind.snooze" and v.get("m") == 10)
    assert any(v.get("a") == "remind.done" for v in values(first))
    await h.press(first["message_id"], "member", snooze)
    assert h.clock.now() == set_at + timedelta(minutes=30)
    await h.advance(10 * MIN - 1)
    assert len(reminder_cards()) == 1
    await h.advance(1)
    assert len(reminder_cards()) == 2


async def test_live_stream_across_midnight_keeps_its_cadence_until_off_air(team):
    h = team
    await h.say("admin", "/直播间 修改 1号直播间 场控群 本群", chat="tech")
    await h.say("ops", "/排期 添加 1号直播间 今天 19:00-01:00 主播 @李主播 技术 @赵技术")
    reply = h.text_of(h.last_reply())
    assert "新增场次 #1" in reply and "19:00–01:00(+1)" in reply, reply
    await advance_to(h, local(2026, 11, 26, 17, 0))
    assert len([m for m in find(h, "检查点：设备联调") if "#1" in h.text_of(m)]) == 1
    await advance_to(h, local(2026, 11, 26, 23, 30))
    await h.say("ops", "/开播 1号直播间")
    assert "确认现在开播" in h.text_of(h.last_reply())  # 4½ hours late: asked first
    await confirm_far(h, "norms.live_confirm")
    assert "晚" in h.text_of(h.last_reply())  # then still recorded
    for _ in range(18):  # 23:35 … 01:00, across midnight (a jump would skip them as stale)
        await h.advance(5 * MIN)
    assert count(h, "互动提醒（", "tech") == 18
    assert any("00:00" in t for t in texts(h, "tech") if "互动提醒（" in t)
    # the scheduled end passed, the stream is still on air: the nudges go on
    for _ in range(2):
        await h.advance(5 * MIN)
    assert count(h, "互动提醒（", "tech") == 20
    await h.say("ops", "/下播")
    assert "数据导出截止" in h.text_of(h.last_reply())
    before = len(h.bot_messages("tech"))
    await h.advance(45 * MIN)
    assert len(h.bot_messages("tech")) == before


async def test_unknown_room_and_ambiguous_person_in_an_imported_sheet(team):
    h = team
    bad = week_csv().decode().replace("3号直播间", "9号直播间", 1).replace("李主播", "主播", 1).encode()
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "排期.csv", bad)
    await h.settle()
    text = h.text_of(h.last_reply())
    assert "9号直播间" in text and "多个人" in text, text
    await h.say("member", "/排期 下周")
    assert "共 8 场" not in h.text_of(h.last_reply())  # nothing half-imported


async def test_stream_cancelled_with_reminders_in_flight_goes_quiet(team):
    h = team
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "下周排期.csv", week_csv())
    await h.settle()
    await advance_to(h, local(2026, 11, 30, 17, 0))
    assert [m for m in find(h, "检查点：设备联调") if "#1" in h.text_of(m)]
    await h.say("ops", "/排期 取消 #1 原因 主播生病")
    assert "#1" in h.text_of(h.last_reply())
    seen = len(texts(h))
    await advance_to(h, local(2026, 11, 30, 19, 30))
    later = [t for t in texts(h)[seen:] if "#1" in t and ("再次提醒" in t or "已升级" in t or "运营到岗" in t)]
    assert later == []
    await h.say("ops", "/开播 #1")
    assert "准点开播" not in h.text_of(h.last_reply())
    assert count(h, "互动提醒（", "tech") == 0 and count(h, "互动提醒（") == 0

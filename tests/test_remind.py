"""/提醒 (/remind) end to end in the harness, and every example of GRAMMAR.md through the parser.

The harness starts on Thursday 2026-11-26 14:00 Asia/Shanghai (06:00 UTC)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests import helpers
from bot.reminders.models import Reminder, ReminderLog
from bot.timers.models import ACTIVE, CANCELLED, DONE, Timer
from bot.timeparse.parser import TimeParseError, parse
from bot.sim.cards import buttons
from tests.conftest import START

SH = ZoneInfo("Asia/Shanghai")
GRAMMAR = Path(__file__).parents[1] / "bot" / "timeparse" / "GRAMMAR.md"


# -- helpers --------------------------------------------------------------------------------
def values(msg: dict) -> list[dict]:
    return [b["value"] for b in buttons(msg["content"])]


def button(msg: dict, action: str, **match) -> dict:
    for value in values(msg):
        if value.get("a") == action and all(value.get(k) == v for k, v in match.items()):
            return value
    raise AssertionError(f"no {action} button on the card: {values(msg)}")


async def stored(h) -> list[tuple[Reminder, Timer]]:
    async with h.db.session() as s:
        rows = (await s.execute(select(Reminder, Timer).join(Timer, Timer.id == Reminder.timer_id)
                                .order_by(Reminder.id))).all()
    return [(r, t) for r, t in rows]


async def count(h, table) -> int:
    async with h.db.session() as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar()


def fired(h, chat: str = "team") -> list[dict]:
    """The reminder cards posted when due (they mention someone; confirmations do not)."""
    return [m for m in h.bot_messages(chat) if m["msg_type"] == "interactive" and "<at id=" in h.text_of(m)]


# -- creating and firing --------------------------------------------------------------------
async def test_remind_me_confirms_then_fires_at_the_time(harness):
    await harness.say("member", "/提醒 30分钟后 看一下库存")
    card = harness.last_reply()
    text = harness.text_of(card)
    assert "提醒已设置 #1" in text and "2026-11-26（周四）14:30" in text and "不重复" in text
    assert "看一下库存" in text and "陈助播" in text
    assert button(card, "remind.cancel", id=1) and button(card, "remind.pause", id=1)
    (rem, timer), = await stored(harness)
    assert rem.targets == [{"id": harness.users["member"], "name": "陈助播"}] and not rem.everyone
    assert timer.next_due == START + timedelta(minutes=30) and timer.kind == "reminder"
    await harness.advance(30 * 60 - 1)
    assert fired(harness) == []
    await harness.advance(1)
    msg, = fired(harness)
    body = harness.text_of(msg)
    assert f"<at id={harness.users['member']}></at> 看一下库存" in body
    assert "晚了" not in body
    assert {v["a"] for v in values(msg)} == {"remind.done", "remind.snooze"}
    assert (await stored(harness))[0][1].state == DONE


async def test_remind_someone_and_only_they_may_press(harness):
    await harness.say("ops", "/提醒 @李主播 明天10点 交脚本")
    text = harness.text_of(harness.last_reply())
    assert "2026-11-27（周五）10:00" in text and "李主播" in text and "交脚本" in text
    (rem, _t), = await stored(harness)
    assert [t["id"] for t in rem.targets] == [harness.users["streamer"]]
    await harness.advance(20 * 3600)
    msg, = fired(harness)
    assert f"<at id={harness.users['streamer']}></at> 交脚本" in harness.text_of(msg)
    done = button(msg, "remind.done")
    answer = await harness.press(msg["message_id"], "tech", done)  # neither target, creator nor ops
    assert "找不到提醒 #1，或者它属于别的群、你无权查看" in answer["toast"]["content"]
    assert await count(harness, ReminderLog) == 0
    await harness.press(msg["message_id"], "streamer", done)
    updated = harness.sim.message(msg["message_id"])
    assert updated["updated"] and "✅ 李主播 已完成" in harness.text_of(updated)
    assert values(updated) == []
    async with harness.db.session() as s:
        log, = (await s.execute(select(ReminderLog))).scalars().all()
    assert log.action == "done" and log.user_id == harness.users["streamer"]
    assert log.due == START + timedelta(hours=20)


async def test_remind_everyone_repeating(harness):
    await harness.say("ops", "/提醒 大家 每天 9:30 站会")
    text = harness.text_of(harness.last_reply())
    assert "每天 09:30" in text and "所有人" in text and "2026-11-27（周五）09:30" in text
    await harness.advance(19.5 * 3600)
    msg, = fired(harness)
    assert "<at id=all></at> 站会" in harness.text_of(msg)
    (_r, timer), = await stored(harness)
    assert timer.state == ACTIVE and timer.next_due == datetime(2026, 11, 28, 9, 30, tzinfo=SH)
    await harness.advance(86400)
    assert len(fired(harness)) == 2


async def test_at_all_mention_and_working_days(seam):
    await seam.say("ops", '/提醒 <at user_id="all">所有人</at> 每个工作日 18:00 日报')  # a real @all
    (rem, timer), = await stored(seam)
    assert rem.everyone and rem.text == "日报"
    assert "每个工作日 18:00" in seam.text_of(seam.last_reply())


async def test_english_reminder_in_an_english_chat(harness):
    await harness.say("ops", "/lang English")
    await harness.say("ops", "/remind me in 2 hours to call the brand")
    text = harness.text_of(harness.last_reply())
    assert "Reminder set #1" in text and "Thu 2026-11-26 16:00" in text and "does not repeat" in text
    await harness.advance(7200)
    msg, = fired(harness)
    assert "call the brand" in harness.text_of(msg)
    assert {b["text"]["content"] for b in _raw_buttons(msg)} == {"Done", "Remind me in 10 min",
                                                                 "Remind me in 1 hour"}


_raw_buttons = helpers.buttons


ISSUE_EXAMPLES = [  # the forms the issue names, end to end: (what is typed, resolved time, repeat text)
    ("明天 19:00 对样品", "2026-11-27（周五）19:00", "不重复"),
    ("今晚8点 开播前检查", "2026-11-26（周四）20:00", "不重复"),
    ("周五下午3点半 对账", "2026-11-27（周五）15:30", "不重复"),
    ("11月28日 19:00 大场", "2026-11-28（周六）19:00", "不重复"),
    ("30分钟后 喝水", "2026-11-26（周四）14:30", "不重复"),
    ("每周一 10:00 周会", "2026-11-30（周一）10:00", "每周一 10:00"),
    ("每天 9:30 站会", "2026-11-27（周五）09:30", "每天 09:30"),
    ("每个工作日 18:00 日报", "2026-11-26（周四）18:00", "每个工作日 18:00"),
    ("每月最后一天 17:00 自评表", "2026-11-30（周一）17:00", "每月最后一天 17:00"),
    ("in 2 hours check stock", "2026-11-26（周四）16:00", "不重复"),
    ("tomorrow 9am call Bob", "2026-11-27（周五）09:00", "不重复"),
]


async def test_issue_examples_end_to_end(seam):
    for n, (typed, when, repeat) in enumerate(ISSUE_EXAMPLES, start=1):
        await seam.say("member", f"/提醒 {typed}")
        text = seam.text_of(seam.last_reply())
        assert f"#{n}" in text and when in text and repeat in text, (typed, text)
    assert len(await stored(seam)) == len(ISSUE_EXAMPLES)


async def test_assumed_time_is_explained(seam):
    await seam.say("member", "/提醒 下周三 交周报")
    text = seam.text_of(seam.last_reply())
    assert "2026-12-02（周三）09:00" in text and "没有写具体几点，默认 09:00" in text


# -- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, expected", [
    ("/提醒 开会", "没看懂时间“开会”"),
    ("/提醒 明天 25:00 开会", "“25:00”不是有效的时间"),
    ("/提醒 昨天 10点 复盘", "这个时间已经过去了：2026-11-25（周三）10:00"),
    ("/提醒 每两周 10点 复盘", "暂不支持“每两周”"),
    ("/提醒 明天 10:00", "请写上提醒内容"),
])
async def test_bad_input_is_refused_and_nothing_is_stored(seam, typed, expected):
    await seam.say("member", typed)
    text = seam.text_of(seam.last_reply())
    assert expected in text, text
    if "没看懂" in expected or "支持" in expected or "有效" in expected:
        assert "可以这样写" in text and "/帮助 提醒" in text  # examples are shown
    assert await count(seam, Reminder) == 0
    async with seam.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Timer).where(Timer.kind == "reminder"))).scalar() == 0


async def test_usage_without_arguments(seam):
    await seam.say("member", "/提醒")
    text = seam.text_of(seam.last_reply())
    assert "用法" in text and "/提醒 明天 19:00 对样品" in text


# -- managing --------------------------------------------------------------------------------
async def test_list_cancel_pause_resume_snooze_by_command(harness):
    await harness.say("member", "/提醒 明天 10:00 交脚本")
    await harness.say("ops", "/提醒 @陈助播 每天 9:30 站会")
    await harness.say("member", "/提醒 列表")
    text = harness.text_of(harness.last_reply())
    assert "#1" in text and "#2" in text and "交脚本" in text and "每天 09:30" in text
    assert text.index("#2") < text.index("#1")  # soonest first
    await harness.say("member", "/提醒 暂停 2")
    assert "已暂停提醒 #2" in harness.text_of(harness.last_reply())
    await harness.say("member", "/提醒 暂停 2")
    assert "不能暂停" in harness.text_of(harness.last_reply())
    await harness.say("member", "/提醒 列表")
    assert "（已暂停）" in harness.text_of(harness.last_reply())
    await harness.advance(20 * 3600)  # 10:00 tomorrow: #1 fires, #2 is paused
    assert [harness.text_of(m).count("交脚本") for m in fired(harness)] == [1]
    await harness.say("member", "/提醒 恢复 2")
    assert "已恢复提醒 #2，下次提醒：2026-11-28（周六）09:30" in harness.text_of(harness.last_reply())
    await harness.say("member", "/提醒 推迟 2 1小时")
    assert "2026-11-28（周六）10:30" in harness.text_of(harness.last_reply())
    await harness.say("member", "/提醒 推迟 #2 明天 9:45")
    assert "2026-11-28（周六）09:45" in harness.text_of(harness.last_reply())
    await harness.say("member", "/提醒 取消 2")
    assert "已取消提醒 #2：站会" in harness.text_of(harness.last_reply())
    await harness.say("member", "/提醒 取消 2")
    assert "已取消" in harness.text_of(harness.last_reply())
    await harness.say("member", "/提醒 列表")
    assert "本群还没有进行中的提醒" in harness.text_of(harness.last_reply())
    async with harness.db.session() as s:
        actions = (await s.execute(select(ReminderLog.action).order_by(ReminderLog.id))).scalars().all()
    assert actions == ["pause", "resume", "snooze", "snooze", "cancel"]


async def test_wrong_ids_and_other_chats(seam):
    await seam.say("admin", "/提醒 明天 10:00 修灯", chat="tech")
    await seam.say("member", "/提醒 取消 1")  # another chat's: refused without saying it exists
    assert "找不到提醒 #1，或者它属于别的群、你无权查看" in seam.text_of(seam.last_reply())
    await seam.say("member", "/提醒 取消 abc")
    assert "请写上编号" in seam.text_of(seam.last_reply())
    await seam.say("member", "/提醒 暂停")
    assert "请写上编号" in seam.text_of(seam.last_reply())
    await seam.say("member", "/提醒 推迟 99 1小时")
    assert "找不到提醒 #99" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/提醒 明天 10:00 对样品")
    await seam.say("member", "/提醒 取消 2")  # someone else's, not for them, not ops
    assert "找不到提醒 #2，或者它属于别的群、你无权查看" in seam.text_of(seam.last_reply())
    await seam.say("admin", "/提醒 推迟 2")
    assert "请写推迟多久" in seam.text_of(seam.last_reply())
    await seam.say("admin", "/提醒 推迟 2 每天")
    assert "不能是重复的" in seam.text_of(seam.last_reply()) or "没看懂" in seam.text_of(
        seam.last_reply())
    assert [t.state for _r, t in await stored(seam)] == [ACTIVE, ACTIVE]


async def test_buttons_on_the_confirmation_card(harness):
    await harness.say("member", "/提醒 30分钟后 看库存")
    card = harness.last_reply()
    await harness.press(card["message_id"], "member", button(card, "remind.pause"))
    paused = harness.sim.message(card["message_id"])
    assert "已暂停" in harness.text_of(paused) and button(paused, "remind.resume")
    await harness.advance(3600)
    assert fired(harness) == []
    await harness.press(card["message_id"], "member", button(paused, "remind.resume"))
    await harness.advance(0)  # overdue one-off: fires right away, marked late
    msg, = fired(harness)
    assert "晚了 30 分钟" in harness.text_of(msg)
    await harness.say("member", "/提醒 1小时后 看直播间")
    card = harness.last_reply()
    await harness.press(card["message_id"], "member", button(card, "remind.cancel"))
    cancelled = harness.sim.message(card["message_id"])
    assert "已取消" in harness.text_of(cancelled) and values(cancelled) == []
    assert [t.state for _r, t in await stored(harness)] == [DONE, CANCELLED]


async def test_an_ambiguous_hour_says_which_reading_and_the_button_moves_it(harness):
    h = harness
    await h.advance(4 * 3600 + 180)  # 18:03: "3点" has passed today
    await h.say("member", "/提醒 3点 开会")
    card = h.last_reply()
    text = h.text_of(card)
    assert "2026-11-27（周五）15:00" in text
    assert "“3点”按下午 15:00 理解；如果是凌晨 03:00，请写“凌晨3点”。" in text
    other = button(card, "remind.reread", id=1)
    assert "改为 2026-11-27（周五）03:00" in {b["text"]["content"] for b in _raw_buttons(card)}
    answer = await h.press(card["message_id"], "tech", other)  # neither target, creator nor ops
    assert "找不到提醒 #1，或者它属于别的群、你无权查看" in answer["toast"]["content"]
    (_r, timer), = await stored(h)
    assert timer.next_due == datetime(2026, 11, 27, 15, 0, tzinfo=SH)
    await h.press(card["message_id"], "member", other)
    (_r, timer), = await stored(h)
    assert timer.next_due == datetime(2026, 11, 27, 3, 0, tzinfo=SH) and timer.rule is None
    moved = h.sim.message(card["message_id"])
    assert "🔁 陈助播 改为 2026-11-27（周五）03:00" in h.text_of(moved)
    back = button(moved, "remind.reread", id=1)
    assert "改回 2026-11-27（周五）15:00" in {b["text"]["content"] for b in _raw_buttons(moved)}
    async with h.db.session() as s:
        log, = (await s.execute(select(ReminderLog))).scalars().all()
    assert (log.action, log.due) == ("reread", datetime(2026, 11, 27, 3, 0, tzinfo=SH))
    await h.advance(9 * 3600)  # 03:03 on Friday
    msg, = fired(h)
    assert "开会" in h.text_of(msg)
    answer = await h.press(card["message_id"], "member", back)  # already fired: nothing to move
    assert "已经结束" in answer["toast"]["content"]


async def test_a_repeating_rule_with_an_ambiguous_hour_can_switch(harness):
    h = harness
    await h.say("member", "/提醒 每天8点 站会")
    card = h.last_reply()
    assert "“8点”按上午 08:00 理解；如果是晚上 20:00，请写“晚上8点”。" in h.text_of(card)
    await h.press(card["message_id"], "member", button(card, "remind.reread", id=1))
    (_r, timer), = await stored(h)
    assert timer.rule["time"] == "20:00" and timer.next_due == datetime(2026, 11, 26, 20, 0, tzinfo=SH)
    assert "每天 20:00" in h.text_of(h.sim.message(card["message_id"]))


async def test_no_button_when_the_other_reading_is_unlikely(seam):
    await seam.say("member", "/提醒 3点 开会")  # at 14:00: 15:00 today; 03:00 is only mentioned
    card = seam.last_reply()
    assert "2026-11-26（周四）15:00" in seam.text_of(card) and "凌晨3点" in seam.text_of(card)
    assert all(v["a"] != "remind.reread" for v in values(card))


async def test_a_two_part_duration_is_read_whole(seam):
    await seam.say("member", "/提醒 1小时20分钟后 看库存")
    text = seam.text_of(seam.last_reply())
    assert "2026-11-26（周四）15:20" in text
    (rem, _t), = await stored(seam)
    assert rem.text == "看库存"


async def test_weekly_rule_keeps_the_day_word_of_its_text(seam):
    await seam.say("member", "/提醒 每周六 10:00 周六例会")
    (rem, timer), = await stored(seam)
    assert rem.text == "周六例会" and timer.rule["weekdays"] == [5]


async def test_buttons_on_the_list_card(harness):
    await harness.say("member", "/提醒 明天 10:00 A事项")
    await harness.say("member", "/提醒 明天 11:00 B事项")
    await harness.say("member", "/提醒 列表")
    card = harness.last_reply()
    await harness.press(card["message_id"], "member", button(card, "remind.cancel", id=1))
    updated = harness.sim.message(card["message_id"])
    assert "A事项" not in harness.text_of(updated) and "B事项" in harness.text_of(updated)


async def test_snooze_buttons_on_the_fired_card(harness):
    await harness.say("member", "/提醒 10分钟后 喝水")
    await harness.advance(600)
    msg, = fired(harness)
    await harness.press(msg["message_id"], "member", button(msg, "remind.snooze", m=10))
    updated = harness.sim.message(msg["message_id"])
    assert "推迟到 2026-11-26（周四）14:20" in harness.text_of(updated) and values(updated) == []
    await harness.advance(599)
    assert len(fired(harness)) == 1
    await harness.advance(1)
    second = fired(harness)[-1]
    assert len(fired(harness)) == 2 and second["message_id"] != msg["message_id"]
    await harness.press(second["message_id"], "ops", button(second, "remind.snooze", m=60))  # ops may
    await harness.advance(3600)
    assert len(fired(harness)) == 3
    async with harness.db.session() as s:
        logs = (await s.execute(select(ReminderLog).order_by(ReminderLog.id))).scalars().all()
    assert [(entry.action, entry.until) for entry in logs] == [
        ("snooze", START + timedelta(minutes=20)), ("snooze", START + timedelta(minutes=80))]


async def test_missed_reminder_fires_late_after_a_restart(harness):
    await harness.say("member", "/提醒 每30分钟 看数据")
    await harness.stop_bot()
    await harness.clock.advance(2 * 3600 + 60)
    await harness.start_bot()
    await harness.settle()
    msg, = fired(harness)
    assert "晚了 1 小时 31 分钟" in harness.text_of(msg)
    (_r, timer), = await stored(harness)
    assert timer.next_due == START + timedelta(hours=2, minutes=30)


# -- the grammar, through the parser ---------------------------------------------------------
def grammar_examples() -> list[str]:
    """Every backticked form in the first column of GRAMMAR.md sections 1–4."""
    found: list[str] = []
    for section in re.split(r"\n## ", GRAMMAR.read_text(encoding="utf-8")):
        if section[:2] not in ("1.", "2.", "3.", "4."):
            continue
        for line in section.splitlines():
            if line.startswith("| `"):
                found += re.findall(r"`([^`]+)`", line.split("|")[1])
    return found


PAST_AT_14 = {"今天", "今早"}  # a day alone means 09:00: already past at 14:00 (documented)
EXPECTED = {  # form → (first fire, local, "YYYY-MM-DD HH:MM"; rule kind), as GRAMMAR.md states
    "19:00": ("2026-11-26 19:00", "once"), "19：00": ("2026-11-26 19:00", "once"),
    "１９：００": ("2026-11-26 19:00", "once"), "19点": ("2026-11-26 19:00", "once"),
    "19点整": ("2026-11-26 19:00", "once"), "19时": ("2026-11-26 19:00", "once"),
    "3点半": ("2026-11-26 15:30", "once"), "3点30": ("2026-11-26 15:30", "once"),
    "3点30分": ("2026-11-26 15:30", "once"), "3点15": ("2026-11-26 15:15", "once"),
    "3点15分": ("2026-11-26 15:15", "once"), "3点一刻": ("2026-11-26 15:15", "once"),
    "三点": ("2026-11-26 15:00", "once"), "十点半": ("2026-11-26 22:30", "once"),
    "十二点": ("2026-11-27 12:00", "once"), "两点半": ("2026-11-26 14:30", "once"),
    "上午10点": ("2026-11-27 10:00", "once"), "早上7点": ("2026-11-27 07:00", "once"),
    "早8点": ("2026-11-27 08:00", "once"), "中午12点": ("2026-11-27 12:00", "once"),
    "中午1点": ("2026-11-27 13:00", "once"), "下午3点": ("2026-11-26 15:00", "once"),
    "傍晚6点": ("2026-11-26 18:00", "once"), "晚上8点": ("2026-11-26 20:00", "once"),
    "晚8点": ("2026-11-26 20:00", "once"), "凌晨1点": ("2026-11-27 01:00", "once"),
    "凌晨12点": ("2026-11-27 00:00", "once"), "7pm": ("2026-11-26 19:00", "once"),
    "7:30 pm": ("2026-11-26 19:30", "once"), "9am": ("2026-11-27 09:00", "once"),
    "at 7pm": ("2026-11-26 19:00", "once"), "at 7": ("2026-11-26 19:00", "once"),
    "7 o'clock": ("2026-11-26 19:00", "once"), "noon": ("2026-11-27 12:00", "once"),
    "正午": ("2026-11-27 12:00", "once"), "midnight": ("2026-11-27 00:00", "once"),
    "午夜": ("2026-11-27 00:00", "once"),
    "今晚": ("2026-11-26 20:00", "once"), "明天": ("2026-11-27 09:00", "once"),
    "明早": ("2026-11-27 09:00", "once"), "明晚": ("2026-11-27 20:00", "once"),
    "tomorrow": ("2026-11-27 09:00", "once"), "tmr": ("2026-11-27 09:00", "once"),
    "后天": ("2026-11-28 09:00", "once"), "day after tomorrow": ("2026-11-28 09:00", "once"),
    "大后天": ("2026-11-29 09:00", "once"), "周五": ("2026-11-27 09:00", "once"),
    "星期五": ("2026-11-27 09:00", "once"), "礼拜五": ("2026-11-27 09:00", "once"),
    "周5": ("2026-11-27 09:00", "once"), "friday": ("2026-11-27 09:00", "once"),
    "on fri": ("2026-11-27 09:00", "once"), "周四 18:00": ("2026-11-26 18:00", "once"),
    "周四 10:00": ("2026-12-03 10:00", "once"), "本周五": ("2026-11-27 09:00", "once"),
    "这周五": ("2026-11-27 09:00", "once"), "this friday": ("2026-11-27 09:00", "once"),
    "下周三": ("2026-12-02 09:00", "once"), "下个星期三": ("2026-12-02 09:00", "once"),
    "next wednesday": ("2026-12-02 09:00", "once"), "下下周一": ("2026-12-07 09:00", "once"),
    "周日": ("2026-11-29 09:00", "once"), "星期天": ("2026-11-29 09:00", "once"),
    "礼拜天": ("2026-11-29 09:00", "once"), "sunday": ("2026-11-29 09:00", "once"),
    "12月1日": ("2026-12-01 09:00", "once"), "12月1号": ("2026-12-01 09:00", "once"),
    "十二月一日": ("2026-12-01 09:00", "once"), "12-01": ("2026-12-01 09:00", "once"),
    "12/01": ("2026-12-01 09:00", "once"), "2026-12-01": ("2026-12-01 09:00", "once"),
    "2026/12/1": ("2026-12-01 09:00", "once"), "2026年12月1日": ("2026-12-01 09:00", "once"),
    "Dec 1": ("2026-12-01 09:00", "once"), "December 1st": ("2026-12-01 09:00", "once"),
    "1 Dec": ("2026-12-01 09:00", "once"), "on Dec 1 at 10:00": ("2026-12-01 10:00", "once"),
    "1月5日": ("2027-01-05 09:00", "once"), "今年12月31日": ("2026-12-31 09:00", "once"),
    "明年1月1日": ("2027-01-01 09:00", "once"), "28号": ("2026-11-28 09:00", "once"),
    "31号": ("2026-12-31 09:00", "once"), "下个月1号": ("2026-12-01 09:00", "once"),
    "2月29日": ("2028-02-29 09:00", "once"),
    "30分钟后": ("2026-11-26 14:30", "once"), "10分钟之后": ("2026-11-26 14:10", "once"),
    "过30分钟": ("2026-11-26 14:30", "once"), "1小时后": ("2026-11-26 15:00", "once"),
    "一个小时以后": ("2026-11-26 15:00", "once"), "两小时后": ("2026-11-26 16:00", "once"),
    "半小时后": ("2026-11-26 14:30", "once"), "半个小时后": ("2026-11-26 14:30", "once"),
    "过半小时": ("2026-11-26 14:30", "once"), "1个半小时后": ("2026-11-26 15:30", "once"),
    "一刻钟后": ("2026-11-26 14:15", "once"), "2天后": ("2026-11-28 14:00", "once"),
    "3日后": ("2026-11-29 14:00", "once"), "2天后 19:00": ("2026-11-28 19:00", "once"),
    "3个月后": ("2027-02-26 14:00", "once"), "in 30 minutes": ("2026-11-26 14:30", "once"),
    "in an hour": ("2026-11-26 15:00", "once"), "in half an hour": ("2026-11-26 14:30", "once"),
    "in 1.5 hours": ("2026-11-26 15:30", "once"), "in an hour and a half": ("2026-11-26 15:30", "once"),
    "in 2 days": ("2026-11-28 14:00", "once"), "2 hours later": ("2026-11-26 16:00", "once"),
    "30 min from now": ("2026-11-26 14:30", "once"),
    "1小时20分钟后": ("2026-11-26 15:20", "once"), "一小时二十分钟后": ("2026-11-26 15:20", "once"),
    "过1小时20分钟": ("2026-11-26 15:20", "once"), "2天3小时后": ("2026-11-28 17:00", "once"),
    "1天零2小时后": ("2026-11-27 16:00", "once"), "in 1 hour 20 minutes": ("2026-11-26 15:20", "once"),
    "in 1h20m": ("2026-11-26 15:20", "once"), "in 1 hour and 20 minutes": ("2026-11-26 15:20", "once"),
    "1 hour 20 minutes later": ("2026-11-26 15:20", "once"), "in 2 days 3 hours": ("2026-11-28 17:00", "once"),
    "每天 9:30": ("2026-11-27 09:30", "daily"), "每日9点半": ("2026-11-27 09:30", "daily"),
    "天天 9:30": ("2026-11-27 09:30", "daily"), "every day 9:30": ("2026-11-27 09:30", "daily"),
    "daily at 9:30": ("2026-11-27 09:30", "daily"), "每晚8点": ("2026-11-26 20:00", "daily"),
    "每天晚上8点": ("2026-11-26 20:00", "daily"), "每个工作日 18:00": ("2026-11-26 18:00", "daily"),
    "工作日每天 18:00": ("2026-11-26 18:00", "daily"), "工作日 18:00": ("2026-11-26 18:00", "daily"),
    "every weekday 6pm": ("2026-11-26 18:00", "daily"),
    "every working day 18:00": ("2026-11-26 18:00", "daily"),
    "每周一 10:00": ("2026-11-30 10:00", "weekly"), "每个星期一 10点": ("2026-11-30 10:00", "weekly"),
    "every monday 10am": ("2026-11-30 10:00", "weekly"), "每周一三五 10:00": ("2026-11-27 10:00", "weekly"),
    "每周一、周三、周五 10:00": ("2026-11-27 10:00", "weekly"),
    "every monday, wednesday and friday 10am": ("2026-11-27 10:00", "weekly"),
    "每周一至周五 9点": ("2026-11-27 09:00", "weekly"), "每周1-5 9点": ("2026-11-27 09:00", "weekly"),
    "每周末 10点": ("2026-11-28 10:00", "weekly"),
    "每月1号 10:00": ("2026-12-01 10:00", "monthly"), "每个月1日 10点": ("2026-12-01 10:00", "monthly"),
    "every month on the 1st 10am": ("2026-12-01 10:00", "monthly"),
    "on the 1st of every month at 10am": ("2026-12-01 10:00", "monthly"),
    "每月15日": ("2026-12-15 09:00", "monthly"), "每月最后一天 17:00": ("2026-11-30 17:00", "monthly"),
    "每月月底 17:00": ("2026-11-30 17:00", "monthly"),
    "every month on the last day 5pm": ("2026-11-30 17:00", "monthly"),
    "每月最后一个工作日 17:00": ("2026-11-30 17:00", "monthly"),
    "every month on the last working day 5pm": ("2026-11-30 17:00", "monthly"),
    "每月第一个工作日 10:00": ("2026-12-01 10:00", "monthly"),
    "每隔30分钟": ("2026-11-26 14:30", "interval"), "每30分钟": ("2026-11-26 14:30", "interval"),
    "every 30 minutes": ("2026-11-26 14:30", "interval"), "每小时": ("2026-11-26 15:00", "interval"),
    "every hour": ("2026-11-26 15:00", "interval"), "hourly": ("2026-11-26 15:00", "interval"),
    "每2小时": ("2026-11-26 16:00", "interval"),
    "每1小时30分钟": ("2026-11-26 15:00", "interval"), "每隔1小时30分钟": ("2026-11-26 15:00", "interval"),
    "every 1 hour 30 minutes": ("2026-11-26 15:00", "interval"), "every 1h30m": ("2026-11-26 15:00", "interval"),
    "每周六 10:00": ("2026-11-28 10:00", "weekly"),
    "每隔5分钟 从19:00到23:00": ("2026-11-26 19:00", "interval"),
    "每5分钟 19:00-23:00": ("2026-11-26 19:00", "interval"),
    "19:00-23:00 每5分钟": ("2026-11-26 19:00", "interval"),
    "晚上7点到11点每5分钟": ("2026-11-26 19:00", "interval"),
    "every 5 minutes from 7pm to 11pm": ("2026-11-26 19:00", "interval"),
    "每5分钟 19:00-01:00": ("2026-11-26 19:00", "interval"),
    "晚上10点到凌晨2点 每10分钟": ("2026-11-26 22:00", "interval"),
    "工作日每30分钟 19:00-23:00": ("2026-11-26 19:00", "interval"),
    "从下周一开始每天9点": ("2026-11-30 09:00", "daily"),
    "cron 0 9 * * 1-5": ("2026-11-27 09:00", "cron"),
}


def test_every_grammar_example_has_an_expectation():
    assert set(grammar_examples()) == set(EXPECTED) | PAST_AT_14


@pytest.mark.parametrize("form", sorted(EXPECTED))
def test_grammar_example_parses_as_documented(form):
    for typed in (f"{form} 对样品", f"对样品 {form}"):  # the time may come before or after the text
        p = parse(typed, START)
        assert p.rest == "对样品", typed
        assert (f"{p.when.astimezone(SH):%Y-%m-%d %H:%M}", p.rule.kind) == EXPECTED[form], typed


@pytest.mark.parametrize("form", sorted(PAST_AT_14))
def test_a_day_alone_today_is_past_in_the_afternoon(form):
    with pytest.raises(TimeParseError):
        parse(f"{form} 对样品", START)


@pytest.mark.parametrize("typed", ["明天 25:00", "2月30日", "13月1日", "上午15点", "每0分钟", "每月32号", "本周三",
                                   "昨天", "2026-11-01 10:00", "每两周", "每2天", "每隔一天", "每年", "每季度",
                                   "every other monday", "yearly", "开会"])
def test_grammar_error_examples_are_refused(typed):
    with pytest.raises(TimeParseError) as err:
        parse(f"{typed} 对样品", START)
    assert err.value.fragment and err.value.message_for("zh_CN") and err.value.message_for("en_US")


def test_start_is_thursday_afternoon_in_shanghai():
    assert START.astimezone(SH) == datetime(2026, 11, 26, 14, 0, tzinfo=SH)
    assert START.tzinfo == timezone.utc

"""The monthly satisfaction survey, end to end: contacts as a team setting, the card (a form with
a 1–5 rating and a comment) sent on the day, reminders to those who have not answered, and the
month's average, response rate and comments in /数据 运营 against the 4.5 target.

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai.
"""
from __future__ import annotations

from sqlalchemy import select

from tests import helpers
from bot.survey.models import Survey, SurveyAnswer

HOUR, DAY = 3600, 86400


def dms(h, user: str) -> list[dict]:
    chat = h.sim.p2p_chat(h.users[user])["chat_id"]
    return [m for m in h.sim.messages(chat) if m["sender"]["type"] == "app"]


def submit(card: dict) -> dict:
    return next((b["behaviors"][0]["value"] for b in helpers.buttons(card)
                 if b.get("form_action_type") == "submit"), None)


async def answers(h) -> list[SurveyAnswer]:
    async with h.db.session() as s:
        return list((await s.execute(select(SurveyAnswer).order_by(SurveyAnswer.id))).scalars())


async def test_contacts_card_reminder_and_the_kpi(harness):
    h = harness
    await h.say("member", "/数据 满意度 联系人 商务部 @李主播")
    assert "「/数据 满意度」需要运营权限" in h.text_of(h.last_reply())  # a team setting: ops only
    await h.say("ops", "/数据 满意度 联系人 商务部 @李主播 @赵技术")
    assert "已设置「商务部」的联系人：李主播、赵技术" in h.text_of(h.last_reply())
    await h.say("ops", "/数据 满意度 联系人 客服部 @陈助播")
    await h.say("ops", "/数据 满意度 日期 27 10点")
    assert "每月 27 日 10:00" in h.text_of(h.last_reply())
    await h.say("member", "/数据 满意度")
    text = h.text_of(h.last_reply())
    assert "商务部：李主播、赵技术" in text and "客服部：陈助播" in text
    assert dms(h, "streamer") == []
    # Friday 10:00: the cards go out, one each, in a direct message
    await h.advance(20 * HOUR + 1)
    for user in ("streamer", "tech", "member"):
        (card,) = dms(h, user)
        assert "2026-11 合作满意度" in h.text_of(card) and "5 分 · 非常满意" in str(card["content"])
    # the streamer answers with the form (the card is in their direct chat: only they can press it)
    card = dms(h, "streamer")[0]
    await h.press(card["message_id"], "streamer", submit(card), {"rating": "5", "comment": "配合很及时"})
    card = dms(h, "tech")[0]
    await h.press(card["message_id"], "tech", submit(card), {"rating": "4", "comment": ""})
    got = {a.open_id: (a.rating, a.comment, a.dept) for a in await answers(h)}
    assert got == {h.users["streamer"]: (5, "配合很及时", "商务部"), h.users["tech"]: (4, "", "商务部"),
                   h.users["member"]: (None, "", "客服部")}
    # three days later only the one who has not answered is reminded
    await h.advance(3 * DAY)
    assert len(dms(h, "member")) == 2 and "还没收到你的评分" in h.text_of(dms(h, "member")[-1])
    assert len(dms(h, "streamer")) == 1 and len(dms(h, "tech")) == 1
    # /数据 运营: the month's average, response rate and comments against the target
    await h.say("member", "/数据 运营 本月")
    text = h.text_of(h.last_reply())
    assert "**跨部门满意度** 4.5 / 5（目标 ≥ 4.5）✅，回复 2/3（67%）" in text
    assert "商务部 · 5：配合很及时" in text
    # the last one answers low: the average drops below the target
    card = dms(h, "member")[-1]
    await h.press(card["message_id"], "member", submit(card), {"rating": "3", "comment": "排期变动通知太晚"})
    await h.say("member", "/数据 运营 本月")
    text = h.text_of(h.last_reply())
    assert "4.0 / 5（目标 ≥ 4.5）⚠️，回复 3/3（100%）" in text and "客服部 · 3：排期变动通知太晚" in text
    # sending again the same month asks nobody twice
    await h.say("ops", "/数据 满意度 发送")
    assert "0 人" in h.text_of(h.last_reply())
    async with h.db.session() as s:
        assert len((await s.execute(select(Survey))).scalars().all()) == 1


async def test_bad_input_and_a_rating_is_required(harness):
    h = harness
    await h.say("ops", "/数据 满意度 发送")
    assert "还没有设置联系人" in h.text_of(h.last_reply())
    await h.say("ops", "/数据 满意度 日期 31")
    assert "不是有效的日期" in h.text_of(h.last_reply())
    await h.say("ops", "/数据 满意度 联系人 @小王")
    assert "不认识「@小王」" in h.text_of(h.last_reply())
    await h.say("ops", "/数据 满意度 联系人 @李主播")
    await h.say("ops", "/数据 满意度 发送")
    (card,) = dms(h, "streamer")
    await h.press(card["message_id"], "streamer", submit(card), {"comment": "忘了打分"})
    assert (await answers(h))[0].rating is None
    await h.say("member", "/数据 运营")
    assert "回复 0/1" in h.text_of(h.last_reply())


async def test_the_presser_sees_thanks(harness):
    h = harness
    await h.say("ops", "/数据 满意度 联系人 @李主播")
    await h.say("ops", "/数据 满意度 发送")
    (card,) = dms(h, "streamer")
    mine = await h.press(card["message_id"], "streamer", submit(card), {"rating": "5"})
    assert mine["toast"]["type"] == "success" and "谢谢反馈" in h.text_of(h.sim.message(card["message_id"]))

"""End to end: fault reports, the fault group, the SLA ladder on the timer engine, ack,
resolve, summary, statistics and the edges (both databases)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import leads
from tests import helpers
from bot.faults import oncall
from bot.faults.models import Fault
from bot.schedule import service as schedule
from bot.schedule.models import LIVE, StaffMember
from bot.store.db import insert_ignore
from bot.store.models import Chat


async def seed(h, *, rotation: bool = True, live_room3: bool = True) -> None:
    """Rooms 1 and 3, the team's titles, room 3 live now (field control 张场控, tech 赵技术),
    the tech group, 王运营 as the team's ops lead, and a weekly rotation 赵技术 → 孙技术."""
    h.users["tech2"] = h.sim.add_user("孙技术", open_id="ou_tech2")["open_id"]
    h.sim.state.chats[h.chats["tech"]].members.append(h.users["tech2"])
    now = h.clock.now()
    async with h.db.session() as s:
        r1 = await schedule.add_room(s, name="1号直播间", aliases=["1号间", "A1"], now=now)
        r3 = await schedule.add_room(s, name="3号直播间", aliases=["3号间", "A3", "美妆间"], now=now)
        for key, title in (("admin", "运营主管"), ("ops", "场控"), ("tech", "技术"), ("tech2", "技术"),
                           ("streamer", "主播")):
            s.add(StaffMember(open_id=h.users[key], name=h.sim.state.users[h.users[key]].name, titles=[title],
                              added_at=now))
        if live_room3:
            await schedule.add_stream(s, room=r3, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=3),
                                      people={"streamer_id": h.users["streamer"], "field_control_id": h.users["ops"],
                                              "tech_id": h.users["tech"]}, status=LIVE, now=now)
        assert r1.id
        await s.execute(insert_ignore(h.db, Chat, chat_id=h.chats["tech"], name="技术群", chat_type="group",
                                      kind="tech", internal=True, first_seen=now))
        # the team's ops lead (运营主管) gets the escalations (bot.leads), not every ops-role holder
        await leads.set_team_ops_leads(s, [h.users["admin"]], by="test", now=now)
        if rotation:
            await oncall.set_rotation(s, category=oncall.ALL, members=[h.users["tech"], h.users["tech2"]],
                                      starts_on=oncall.monday((now + timedelta(hours=8)).date()), by="test", now=now)


@pytest.fixture
async def team(harness):
    await seed(harness)
    return harness


async def faults(h) -> list[Fault]:
    async with h.db.session() as s:
        return list((await s.execute(select(Fault).order_by(Fault.id))).scalars())


def fault_group(h) -> dict:
    made = [c for c in h.sim.chats() if c["created_by_bot"]]
    assert made, "no fault group was created"
    return made[-1]


def cards_in(h, chat_id: str) -> list[dict]:
    return [m for m in h.sim.messages(chat_id) if m["sender"]["type"] == "app" and m["msg_type"] == "interactive"]


def texts(h, chat_id: str) -> str:
    """Everything the bot said in one chat, as one string."""
    return "\n".join(helpers.texts(h, chat_id))


async def test_p0_report_group_ladder_ack_resolve_summary_stats(team):
    h = team
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    card = h.last_reply()
    text = h.text_of(card)
    assert card["msg_type"] == "interactive"
    assert "#1" in text and "P0" in text and "3号直播间" in text and "判定依据" in text
    assert "正在直播" in text and "备用线路" in text  # live status and the runbook's first step
    group = fault_group(h)
    assert group["name"] == "[P0] 3号直播间 推流中断 #1"
    u = h.users
    assert set(group["members"]) == {u["streamer"], u["tech"], u["ops"], u["admin"]}
    gcard = cards_in(h, group["chat_id"])[0]
    assert gcard["pinned"]
    assert [x["users"] for x in gcard["urgent"]] == [[u["tech"]]]  # T+0: the on-call is buzzed
    assert "请在 10 分钟内" in texts(h, group["chat_id"])

    await h.advance(5 * 60)  # T+5: buzzed again, backup pulled in
    group = fault_group(h)
    assert u["tech2"] in group["members"]
    assert "5 分钟无人认领" in texts(h, group["chat_id"])
    gcard = h.sim.message(gcard["message_id"])
    assert gcard["urgent"][-1]["users"] == [u["tech"], u["tech2"]]

    await h.advance(5 * 60)  # T+10: breach, escalated to the leads
    assert "SLA 已违约" in texts(h, group["chat_id"])
    assert "无人认领，已升级给主管" in texts(h, h.chats["team"])
    (f,) = await faults(h)
    assert f.ack_breached and f.status == "open"
    assert set(h.sim.message(gcard["message_id"])["urgent"][-1]["users"]) >= {u["admin"]}  # the ops lead

    await h.press(gcard["message_id"], "tech", {"a": "fault.ack", "id": 1})
    (f,) = await faults(h)
    assert f.status == "acked" and f.acked_by == u["tech"]
    assert "已认领故障 #1" in texts(h, group["chat_id"])
    assert "已由 <at" in texts(h, h.chats["team"]) or "已由" in texts(h, h.chats["team"])
    buzzes = len(h.sim.message(gcard["message_id"])["urgent"])
    await h.advance(10 * 60)  # acked: no more buzzes, a nudge instead
    assert len(h.sim.message(gcard["message_id"])["urgent"]) == buzzes
    assert "仍未解决" in texts(h, group["chat_id"])

    await h.press(gcard["message_id"], "tech", {"a": "fault.resolve", "id": 1},
                  {"cause": "推流码过期", "fix": "更新推流码后恢复"})
    (f,) = await faults(h)
    assert f.status == "resolved" and f.cause == "推流码过期"
    assert fault_group(h)["name"] == "[已解决] 3号直播间 推流中断 #1"
    summary = h.text_of(h.last_reply())
    assert "故障已解决" in summary and "认领用时" in summary and "解决用时" in summary and "推流码过期" in summary
    assert "时间线" in summary and "认领" in summary
    before = len(h.sim.messages(group["chat_id"]))
    await h.advance(60 * 60)  # everything stopped
    assert len(h.sim.messages(group["chat_id"])) == before

    await h.say("ops", "/故障 统计 本月")
    stats = h.text_of(h.last_reply())
    assert "故障统计" in stats and "MTTA" in stats and "MTTR" in stats and "100%" in stats  # breach rate 1/1
    await h.say("ops", "/故障 #1")
    assert "时间线" in h.text_of(h.last_reply())


async def test_non_fault_mention_gets_help(team):
    await team.say("member", "@LiveOps 今晚几点开播？")
    assert "/帮助" in team.text_of(team.last_reply())
    assert await faults(team) == []


async def test_same_fault_twice_is_merged(team):
    await team.say("streamer", "@LiveOps 3号直播间推流断了")
    await team.say("ops", "@LiveOps 美妆间断流了！")
    assert "已合并" in team.text_of(team.last_reply())
    (f,) = await faults(team)
    assert f.reports == 2
    assert len([c for c in team.sim.chats() if c["created_by_bot"]]) == 1


async def test_ack_right_away_stops_the_ladder_and_second_ack_is_told(team):
    h = team
    await h.say("streamer", "@LiveOps 3号间推流断了")
    card = h.last_reply()
    await h.press(card["message_id"], "tech", {"a": "fault.ack", "id": 1})
    await h.say("ops", "/故障 认领 #1")
    assert "已由" in h.text_of(h.last_reply()) and "认领" in h.text_of(h.last_reply())
    await h.advance(11 * 60)
    group = fault_group(h)
    assert "无人认领" not in texts(h, group["chat_id"])
    (f,) = await faults(h)
    assert not f.ack_breached and f.acked_by == h.users["tech"]


async def test_outsider_button_and_late_ack(team):
    h = team
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    card = h.last_reply()
    answer = await h.press(card["message_id"], "member", {"a": "fault.ack", "id": 1})
    (f,) = await faults(h)
    assert f.status == "open" and not f.acked_by  # refused
    assert "不在故障 #1 的处理人员中" in answer["toast"]["content"]
    await h.say("tech", "/故障 解决 #1 原因 网线松了 处理 重新插好")
    (f,) = await faults(h)
    assert f.status == "resolved" and f.fix == "重新插好" and f.acked_by == h.users["tech"]
    await h.say("ops", "/故障 认领 #1")
    assert "不需要再认领" in h.text_of(h.last_reply())


async def test_p2_goes_to_a_thread_in_the_tech_group(team):
    h = team
    await h.say("member", "@LiveOps 1号直播间补光灯不亮了")
    (f,) = await faults(h)
    assert f.severity == "P2" and f.mode == "thread" and f.group_chat_id == h.chats["tech"]
    tcard = cards_in(h, h.chats["tech"])[0]
    assert "补光灯" in h.text_of(tcard) or "灯光" in h.text_of(tcard)
    assert tcard["urgent"][0]["users"] == [h.users["tech"]]
    replies = [m for m in h.sim.messages(h.chats["tech"]) if m["parent_id"] == tcard["message_id"]]
    assert replies, "the call to the on-call goes into the card's thread"
    assert not [c for c in h.sim.chats() if c["created_by_bot"]]


async def test_group_creation_fails_falls_back(team):
    h = team
    h.sim.faults.add("permanent", path_contains="/open-apis/im/v1/chats")
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    (f,) = await faults(h)
    assert f.mode == "fallback"
    assert "无法为故障 #1 创建故障群" in texts(h, h.chats["team"])
    card = cards_in(h, h.chats["team"])[0]
    assert card["urgent"] and card["urgent"][0]["users"] == [h.users["tech"]]


async def test_unknown_room_nobody_on_call(harness):
    h = harness
    await seed(h, rotation=False, live_room3=False)
    await h.say("member", "@LiveOps 推流断了，快看看")
    (f,) = await faults(h)
    assert f.room_id is None and f.oncall_ids == []
    text = h.text_of(h.bot_messages()[0])
    assert "未识别直播间" in text and "当前无人值班" in text
    group = fault_group(h)
    assert "没有人值班" in texts(h, group["chat_id"])


async def test_oncall_reporter_pulls_in_backup_and_change(team):
    h = team
    await h.say("tech", "@LiveOps 3号间直播伴侣卡死了")
    (f,) = await faults(h)
    assert f.category == "encoder" and f.severity == "P0"  # P1, raised: the room is live
    group = fault_group(h)
    assert h.users["tech2"] in group["members"]
    assert "报告人就是值班技术" in texts(h, group["chat_id"])
    await h.say("tech", "/故障 改 #1 类别 网络 级别 P1")
    (f,) = await faults(h)
    assert f.category == "network" and f.severity == "P1"
    assert fault_group(h)["name"] == "[P1] 3号直播间 网络卡顿 #1"


async def test_oncall_command(team):
    h = team
    await h.say("member", "/值班")
    text = h.text_of(h.last_reply())
    assert "赵技术" in text and "孙技术" in text
    await h.say("ops", "/值班 替班 明天 @孙技术 替 @赵技术")
    assert "孙技术" in h.text_of(h.last_reply())
    await h.advance(24 * 3600)
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    (f,) = await faults(h)
    assert f.oncall_ids == [h.users["tech2"]]

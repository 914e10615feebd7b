"""Who may see and do what (bot.access): the leaks an attacker found, one test each, run through
the real router, against the simulator or on the seam (tests/seam.py). The generated matrix is
tests/test_permission_matrix.py."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.faults.models import Fault
from bot.reviews.models import ReviewItem
from bot.schedule.models import Stream
from bot.tasks.models import Task
from tests.test_schedule_service import seed_team

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


async def dm(h, who: str) -> str:
    return h.p2p_chat(who)["chat_id"]


async def said(h, who: str, text: str, chat: str) -> str:
    before = len(h.bot_messages(chat))
    await h.say(who, text, chat=chat)
    answers = [h.text_of(m) for m in h.bot_messages(chat)[before:]]
    return "\n".join(answers)


async def team_records(h) -> None:
    """A stream (#1, 李主播 / 张场控), a task (#1, 赵技术), a fault (#1), a review with an
    improvement item, a comment alert (#1), an emergency (#1) and a hand-over (#1, 陈助播), all
    made in the team group."""
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    await h.say("ops", "/排期 添加 1号直播间 明天 19:00-23:00 主播 @李主播 场控 @张场控 目标 50万")
    await h.say("ops", "/任务 新建 检查补光灯 @赵技术 周五前")
    await h.say("member", "@LiveOps 2号直播间补光灯不亮了")
    await h.say("ops", "/复盘 改进：优化脚本时长")
    await h.say("member", "/舆情 1号直播间 评论区有人带节奏")
    await h.say("ops", "/应急 报告 违规 1号直播间 收到违规警告")
    await h.say("ops", "/人员 离职 @陈助播 12月10日")


async def test_an_outsider_in_a_direct_chat_gets_help_and_fault_reports_only(harness):
    h = harness
    await team_records(h)
    chat = await dm(h, "outsider")
    for text in ("/任务 #1", "/任务 查看 1", "/故障 #1", "/复盘 #1", "/值班", "/人员 列表", "/排期 本周",
                 "/数据 本周", "/提醒 明天 9点 开会", "/任务 本群"):
        answer = await said(h, "outsider", text, chat)
        assert "只能帮你" in answer, (text, answer)
        assert "检查补光灯" not in answer and "花西子" not in answer
    assert "查看帮助" in await said(h, "outsider", "/帮助", chat) or "命令" in await said(h, "outsider", "/帮助", chat)
    assert "路人甲" in await said(h, "outsider", "/我是谁", chat)
    assert "在" in await said(h, "outsider", "/在吗", chat)
    # a fault report is open to everyone: it opens a ticket
    await h.say("outsider", "@LiveOps 3号直播间推流断了", chat=chat)
    async with h.db.session() as s:
        reported = (await s.execute(select(Fault).where(Fault.reporter_id == h.users["outsider"]))).scalars().all()
    assert len(reported) == 1


async def test_nobody_outside_a_record_reads_or_changes_it_from_elsewhere(harness):
    h = harness
    await team_records(h)
    # the tech group's members who are not in the team group … every harness member is in the
    # team group, so a new person joins a group of their own with the bot and gets a role-less view
    h.users["stranger"] = h.sim.add_user("陌生人", open_id="ou_stranger")["open_id"]
    other = h.sim.add_chat("闲聊群", [h.users["stranger"], h.users["outsider"]], chat_id="oc_other")["chat_id"]
    for text in ("/任务 完成 1", "/任务 评论 1 我来了", "/复盘 任务 1 @路人甲 周五前", "/复盘 完成", "/开播 #1",
                 "/下播 #1", "/故障 认领 #1"):
        answer = await said(h, "stranger", text, other)
        assert "只能帮你" in answer, (text, answer)
    async with h.db.session() as s:
        task = await s.get(Task, 1)
        stream = await s.get(Stream, 1)
        items = (await s.execute(select(ReviewItem))).scalars().all()
    assert task.status != "done" and stream.status != "live" and all(i.task_id is None for i in items)


async def test_a_member_sees_team_records_from_elsewhere_but_only_the_streams_people_go_live(seam):
    h = seam
    await team_records(h)
    chat = await dm(h, "member")
    assert "检查补光灯" in await said(h, "member", "/任务 #1", chat)  # a member of the owning group
    answer = await said(h, "member", "/开播 #1", chat)  # not the stream's streamer, 场控 or ops
    assert "找不到场次 #1，或者它属于别的群、你无权查看" in answer
    async with h.db.session() as s:
        assert (await s.get(Stream, 1)).status != "live"
    # the streamer may, and far from the scheduled start is asked first
    answer = await said(h, "streamer", "/开播 #1", "team")
    assert "确认现在开播" in answer


async def test_someone_elses_number_and_a_number_too_big_are_refused_kindly(seam):
    h = seam
    await team_records(h)
    for text in ("/复盘 任务 99999999999999999999", "/任务 完成 99999999999999999999",
                 "/故障 认领 #99999999999999999999", "/提醒 取消 99999999999999999999"):
        answer = await said(h, "ops", text, "team")
        assert "参考编号" not in answer and answer, (text, answer)


async def test_help_shows_each_verb_with_its_role_and_did_you_mean_covers_verbs(seam):
    h = seam
    answer = await said(h, "member", "/帮助 排期", "team")
    assert "/排期 添加" in answer and "需要运营" in answer and "/排期 今天|本周" in answer
    answer = await said(h, "ops", "/排期添加", "team")
    assert "/排期 添加" in answer  # did you mean: the verb, not only the command


async def test_an_at_mention_is_a_command_only_when_its_arguments_parse_as_one(seam):
    """"@LiveOps room 2 stream just went down" is a fault report, not /room; "live stream in
    room 2 is lagging" does not mark a stream live; "check the mic in room 1, no sound" is a
    fault, not a compliance check (issue 15)."""
    h = seam
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    await h.say("ops", "/排期 添加 2号直播间 今天 14:10-18:00 主播 @李主播 场控 @张场控")
    for text, _category in (("@LiveOps room 2 stream just went down", "stream"),
                           ("@LiveOps live stream in room 2 is lagging", "network"),
                           ("@LiveOps check the mic in room 1, no sound", "audio")):
        answer = await said(h, "member", text, "team")
        assert "用法" not in answer and "Usage" not in answer and "通过" not in answer, (text, answer)
    async with h.db.session() as s:
        faults = (await s.execute(select(Fault).order_by(Fault.id))).scalars().all()
        stream = (await s.execute(select(Stream))).scalars().one()
    assert len(faults) >= 2 and stream.status != "live"
    # written as a command, it still is one
    assert "1号直播间" in await said(h, "member", "@LiveOps room list", "team")


async def test_comment_alerts_emergencies_and_hand_overs_belong_to_their_group(harness):
    """The issue-19 records are scoped like the others: a stranger elsewhere cannot press their
    buttons; a member of the owning group can, from a direct chat too."""
    from bot.norms.more_models import CommentAlert, Departure, Emergency

    h = harness
    await team_records(h)
    h.users["stranger"] = h.sim.add_user("陌生人", open_id="ou_stranger")["open_id"]
    other = h.sim.add_chat("闲聊群", [h.users["stranger"]], chat_id="oc_other")["chat_id"]
    await h.say("stranger", "/帮助", chat=other)
    card = h.bot_messages(other)[-1]["message_id"]
    for value in ({"a": "sentiment.handled", "id": 1}, {"a": "emergency.resolve", "id": 1, "o": "rescue"},
                  {"a": "departure.check", "id": 1, "i": 0}):
        answer = await h.sim.press_button(card, h.users["stranger"], value, check=False)
        await h.settle()
        assert answer.get("toast", {}).get("type") == "error", value
    async with h.db.session() as s:
        assert (await s.get(CommentAlert, 1)).status == "open"
        assert (await s.get(Emergency, 1)).status == "open"
        assert not (await s.get(Departure, 1)).checklist[0]["done"]
    chat = await dm(h, "member")
    await h.say("member", "/帮助", chat=chat)
    card = h.bot_messages(chat)[-1]["message_id"]
    await h.sim.press_button(card, h.users["member"], {"a": "sentiment.handled", "id": 1}, check=False)
    await h.settle()
    async with h.db.session() as s:
        assert (await s.get(CommentAlert, 1)).status == "handled"

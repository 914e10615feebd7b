"""End to end: /排期, /直播间 and /人员 through the simulator, on SQLite and PostgreSQL.

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai. The team in the harness: 王运营
(admin), 张场控 (ops), 赵技术 (tech), 李主播 (streamer), 陈助播 (member); 周主播 and 刘中控
are on the team list but not in the simulator, so they are found by name only.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.schedule.models import CANCELLED, CONFIRMED, Room, Stream
from tests.test_schedule_service import local, seed_team

SAMPLE = Path(__file__).parent / "data" / "schedule_week.csv"
ADD = "/排期 添加 1号直播间 明天 19:00-23:00 主播 @李主播 场控 @张场控 品牌 花西子 主题 双12预热 目标 50万"


@pytest.fixture
async def team(harness):
    async with harness.db.session() as s:
        await seed_team(s, harness.clock.now())
    return harness


async def streams(h) -> list[Stream]:
    async with h.db.session() as s:
        return list((await s.execute(select(Stream).order_by(Stream.id))).scalars())


def file_of(h, message: dict) -> tuple[str, bytes]:
    resource = h.sim.state.resources[message["content"]["file_key"]]
    return resource.name, resource.data


async def test_add_list_and_details(team):
    h = team
    await h.say("ops", ADD)
    reply = h.last_reply()
    text = h.text_of(reply)
    assert reply["msg_type"] == "interactive"
    assert "新增场次 #1 · 1号直播间" in text and "11-27 周五 19:00–23:00" in text
    assert "主播：李主播" in text and "场控：张场控" in text
    assert "目标GMV：🔒 仅内部群可见" in text and "50万" not in text  # a sales figure; the group is not internal
    assert "<at id=ou_streamer></at>" in text and "<at id=ou_ops>" not in text  # not the one who did it
    (s,) = await streams(h)
    assert (s.starts_at, s.ends_at) == (local(2026, 11, 27, 19), local(2026, 11, 27, 23))
    assert (s.streamer_id, s.field_control_id, s.brand, s.theme, s.target_gmv, s.chat_id, s.created_by) == (
        "ou_streamer", "ou_ops", "花西子", "双12预热", 500_000, "oc_team", "ou_ops")
    # everyone may look
    await h.say("member", "/排期 本周")
    week = h.text_of(h.last_reply())
    assert "11-27 周五" in week and "#1 1号直播间 · 李主播 · 花西子 · ⏳待确认" in week and "Asia/Shanghai" in week
    await h.say("member", "/排期 本周 @李主播")
    assert "#1 1号直播间" in h.text_of(h.last_reply())
    await h.say("member", "/排期 本周 2号间")
    assert "这段时间没有场次" in h.text_of(h.last_reply())
    await h.say("member", "/排期 明天")
    assert "#1 1号直播间" in h.text_of(h.last_reply())
    await h.say("member", "/排期 本月")
    assert "2026年11月" in h.text_of(h.last_reply())
    await h.say("member", "/排期 #1")
    detail = h.last_reply()
    assert "场次 #1 · 1号直播间" in h.text_of(detail) and "确认场次" not in str(detail["content"])  # member: no button
    # an ops person confirms with the detail card's button
    await h.say("ops", "/排期 #1")
    detail = h.last_reply()
    assert "确认场次" in str(detail["content"])
    await h.press(detail["message_id"], "ops", {"a": "schedule.confirm", "id": 1})
    assert (await streams(h))[0].status == CONFIRMED
    assert "场次已确认 #1" in h.text_of(h.last_reply())


async def test_edit_announces_changes_to_the_team_group(team):
    h = team
    await h.say("ops", ADD)
    # the admin changes it from the tech group: the team group hears about it too
    await h.say("admin", "/排期 修改 #1 开始 20:00 主播 @周主播", chat="tech")
    here = h.text_of(h.last_reply("tech"))
    assert "场次变更 #1" in here
    assert "开始：11-27 19:00 → **11-27 20:00**" in here and "主播：李主播 → **周主播**" in here
    assert "<at id=ou_streamer></at>" in here and "<at id=ou_zhou></at>" in here  # old and new streamer
    assert "操作人：王运营" in here
    assert h.text_of(h.last_reply("team")) == here
    (s,) = await streams(h)
    assert (s.starts_at, s.ends_at, s.streamer_id) == (local(2026, 11, 27, 20), local(2026, 11, 27, 23), "ou_zhou")
    await h.say("ops", "/数据 内部群 开")  # sales figures (目标GMV) may be shown here from now on
    await h.say("ops", "/排期 修改 #1 时间 21:00-02:00 目标 80万 场控 无")
    text = h.text_of(h.last_reply())
    assert "结束：11-27 23:00 → **11-28 02:00**" in text and "目标GMV：50万 → **80万**" in text
    assert "场控：张场控 → **-**" in text
    await h.say("ops", "/排期 修改 #1 目标 80万")
    assert "没有变化" in h.text_of(h.last_reply())
    await h.say("ops", "/排期 修改 #1 直播间 2号间 日期 12月1日")
    text = h.text_of(h.last_reply())
    assert "场次变更 #1 · 2号直播间" in text and "直播间：1号直播间 → **2号直播间**" in text
    assert "开始：11-27 21:00 → **12-01 21:00**" in text
    await h.say("ops", "/排期 确认 #1")
    assert "场次已确认 #1 · 2号直播间" in h.text_of(h.last_reply())
    await h.say("ops", "/排期 确认 #1")
    assert "已经确认过了" in h.text_of(h.last_reply())


async def test_cancel_hides_the_stream(team):
    h = team
    await h.say("ops", ADD)
    await h.say("ops", "/排期 取消 #1 原因 主播临时请假")
    text = h.text_of(h.last_reply())
    assert "场次取消 #1" in text and "取消原因：主播临时请假" in text and "<at id=ou_streamer></at>" in text
    assert (await streams(h))[0].status == CANCELLED
    await h.say("member", "/排期 本周")
    assert "#1" not in h.text_of(h.last_reply())
    await h.say("member", "/排期 本周 全部")
    assert "~~" in h.text_of(h.last_reply()) and "#1" in h.text_of(h.last_reply())
    await h.say("ops", "/排期 修改 #1 开始 20:00")
    assert "已取消，不能再修改" in h.text_of(h.last_reply())
    # the slot is free again
    await h.say("ops", "/排期 添加 1号间 明天 19:00-23:00 主播 @李主播")
    assert "新增场次 #2" in h.text_of(h.last_reply())


async def test_import_by_uploading_the_booking_sheet(team):
    h = team
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "第49周排期.csv", SAMPLE.read_bytes())
    await h.settle()
    text = h.text_of(h.last_reply())
    assert "排期导入完成" in text and "新增 **8** 场" in text and "已忽略的列：星期" in text
    assert len(await streams(h)) == 8
    # the same sheet again does not duplicate
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "第49周排期.csv", SAMPLE.read_bytes())
    await h.settle()
    assert "新增 **0** 场，更新 **0** 场，无变化 8 场" in h.text_of(h.last_reply())
    assert len(await streams(h)) == 8
    await h.say("member", "/排期 下周")
    week = h.text_of(h.last_reply())
    assert "12-05 周六" in week and "22:00–02:00(+1)" in week and "共 8 场" in week
    # a member's upload named like a schedule is refused before it is downloaded; a member's
    # other file is not answered at all; a file that is not a booking sheet is left alone
    before = len(h.bot_messages())
    downloads = len(h.sim.requests("/resources/"))
    await h.sim.upload_file(h.chats["team"], h.users["member"], "排期.csv", SAMPLE.read_bytes())
    await h.settle()
    assert "「导入排期」需要运营权限" in h.text_of(h.last_reply())
    await h.sim.upload_file(h.chats["team"], h.users["member"], "周报.csv", SAMPLE.read_bytes())
    await h.settle()
    assert len(h.bot_messages()) == before + 1
    assert len(h.sim.requests("/resources/")) == downloads
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "商品.csv", "商品,价格\n口红,99\n".encode())
    await h.settle()
    assert len(h.bot_messages()) == before + 1


async def test_pasted_import_is_all_or_nothing(team):
    h = team
    table = ("日期\t时间\t直播间\t主播\t目标GMV\n"
             "11/30\t19:00-23:00\t1号直播间\t李主播\t50万\n"
             "12/01\t19:00-23:00\t5号直播间\t李主播\t50万\n"
             "12/02\t19:00-23:00\t1号直播间\t小明\t50万")
    await h.say("ops", "/排期 导入\n" + table)
    text = h.text_of(h.last_reply())
    assert "未导入任何数据" in text and "第 3 行：没有直播间「5号直播间」" in text and "第 4 行" in text
    assert await streams(h) == []
    await h.say("ops", "/排期 导入\n" + table.rsplit("\n", 2)[0])
    assert "新增 **1** 场" in h.text_of(h.last_reply())


async def test_export_sends_files(team):
    h = team
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "排期.csv", SAMPLE.read_bytes())
    await h.settle()
    await h.say("member", "/排期 导出 下周 csv")
    msgs = h.bot_messages()
    file_msg = next(m for m in reversed(msgs) if m["msg_type"] == "file")
    name, data = file_of(h, file_msg)
    assert name == "排期_20261130-20261206.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 9 and rows[1][1:6] == ["2026-11-30", "14:00", "18:00", "2号直播间", "周主播"]
    assert "已导出 11-30 ~ 12-06 的 8 个场次（CSV）" in h.text_of(h.last_reply())
    await h.say("member", "/排期 导出 下周 ics")
    file_msg = next(m for m in reversed(h.bot_messages()) if m["msg_type"] == "file")
    name, data = file_of(h, file_msg)
    assert name.endswith(".ics") and data.count(b"BEGIN:VEVENT") == 8


async def test_permissions_and_bad_input(team):
    h = team
    await h.say("member", ADD)
    assert "需要运营权限" in h.text_of(h.last_reply())
    await h.say("member", "/排期 导入\n日期\t时间\t直播间")
    assert "需要运营权限" in h.text_of(h.last_reply())
    cases = [
        ("/排期 添加 9号直播间 明天 19:00-23:00", "没有找到直播间「9号直播间」。现有直播间：1号直播间、2号直播间、3号直播间"),
        ("/排期 添加 1号直播间 明天 19:00-23:00 主播 小明", "不认识「小明」"),
        ("/排期 添加 1号直播间 明天 19:00-23:00 主播 @主播", "「主播」对应多个人：周主播（主播）、李主播（主播）"),
        ("/排期 添加 1号直播间 明天", "时间没看懂"),
        ("/排期 添加 1号直播间 明天 19:00-19:00", "超过了单场上限 12 小时"),
        ("/排期 添加 1号直播间 今天 09:00-12:00", "这个时间段已经过去了"),
        ("/排期 添加 1号直播间 明天 19:00-23:00 目标 很多", "目标金额「很多」没看懂"),
        ("/排期 #99", "没有找到场次 #99"),
        ("/排期 乱写", "不是时间段也不是直播间"),
    ]
    for command, expected in cases:
        await h.say("ops", command)
        assert expected in h.text_of(h.last_reply()), command
    await h.say("ops", "/排期 修改")
    assert "用法" in h.text_of(h.last_reply())
    # conflicts: the room, then the streamer
    await h.say("ops", ADD)
    await h.say("ops", "/排期 添加 1号间 明天 22:00-01:00 主播 @周主播")
    assert "时间冲突：1号直播间 在 11-27 19:00–23:00 已有场次 #1" in h.text_of(h.last_reply())
    await h.say("ops", "/排期 添加 2号间 明天 20:00-22:00 主播 @李主播")
    assert "时间冲突：李主播 在 11-27 19:00–23:00 已排在 1号直播间 的场次 #1" in h.text_of(h.last_reply())
    # across midnight and on a holiday are fine
    await h.say("ops", "/排期 添加 2号间 2027-01-01 22:00-02:00 主播 @周主播")
    assert "新增场次 #2" in h.text_of(h.last_reply()) and "01-01 周五 🎉元旦 22:00–02:00(+1)" in h.text_of(h.last_reply())
    assert len(await streams(h)) == 2


async def test_rooms_command(team):
    h = team
    await h.say("ops", "/直播间 添加 4号直播间 别名 4号间 A4 平台 抖音")
    assert "已添加直播间「4号直播间」，别名：4号间、A4，平台：抖音" in h.text_of(h.last_reply())
    await h.say("ops", "/直播间 添加 5号直播间 别名 A4")
    assert "「A4」已经是直播间「4号直播间」的名称或别名了" in h.text_of(h.last_reply())
    await h.say("ops", "/直播间 修改 A4 场控群 本群 备注 美妆专用")
    assert "已修改直播间「4号直播间」：场控群、备注" in h.text_of(h.last_reply())
    async with h.db.session() as s:
        room = (await s.execute(select(Room).where(Room.name == "4号直播间"))).scalar_one()
    assert room.field_chat_id == "oc_team" and room.notes == "美妆专用"
    await h.say("member", "/直播间 列表")
    text = h.text_of(h.last_reply())
    assert "4号直播间" in text and "别名：4号间、A4" in text and "已绑定场控群" in text
    await h.say("member", "/直播间 添加 6号直播间")
    assert "需要运营权限" in h.text_of(h.last_reply())
    await h.say("admin", "/排期 添加 A4 明天 19:00-23:00 主播 @周主播", chat="tech")
    assert "新增场次 #1 · 4号直播间" in h.text_of(h.last_reply("team"))  # the room's field group hears it
    await h.say("ops", "/直播间 删除 4号直播间")
    assert "还有 1 个未来场次（#1）" in h.text_of(h.last_reply())


async def test_people_command(team):
    h = team
    await h.say("ops", "/人员 添加 @赵技术 值班技术")
    assert "赵技术 已经登记过了：技术" in h.text_of(h.last_reply())
    await h.say("ops", "/人员 添加 @王运营 运营 编导")
    assert "已登记 王运营：运营/编导" in h.text_of(h.last_reply())
    await h.say("ops", "/人员 添加 @王运营 厨师")
    assert "没有「厨师」这个岗位" in h.text_of(h.last_reply())
    await h.say("member", "/人员 列表")
    text = h.text_of(h.last_reply())
    assert "**主播**：周主播、李主播" in text and "**运营**：王运营" in text
    assert text.index("**主播**") < text.index("**场控**") < text.index("**技术**")
    await h.say("member", "/人员 场控")
    assert "张场控" in h.text_of(h.last_reply()) and "李主播" not in h.text_of(h.last_reply())
    await h.say("member", "/人员 移除 @李主播")
    assert "需要运营权限" in h.text_of(h.last_reply())
    await h.say("ops", "/人员 移除 @李主播")
    assert "已把 李主播 移出名单" in h.text_of(h.last_reply())
    # someone the bot has seen, not on the list, is still found by an @mention
    await h.say("ops", "/排期 添加 1号直播间 明天 19:00-23:00 主播 @李主播")
    assert "新增场次 #1" in h.text_of(h.last_reply())


async def test_english_locale(team):
    h = team
    await h.say("admin", "/lang en")
    await h.say("ops", "/schedule add 1号直播间 tomorrow 19:00-23:00 主播 @李主播 target 500000")
    text = h.text_of(h.last_reply())
    assert "New stream #1 · 1号直播间" in text and "Fri 11-27 19:00–23:00" in text and "Target GMV：50万" not in text
    await h.say("member", "/schedule this week")
    assert "Fri 11-27" in h.text_of(h.last_reply()) and "pending" in h.text_of(h.last_reply())
    await h.say("member", "/schedule next week")
    assert "No streams in this period" in h.text_of(h.last_reply())
    await h.say("member", "/schedule export this week ics")
    assert "Exported 1 stream(s) from 11-23 to 11-29 (ICS)" in h.text_of(h.last_reply())
    async with h.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Stream))).scalar() == 1

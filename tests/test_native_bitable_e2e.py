"""Schedules from the team's Bitable, end to end: bind, preview, confirm, re-read on the timer,
change notices, rows that cannot be read reported once, write-back (the real bot, the strict
simulator's bitable/v1 routes, both databases, the injected clock).

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import helpers
from bot.bitable.models import BitableBinding
from bot.schedule.models import CANCELLED, CONFIRMED, Stream
from bot.sim.bitable import DATE, FORMULA, NUMBER, PERSON, SINGLE, TEXT, user_edit
from tests.test_schedule_service import local, seed_team

MINUTE = 60
COLUMNS = [("日期", DATE), ("开始", TEXT), ("结束", TEXT), ("直播间", SINGLE), ("主播", PERSON), ("场控", TEXT),
           ("品牌", TEXT), ("目标GMV", NUMBER), ("状态", SINGLE), ("直播状态", SINGLE), ("备注", FORMULA)]


def ms(dt) -> int:
    return int(dt.timestamp() * 1000)


@pytest.fixture
async def team(harness):
    h = harness
    h.sim.scopes.add("bitable:app")  # the optional scope docs/feishu-native.md asks for
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    base = h.sim.bitable.add_base("直播排期表", app_token="bascnTeamSchedule01")
    table = h.sim.bitable.add_table(base.app_token, "排期", COLUMNS, table_id="tblSchedule0001")
    h.base, h.table = base.app_token, table.table_id
    h.link = f"https://team.feishu.cn/base/{h.base}?table={h.table}&view=vewAll"
    h.rec = {}
    h.rec["r1"] = edit(h, None, {"日期": ms(local(2026, 11, 27, 0)), "开始": "19:00", "结束": "23:00",
                                 "直播间": "1号直播间", "主播": [{"id": h.users["streamer"]}], "场控": "张场控",
                                 "品牌": "花西子", "目标GMV": 500000, "状态": "已确认", "formula:备注": "正常"})
    h.rec["r2"] = edit(h, None, {"日期": ms(local(2026, 11, 28, 0)), "开始": "14:00", "结束": "18:00",
                                 "直播间": "2号直播间", "主播": [{"id": h.users["streamer"]}], "品牌": "珀莱雅"})
    h.rec["r3"] = edit(h, None, {"日期": ms(local(2026, 11, 29, 0)), "开始": "10:00", "结束": "12:00",
                                 "直播间": "9号直播间", "品牌": "蕉下"})
    return h


def edit(h, record_id, values) -> str:
    return user_edit(h.sim, h.base, h.table, record_id, values)["record_id"]


async def streams(h) -> list[Stream]:
    async with h.db.session() as s:
        return list((await s.execute(select(Stream).order_by(Stream.id))).scalars())


def buttons(message: dict) -> list[dict]:
    return [b["behaviors"][0]["value"] for b in helpers.buttons(message)]


async def bind(h) -> dict:
    # a stream typed in the bot that the table also has (room and start): the table changes it
    await h.say("ops", "/排期 添加 2号直播间 11月28日 14:00-18:00 主播 @李主播 品牌 自然堂")
    await h.say("ops", f"/排期 绑定 多维表格 {h.link}")
    return h.last_reply()


async def test_bind_preview_confirm_and_follow_the_table(team):
    h = team
    preview = await bind(h)
    text = h.text_of(preview)
    assert "多维表格排期预览" in text
    assert "新增 **1** 场，修改 **1** 场，取消 **0** 场" in text and "**1** 行读不了" in text
    assert "- 1号直播间 11-27 19:00–23:00" in text  # what confirming would add (a dry run)
    assert "#1 2号直播间 11-28 14:00–18:00" in text  # what it would change
    assert "第 3 行（11-29 9号直播间）：没有直播间「9号直播间」" in text
    assert len(await streams(h)) == 1 and (await streams(h))[0].brand == "自然堂"  # nothing changed yet
    confirm = next(b for b in buttons(preview) if b["a"] == "bitable.confirm")
    await h.press(preview["message_id"], "member", confirm)  # members may not
    assert len(await streams(h)) == 1
    await h.press(preview["message_id"], "ops", confirm)
    rows = await streams(h)
    assert [(s.room_id, s.brand, s.source) for s in rows] == [(2, "珀莱雅", "chat"), (1, "花西子", "bitable")]
    added = rows[1]
    assert (added.starts_at, added.ends_at, added.streamer_id, added.field_control_id, added.target_gmv,
            added.status) == (local(2026, 11, 27, 19), local(2026, 11, 27, 23), h.users["streamer"], h.users["ops"],
                              500000, CONFIRMED)

    # someone moves a stream in the table: at the next read the change card goes out like a typed edit
    before = len(h.bot_messages())
    edit(h, h.rec["r1"], {"开始": "20:00"})
    await h.advance(10 * MINUTE + 1)
    new = [h.text_of(m) for m in h.bot_messages()[before:]]
    assert len(new) == 1 and f"场次变更 #{added.id}" in new[0] and "操作人：多维表格" in new[0] and "20:00" in new[0]
    assert (await streams(h))[1].starts_at == local(2026, 11, 27, 20)
    # the unreadable row is not reported again at every read
    await h.advance(10 * MINUTE)
    assert len(h.bot_messages()) == before + 1
    # a different problem with it is reported, once
    edit(h, h.rec["r3"], {"直播间": "3号直播间", "开始": "25:00"})
    await h.advance(10 * MINUTE)
    assert "第 3 行（11-29 3号直播间）：时间「25:00-12:00」看不懂" in h.text_of(h.last_reply())
    count = len(h.bot_messages())
    await h.advance(10 * MINUTE)
    assert len(h.bot_messages()) == count
    # fixed in the table: the stream appears, announced
    edit(h, h.rec["r3"], {"开始": "10:00"})
    await h.advance(10 * MINUTE)
    assert f"新增场次 #{(await streams(h))[-1].id} · 3号直播间" in h.text_of(h.last_reply())
    # a row deleted from the table cancels its stream
    user_edit(h.sim, h.base, h.table, h.rec["r2"], {}, delete=True)
    await h.advance(10 * MINUTE)
    assert (await streams(h))[0].status == CANCELLED
    assert "多维表格里删除了这一行" in h.text_of(h.last_reply())
    # an edit made in the bot is not undone by the table (its row did not change)
    await h.say("ops", f"/排期 修改 #{added.id} 品牌 完美日记")
    await h.advance(10 * MINUTE)
    assert (await streams(h))[1].brand == "完美日记"


async def test_conflicts_follow_the_typed_rules(team):
    h = team
    preview = await bind(h)
    await h.press(preview["message_id"], "ops", next(b for b in buttons(preview) if b["a"] == "bitable.confirm"))
    # the table puts the streamer in two rooms at once: refused like a typed edit, reported once
    edit(h, h.rec["r2"], {"日期": ms(local(2026, 11, 27, 0)), "开始": "20:00", "结束": "22:00"})
    await h.advance(10 * MINUTE + 1)
    text = h.text_of(h.last_reply())
    added = (await streams(h))[1]
    assert f"第 2 行（11-27 2号直播间）：时间冲突：李主播 在 11-27 19:00–23:00 已排在 1号直播间 的场次 #{added.id}" in text
    assert (await streams(h))[0].starts_at == local(2026, 11, 28, 14)  # unchanged


async def test_a_non_ops_member_cannot_bind_and_nothing_is_read(team):
    h = team
    await h.say("member", f"/排期 绑定 多维表格 {h.link}")
    assert "「/排期 绑定」需要运营权限" in h.text_of(h.last_reply())
    assert not h.sim.requests("/bitable/v1/")
    async with h.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(BitableBinding))).scalar() == 0


async def test_links_permissions_and_the_collaborator(team):
    h = team
    await h.say("ops", "/排期 绑定 多维表格 https://team.feishu.cn/docx/abc")
    assert "不是多维表格的链接" in h.text_of(h.last_reply())
    await h.say("ops", f"/排期 绑定 多维表格 https://team.feishu.cn/base/{h.base}")
    assert "链接里没有数据表" in h.text_of(h.last_reply())
    h.sim.bitable.bases[h.base].app_is_collaborator = False
    await h.say("ops", f"/排期 绑定 多维表格 {h.link}")
    assert "添加文档应用" in h.text_of(h.last_reply()) and "91403" in h.text_of(h.last_reply())
    h.sim.bitable.bases[h.base].app_is_collaborator = True
    h.sim.scopes.discard("bitable:app")
    await h.say("ops", f"/排期 绑定 多维表格 {h.link}")
    assert "bitable:app" in h.text_of(h.last_reply()) and "99991672" in h.text_of(h.last_reply())
    async with h.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(BitableBinding))).scalar() == 0


async def test_write_back_status_and_figures_minding_sales_visibility(team):
    h = team
    preview = await bind(h)
    await h.press(preview["message_id"], "ops", next(b for b in buttons(preview) if b["a"] == "bitable.confirm"))
    await h.say("ops", "/排期 多维表格 写回 GMV=目标GMV")
    assert "只能写回内部群" in h.text_of(h.last_reply())
    await h.say("ops", "/排期 多维表格 写回 状态=直播状态")
    assert "写回：状态 → 直播状态" in h.text_of(h.last_reply())
    await h.say("ops", "/排期 多维表格 同步")
    assert "已同步多维表格" in h.text_of(h.last_reply())
    table = h.sim.bitable.table(h.base, h.table)
    assert table.records[h.rec["r1"]]["直播状态"] == "已确认"
    assert table.records[h.rec["r2"]]["直播状态"] == "待确认"
    writes = len(h.sim.requests("/records/"))
    await h.say("ops", "/排期 多维表格 同步")
    assert len(h.sim.requests("/records/")) == writes  # nothing differs: nothing written
    await h.say("member", "/排期 多维表格")
    assert "同步中" in h.text_of(h.last_reply()) and h.link in h.text_of(h.last_reply())


async def test_the_press_is_answered_with_the_result_card(team):
    h = team
    preview = await bind(h)
    confirm = next(b for b in buttons(preview) if b["a"] == "bitable.confirm")
    refused = await h.press(preview["message_id"], "member", confirm)
    assert refused["toast"]["type"] == "error"
    answer = await h.press(preview["message_id"], "ops", confirm)
    assert answer["toast"]["type"] == "success"
    assert "已绑定多维表格" in h.text_of(h.sim.message(preview["message_id"]))

"""Stream data end to end: manual figures, uploads (summary matched by room and time, a
trend asked about with buttons), KPIs against targets, masking outside internal groups,
exports with an audit row, and the daily briefing fan-out for a subscribed group."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.data.models import BriefingSend, DataAudit, StreamFigures, TrendPoint
from bot.norms.models import Checkpoint
from bot.schedule.models import ENDED, Room, Stream
from tests.helpers import nodes
from tests.test_schedule_service import local, seed_team

SUMMARY = ("直播间数据 2026-11-26\n"
           "直播间,开播时间,成交金额（元）,累计观看人数,观看人次,成交人数,成交件数,人均观看时长,新增粉丝数,直播间曝光次数（新）\n"
           "1号直播间,2026-11-26 08:00,12.5万,4万,6万,800,1500,1分40秒,400,88万\n").encode("utf-8")
TREND = ("时间,在线人数,进入人数,离开人数\n"
         + "".join(f"{9 + m // 60:02d}:{m % 60:02d},{300 + m},{50},{40}\n" for m in range(0, 240))).encode("utf-8")


@pytest.fixture
async def data(harness):
    async with harness.db.session() as s:
        rooms = await seed_team(s, harness.clock.now())
        for room, start, end, target in ((1, 8, 12, 150_000), (2, 9, 13, None)):
            s.add(Stream(room_id=rooms[room].id, starts_at=local(2026, 11, 26, start), ends_at=local(2026, 11, 26, end),
                         streamer_id="ou_streamer", target_gmv=target, status=ENDED, chat_id=harness.chats["team"],
                         actual_start=local(2026, 11, 26, start), actual_end=local(2026, 11, 26, end),
                         created_at=harness.clock.now(), updated_at=harness.clock.now()))
            await s.flush()
            s.add(Checkpoint(stream_id=room, kind="export", due_at=local(2026, 11, 26, end + 1),
                             chat_id=harness.chats["team"]))
        await s.commit()
    return harness


def raw(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


async def figures(h, stream_id: int) -> dict:
    async with h.db.session() as s:
        row = (await s.execute(select(StreamFigures).where(StreamFigures.stream_id == stream_id))).scalar_one_or_none()
        return dict(row.values) if row else {}


async def test_manual_figures_kpis_targets_and_masking(data):
    h = data
    await h.say("ops", "/数据 录入 #1 GMV 12万 UV 4万 PV 6万 成交人数 800 件数 1500 涨粉 400 停留 100秒")
    text = h.text_of(h.last_reply())
    # the worked example of the domain notes: UV价值 3.00, GPM 2000 (PV) / 3000 (UV), 客单价 150
    assert "#1 直播数据" in text and "观看-成交转化率" in text and "2.00%" in text and "❌ 未达标" in text
    assert "1分40秒" in text and "✅ 达标" in text
    # not an internal group: no sales amounts, only achievement (12万 of 15万 = 80%)
    assert "达成 80%" in text and "¥12万" not in text and "**UV价值**" not in text and "🔒" in text
    assert "GPM" not in text and "UV价值" not in text  # not even in the formulas note
    await h.say("ops", "/数据 内部群 开")
    assert "标记为内部群" in h.text_of(h.last_reply())
    await h.say("member", "/数据 #1")
    text = h.text_of(h.last_reply())
    assert "¥12万" in text and "UV价值" in text and "¥3.00" in text and "¥2,000.00" in text and "¥150.00" in text
    assert "GPM=GMV×1000÷PV" in text
    # a team target for conversion: 2% is met against 1.5%
    await h.say("ops", "/数据 目标 转化率 1.5%")
    assert "已设置团队的「观看-成交转化率」目标" in h.text_of(h.last_reply())
    await h.say("member", "/数据 #1")
    assert "目标 ≥ 1.5%" in h.text_of(h.last_reply())
    async with h.db.session() as s:
        actions = [a for (a,) in (await s.execute(select(DataAudit.action).order_by(DataAudit.id))).all()]
    assert actions == ["manual", "internal", "target"]


async def test_bad_input_changes_nothing(data):
    h = data
    for text, expect in (("/数据 录入 #1 GMV abc", "看不懂"), ("/数据 录入 #99 GMV 1", "找不到场次 #99"),
                         ("/数据 录入 #1 GMV", "成对填写"), ("/数据 录入 #1 心情 好", "不认识的指标"),
                         ("/数据 录入 #1 UV 10 成交人数 20", "不能大于场观"), ("/数据 目标 转化率 abc", "看不懂"),
                         ("/数据 本年", "看不懂")):
        await h.say("ops", text)
        assert expect in h.text_of(h.last_reply()), text
        assert "Traceback" not in h.text_of(h.last_reply())
    await h.say("member", "/数据 录入 #1 GMV 1万")
    assert "权限" in h.text_of(h.last_reply())
    assert await figures(h, 1) == {}
    # a zero denominator is a reason, not a crash or a made-up number
    await h.say("ops", "/数据 录入 #1 GMV 0 UV 0 成交人数 0")
    assert "场观（UV）为 0，无法计算" in h.text_of(h.last_reply())


async def test_personal_data_is_masked_in_replies(data):
    h = data
    await h.say("ops", "/数据 录入 #1 13812345678 5")
    text = h.text_of(h.last_reply())
    assert "138＊＊＊＊5678" in text and "13812345678" not in text


async def test_upload_trend_then_summary(data):
    h = data
    # a trend with times only: two streams ended recently, so the bot asks which one
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "分钟趋势.csv", TREND)
    await h.settle()
    ask = h.last_reply()
    assert "这份数据是哪一场的" in h.text_of(ask)
    buttons = [b for b in nodes(ask, json_strings=True) if b.get("tag") == "button"]
    pick = next(b for b in buttons if b["behaviors"][0]["value"].get("s") == 1)
    await h.press(ask["message_id"], "ops", pick["behaviors"][0]["value"])
    await h.settle()
    assert "分钟趋势 240 行" in h.text_of(h.last_reply())
    picker = next(m for m in h.bot_messages() if m["message_id"] == ask["message_id"])
    assert "已选择 #1" in h.text_of(picker) and '"tag": "button"' not in raw(picker)  # buttons gone
    async with h.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(TrendPoint))).scalar() == 240
    assert (await figures(h, 1))["peak_online"] == 539
    # the summary names the room and start: matched to #1; the ignored column is named
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "罗盘_直播间汇总.csv", SUMMARY)
    await h.settle()
    text = h.text_of(h.last_reply())
    assert "已读取" in text and "汇总表 1 行" in text and "直播间曝光次数（新）" in text
    values = await figures(h, 1)
    assert values["gmv"] == 125000 and values["uv"] == 40000 and values["avg_dwell"] == 100
    async with h.db.session() as s:  # the T+1h export norm is met
        assert (await s.execute(select(Checkpoint.status).where(Checkpoint.stream_id == 1))).scalar() == "done"
    # the same file again changes nothing
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "罗盘_直播间汇总.csv", SUMMARY)
    await h.settle()
    assert "之前已经导入过" in h.text_of(h.last_reply())
    # a corrected summary replaces figures and says so
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "罗盘_直播间汇总v2.csv", SUMMARY.replace(b"12.5\xe4\xb8\x87", b"13\xe4\xb8\x87"))
    await h.settle()
    assert "替换了已有数字" in h.text_of(h.last_reply()) and (await figures(h, 1))["gmv"] == 130000
    # another file of the same export right after: it follows the stream just imported, no question
    trend2 = TREND.replace(b",50,40", b",60,40")
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "分钟趋势2.csv", trend2)
    await h.settle()
    assert "分钟趋势 240 行" in h.text_of(h.last_reply()) and "#1" in h.text_of(h.last_reply())
    await h.say("ops", "/数据 #1")
    assert '"tag": "chart"' in raw(h.last_reply())  # online viewers line chart


async def test_export_needs_a_role_and_is_audited(data):
    h = data
    await h.say("ops", "/数据 录入 #1 GMV 12万 UV 4万 成交人数 800")
    await h.say("member", "/数据 导出 本周")
    assert "权限" in h.text_of(h.last_reply())
    await h.say("ops", "/数据 导出 本周")
    await h.settle()
    assert "私信发给你" in h.text_of(h.last_reply())  # not an internal group: no sales file in it
    assert not any("直播数据_" in raw(m) for m in h.bot_messages())
    await h.say("ops", "/数据 内部群 开")
    await h.say("ops", "/数据 导出 本周")
    await h.settle()
    assert "已导出 本周 的 2 场数据" in h.text_of(h.last_reply())
    assert any("直播数据_2026112" in raw(m) and ".csv" in raw(m) for m in h.bot_messages())  # the file, named
    async with h.db.session() as s:
        row = (await s.execute(select(DataAudit).where(DataAudit.action == "export").limit(1))).scalars().first()
    assert row.user_id == h.users["ops"] and row.chat_id == h.chats["team"] and row.rows == 2


async def test_daily_briefing_subscription_fires_once_a_day(data):
    h = data
    await h.say("ops", "/数据 录入 #1 GMV 12万 UV 4万 成交人数 800 停留 80秒")
    await h.say("member", "/日报 订阅 09:30")
    assert "权限" in h.text_of(h.last_reply())
    await h.say("ops", "/日报 订阅 09:30")
    assert "已订阅日报" in h.text_of(h.last_reply())
    before = len(h.bot_messages())
    await h.advance(19.5 * 3600 + 5)  # Fri 27 Nov 09:30:05 Shanghai
    await h.settle()
    briefs = [m for m in h.bot_messages()[before:] if "直播日报" in h.text_of(m)]
    assert len(briefs) == 1
    text = h.text_of(briefs[0])
    assert "11/27 周五" in text and "昨日成绩" in text and "#1" in text and "达成 80%" in text
    assert "¥12万" not in text  # not an internal group
    assert "距双12还有 15 天" in text
    await h.advance(3600)
    await h.settle()
    assert len([m for m in h.bot_messages() if "直播日报" in h.text_of(m)]) == 1
    async with h.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(BriefingSend))).scalar() == 1
    await h.advance(23 * 3600)  # Saturday 09:30
    await h.settle()
    assert len([m for m in h.bot_messages() if "直播日报" in h.text_of(m)]) == 2
    await h.say("ops", "/日报 退订")
    assert "已退订" in h.text_of(h.last_reply())


async def test_file_drop_source_imports_once(data, tmp_path):
    from bot.data import sources

    h = data
    (tmp_path / "#1 罗盘汇总.csv").write_bytes(SUMMARY)
    (tmp_path / "readme.txt").write_text("not data")
    h.bot.svc.settings.extra["BOT_DATA_DROP_DIR"] = str(tmp_path)
    async with h.db.session() as s:
        await sources.plan(h.bot.svc, s)
        await s.commit()
    await h.advance(10)
    await h.settle()
    assert "汇总表 1 行" in h.text_of(h.last_reply())
    assert (await figures(h, 1))["gmv"] == 125000
    before = len(h.bot_messages())
    await h.advance(120)  # polled again: the ledger makes it a no-op
    await h.settle()
    assert len(h.bot_messages()) == before


async def test_period_in_a_field_group_defaults_to_its_room(data):
    h = data
    field = h.sim.add_chat("1号直播间场控群", [h.users["ops"], h.users["member"]], chat_id="oc_field1")["chat_id"]
    async with h.db.session() as s:
        room = (await s.execute(select(Room).where(Room.name == "1号直播间"))).scalar_one()
        room.field_chat_id = field
    await h.say("ops", "/数据 录入 #1 GMV 12万 UV 4万 成交人数 800")
    await h.say("ops", "/数据 录入 #2 GMV 8万 UV 2万 成交人数 500")
    await h.say("member", "/数据 本周", chat=field)
    text = h.text_of(h.last_reply(chat=field))
    assert "本周直播数据 · 1号直播间" in text and "1 场直播" in text  # only its own room, as its daily briefing
    await h.say("member", "/数据 本周 全部", chat=field)
    text = h.text_of(h.last_reply(chat=field))
    assert "本周直播数据 · 全部" in text and "2 场直播" in text
    await h.say("member", "/数据 本周")  # the team group still sees every room
    assert "本周直播数据 · 全部" in h.text_of(h.last_reply())

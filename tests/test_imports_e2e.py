"""Imports read as people mean them (issue 15, "Imports"), end to end on both databases.

Streams (the clock stands at Thu 2026-11-26 14:00 Shanghai): #1 1号直播间 08:00–12:00 and
#2 2号直播间 09:00–13:00 (aliases "2号间", "A2"), both ended, in the team group. Each case
failed on the code before this change: a multi-session summary stored its first row only; a
file was attached to a stream its room or date contradicts; re-uploading the right file was
refused as "already imported"; Excel-mangled product ids merged products; figures that cannot
be true were stored; a pasted table with an empty cell did not import.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.data.models import DataAudit, ProductFigures, StreamFigures, TrendPoint
from bot.schedule.models import ENDED, LIVE, Room, Stream
from tests.helpers import nodes
from tests.test_schedule_service import local, seed_team

DATA = Path(__file__).parent / "data"

SUMMARY_1 = ("直播间,开播时间,成交金额（元）,进入直播间人数,成交人数\n"
             "1号直播间,2026-11-26 08:00,12.5万,4万,800\n").encode()
MULTI = ("直播间数据 2026-11-26\n"
         "直播间,开播时间,成交金额（元）,进入直播间人数,成交人数\n"
         "1号直播间,2026-11-26 08:02,12.5万,4万,800\n"
         "A2,2026-11-26 09:05,8万,2万,500\n"                # an alias of 2号直播间
         "3号直播间,2026-11-26 19:00,1万,5000,100\n").encode()   # no such stream


@pytest.fixture
async def two(harness):
    async with harness.db.session() as s:
        rooms = await seed_team(s, harness.clock.now())
        for room, start, end in ((1, 8, 12), (2, 9, 13)):
            s.add(Stream(room_id=rooms[room].id, starts_at=local(2026, 11, 26, start), ends_at=local(2026, 11, 26, end),
                         streamer_id="ou_streamer", status=ENDED, chat_id=harness.chats["team"],
                         actual_start=local(2026, 11, 26, start), actual_end=local(2026, 11, 26, end),
                         created_at=harness.clock.now(), updated_at=harness.clock.now()))
        await s.commit()
    return harness


async def figures(h, stream_id: int) -> dict:
    async with h.db.session() as s:
        row = (await s.execute(select(StreamFigures).where(StreamFigures.stream_id == stream_id))).scalar_one_or_none()
        return dict(row.values) if row else {}


async def products(h, stream_id: int) -> dict[str, dict]:
    async with h.db.session() as s:
        rows = (await s.execute(select(ProductFigures).where(ProductFigures.stream_id == stream_id))).scalars()
        return {p.name: dict(p.values) for p in rows}


async def upload(h, name: str, data: bytes, user: str = "ops") -> str:
    await h.sim.upload_file(h.chats["team"], h.users[user], name, data)
    await h.settle()
    return h.text_of(h.last_reply())


def buttons(message: dict) -> list[dict]:
    return [b["behaviors"][0]["value"] for b in nodes(message, json_strings=True) if b.get("tag") == "button"]


async def test_every_session_of_a_summary_goes_to_the_stream_it_names(two):
    h = two
    text = await upload(h, "罗盘_多场汇总.csv", MULTI)
    assert await figures(h, 1) == {"gmv": 125000, "uv": 40000, "buyers": 800}
    assert await figures(h, 2) == {"gmv": 80000, "uv": 20000, "buyers": 500}  # by the room's alias
    # the card says which stream each row went to, and why the third row went nowhere
    assert "汇总表 第 3 行 → #1 1号直播间 11-26 08:00–12:00" in text
    assert "汇总表 第 4 行 → #2 2号直播间 11-26 09:00–13:00" in text
    assert "没有导入（1）" in text and "汇总表 第 5 行：找不到「3号直播间 11-26 19:00」对应的场次" in text


async def test_a_row_the_bot_cannot_place_is_asked_about_with_buttons(two):
    h = two
    ask = "账号名称,开播时间,成交金额,进入直播间人数\n家居好物旗舰店,2026-11-26 09:30,5万,1万\n".encode()
    text = await upload(h, "店铺汇总.csv", ask)
    card = h.last_reply()
    assert "这份数据是哪一场的" in text and await figures(h, 1) == {} and await figures(h, 2) == {}
    picks = [b for b in buttons(card) if b.get("a") == "data.pick"]
    assert sorted(b["s"] for b in picks) == [1, 2]  # both fit 09:30; nothing was guessed
    await h.press(card["message_id"], "ops", next(b for b in picks if b["s"] == 2))
    assert "→ #2 2号直播间" in h.text_of(h.last_reply())
    assert await figures(h, 2) == {"gmv": 50000, "uv": 10000} and await figures(h, 1) == {}


async def test_a_file_never_lands_on_a_stream_it_contradicts(two):
    h = two
    await upload(h, "汇总.csv", SUMMARY_1)
    before = await figures(h, 1)
    # right after an import into #1, a summary of another room and time: not "the stream just imported"
    other = "直播间,开播时间,成交金额,进入直播间人数\n3号直播间,2026-11-26 19:00,1万,5000\n".encode()
    text = await upload(h, "另一场汇总.csv", other)
    assert "找不到「3号直播间 11-26 19:00」对应的场次" in text and await figures(h, 1) == before
    # a file dated 11-20 named for #1 (11-26): refused, with the reason
    text = await upload(h, "#1 罗盘汇总.csv", (DATA / "compass_summary.csv").read_bytes())
    assert "文件写的是「1号直播间 11-20 19:00」，与 #1 1号直播间 11-26 08:00–12:00 的日期不符，没有导入" in text
    assert await figures(h, 1) == before


async def test_the_readme_samples_never_land_on_another_rooms_live_stream(harness):
    h = harness
    async with h.db.session() as s:
        rooms = await seed_team(s, h.clock.now())
        s.add(Stream(room_id=rooms[2].id, starts_at=local(2026, 11, 26, 13), ends_at=local(2026, 11, 26, 18),
                     status=LIVE, chat_id=h.chats["team"], actual_start=local(2026, 11, 26, 13),
                     created_at=h.clock.now(), updated_at=h.clock.now()))
        await s.commit()
    for name in ("compass_summary.csv", "compass_trend.csv", "compass_products.xlsx"):
        text = await upload(h, name, (DATA / name).read_bytes())
        assert "没有导入" in text or "这份数据是哪一场的" not in text, name
    assert await figures(h, 1) == {} and await products(h, 1) == {}
    async with h.db.session() as s:
        assert (await s.execute(select(TrendPoint.id).limit(1))).first() is None
    # with the samples' own stream in the schedule, all three land on it, one after the other
    async with h.db.session() as s:
        room1 = (await s.execute(select(Room).where(Room.name == "1号直播间"))).scalar_one()
        s.add(Stream(room_id=room1.id, starts_at=local(2026, 11, 20, 19), ends_at=local(2026, 11, 20, 23),
                     status=ENDED, chat_id=h.chats["team"], created_at=h.clock.now(), updated_at=h.clock.now()))
        await s.commit()
    for name in ("compass_summary.csv", "compass_products.xlsx", "compass_trend.csv"):
        text = await upload(h, name, (DATA / name).read_bytes())
        assert "→ #2 1号直播间 11-20 19:00–23:00" in text, (name, text)
    assert (await figures(h, 2))["gmv"] == 125113.6 and len(await products(h, 2)) == 11


async def test_impossible_figures_are_refused_with_the_row_named(two):
    h = two
    bad = "直播间,开播时间,成交金额,进入直播间人数,成交人数\n1号直播间,2026-11-26 08:00,12.5万,4000,5000\n".encode()
    text = await upload(h, "汇总.csv", bad)
    assert "第 2 行（1号直播间）：成交人数 5000 大于 进入直播间人数 4000，不可能成立" in text
    assert await figures(h, 1) == {}
    table = "商品名称,成交金额,成交人数,商品点击人数\n围巾,100,50,10\n手套,200,5,10\n".encode()
    text = await upload(h, "#1 商品明细.csv", table)
    assert "第 2 行（围巾）：成交人数 50 大于 商品点击人数 10" in text
    assert list(await products(h, 1)) == ["手套"]
    # typed figures are checked against the stored ones too
    await upload(h, "汇总.csv", SUMMARY_1)
    await h.say("ops", "/数据 录入 #1 订单数 100")
    assert "成交人数 800 大于 成交订单数 100" in h.text_of(h.last_reply())
    assert "orders" not in await figures(h, 1)


async def test_the_right_file_replaces_the_wrong_one_and_an_import_can_be_undone(two):
    h = two
    right = SUMMARY_1
    wrong = "直播间,开播时间,成交金额,进入直播间人数,千川消耗\n1号直播间,2026-11-26 08:00,99万,9万,5万\n".encode()
    await upload(h, "罗盘汇总.csv", right)
    text = await upload(h, "罗盘汇总（错的）.csv", wrong)
    assert "替换了「罗盘汇总.csv」导入的数据" in text and (await figures(h, 1))["gmv"] == 990000
    text = await upload(h, "罗盘汇总.csv", right)  # the right one again: taken, not "already imported"
    assert "之前已经导入过" not in text and "替换了「罗盘汇总（错的）.csv」导入的数据" in text
    assert await figures(h, 1) == {"gmv": 125000, "uv": 40000, "buyers": 800}  # 千川消耗 of the wrong file gone
    # an explicit undo: ops only, audit-logged
    await h.say("member", "/数据 撤销 #1")
    assert "权限" in h.text_of(h.last_reply())
    await h.say("ops", "/数据 撤销 #1")
    assert "已撤销 #1 导入的「罗盘汇总.csv」（汇总表）" in h.text_of(h.last_reply())
    assert await figures(h, 1) == {}
    await h.say("ops", "/数据 撤销 #1")
    assert "#1 没有可以撤销的导入" in h.text_of(h.last_reply())
    # the undo button on an import card undoes that file only; a member's press is refused
    await upload(h, "罗盘汇总.csv", right)
    text = await upload(h, "#1 商品明细.csv", "商品名称,成交金额,成交人数\n围巾,100,5\n".encode())
    card = h.last_reply()
    undo = next(b for b in buttons(card) if b.get("a") == "data.undo")
    await h.press(card["message_id"], "member", undo)
    assert list(await products(h, 1)) == ["围巾"]
    await h.press(card["message_id"], "ops", undo)
    assert await products(h, 1) == {} and (await figures(h, 1))["gmv"] == 125000  # the summary stays
    async with h.db.session() as s:
        assert "undo" in [a for (a,) in (await s.execute(select(DataAudit.action))).all()]


async def test_excel_mangled_product_ids_do_not_merge_products(two):
    h = two
    table = ("商品名称,商品编号,成交金额,成交件数\n"
             "加厚四件套,3.61235E+12,1000,10\n无痕挂钩,3.61235E+12,200,20\n陶瓷碗,3.61235E+12,300,3\n"
             "乳胶枕,3712045583012846604,400,4\n").encode()
    text = await upload(h, "#1 商品明细.csv", table)
    assert set(await products(h, 1)) == {"加厚四件套", "无痕挂钩", "陶瓷碗", "乳胶枕"}
    assert "商品编号被 Excel 改成了科学计数法（如 3.61235E+12），3 个商品已按商品名称区分，没有合并" in text


async def test_a_pasted_table_keeps_its_empty_cells(two):
    h = two
    tabbed = ("/排期 导入\n日期\t时间\t直播间\t主播\t品牌\n"
              "11/30\t19:00-23:00\t1号直播间\t\t花西子\n"
              "12/01\t19:00-23:00\t2号直播间\t李主播\t")
    await h.say("ops", tabbed)
    assert "新增 **2** 场" in h.text_of(h.last_reply())
    spaced = ("/排期 导入\n日期    时间         直播间     主播     品牌\n"
              "12/02   19:00-23:00  1号直播间           珀莱雅\n")
    await h.say("ops", spaced)
    assert "新增 **1** 场" in h.text_of(h.last_reply())
    async with h.db.session() as s:
        added = list((await s.execute(select(Stream).where(Stream.id > 2).order_by(Stream.id))).scalars())
    assert [(x.streamer_id, x.brand) for x in added] == [(None, "花西子"), ("ou_streamer", ""), (None, "珀莱雅")]


async def test_the_readme_sample_upload_in_the_sandbox_demo(tmp_path):
    """As the README says: upload the three sample exports into 运营群 as 张场控, a week or more
    after the samples' day, with another room's stream on air. They land on the samples' own
    stream (1号直播间 2026-11-20 19:00), which the demo keeps for them."""
    from datetime import datetime, timezone

    from bot.clock import ManualClock
    from bot.config import Settings
    from bot.sandbox import Sandbox, open_id
    from tests.harness import Harness

    clock = ManualClock(datetime(2026, 12, 6, 6, 30, tzinfo=timezone.utc), frozen=True)  # Sun 14:30, 2号 on air
    sandbox = Sandbox(Settings(sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"),
                      clock=clock)
    await sandbox.start("127.0.0.1", 0)
    try:
        db = sandbox.bot.db
        waiter = Harness(db, clock.now())  # only its settle(): waits on the bot's pulse, no sleeping
        waiter.bot = sandbox.bot
        team = sandbox.chat_ids["运营群"]
        async with db.session() as s:
            room1 = (await s.execute(select(Room).where(Room.name == "1号直播间"))).scalar_one()
            sample = (await s.execute(select(Stream).where(Stream.room_id == room1.id,
                                                           Stream.starts_at == local(2026, 11, 20, 19)))).scalar_one()
            on_air = [x.id for x in (await s.execute(select(Stream).where(
                Stream.starts_at <= clock.now(), Stream.ends_at > clock.now()))).scalars()]
        assert on_air, "the demo has a stream on air at this time"
        for name in ("compass_summary.csv", "compass_products.xlsx", "compass_trend.csv"):
            await sandbox.sim.upload_file(team, open_id("zhang"), name, (DATA / name).read_bytes())
            await waiter.settle()
            last = [m for m in sandbox.sim.messages(team) if m["sender"]["type"] == "app"][-1]
            assert f"→ #{sample.id} 1号直播间 11-20 19:00–23:00" in Harness.text_of(last), name
        async with db.session() as s:
            values = (await s.execute(select(StreamFigures.values).where(StreamFigures.stream_id == sample.id))).scalar()
            assert values["gmv"] == 125113.6
            for sid in on_air:
                assert (await s.execute(select(StreamFigures.id).where(StreamFigures.stream_id == sid))).first() is None
    finally:
        await sandbox.stop()

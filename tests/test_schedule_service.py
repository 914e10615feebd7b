"""Schedule: pure parsing, the service over a real database (SQLite and PostgreSQL),
booking-sheet import (pasted, CSV, XLSX) and exports (CSV, iCalendar)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.errors import UserError
from bot.timeparse.parser import TimeParseError
from bot.schedule import cards, export, fields, importer, service
from bot.schedule.models import CONFIRMED, PENDING, Stream, StreamChange
from bot.store.models import Person

UTC = timezone.utc
SH = ZoneInfo("Asia/Shanghai")
TZ = "Asia/Shanghai"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # Thu 14:00 in Shanghai
TODAY = date(2026, 11, 26)
SAMPLE = Path(__file__).parent / "data" / "schedule_week.csv"
TEAM = [("ou_streamer", "李主播", "主播"), ("ou_zhou", "周主播", "主播"), ("ou_member", "陈助播", "助播"),
        ("ou_ops", "张场控", "场控"), ("ou_liu", "刘中控", "中控"), ("ou_tech", "赵技术", "技术")]


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


async def seed_team(session, now: datetime = NOW) -> dict[str, object]:
    """Rooms 1–3号直播间 (aliases N号间, AN) and the team with job titles."""
    rooms = {}
    for n in (1, 2, 3):
        rooms[n] = await service.add_room(session, name=f"{n}号直播间", aliases=[f"{n}号间", f"A{n}"],
                                          platform="抖音", now=now)
    for open_id, name, title in TEAM:
        await service.add_person(session, open_id=open_id, name=name, titles=[title], by="ou_admin", now=now)
    return rooms


@pytest.fixture
async def session(database):
    async with database.session() as s:
        yield s


# -- pure parsing ---------------------------------------------------------------------------------
def test_split_args_pairs_in_any_order():
    a = fields.split_args("1号直播间 明天 19:00-23:00 主播 @李主播 场控 @张场控 品牌 花西子 主题 双12 预热 目标 50万")
    assert a.head == ["1号直播间", "明天", "19:00-23:00"]
    assert dict(a.pairs) == {"streamer_id": "@李主播", "field_control_id": "@张场控", "brand": "花西子",
                             "theme": "双12 预热", "target_gmv": "50万"}
    b = fields.split_args("1号间 周六 14:00-18:00 目标：30万 品牌:珀莱雅 场控@张场控")
    assert b.get("target_gmv") == "30万" and b.get("brand") == "珀莱雅" and b.get("field_control_id") == "@张场控"
    assert fields.split_args("#12 开始 20:00 主播 @周主播").pairs == [("start", "20:00"), ("streamer_id", "@周主播")]


@pytest.mark.parametrize("text,value", [("50万", 500_000), ("¥500,000", 500_000), ("1.2万", 12_000), ("5w", 50_000),
                                        ("500000", 500_000), ("￥1,234.5", 1235), ("50万元", 500_000), ("-", None),
                                        ("", None), (300000, 300_000), ("１０万", 100_000)])
def test_parse_amount(text, value):
    assert fields.parse_amount(text) == value


def test_parse_amount_rejects_and_scales():
    with pytest.raises(ValueError):
        fields.parse_amount("五十万")
    assert fields.parse_amount("50", scale=10_000) == 500_000
    assert fields.column_for("目标GMV（万元）") == ("target_gmv", 10_000)
    assert fields.column_for("目标GMV(元)") == ("target_gmv", 1)


def test_stream_window_days_and_midnight():
    assert fields.stream_window("明天 19:00-23:00", TODAY, TZ) == (local(2026, 11, 27, 19), local(2026, 11, 27, 23))
    # across midnight: ends the next day
    assert fields.stream_window("19:00-01:00", TODAY, TZ) == (local(2026, 11, 26, 19), local(2026, 11, 27, 1))
    assert fields.stream_window("周六 晚上7点到11点", TODAY, TZ) == (local(2026, 11, 28, 19), local(2026, 11, 28, 23))
    assert fields.stream_window("12月1日 9:00~13:00", TODAY, TZ) == (local(2026, 12, 1, 9), local(2026, 12, 1, 13))
    with pytest.raises(TimeParseError):
        fields.stream_window("明天", TODAY, TZ)


def test_moved_window():
    start, end = local(2026, 11, 27, 19), local(2026, 11, 27, 23)
    # a new start keeps the end
    assert fields.moved_window(start, end, today=TODAY, tz=TZ, start_text="20:00") == (local(2026, 11, 27, 20), end)
    # a new end before the start is the next day
    assert fields.moved_window(start, end, today=TODAY, tz=TZ, end_text="01:00") == (start, local(2026, 11, 28, 1))
    # a new date keeps the clock times
    assert fields.moved_window(start, end, today=TODAY, tz=TZ, date_text="12月1日") == (
        local(2026, 12, 1, 19), local(2026, 12, 1, 23))
    # a range without a date stays on the stream's day; with one it moves
    assert fields.moved_window(start, end, today=TODAY, tz=TZ, time_text="20:00-24:00") == (
        local(2026, 11, 27, 20), local(2026, 11, 28, 0))
    assert fields.moved_window(start, end, today=TODAY, tz=TZ, time_text="周六 14:00-18:00") == (
        local(2026, 11, 28, 14), local(2026, 11, 28, 18))


def test_sheet_cells():
    assert fields.sheet_date("2026/11/30", TODAY) == date(2026, 11, 30)
    assert fields.sheet_date("11月30日", TODAY) == date(2026, 11, 30)
    assert fields.sheet_date("1/5", date(2026, 12, 28)) == date(2027, 1, 5)  # the nearest year
    assert fields.sheet_date(datetime(2026, 12, 1, 0, 0), TODAY) == date(2026, 12, 1)
    assert fields.clock_time("19：00") == time(19, 0)
    assert fields.clock_time("7点半") == time(7, 30)
    assert fields.clock_time(0.8125) == time(19, 30)  # an Excel day fraction
    with pytest.raises(ValueError):
        fields.clock_time("25:00")
    assert fields.column_for("开播时间") == ("start", 1)
    assert fields.column_for(" 房 间 ") == ("room", 1)
    assert fields.column_for("目标GMV (元)") == ("target_gmv", 1)
    assert fields.column_for("星期") == (None, 1)


def test_read_text_separators():
    tab = importer.read_text("日期\t时间\t直播间\n2026-11-30\t19:00-23:00\t1号直播间\n")
    assert tab.header == ["日期", "时间", "直播间"] and tab.rows == [(2, ["2026-11-30", "19:00-23:00", "1号直播间"])]
    spaces = importer.read_text("日期   时间          直播间   主题\n\n2026-11-30  19:00-23:00  1号直播间  双12 预热")
    assert spaces.rows == [(3, ["2026-11-30", "19:00-23:00", "1号直播间", "双12 预热"])]
    comma = importer.read_text("日期，时间，直播间\n11/30，19:00-23:00，1号间")
    assert comma.rows[0][1] == ["11/30", "19:00-23:00", "1号间"]
    md = importer.read_text("| 日期 | 时间 | 直播间 |\n|---|---|---|\n| 11/30 | 19:00-23:00 | A1 |")
    assert md.header == ["日期", "时间", "直播间"] and md.rows == [(3, ["11/30", "19:00-23:00", "A1"])]


# -- the service ------------------------------------------------------------------------------------
async def test_rooms_and_people_lookup(session):
    rooms = await seed_team(session)
    assert (await service.find_room(session, "A2")).id == rooms[2].id
    assert (await service.find_room(session, "３号")).id == rooms[3].id  # number, full width
    assert await service.room_by_name(session, "9号直播间") is None
    with pytest.raises(UserError) as err:
        await service.find_room(session, "9号直播间")
    assert err.value.key == "schedule.room_unknown" and "1号直播间" in err.value.values["rooms"]
    with pytest.raises(UserError) as err:
        await service.add_room(session, name="4号直播间", aliases=["A1"], now=NOW)
    assert err.value.key == "schedule.alias_taken"
    assert await service.find_person(session, "@李主播") == ("ou_streamer", "李主播")
    assert await service.find_person(session, "刘中") == ("ou_liu", "刘中控")  # unique partial match
    with pytest.raises(UserError) as err:
        await service.find_person(session, "主播")  # 李主播 and 周主播
    assert err.value.key == "schedule.person_ambiguous" and "李主播" in err.value.values["matches"]
    with pytest.raises(UserError) as err:
        await service.find_person(session, "王五")
    assert err.value.key == "schedule.person_unknown"
    # the bot has seen someone not on the team list: found by exact name
    session.add(Person(open_id="ou_seen", name="王五", first_seen=NOW))
    assert await service.find_person(session, "王五") == ("ou_seen", "王五")
    # two people with one name: the job title decides
    await service.add_person(session, open_id="ou_li2", name="李主播", titles=["场控"], by="", now=NOW)
    assert (await service.find_person(session, "李主播", title="场控"))[0] == "ou_li2"
    with pytest.raises(UserError):
        await service.find_person(session, "李主播", title="中控")


async def test_conflicts_and_limits(session):
    rooms = await seed_team(session)
    s = await service.add_stream(session, room=rooms[1], starts_at=local(2026, 11, 27, 19), ends_at=local(2026, 11, 27, 23),
                                 people={"streamer_id": "ou_streamer", "tech_id": "ou_tech"}, now=NOW, chat_id="oc_team")
    # the room is double-booked
    with pytest.raises(UserError) as err:
        await service.add_stream(session, room=rooms[1], starts_at=local(2026, 11, 27, 22), ends_at=local(2026, 11, 28, 1),
                                 now=NOW)
    assert err.value.key == "schedule.conflict_room" and err.value.values["id"] == s.id
    # the streamer is double-booked in another room
    with pytest.raises(UserError) as err:
        await service.add_stream(session, room=rooms[2], starts_at=local(2026, 11, 27, 20), ends_at=local(2026, 11, 27, 21),
                                 people={"streamer_id": "ou_streamer"}, now=NOW)
    assert err.value.key == "schedule.conflict_person" and err.value.values["name"] == "李主播"
    # ... also when they would be the assistant there
    with pytest.raises(UserError):
        await service.add_stream(session, room=rooms[2], starts_at=local(2026, 11, 27, 20), ends_at=local(2026, 11, 27, 21),
                                 people={"assistant_id": "ou_streamer"}, now=NOW)
    # the technician on duty may cover two rooms; touching ends are no overlap
    await service.add_stream(session, room=rooms[2], starts_at=local(2026, 11, 27, 20), ends_at=local(2026, 11, 27, 21),
                             people={"tech_id": "ou_tech"}, now=NOW)
    await service.add_stream(session, room=rooms[1], starts_at=local(2026, 11, 27, 23), ends_at=local(2026, 11, 28, 2),
                             people={"streamer_id": "ou_streamer"}, now=NOW)
    with pytest.raises(UserError) as err:
        await service.add_stream(session, room=rooms[3], starts_at=local(2026, 11, 27, 9), ends_at=local(2026, 11, 27, 22),
                                 now=NOW)
    assert err.value.key == "schedule.too_long"
    await service.add_stream(session, room=rooms[3], starts_at=local(2026, 11, 27, 9), ends_at=local(2026, 11, 27, 22),
                             now=NOW, max_hours=14)
    with pytest.raises(UserError) as err:
        service.check_window(local(2026, 11, 27, 9), local(2026, 11, 27, 9))
    assert err.value.key == "schedule.end_before_start"
    # a cancelled stream frees its slot
    await service.cancel_stream(session, s, reason="主播请假", by="ou_ops", now=NOW)
    await service.add_stream(session, room=rooms[1], starts_at=local(2026, 11, 27, 19), ends_at=local(2026, 11, 27, 23),
                             now=NOW)


async def test_edit_cancel_confirm_and_reads(session):
    rooms = await seed_team(session)
    s = await service.add_stream(session, room=rooms[1], starts_at=local(2026, 11, 27, 19), ends_at=local(2026, 11, 27, 23),
                                 people={"streamer_id": "ou_streamer"}, brand="花西子", now=NOW)
    other = await service.add_stream(session, room=rooms[2], starts_at=local(2026, 11, 27, 14),
                                     ends_at=local(2026, 11, 27, 18), people={"streamer_id": "ou_zhou"}, now=NOW)
    diff = await service.edit_stream(session, s, {"starts_at": local(2026, 11, 27, 20), "streamer_id": "ou_zhou",
                                                  "brand": "花西子"}, by="ou_ops", now=NOW)
    assert diff == {"starts_at": (local(2026, 11, 27, 19), local(2026, 11, 27, 20)),
                    "streamer_id": ("ou_streamer", "ou_zhou")}
    assert await service.edit_stream(session, s, {"brand": "花西子"}, by="ou_ops", now=NOW) == {}
    with pytest.raises(UserError) as err:  # 周主播 is busy in 2号 14–18
        await service.edit_stream(session, s, {"starts_at": local(2026, 11, 27, 17)}, by="ou_ops", now=NOW)
    assert err.value.key == "schedule.conflict_person" and err.value.values["id"] == other.id
    assert s.starts_at == local(2026, 11, 27, 20)  # unchanged by the refused edit
    assert await service.confirm_stream(session, s, by="ou_ops", now=NOW) is True
    assert await service.confirm_stream(session, s, by="ou_ops", now=NOW) is False
    assert s.status == CONFIRMED
    assert await service.live_stream_in_room(session, rooms[1].id, local(2026, 11, 27, 21)) == s
    assert await service.live_stream_in_room(session, rooms[1].id, local(2026, 11, 27, 23)) is None
    await service.mark_live(session, s, at=local(2026, 11, 27, 20, 3), by="ou_ops")
    assert await service.live_stream_in_room(session, rooms[1].id, local(2026, 11, 28, 9)) == s
    with pytest.raises(UserError):
        await service.cancel_stream(session, s, reason="", by="ou_ops", now=NOW)
    await service.mark_ended(session, s, at=local(2026, 11, 27, 23, 1), by="ou_ops")
    with pytest.raises(UserError) as err:
        await service.edit_stream(session, s, {"brand": "x"}, by="ou_ops", now=NOW)
    assert err.value.key == "schedule.closed_ended"
    await service.cancel_stream(session, other, reason="品牌方改期", by="ou_ops", now=NOW)
    day = (local(2026, 11, 27, 0), local(2026, 11, 28, 0))
    assert [x.id for x in await service.streams_between(session, *day)] == [s.id]
    assert [x.id for x in await service.streams_between(session, *day, include_cancelled=True)] == [other.id, s.id]
    assert [x.id for x in await service.streams_between(session, *day, person="ou_zhou")] == [s.id]
    assert [x.id for x in await service.streams_between(session, *day, room_id=rooms[2].id)] == []
    kinds = (await session.execute(select(StreamChange.kind).where(StreamChange.stream_id == s.id)
                                   .order_by(StreamChange.id))).scalars().all()
    assert kinds == ["added", "changed", "confirmed", "live", "ended"]


# -- import -------------------------------------------------------------------------------------------
async def test_import_sample_csv_and_reimport(session):
    rooms = await seed_team(session)
    sheet = importer.read_file("排期.csv", SAMPLE.read_bytes())
    result = await importer.import_sheet(session, sheet, locale="zh_CN", tz=TZ, today=TODAY, now=NOW, by="ou_ops",
                                         chat_id="oc_team")
    assert result.ok and len(result.added) == 8 and result.ignored == ["星期"]
    streams = (await session.execute(select(Stream).order_by(Stream.starts_at))).scalars().all()
    first = streams[0]  # 11-30 14:00 2号
    assert (first.room_id, first.streamer_id, first.target_gmv, first.status) == (rooms[2].id, "ou_zhou", 300_000, PENDING)
    night = next(s for s in streams if s.brand == "蕉下")
    assert (night.starts_at, night.ends_at) == (local(2026, 12, 5, 22), local(2026, 12, 6, 2))
    li = next(s for s in streams if s.theme == "双12预热")
    assert (li.status, li.target_gmv, li.console_id, li.chat_id) == (CONFIRMED, 500_000, "ou_liu", "oc_team")
    # the same sheet again: nothing added, nothing changed
    again = await importer.import_sheet(session, sheet, locale="zh_CN", tz=TZ, today=TODAY, now=NOW, by="ou_ops",
                                        chat_id="oc_team")
    assert (again.added, again.updated, again.unchanged) == ([], [], 8)
    assert (await session.execute(select(func.count()).select_from(Stream))).scalar() == 8


async def test_import_bad_rows_import_nothing(session):
    await seed_team(session)
    text = ("日期\t时间\t房间\t主播\t目标GMV\t状态\t备注\n"
            "2026-11-30\t19:00-23:00\t1号直播间\t李主播\t50万\t已确认\tok\n"
            "2026-11-31\t19:00-23:00\t1号直播间\t李主播\t\t\t\n"
            "2026-12-01\t25:00-26:00\t1号直播间\t李主播\t\t\t\n"
            "2026-12-01\t19:00-23:00\t9号直播间\t李主播\t\t\t\n"
            "2026-12-02\t19:00-23:00\t1号直播间\t王五\t\t\t\n"
            "2026-12-02\t14:00-18:00\t2号直播间\t主播\t\t\t\n"
            "2026-12-03\t19:00-23:00\t1号直播间\t李主播\t很多\t\t\n"
            "2026-12-03\t14:00-18:00\t2号直播间\t周主播\t\t直播中\t\n"
            "2026-11-30\t20:00-22:00\t2号直播间\t李主播\t\t\t\n"
            "2026-11-30\t19:00-23:00\t1号直播间\t李主播\t\t\t\n")
    result = await importer.import_sheet(session, importer.read_text(text), locale="zh_CN", tz=TZ, today=TODAY,
                                         now=NOW, by="ou_ops", chat_id="oc_team")
    reasons = {r.row: r.reason for r in result.rejected}
    assert not result.ok and result.added == [] and result.ignored == ["备注"]
    assert "日期" in reasons[3] and "时间" in reasons[4] and "9号直播间" in reasons[5]
    assert "王五" in reasons[6] and "多个人" in reasons[7] and "很多" in reasons[8] and "直播中" in reasons[9]
    assert reasons[10] == "与第 2 行时间冲突（同一直播间或同一人时间重叠）"
    assert reasons[11] == "与第 2 行是同一直播间、同一开始时间"
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert (await session.execute(select(func.count()).select_from(Stream))).scalar() == 0  # all or nothing
    card = cards.import_card(result, "zh_CN").to_dict()
    assert "全部未导入" in str(card) and "第 6 行" in str(card)


async def test_import_conflict_with_existing_and_english(session):
    rooms = await seed_team(session)
    s = await service.add_stream(session, room=rooms[1], starts_at=local(2026, 11, 30, 18),
                                 ends_at=local(2026, 11, 30, 20), now=NOW)
    text = "date,start,end,room,streamer\n11/30,19:00,23:00,A1,李主播\n"
    result = await importer.import_sheet(session, importer.read_text(text), locale="en_US", tz=TZ, today=TODAY,
                                         now=NOW, by="ou_ops", chat_id="oc_team")
    assert [r.row for r in result.rejected] == [2]
    assert f"#{s.id}" in result.rejected[0].reason and "Clash" in result.rejected[0].reason
    with pytest.raises(UserError) as err:
        await importer.import_sheet(session, importer.read_text("商品,价格\n口红,99"), locale="zh_CN", tz=TZ,
                                    today=TODAY, now=NOW, by="ou_ops", chat_id="oc_team")
    assert err.value.key == "schedule.import_not_sheet"


def make_xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "说明"
    sheet.append(["这是说明页"])
    ws = book.create_sheet("12月排期")
    ws.append(["12月第一周排期"])  # a title row above the header
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_import_xlsx_with_excel_cells(session):
    rooms = await seed_team(session)
    data = make_xlsx([["直播日期", "开播时间", "下播时间", "直播间", "主播", "场控", "目标GMV（万）", "负责人"],
                      [datetime(2026, 12, 1), time(19, 0), time(23, 0), "1号间", "李主播", "张场控", 50, "王"],
                      ["2026-12-02", "22:00", "02:00", "A3", "周主播", None, "¥300,000", None],
                      [None, None, None, None, None, None, None, None]])
    sheet = importer.read_file("12月排期.xlsx", data)
    assert sheet.rows[0][0] == 3  # row numbers as in the sheet
    result = await importer.import_sheet(session, sheet, locale="zh_CN", tz=TZ, today=TODAY, now=NOW, by="ou_ops",
                                         chat_id="oc_team")
    assert result.ok and len(result.added) == 2 and result.ignored == ["负责人"]
    a, b = (await session.execute(select(Stream).order_by(Stream.starts_at))).scalars().all()
    assert (a.room_id, a.starts_at, a.target_gmv, a.field_control_id) == (rooms[1].id, local(2026, 12, 1, 19), 500_000, "ou_ops")
    assert (b.room_id, b.ends_at, b.target_gmv) == (rooms[3].id, local(2026, 12, 3, 2), 300_000)
    assert not importer.map_columns(importer.read_file("x.xlsx", make_xlsx([["商品", "价格"]])).header).is_booking_sheet
    assert importer.read_file("broken.xlsx", b"not a zip").header == []


# -- export ---------------------------------------------------------------------------------------------
async def test_csv_export_round_trips(session):
    rooms = await seed_team(session)
    s = await service.add_stream(session, room=rooms[3], starts_at=local(2026, 11, 28, 22), ends_at=local(2026, 11, 29, 2),
                                 people={"streamer_id": "ou_zhou", "tech_id": "ou_tech"}, brand="蕉下", theme="夜场, 福利",
                                 target_gmv=300_000, now=NOW)
    all_rooms, names = await cards.context(session, [s])
    data = export.to_csv([s], all_rooms, names, TZ)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["编号", "日期", "开始时间", "结束时间", "直播间"]
    assert rows[1] == [f"#{s.id}", "2026-11-28", "22:00", "02:00", "3号直播间", "周主播", "", "", "", "赵技术",
                       "蕉下", "夜场, 福利", "300000", "待确认"]
    again = await importer.import_sheet(session, importer.read_file("x.csv", data), locale="zh_CN", tz=TZ,
                                        today=TODAY, now=NOW, by="ou_ops", chat_id="oc_team")
    assert again.ok and (again.added, again.unchanged, again.ignored) == ([], 1, ["编号"])


def unfold(ics: str) -> list[str]:
    return ics.replace("\r\n ", "").split("\r\n")


async def test_ics_export(session):
    rooms = await seed_team(session)
    s = await service.add_stream(session, room=rooms[1], starts_at=local(2026, 11, 27, 19), ends_at=local(2026, 11, 27, 23),
                                 people={"streamer_id": "ou_streamer", "field_control_id": "ou_ops"}, brand="花西子",
                                 theme="双12预热; 限时秒杀, 直播间专享价" * 2, target_gmv=500_000, now=NOW)
    c = await service.add_stream(session, room=rooms[2], starts_at=local(2026, 11, 27, 14), ends_at=local(2026, 11, 27, 18),
                                 now=NOW)
    await service.cancel_stream(session, c, reason="", by="", now=NOW)
    all_rooms, names = await cards.context(session, [s, c])
    data = export.to_ics([s, c], all_rooms, names, now=NOW, calendar_name="直播排期").decode("utf-8")
    raw = data.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in raw)
    assert data.endswith("\r\n") and raw[0] == "BEGIN:VCALENDAR"
    lines = unfold(data)
    assert f"UID:stream-{s.id}@liveops" in lines
    assert "DTSTART:20261127T110000Z" in lines and "DTEND:20261127T150000Z" in lines
    summary = next(x for x in lines if x.startswith(f"SUMMARY:#{s.id} "))
    assert "1号直播间 · 李主播 · 花西子" in summary and "预热\\; 限时秒杀\\, 直播间" in summary
    assert "STATUS:TENTATIVE" in lines and "STATUS:CANCELLED" in lines
    assert "DESCRIPTION:主播: 李主播\\n场控: 张场控\\n目标GMV: 500000\\n状态: 待确认" in lines
    assert lines.count("BEGIN:VEVENT") == 2 and lines.count("END:VEVENT") == 2


# -- cards ------------------------------------------------------------------------------------------------
async def test_week_and_month_cards(session):
    rooms = await seed_team(session)
    await service.add_stream(session, room=rooms[1], starts_at=local(2026, 12, 1, 19), ends_at=local(2026, 12, 1, 23),
                             people={"streamer_id": "ou_streamer"}, brand="花西子", now=NOW)
    gone = await service.add_stream(session, room=rooms[2], starts_at=local(2026, 12, 2, 14),
                                    ends_at=local(2026, 12, 2, 18), now=NOW)
    await service.cancel_stream(session, gone, reason="", by="", now=NOW)
    # New Year's Day is a holiday: streams are allowed and the day is marked
    await service.add_stream(session, room=rooms[1], starts_at=local(2027, 1, 1, 19), ends_at=local(2027, 1, 1, 23),
                             now=NOW)
    text = str((await cards.week_card(session, date(2026, 11, 30), "zh_CN", TZ)).to_dict())
    assert "12-01 周二" in text and "1号直播间 · 李主播 · 花西子 · ⏳待确认" in text and "19:00–23:00" in text
    assert "#%d" % gone.id not in text and "无场次" in text and "Asia/Shanghai" in text
    with_cancelled = str((await cards.week_card(session, date(2026, 11, 30), "zh_CN", TZ,
                                                include_cancelled=True)).to_dict())
    assert "~~" in with_cancelled and "已取消" in with_cancelled
    en = str((await cards.week_card(session, date(2026, 11, 30), "en_US", TZ)).to_dict())
    assert "Tue 12-01" in en and "pending" in en
    month = str((await cards.month_card(session, date(2027, 1, 15), "zh_CN", TZ)).to_dict())
    assert "2027年1月" in month and "01-01 周五 🎉元旦" in month and "无场次" not in month
    empty = str((await cards.week_card(session, date(2026, 11, 23), "zh_CN", TZ)).to_dict())
    assert "这段时间没有场次" in empty


async def test_busy_month_card_falls_back_to_counts(session):
    rooms = await seed_team(session)
    # 496 non-overlapping streams written as rows: what is under test is the card. Through
    # service.add_stream each one also plans its norms checkpoints (a dozen timers) once any
    # bot has loaded bot.norms, which made this 1 s alone and 35-70 s later in a run.
    session.add_all([Stream(room_id=rooms[n].id, starts_at=local(2026, 12, day, hour),
                            ends_at=local(2026, 12, day, hour + 2), brand="很长的品牌名称" * 3, status=PENDING,
                            created_at=NOW, updated_at=NOW)
                     for day in range(1, 32) for n in (1, 2) for hour in range(0, 24, 3)])
    await session.flush()
    card = await cards.month_card(session, date(2026, 12, 1), "zh_CN", TZ)
    assert "卡片只显示每天的场次数" in str(card.to_dict())


async def test_cards_show_the_bots_zone(session):
    rooms = await seed_team(session)
    await service.add_stream(session, room=rooms[1], starts_at=local(2026, 12, 1, 19), ends_at=local(2026, 12, 1, 23),
                             now=NOW)
    shanghai = str((await cards.week_card(session, date(2026, 11, 30), "zh_CN", TZ)).to_dict())
    berlin = str((await cards.week_card(session, date(2026, 11, 30), "zh_CN", "Europe/Berlin")).to_dict())
    assert "19:00–23:00" in shanghai and "Asia/Shanghai" in shanghai
    assert "12:00–16:00" in berlin and "Europe/Berlin" in berlin


async def test_current_streams(session):
    rooms = await seed_team(session)
    a = await service.add_stream(session, room=rooms[1], starts_at=local(2026, 11, 26, 13),
                                 ends_at=local(2026, 11, 26, 17), now=NOW)
    b = await service.add_stream(session, room=rooms[2], starts_at=local(2026, 11, 26, 15, 30),
                                 ends_at=local(2026, 11, 26, 18), now=NOW)
    assert [s.id for s in await service.current_streams(session, NOW)] == [a.id]
    assert [s.id for s in await service.current_streams(session, NOW, timedelta(hours=2))] == [a.id, b.id]


async def test_sandbox_demo_seed(session):
    from bot.schedule.demo import seed_demo

    team = [("ou_li", "李主播", "主播"), ("ou_zhou", "周主播", "主播"), ("ou_chen", "陈助播", "助播"),
            ("ou_zhang", "张场控", "场控"), ("ou_liu", "刘中控", "中控"), ("ou_zhao", "赵技术", "技术"),
            ("ou_wang", "王运营", "运营主管")]
    await seed_demo(session, now=NOW, tz=TZ, team=team, team_chat_id="oc_team", field_chat_id="oc_field")
    await seed_demo(session, now=NOW, tz=TZ, team=team, team_chat_id="oc_team")  # a second start adds nothing
    rooms = await service.list_rooms(session)
    assert [r.name for r in rooms] == ["1号直播间", "2号直播间", "3号直播间"] and rooms[0].field_chat_id == "oc_field"
    assert [s.name for s in await service.list_staff(session, title="运营")] == ["王运营"]
    week = await service.streams_between(session, NOW, NOW + timedelta(days=8))
    assert len(week) == 7 * 2 + 4 and all(s.ends_at > NOW for s in week)
    assert min(s.starts_at for s in week) == local(2026, 11, 26, 14)  # today's slots still ahead

"""One CSV writer for every export (bot.csvsafe): a cell that a spreadsheet would run as a
formula (=, +, -, @, tab, CR at its start) is written with a leading "'". Each export is
checked end to end with a hostile cell: /排期 导出, /数据 导出 and /检查 导出."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from bot.schedule.models import ENDED, StaffMember, Stream
from tests.test_schedule_service import local, seed_team

HOSTILE = ("=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\tx", "\rx")


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_cells_are_neutralised(cell):
    from bot import csvsafe

    (header, row) = rows_of(csvsafe.to_bytes(["a", "b"], [[cell, "ok"]]))
    assert row == ["'" + cell, "ok"]


def test_numbers_and_plain_text_are_left_alone():
    from bot import csvsafe

    (_h, row) = rows_of(csvsafe.to_bytes(["n"], [[-5, 2.5, None, "直播间", "a=b", True]]))
    assert row == ["-5", "2.5", "", "直播间", "a=b", "True"]


def file_rows(h, chat: str = "team") -> tuple[str, list[list[str]]]:
    msg = next(m for m in reversed(h.bot_messages(chat)) if m["msg_type"] == "file")
    res = h.sim.state.resources[msg["content"]["file_key"]]
    return res.name, rows_of(res.data)


@pytest.fixture
async def team(harness):
    async with harness.db.session() as s:
        rooms = await seed_team(s, harness.clock.now())
        rooms[1].name = "=cmd|' /C calc'!A0"
        staff = (await s.execute(select(StaffMember).where(StaffMember.open_id == "ou_streamer"))).scalar_one()
        staff.name = "@李主播"
        s.add(Stream(room_id=rooms[1].id, starts_at=local(2026, 11, 27, 19), ends_at=local(2026, 11, 27, 23),
                     streamer_id="ou_streamer", brand=HOSTILE[0], theme=HOSTILE[3], status="pending",
                     chat_id=harness.chats["team"], created_at=harness.clock.now(), updated_at=harness.clock.now()))
        s.add(Stream(room_id=rooms[1].id, starts_at=local(2026, 11, 26, 8), ends_at=local(2026, 11, 26, 12),
                     streamer_id="ou_streamer", status=ENDED, chat_id=harness.chats["team"],
                     created_at=harness.clock.now(), updated_at=harness.clock.now()))
        await s.commit()
    return harness


async def test_schedule_export_neutralises_formulas(team):
    h = team
    await h.say("member", "/排期 导出 本周 csv")
    name, rows = file_rows(h)
    assert name.endswith(".csv")
    (first,) = [r for r in rows[1:] if r[0] == "#1"]
    assert first[4] == "'=cmd|' /C calc'!A0" and first[5] == "'@李主播"
    assert first[10] == "'" + HOSTILE[0] and first[11] == "'" + HOSTILE[3]


async def test_data_export_neutralises_formulas(team):
    h = team
    await h.say("ops", "/数据 录入 #2 GMV 12万 UV 4万 成交人数 800")
    await h.say("ops", "/数据 内部群 开")
    await h.say("ops", "/数据 导出 本周")
    name, rows = file_rows(h)
    assert name.startswith("直播数据_")
    (row,) = [r for r in rows[1:] if r[0] == "2"]
    assert row[1] == "'=cmd|' /C calc'!A0" and row[2] == "'@李主播" and float(row[6]) == 120000


async def test_compliance_export_neutralises_formulas(team):
    h = team
    await h.say("ops", "/检查 @SUM(A1:A9) 全网最低价")
    await h.say("ops", "/检查 导出 全部")
    name, rows = file_rows(h)
    assert name.startswith("compliance-records-")
    text_at = rows[0].index("text")
    assert rows[1][text_at].startswith("'@SUM(A1:A9)")


"""The sandbox's demo Bitable: a schedule table the simulator serves, so a newcomer can bind it
(``/排期 绑定 多维表格 <DEMO_LINK>``), see the preview, confirm, edit a row (``POST
/_sim/bitable/{app_token}/tables/{table_id}/records/{record_id}``) and see the change notice.

Its rows, relative to the sandbox's first day: one that matches a demo stream already in the
bot (same room and start: the binding will change its brand), two new morning streams, and one
row naming a room that does not exist (reported as a row that cannot be read).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.sim.bitable import DATE, FORMULA, NUMBER, PERSON, SINGLE, TEXT, user_edit

DEMO_APP, DEMO_TABLE = "bascnLiveOpsDemo01", "tblDemoSchedule01"
DEMO_LINK = f"https://demo.feishu.cn/base/{DEMO_APP}?table={DEMO_TABLE}&view=vewDemo01"
# The optional scopes the sandbox's tenant granted, so every Feishu-native feature works there.
SCOPES = frozenset({"calendar:calendar", "bitable:app", "task:task"})
COLUMNS = [("日期", DATE), ("开始时间", TEXT), ("结束时间", TEXT), ("直播间", SINGLE), ("主播", PERSON),
           ("品牌", TEXT), ("目标GMV(万)", NUMBER), ("状态", SINGLE), ("直播状态", SINGLE), ("检查", FORMULA)]


def seed(sim: Any, now: datetime, tz: str, streamer: str, other: str) -> None:
    """The demo Base (``streamer`` / ``other``: open_ids of two demo streamers)."""
    if DEMO_APP in sim.bitable.bases:
        return
    sim.bitable.add_base("直播排期（演示）", app_token=DEMO_APP)
    sim.bitable.add_table(DEMO_APP, "排期", COLUMNS, table_id=DEMO_TABLE)
    today = now.astimezone(ZoneInfo(tz)).date()

    def day(n: int) -> int:
        midnight = datetime.combine(today + timedelta(days=n), datetime.min.time(), tzinfo=ZoneInfo(tz))
        return int(midnight.timestamp() * 1000)

    rows = [
        (day(1), "14:00", "18:00", "2号直播间", other, "良品铺子", 20, "已确认"),  # a demo stream: brand changes
        (day(2), "10:00", "12:00", "3号直播间", streamer, "蕉下", 15, "待确认"),
        (day(3), "10:00", "12:00", "3号直播间", other, "珀莱雅", 30, "已确认"),
        (day(4), "10:00", "12:00", "5号直播间", streamer, "自然堂", 10, "待确认"),  # no such room
    ]
    for date_ms, start, end, room, person, brand, target, status in rows:
        user_edit(sim, DEMO_APP, DEMO_TABLE, None, {
            "日期": date_ms, "开始时间": start, "结束时间": end, "直播间": room, "主播": [{"id": person}],
            "品牌": brand, "目标GMV(万)": target, "状态": status, "formula:检查": "✅"})

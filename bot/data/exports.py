"""The stream-figures export (/数据 导出) as CSV, through the one CSV writer (bot.csvsafe)."""
from __future__ import annotations

from typing import Callable
from zoneinfo import ZoneInfo

from bot import csvsafe
from bot.schedule.models import Stream

FIELDS = ("gmv", "uv", "pv", "peak_online", "buyers", "orders", "items", "new_fans", "avg_dwell", "click_uv",
          "exposure_uv", "ad_spend", "refund_amount")


def figures_csv(rows: list[tuple[Stream, dict]], rooms: dict[int, str], names: dict[str, str], tz: ZoneInfo,
                t: Callable[..., str]) -> bytes:
    """One line a stream: who, when, its 目标GMV and its figures (sales included: the caller
    sends it only where they may be seen, see bot.data.visibility)."""
    header = ["场次", "直播间", "主播", "开始", "结束", "目标GMV", *[t(f"data.metric.{f}") for f in FIELDS]]
    body = [[s.id, rooms.get(s.room_id, ""), names.get(s.streamer_id or "", ""),
             s.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), s.ends_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
             s.target_gmv, *[v.get(f) for f in FIELDS]] for s, v in rows]
    return csvsafe.to_bytes(header, body)

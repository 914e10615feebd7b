"""Sandbox demo data: the past week's streams with figures, products and a per-minute trend,
so /数据, the weekly report and the briefing have something to show. Yesterday's 1号直播间
stream, and the one on the samples' day (added when the demo week does not reach back to it),
are left without data: upload the sample exports from tests/data to fill the latter."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.data import store
from bot.schedule.fields import window_on
from bot.schedule.models import ENDED, Room, StaffMember, Stream

PRODUCTS = ["花西子蜜粉", "珀莱雅双抗精华", "完美日记口红", "自然堂面霜", "三只松鼠坚果礼盒", "蕉下防晒伞",
            "卫龙辣条", "百草味肉脯"]
SAMPLE_DAY = date(2026, 11, 20)  # the day of tests/data/compass_summary.csv (1号直播间 19:00)
SLOTS = [("1号直播间", time(19), time(23), "李主播", 500_000), ("2号直播间", time(14), time(18), "周主播", 200_000)]


async def seed_demo_data(session: AsyncSession, *, now: datetime, tz: str, chat_id: str, days: int = 7) -> None:
    zone = ZoneInfo(tz)
    rooms = {r.name: r for r in (await session.execute(select(Room))).scalars()}
    staff = {s.name: s.open_id for s in (await session.execute(select(StaffMember))).scalars()}
    rng = random.Random(20261120)
    today = now.astimezone(zone).date()
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        for room_name, start, end, streamer, target in SLOTS:
            room = rooms.get(room_name)
            if room is None:
                continue
            starts_at, ends_at = window_on(day, start, end, tz)
            late = timedelta(minutes=rng.choice([0, 0, 0, 2, 12]))
            stream = Stream(room_id=room.id, starts_at=starts_at, ends_at=ends_at, streamer_id=staff.get(streamer),
                            target_gmv=target, status=ENDED, actual_start=starts_at + late, actual_end=ends_at,
                            chat_id=chat_id, source="demo", created_at=now, updated_at=now, theme="日常场")
            session.add(stream)
            await session.flush()
            if room_name == "1号直播间" and (back == 1 or day == SAMPLE_DAY):
                continue  # left for the sample upload
            await _figures(session, stream, target, rng, now)
    await sample_stream(session, rooms, staff, now=now, tz=tz, chat_id=chat_id)


async def sample_stream(session: AsyncSession, rooms: dict, staff: dict, *, now: datetime, tz: str,
                        chat_id: str) -> None:
    """The stream the README's sample exports belong to (1号直播间, 2026-11-20 19:00–23:00),
    without figures, when the demo week does not already hold it: uploading the samples then
    fills it, and never another room's stream (bot.data.placing)."""
    room = rooms.get("1号直播间")
    starts_at, ends_at = window_on(SAMPLE_DAY, time(19), time(23), tz)
    if room is None or ends_at > now:
        return
    if (await session.execute(select(Stream.id).where(Stream.room_id == room.id, Stream.starts_at == starts_at))).first():
        return  # the demo week holds it
    session.add(Stream(room_id=room.id, starts_at=starts_at, ends_at=ends_at, streamer_id=staff.get("李主播"),
                       target_gmv=500_000, status=ENDED, actual_start=starts_at, actual_end=ends_at, chat_id=chat_id,
                       source="demo", created_at=now, updated_at=now, theme="双12预热 家居好物专场"))
    await session.flush()


async def _figures(session: AsyncSession, stream: Stream, target: int, rng: random.Random, now: datetime) -> None:
    uv = rng.randint(25_000, 45_000)
    buyers = int(uv * rng.uniform(0.015, 0.06))
    gmv = round(buyers * rng.uniform(110, 170), 2)
    values = {"gmv": gmv, "uv": uv, "pv": int(uv * 1.5), "buyers": buyers, "orders": int(buyers * 1.1),
              "items": int(buyers * 1.8), "new_fans": rng.randint(120, 420), "avg_dwell": rng.randint(60, 130),
              "click_uv": int(uv * 0.18), "exposure_uv": int(uv * 0.7)}
    await store.save_values(session, stream.id, values, source="demo", by="", now=now)
    share = [rng.random() for _ in PRODUCTS]
    total = sum(share)
    rows = []
    for i, (name, part) in enumerate(zip(PRODUCTS, share)):
        p_buyers = max(1, int(buyers * part / total))
        clicks = max(p_buyers, int(values["click_uv"] * part / total))
        rows.append({"product_id": f"P{1001 + i}", "name": name, "gmv": round(gmv * part / total, 2),
                     "items": int(p_buyers * 1.6), "buyers": p_buyers, "click_uv": clicks,
                     "click_deal_rate": round(p_buyers / clicks, 4)})
    await store.save_products(session, stream.id, rows)
    minutes = int((stream.ends_at - stream.starts_at).total_seconds() // 60)
    online, points = 200, []
    for m in range(minutes):
        online = max(50, int(online + rng.gauss(12 if m < minutes // 3 else -4, 40)))
        points.append({"minute": stream.starts_at + timedelta(minutes=m), "online": online,
                       "entering": online // 3, "leaving": online // 4})
    await store.save_trend(session, stream.id, points)

"""Demo data for the sandbox: three rooms, the team's job titles, and a week of streams
starting today (slots already over are left out). Does nothing when rooms already exist."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.schedule import service
from bot.schedule.fields import window_on
from bot.schedule.models import CONFIRMED, PENDING, TITLES, Room

ROOMS = [("1号直播间", ["1号间", "一号间", "A1", "美妆间"], "抖音"),
         ("2号直播间", ["2号间", "二号间", "A2", "食品间"], "抖音"),
         ("3号直播间", ["3号间", "三号间", "A3"], "快手")]
# (room index, start, end, streamer, assistant, field control, console, brand, theme, target)
SLOTS = [(0, time(19), time(23), "李主播", "陈助播", "张场控", "刘中控", "花西子", "双12预热", 500_000),
         (1, time(14), time(18), "周主播", None, "张场控", None, "三只松鼠", "零食节", 200_000),
         (2, time(22), time(2), "周主播", None, None, None, "蕉下", "夜场福利", 300_000)]
BRANDS = ["花西子", "珀莱雅", "完美日记", "花西子", "自然堂", "花西子", "珀莱雅"]


def title_of(job: str) -> str:
    return job if job in TITLES else "运营" if "运营" in job else job[:8]


async def seed_demo(session: AsyncSession, *, now: datetime, tz: str, team: list[tuple[str, str, str]],
                    team_chat_id: str, field_chat_id: str | None = None) -> None:
    """``team``: (open_id, name, job title) of each demo person."""
    if (await session.execute(select(Room.id))).first() is not None:
        return
    rooms = []
    for i, (name, aliases, platform) in enumerate(ROOMS):
        rooms.append(await service.add_room(session, name=name, aliases=aliases, platform=platform, now=now,
                                            field_chat_id=field_chat_id if i == 0 else None))
    ids = {}
    for open_id, name, job in team:
        await service.add_person(session, open_id=open_id, name=name, titles=[title_of(job)], by="", now=now)
        ids[name] = open_id
    tech = next((oid for oid, _name, job in team if title_of(job) == "技术"), None)
    today = now.astimezone(ZoneInfo(tz)).date()
    for day in range(7):
        d = today + timedelta(days=day)
        for n, (room, start, end, streamer, assistant, field, console, brand, theme, target) in enumerate(SLOTS):
            if room == 2 and day % 2:
                continue
            starts_at, ends_at = window_on(d, start, end, tz)
            if ends_at <= now:
                continue
            people = {"streamer_id": ids.get(streamer), "assistant_id": ids.get(assistant or ""),
                      "field_control_id": ids.get(field or ""), "console_id": ids.get(console or ""),
                      "tech_id": tech}
            await service.add_stream(
                session, room=rooms[room], starts_at=starts_at, ends_at=ends_at, people=people,
                brand=BRANDS[day] if n == 0 else brand, theme=theme, target_gmv=target,
                status=CONFIRMED if day < 2 else PENDING, chat_id=team_chat_id, by="", now=now,
                source="demo", tz=tz)

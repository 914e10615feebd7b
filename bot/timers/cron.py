"""Crontab lines ("m h dom mon dow") for reminders of kind ``cron``: read with APScheduler 3's
CronTrigger, weekdays translated from the standard numbering (0 or 7 = Sunday, 1 = Monday)
to APScheduler's names (it would read 0 as Monday). ``L`` as the day of the month is its
last day."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_dow(field_text: str) -> str:
    """Standard cron weekdays (0/7 = Sunday, 1 = Monday) → APScheduler 3 names, which
    otherwise reads 0 as Monday."""
    def conv(token: str) -> str:
        if token.isdigit():
            n = int(token)
            if not 0 <= n <= 7:
                raise ValueError(f"day of week {token} is out of range 0-7")
            return DOW_NAMES[n]
        return token

    parts = []
    for item in field_text.split(","):
        step = ""
        if "/" in item:
            item, step = item.split("/", 1)
            step = "/" + step
        if "-" in item:
            a, b = item.split("-", 1)
            a2, b2 = conv(a), conv(b)
            if b2 == "sun" and a2 != "sun":  # "1-7" → mon-sun: sun is last for APScheduler
                parts.append(f"{a2}-sun{step}")
                continue
            if a2 == "sun" and b2 != "sun":  # "0-5" → sun plus mon-fri
                parts.append("sun")
                parts.append(f"mon-{b2}{step}" if b2 != "mon" else "mon")
                continue
            parts.append(f"{a2}-{b2}{step}")
        else:
            parts.append(conv(item) + step if item != "*" else "*" + step)
    return ",".join(parts)


def cron_trigger(expr: str, tz: str) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    values = expr.split()
    if len(values) != 5:
        raise ValueError(f"a cron expression needs 5 fields (minute hour day month weekday), got {len(values)}")
    minute, hour, dom, month, dow = values
    dom = "last" if dom.upper() == "L" else dom
    try:
        return CronTrigger(minute=minute, hour=hour, day=dom, month=month,
                           day_of_week=cron_dow(dow), timezone=ZoneInfo(tz))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad cron expression {expr!r}: {exc}") from exc

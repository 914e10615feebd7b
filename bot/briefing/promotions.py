"""The e-commerce promotion calendar: the next big promotion and the days until it."""
from __future__ import annotations

from datetime import date

# (month, day, zh, en) every year
YEARLY = [(3, 8, "38节", "Women's Day (3.8)"), (5, 20, "520", "520"), (6, 18, "618", "618"),
          (9, 9, "99大促", "9.9"), (11, 11, "双11", "Double 11"), (12, 12, "双12", "Double 12")]
# 年货节 runs up to Chinese New Year (the date moves)
NEW_YEAR = {2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
            2030: date(2030, 2, 3)}


def upcoming(today: date, locale: str = "zh_CN") -> tuple[str, date, int]:
    """(name, date, days until) of the next promotion on or after ``today``."""
    found: list[tuple[date, str, str]] = []
    for year in (today.year, today.year + 1):
        for month, day, zh, en in YEARLY:
            found.append((date(year, month, day), zh, en))
        if year in NEW_YEAR:
            found.append((NEW_YEAR[year], "年货节（春节）", "New Year shopping festival (Spring Festival)"))
    when, zh, en = min(f for f in found if f[0] >= today)
    return (en if locale == "en_US" else zh), when, (when - today).days

"""The atoms of a time expression: small regular expressions and what each match means.

:func:`scan` finds, in a normalised text, every *atom* — a day ("明天"), a weekday, a date, a
period of the day ("晚上"), a clock time, a range, an offset ("1小时20分钟后"), a deadline
("3个工作日内"), a recurrence ("每周一") — the longest match at each position winning. Each
pattern has a builder that turns its match into plain data, or raises ``Bad`` for a
malformed one ("25:00"). Used by timeparse; see GRAMMAR.md for the forms.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from bot.timeparse import words as tw
from bot.timers.recurrence import LAST_DAY, Recurrence
from bot.timeparse.words import (EN_NUM, HNUM, NUM, PERIOD_WORDS, Bad, amount, check_date, cn_number,
                                     duration, en_month, en_parts, en_weekday, time_data, total_minutes,
                                     zh_parts, zh_weekday)


@dataclass
class _Atom:
    kind: str
    start: int
    end: int
    data: dict[str, Any]
    error: Bad | None = None
    order: int = 0


NUM_START = r"(?:[0-9]|[二两兩三四五六七八九十]|一(?!点|點))"
ZH_DAYCHAR = "[一二三四五六日天1-7]"
ZH_WEEK = r"(?:周|星期|礼拜|禮拜|週)"
EN_DAY = (r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
          r"|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)")
EN_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
            r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)")
AMPM = r"(?:a\.?m\.?|p\.?m\.?)"
_B = r"(?<![a-z])"  # English word start
_E = r"(?![a-z])"  # English word end


# Builders: (match, mode) → data dict, or None to ignore the match; raise Bad for malformed.
Builder = Callable[[re.Match[str], str], "dict[str, Any] | None"]


def _b_offset(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    """"1小时20分钟后", "in 1h20m", "2 days 3 hours later": {"months", "days", "minutes"}."""
    return duration(m.group("parts"), and_a_half=bool(m.groupdict().get("andhalf")))


_DAY_WORDS: dict[str, tuple[int, str | None]] = {
    "今天": (0, None), "今日": (0, None), "今儿": (0, None), "明天": (1, None), "明日": (1, None),
    "明儿": (1, None), "后天": (2, None), "後天": (2, None), "大后天": (3, None), "大後天": (3, None),
    "昨天": (-1, None), "昨晚": (-1, "evening"),
    "今晚": (0, "evening"), "今夜": (0, "evening"), "明晚": (1, "evening"), "明夜": (1, "evening"),
    "今早": (0, "early"), "今晨": (0, "early"), "明早": (1, "early"), "明晨": (1, "early"),
    "today": (0, None), "tonight": (0, "evening"), "tomorrow": (1, None), "tomorow": (1, None),
    "tmr": (1, None), "tmrw": (1, None), "yesterday": (-1, None),
}


def _b_day(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    word = re.sub(r"\s+", " ", m.group("w"))
    if "after tomorrow" in word:
        return {"offset": 2, "period": None}
    offset, period = _DAY_WORDS[word]
    return {"offset": offset, "period": period}


def _b_weekday_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    mod = m.group("mod") or ""
    kind = None
    if mod.startswith("下下"):
        kind = "next2"
    elif mod.startswith("下"):
        kind = "next"
    elif mod.startswith(("本", "这", "這")):
        kind = "this"
    elif mod.startswith("上"):
        kind = "last"
    return {"wd": zh_weekday(m.group("d")), "mod": kind}


def _b_weekday_en(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    mod = m.group("mod")
    word = m.group("d")
    if word in ("sat", "sun") and mod in (None, "on"):
        return None  # "sat"/"sun" are ordinary words; need "next sat" / "this sun"
    kind = {"next": "next", "this": "this", "coming": None, "on": None, None: None}[mod]
    return {"wd": en_weekday(word), "mod": kind}


def _b_date_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    y = int(m.group("y")) if m.group("y") else None
    rel = {"今年": 0, "明年": 1, "后年": 2, "後年": 2}.get(m.group("ry") or "", None)
    mo, d = cn_number(m.group("m")), cn_number(m.group("d"))
    check_date(y, mo, d, m.group(0).strip())
    return {"y": y, "rel_year": rel, "m": mo, "d": d}


def _b_date_rel_month(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    rel = m.group("rel")
    months = 2 if rel.startswith("下下") else 1 if rel.startswith("下") else 0
    d = cn_number(m.group("d"))
    if not 1 <= d <= 31:
        raise Bad("time.err.bad_date", text=m.group(0))
    return {"y": None, "rel_year": None, "rel_month": months, "m": 0, "d": d}


def _b_date_iso(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    check_date(y, mo, d, m.group(0).strip())
    return {"y": y, "rel_year": None, "m": mo, "d": d}


def _b_date_md(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    mo, d = int(m.group("m")), int(m.group("d"))
    try:
        check_date(None, mo, d, m.group(0))
    except Bad:
        return None  # "12-45" is probably not a date at all
    return {"y": None, "rel_year": None, "m": mo, "d": d}


def _b_date_en(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    y = int(m.group("y")) if m.group("y") else None
    mo, d = en_month(m.group("mon")), int(m.group("d"))
    check_date(y, mo, d, m.group(0).strip())
    return {"y": y, "rel_year": None, "m": mo, "d": d}


def _b_mday(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    d = cn_number(m.group("d"))
    if not 1 <= d <= 31:
        raise Bad("time.err.day_of_month", text=m.group(0))
    return {"d": d}


def _b_period(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"period": PERIOD_WORDS[m.group("p")]}


def _b_time_colon(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    ap = m.group("ap")
    h, mi = int(m.group("h")), int(m.group("m"))
    return time_data(h, mi, "ampm" if ap else "colon", m.group(0).strip(), ap[0] if ap else None)


_LOOSE_ONE = set("快慢早晚多少好大小高低近远轻重简差有再这那我你他她它们")
_LOOSE_AFTER = set("儿兒都也点點不没沒就吧啊嘛呢")


def _b_time_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    h_text = m.group("h")
    text = m.group(0)
    start = m.start()
    if h_text == "一" and not m.group("m") and not m.group("half") and not m.group("q"):
        before = m.string[start - 1] if start > 0 else ""
        after = m.string[m.end():m.end() + 1]
        if before in _LOOSE_ONE or after in _LOOSE_AFTER:  # 快一点 / 一点儿 / 一点都: not a time
            return None
    h = cn_number(h_text)
    mi = 0
    if m.group("half"):
        mi = 30
    elif m.group("q"):
        mi = 15 if m.group("q") in ("一", "1") else 45
    elif m.group("m"):
        mi = cn_number(m.group("m"))
    return time_data(h, mi, "cn", text.strip())


def _b_time_ampm(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    h = int(m.group("h"))
    mi = int(m.group("m")) if m.group("m") else 0
    return time_data(h, mi, "ampm", m.group(0).strip(), m.group("ap")[0])


def _b_time_bare(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return time_data(int(m.group("h")), 0, "bare", m.group(0).strip())


def _b_range_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    a = time_data(cn_number(m.group("h1")), 30 if m.group("half1") else 0, "cn", m.group(0))
    b = time_data(cn_number(m.group("h2")), 30 if m.group("half2") else 0, "cn", m.group(0))
    return {"a": a, "b": b}


def _b_recur_daily(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    p = m.groupdict().get("p")
    return {"kind": "daily", "period": PERIOD_WORDS.get(p) if p else None}


def _b_recur_workday(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"kind": "workday"}


def _days_from_list(text: str, zh: bool) -> list[int]:
    if zh:
        tokens = re.findall(r"[一二三四五六日天1-7]|至|到|-|~", text)
        to_day: Callable[[str], int] = zh_weekday
    else:
        tokens = re.findall(EN_DAY + r"|-|to|through", text)
        to_day = en_weekday
    days: list[int] = []
    pending_range = False
    for tok in tokens:
        if tok in ("至", "到", "-", "~", "to", "through"):
            pending_range = bool(days)
            continue
        d = to_day(tok)
        if pending_range:
            start = days[-1]
            span = (d - start) % 7
            days.extend((start + i) % 7 for i in range(1, span + 1))
            pending_range = False
        else:
            days.append(d)
    return sorted(set(days))


def _b_recur_weekly_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    if m.groupdict().get("weekend"):
        return {"kind": "weekly", "weekdays": [5, 6]}
    return {"kind": "weekly", "weekdays": _days_from_list(m.group("days"), zh=True)}


def _b_recur_weekly_en(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"kind": "weekly", "weekdays": _days_from_list(m.group("days"), zh=False)}


def _b_recur_monthly(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    g = m.groupdict()
    if g.get("lastwd"):
        return {"kind": "monthly", "month_day": LAST_DAY, "shift": "before"}
    if g.get("firstwd"):
        return {"kind": "monthly", "month_day": 1, "shift": "after"}
    if g.get("last"):
        return {"kind": "monthly", "month_day": LAST_DAY, "shift": None}
    d = cn_number(g["d"])
    if not 1 <= d <= 31:
        raise Bad("time.err.monthly_day", text=m.group(0))
    return {"kind": "monthly", "month_day": d, "shift": None}


def _b_recur_interval(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    g = m.groupdict()
    if g.get("parts"):  # "每1小时30分钟", "every 1h30m"
        minutes = total_minutes(duration(g["parts"]) or {})
    else:
        n = amount(g.get("n"))
        if g.get("half"):
            n += 0.5
        unit = g["unit"]
        minutes = n * 60 if unit in ("小时", "小時", "钟头", "鐘頭") or unit.startswith("h") else n
    if minutes != int(minutes) or not 1 <= minutes <= 24 * 60:
        raise Bad("time.err.interval", text=m.group(0))
    return {"kind": "interval", "minutes": int(minutes)}


def _b_recur_hourly(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"kind": "interval", "minutes": 60}


def _b_cron(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    expr = " ".join(m.group("expr").split())
    try:
        Recurrence.from_cron(expr)
    except ValueError as exc:
        raise Bad("time.err.cron", text=expr, error=str(exc)) from exc
    return {"kind": "cron", "cron": expr}


def _b_month_end(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    g = m.groupdict()
    return {"months": 1 if (g.get("next") or g.get("nextm")) else 0}


def _b_year_end(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"years": 1 if m.groupdict().get("next") else 0}


def _b_week_end(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"weeks": 1 if m.groupdict().get("next") else 0}


def _b_within(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    g = m.groupdict()
    if g.get("parts"):  # "1小时20分钟内", "2天3小时内", "within 1 hour 20 minutes"
        parts = duration(g["parts"]) or {}
        if "minutes" not in parts:
            return {"days": parts.get("days", 0)}
        return {"minutes": total_minutes(parts)}
    n = amount(g["n"])
    unit = g["unit"]
    if "工作" in unit or "working" in unit or "business" in unit or "work" in unit:
        if n != int(n):
            return None
        return {"workdays": int(n)}
    if unit in ("天", "日") or unit.startswith("day"):
        return {"days": n}
    if unit in ("周", "星期") or unit.startswith("week"):
        return {"days": n * 7}
    if unit in ("小时", "小時") or unit.startswith("hour"):
        return {"minutes": n * 60}
    return {"minutes": n}


_DAYLIST_ZH = (rf"{ZH_DAYCHAR}(?![0-9:点點时時])(?:(?:\s*(?:[、,/&]|和|及|与|跟|以及|至|到|-|~)\s*)?"
               rf"{ZH_WEEK}?{ZH_DAYCHAR}(?![0-9:点點时時]))*")
_DAYLIST_EN = rf"{EN_DAY}s?(?:\s*(?:,|and|&|/|or|-|to|through)\s*{EN_DAY}s?)*"
_AFTER_ZH = r"(?:之后|以后|以後|之後|后|後)"
_EN_WORKDAY = r"(?:working|business|work)\s+day"
_EN_ORDINAL = r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?"
_EN_MONTH_DAY = (rf"(?:(?P<lastwd>last\s+{_EN_WORKDAY})|(?P<firstwd>first\s+{_EN_WORKDAY})|(?P<last>last\s+day)"
                 rf"|(?:day\s+)?{_EN_ORDINAL})")
_ZH_MONTH_DAY = (rf"(?:(?P<d>{HNUM})\s*(?:号|號|日)|(?P<lastwd>最后一个工作日|最后1个工作日|最後一個工作日)"
                 rf"|(?P<firstwd>第一个工作日|第1个工作日)|(?P<last>最后一天|最后1天|最後一天|月底|月末|底|末))")
_ZH_PERIODS = "凌晨|半夜|深夜|清晨|早上|早晨|一早|早间|上午|中午|午间|下午|午后|傍晚|黄昏|晚上|晚间|夜里|夜间|夜晚|下班"
_ZH_DAYS = "大后天|大後天|后天|後天|今天|今日|今儿|明天|明日|明儿|今晚|今夜|明晚|明夜|今早|今晨|明早|明晨|昨天|昨晚"
_EN_DAYS = r"(?:the\s+)?day\s+after\s+tomorrow|today|tonight|tomorrow|tomorow|tmrw|tmr|yesterday"
_EN_YEAR = r"(?:\s*,?\s*(?P<y>[0-9]{4}))?"
_WEEK_MOD_ZH = r"(?P<mod>下下个?|下个?|下個|本|这个?|這個?|上个?)?"

_PATTERNS: list[tuple[str, str, Builder]] = [
    # recurrences
    ("RECUR", r"cron\s*[:=]?\s*[\"'「“]?(?P<expr>(?:[0-9a-z*/,?#-]+\s+){4}[0-9a-z*/,?#-]+)[\"'」”]?", _b_cron),
    ("RECUR", r"每(?P<p>晚|早|夜)", _b_recur_daily),
    ("RECUR", rf"每天|每日|天天|每一天|{_B}(?:every\s*day|daily|each\s+day|every\s+single\s+day){_E}",
     _b_recur_daily),
    ("RECUR", r"(?<![0-9零一二两三四五六七八九十个個])(?:每一?个?)?工作日(?:的)?(?:每天|每日)?", _b_recur_workday),
    ("RECUR", rf"{_B}(?:every|each|on)\s+(?:weekday|{_EN_WORKDAY}|workday)s?{_E}|{_B}weekdays{_E}",
     _b_recur_workday),
    ("RECUR", rf"每一?个?{ZH_WEEK}\s*(?P<days>{_DAYLIST_ZH})|每一?个?(?P<weekend>周末)", _b_recur_weekly_zh),
    ("RECUR", rf"{_B}(?:every|each)\s+(?P<days>{_DAYLIST_EN}){_E}", _b_recur_weekly_en),
    ("RECUR", rf"每一?个?月(?:的)?\s*{_ZH_MONTH_DAY}", _b_recur_monthly),
    ("RECUR", rf"{_B}(?:every\s+month|each\s+month|monthly)\s+on\s+(?:the\s+)?{_EN_MONTH_DAY}{_E}",
     _b_recur_monthly),
    ("RECUR", rf"{_B}on\s+the\s+{_EN_MONTH_DAY}\s+of\s+(?:every|each|the)\s+month{_E}", _b_recur_monthly),
    ("RECUR", rf"每(?:隔)?\s*(?P<parts>{zh_parts(tw.ZH_CLOCK_UNITS, least=2)})(?:一次)?", _b_recur_interval),
    ("RECUR", rf"每(?:隔)?\s*(?P<n>{NUM}(?:\.[0-9]+)?|半)?\s*个?\s*(?P<half>半)?\s*"
              rf"(?P<unit>分钟|分鐘|分|小时|小時|钟头|鐘頭)(?:一次)?", _b_recur_interval),
    ("RECUR", rf"{_B}every\s+(?P<parts>{en_parts(tw.EN_CLOCK_UNITS, least=2)}){_E}", _b_recur_interval),
    ("RECUR", rf"{_B}every\s+(?:(?P<n>[0-9]+|half\s+an?|an?|one|two|three|four|five|six|ten|fifteen|twenty"
              rf"|thirty)\s*)?(?P<unit>minutes?|mins?|hours?|hrs?|h|m){_E}", _b_recur_interval),
    ("RECUR", rf"{_B}hourly{_E}", _b_recur_hourly),
    # offsets
    ("OFFSET", rf"(?P<parts>{zh_parts()})\s*{_AFTER_ZH}", _b_offset),
    ("OFFSET", rf"再?过\s*(?P<parts>{zh_parts()})(?:\s*{_AFTER_ZH})?", _b_offset),
    ("OFFSET", rf"{_B}in\s+(?P<parts>{en_parts()})(?P<andhalf>\s+and\s+a\s+half)?{_E}", _b_offset),
    ("OFFSET", rf"(?<![0-9a-z])(?P<parts>{en_parts()})(?P<andhalf>\s+and\s+a\s+half)?\s+(?:later|from\s+now){_E}",
     _b_offset),
    # deadlines
    ("WITHIN", rf"(?P<n>{NUM}|半)\s*个?\s*(?P<unit>工作日|工作天|小时|小時|天|日|周|星期|分钟)\s*(?:之内|以内|内|內)",
     _b_within),
    ("WITHIN", rf"(?P<parts>{zh_parts(tw.ZH_SPAN_UNITS, least=2)})\s*(?:之内|以内|内|內)", _b_within),
    ("WITHIN", rf"{_B}within\s+(?P<parts>{en_parts(tw.EN_SPAN_UNITS, least=2)}){_E}", _b_within),
    ("WITHIN", rf"{_B}within\s+(?P<n>{EN_NUM})\s+(?P<unit>{_EN_WORKDAY}s?|days?|hours?|weeks?|minutes?){_E}",
     _b_within),
    ("MONTHEND", r"(?P<next>下个?月|下個月)(?:月底|月末|底|末)|(?:本月|这个月|這個月)(?:月底|月末|底|末)|月底|月末",
     _b_month_end),
    ("MONTHEND", rf"{_B}(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?P<nextm>next\s+)?month{_E}", _b_month_end),
    ("YEAREND", rf"(?P<next>明年)?(?:年底|年末)|{_B}(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?year{_E}",
     _b_year_end),
    ("WEEKEND", rf"本周内|这周内|本星期内|這週內|{_B}(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?week{_E}"
                rf"|{_B}this\s+week{_E}|(?P<next>下周内|下个星期内|{_B}next\s+week{_E})", _b_week_end),
    # days and dates
    ("DAY", rf"(?P<w>{_ZH_DAYS})", _b_day),
    ("DAY", rf"{_B}(?P<w>{_EN_DAYS}){_E}", _b_day),
    ("WEEKDAY", rf"{_WEEK_MOD_ZH}\s*{ZH_WEEK}(?P<d>{ZH_DAYCHAR})(?![0-9])", _b_weekday_zh),
    ("WEEKDAY", rf"{_B}(?:(?P<mod>next|this|coming|on)\s+)?(?P<d>{EN_DAY})\.?{_E}", _b_weekday_en),
    ("DATE", rf"(?:(?P<y>[0-9]{{4}})\s*年|(?P<ry>今年|明年|后年|後年))?"
             rf"\s*(?P<m>{HNUM})\s*月\s*(?P<d>{HNUM})\s*(?:日|号|號)?(?![0-9])", _b_date_zh),
    ("DATE", rf"(?P<rel>下下个?月|下个?月|下個月|本月|这个月|這個月)\s*(?P<d>{HNUM})\s*(?:号|號|日)",
     _b_date_rel_month),
    ("DATE", r"(?<![0-9])(?P<y>[0-9]{4})\s*[-/.年]\s*(?P<m>[0-9]{1,2})\s*[-/.月]\s*(?P<d>[0-9]{1,2})"
             r"\s*(?:日|号)?(?![0-9])", _b_date_iso),
    ("DATE", r"(?<![0-9:./-])(?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})"
             r"(?![0-9:/-]|\s*(?:点|點|时|時|:|a\.?m|p\.?m))", _b_date_md),
    ("DATE", rf"{_B}(?P<mon>{EN_MONTH})\.?\s+{_EN_ORDINAL}{_EN_YEAR}(?![0-9a-z:])", _b_date_en),
    ("DATE", rf"(?<![0-9]){_EN_ORDINAL}\s+(?:of\s+)?(?P<mon>{EN_MONTH}){_E}{_EN_YEAR}", _b_date_en),
    ("MDAY", rf"(?<![月0-9.])(?P<d>{HNUM})\s*(?:号|號|日)(?!\s*(?:后|以后|之后|後|内|內|游))", _b_mday),
    # periods and clock times
    ("PERIOD", rf"(?P<p>{_ZH_PERIODS}|早(?=\s*{NUM_START})|晚(?=\s*{NUM_START}))", _b_period),
    ("PERIOD", rf"{_B}(?:in\s+the\s+|this\s+)?(?P<p>morning|afternoon|evening|night){_E}", _b_period),
    ("TIME", rf"(?<![0-9])(?P<h>[0-9]{{1,2}})\s?:\s?(?P<m>[0-9]{{2}})(?::[0-9]{{2}})?"
             rf"(?:\s*(?P<ap>{AMPM})(?![a-z]))?(?![0-9])", _b_time_colon),
    ("TIME", rf"(?P<h>{HNUM})\s*(?:点|點|时|時)(?:钟|鐘|整)?"
             rf"(?:(?P<half>半)|(?P<q>[一1三3])刻|(?P<m>{HNUM})(?:分钟|分鐘|分)?)?", _b_time_zh),
    ("TIME", rf"(?<![0-9a-z:.])(?P<h>[0-9]{{1,2}})(?:[:.](?P<m>[0-9]{{2}}))?\s*(?P<ap>{AMPM})(?![a-z])",
     _b_time_ampm),
    ("TIME", rf"{_B}at\s+(?P<h>[0-9]{{1,2}})(?![0-9:]|\s*(?:{AMPM}|点|點|时|時|o'?clock|[-/.]))", _b_time_bare),
    ("TIME", r"(?<![0-9])(?P<h>[0-9]{1,2})\s*o'?clock", _b_time_bare),
    ("TIME", rf"{_B}(?P<s>noon|midday|midnight){_E}|(?P<zs>正午|午夜)", lambda m, mode: _b_time_special_any(m)),
    ("RANGE", rf"(?P<h1>{HNUM})(?:点|點)?(?P<half1>半)?\s*(?:-|~|〜|到|至)\s*(?P<h2>{HNUM})\s*(?:点|點)(?P<half2>半)?",
     _b_range_zh),
]


def _b_time_special_any(m: re.Match[str]) -> dict[str, Any] | None:
    word = m.group("s") or m.group("zs")
    if word in ("noon", "midday", "正午"):
        return time_data(12, 0, "colon", word)
    return time_data(0, 0, "colon", word, special="midnight")


_COMPILED = [(kind, re.compile(pat), build) for kind, pat, build in _PATTERNS]
# characters an atom can start with: a cheap filter before trying every pattern at a position
_QUICK = re.compile(r"[0-9零〇一二两兩三四五六七八九十每天今明后後大昨下本这這上周星礼禮週"
                    r"凌半深清早中午傍黄晚夜正工月年a-z过再]")


def scan(norm: str, mode: str) -> list[_Atom]:
    cands: list[_Atom] = []
    for order, (kind, pat, build) in enumerate(_COMPILED):
        if kind in ("WITHIN", "WEEKEND", "YEAREND") and mode != "deadline":
            continue
        for pos in range(len(norm)):
            if not _QUICK.match(norm, pos):
                continue
            m = pat.match(norm, pos)
            if not m or m.end() == m.start():
                continue
            s, e = m.start(), m.end()
            # trim whitespace the pattern may have swallowed at either end
            while s < e and norm[s].isspace():
                s += 1
            while e > s and norm[e - 1].isspace():
                e -= 1
            try:
                data = build(m, mode)
            except Bad as bad:
                cands.append(_Atom(kind, s, e, {}, bad, order))
                continue
            if data is None:
                continue
            cands.append(_Atom(kind, s, e, data, None, order))
    cands.sort(key=lambda a: (a.start, -(a.end - a.start), a.order))
    chosen: list[_Atom] = []
    taken = [False] * (len(norm) + 1)
    for atom in cands:
        if any(taken[i] for i in range(atom.start, atom.end)):
            continue
        for i in range(atom.start, atom.end):
            taken[i] = True
        chosen.append(atom)
    chosen.sort(key=lambda a: a.start)
    return chosen

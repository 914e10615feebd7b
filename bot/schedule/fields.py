"""Pure parsing for schedules: "label value" pairs of /排期 commands, money ("50万",
"¥500,000"), statuses, days and time windows, and booking-sheet column headers.

Nothing here touches the database or the clock; ``now``/``today`` are passed in.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.timeparse import parser
from bot.schedule.models import CANCELLED, CONFIRMED, ENDED, LIVE, PENDING

# Labels in commands ("主播 @李主播"), by field. Longer spellings first.
LABELS: dict[str, tuple[str, ...]] = {
    "streamer_id": ("主播", "streamer", "host"),
    "assistant_id": ("助播", "assistant"),
    "field_control_id": ("场控", "field"),
    "console_id": ("中控", "console"),
    "tech_id": ("值班技术", "技术", "tech"),
    "brand": ("品牌", "brand"),
    "theme": ("主题", "theme"),
    "target_gmv": ("目标gmv", "gmv目标", "目标", "target", "gmv"),
    "start": ("开始时间", "开播时间", "开始", "开播", "start"),
    "end": ("结束时间", "下播时间", "结束", "下播", "end"),
    "time": ("时间段", "时段", "时间", "time"),
    "date": ("日期", "date", "day"),
    "room": ("直播间", "房间", "room"),
    "status": ("状态", "status"),
    "reason": ("原因", "理由", "reason"),
}
_LABEL_OF = {word: name for name, words in LABELS.items() for word in words}

STATUS_WORDS = {
    "待确认": PENDING, "待定": PENDING, "未确认": PENDING, "pending": PENDING, "tentative": PENDING,
    "已确认": CONFIRMED, "确认": CONFIRMED, "确定": CONFIRMED, "confirmed": CONFIRMED,
    "已取消": CANCELLED, "取消": CANCELLED, "cancelled": CANCELLED, "canceled": CANCELLED,
    "直播中": LIVE, "live": LIVE, "已结束": ENDED, "结束": ENDED, "ended": ENDED, "done": ENDED,
}


def norm(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


@dataclass
class Args:
    head: list[str] = field(default_factory=list)  # words before the first label
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (field, value) in order

    def get(self, name: str) -> str | None:
        found = [v for f, v in self.pairs if f == name]
        return found[-1] if found else None


def label_of(word: str) -> str | None:
    return _LABEL_OF.get(norm(word))


def split_args(text: str) -> Args:
    """"1号直播间 明天 19:00-23:00 主播 @李主播 品牌:花西子 主题 双12 预热" →
    head ["1号直播间", "明天", "19:00-23:00"], pairs [(streamer, @李主播), (brand, 花西子),
    (theme, "双12 预热")]. A value runs until the next label; "label:value" and
    "label@name" written without a space work too."""
    return split_labeled(text, _LABEL_OF)


def split_labeled(text: str, labels: dict[str, str]) -> Args:
    """The same for any table of labels (normalised word → field name)."""
    glue = re.compile("^(" + "|".join(sorted(map(re.escape, labels), key=len, reverse=True))
                      + r")\s*(?:[:：=]\s*|(?=@))(.*)$")
    out = Args()
    current: str | None = None
    values: list[str] = []

    def close() -> None:
        if current is not None:
            out.pairs.append((current, " ".join(values).strip()))

    for word in text.split():
        name = labels.get(norm(word))
        glued = None if name else glue.match(unicodedata.normalize("NFKC", word).lower())
        if name or glued:
            close()
            values = []
            if glued:
                name = labels[glued.group(1)]
                rest = word[len(word) - len(glued.group(2)):] if glued.group(2) else ""
                values = [rest] if rest else []
            current = name
        elif current is None:
            out.head.append(word)
        else:
            values.append(word)
    close()
    return out


# -- money ------------------------------------------------------------------------------------
_MONEY = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>万|w|千|k|亿)?$")
_UNITS = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000, "亿": 100_000_000}


def parse_amount(text: object, scale: int = 1) -> int | None:
    """"50万" → 500000, "¥500,000" → 500000, "1.2w" → 12000, "-"/"" → None. ``scale``
    multiplies a plain number (a column headed "目标GMV(万)"). Raises ValueError."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(float(text) * scale + 0.5)
    s = norm(str(text)).replace(",", "").removeprefix("目标")
    if s.startswith(("¥", "￥", "rmb")) or s.endswith("元") and not s.endswith("万元"):
        scale = 1  # written in yuan: the column's unit does not apply
    s = s.lstrip("¥￥").removeprefix("rmb").removesuffix("元")
    if s in ("", "-", "—", "无", "none", "n/a"):
        return None
    m = _MONEY.match(s)
    if not m:
        raise ValueError(str(text))
    unit = m.group("unit")
    factor = _UNITS[unit] if unit else scale
    value = float(m.group("n")) * factor
    if value > 10 ** 13:
        raise ValueError(str(text))
    return int(value + 0.5)


def format_amount(value: int | None, locale: str = "zh_CN") -> str:
    if value is None:
        return "-"
    if locale != "en_US" and value >= 10_000 and value % 100 == 0:
        wan = value / 10_000
        return f"{wan:g}万"
    return f"¥{value:,}"


def parse_status(text: str) -> str | None:
    return STATUS_WORDS.get(norm(text)) if text and norm(text) else None


# -- days and windows ---------------------------------------------------------------------------
def resolve_day(text: str, today: date, tz: str) -> date:
    """The local day a time expression is on ("明天", "周六", "12月1日", none → today)."""
    zone = ZoneInfo(tz)
    midnight = datetime.combine(today, time(0), tzinfo=zone)
    try:
        parsed = parser.parse(text, midnight, tz)
    except parser.PastTimeError as exc:
        return exc.when.astimezone(zone).date()
    return parsed.when.astimezone(zone).date()


def stream_window(text: str, today: date, tz: str) -> tuple[datetime, datetime]:
    """"明天 19:00-23:00" → (start, end) in UTC; "19:00-01:00" ends the next day.
    Raises parser.TimeParseError (a message in both languages)."""
    day = resolve_day(text, today, tz)
    return parser.parse_range(text, day, tz)


def clock_time(text: object) -> time:
    """"19:00", "19：00", "19:00:00", "19点", "7点半", a datetime.time → time. Raises ValueError."""
    if isinstance(text, datetime):
        return text.time().replace(second=0, microsecond=0)
    if isinstance(text, time):
        return text.replace(second=0, microsecond=0)
    if isinstance(text, (int, float)) and 0 <= float(text) < 1:  # an Excel day fraction
        minutes = int(round(float(text) * 24 * 60))
        return time(minutes // 60 % 24, minutes % 60)
    s = norm(str(text))
    m = re.match(r"^(\d{1,2})(?::(\d{2}))?(?::\d{2})?$", s) or re.match(r"^(\d{1,2})[点時时](?:(\d{1,2})分?|(半))?$", s)
    if not m:
        raise ValueError(str(text))
    h = int(m.group(1))
    mi = 30 if m.lastindex == 3 and m.group(3) else int(m.group(2) or 0)
    if h == 24 and mi == 0:
        return time(0, 0)
    if not (0 <= h <= 23 and 0 <= mi <= 59):
        raise ValueError(str(text))
    return time(h, mi)


def window_on(day: date, start: time, end: time, tz: str) -> tuple[datetime, datetime]:
    """Start and end on ``day`` (local); an end not after the start is on the next day."""
    zone = ZoneInfo(tz)
    s = datetime.combine(day, start, tzinfo=zone)
    e = datetime.combine(day, end, tzinfo=zone)
    if e <= s:
        e = datetime.combine(day + timedelta(days=1), end, tzinfo=zone)
    return s.astimezone(ZoneInfo("UTC")), e.astimezone(ZoneInfo("UTC"))


_YMD = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\D.*)?$")
_MD = re.compile(r"^(\d{1,2})[-/.月](\d{1,2})[日号]?(?:\D.*)?$")


def sheet_date(value: object, today: date) -> date:
    """A date cell: a date/datetime, "2026-11-30", "2026/11/30", "2026年11月30日",
    "11月30日", "11/30", "11-30" (no year: the one nearest to today). Raises ValueError."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = norm(str(value))
    m = _YMD.match(s)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _MD.match(s)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        options = []
        for year in (today.year - 1, today.year, today.year + 1):
            try:
                options.append(date(year, month, day))
            except ValueError:
                continue
        if options:
            return min(options, key=lambda d: abs((d - today).days))
    raise ValueError(str(value))


# -- booking-sheet headers ----------------------------------------------------------------------
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("日期", "直播日期", "开播日期", "date", "day"),
    "start": ("开始时间", "开始", "开播时间", "开播", "上播时间", "start", "starttime", "start_time"),
    "end": ("结束时间", "结束", "下播时间", "下播", "end", "endtime", "end_time"),
    "time": ("时间", "时间段", "时段", "直播时间", "直播时段", "档期", "time", "slot"),
    "room": ("直播间", "房间", "直播间名称", "间", "room", "studio"),
    "streamer_id": ("主播", "主播姓名", "达人", "streamer", "host"),
    "assistant_id": ("助播", "副播", "assistant"),
    "field_control_id": ("场控", "fieldcontrol", "field"),
    "console_id": ("中控", "console"),
    "tech_id": ("值班技术", "技术", "技术值班", "tech"),
    "brand": ("品牌", "品牌方", "brand"),
    "theme": ("主题", "直播主题", "专场", "theme"),
    "target_gmv": ("目标gmv", "gmv目标", "目标", "目标销售额", "销售目标", "target", "targetgmv"),
    "status": ("状态", "status"),
}
_HEADER_OF = {norm(word): name for name, words in COLUMNS.items() for word in words}
_BRACKETS = re.compile(r"[(\[（【].*?[)\]）】]")


def column_for(header: object) -> tuple[str | None, int]:
    """A header cell → (field, scale). Brackets (half or full width) are dropped for the
    match; "(万)"/"（万元）" in a money column's brackets sets the scale to 10000."""
    raw = unicodedata.normalize("NFKC", str(header or "")).strip()
    bracketed = "".join(_BRACKETS.findall(raw))
    name = _HEADER_OF.get(norm(_BRACKETS.sub("", raw)))
    scale = 10_000 if name == "target_gmv" and "万" in bracketed else 1
    return name, scale


# -- changing a stream's time ---------------------------------------------------------------------
_DATE_HINT = re.compile(
    r"今天|今日|明天|明日|后天|後天|今晚|明晚|今早|明早|周[一二三四五六日天1-7]|星期|礼拜|下周|本周|这周"
    r"|\d{1,2}\s*月\s*\d{1,2}|\d{1,2}\s*[号日]|\d{4}[-/.年]|(?<![\d:])\d{1,2}/\d{1,2}(?![\d:])"
    r"|today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|\b(?:mon|tue|wed|thu|fri|sat|sun)\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d")


def has_date(text: str) -> bool:
    return bool(_DATE_HINT.search(parser.normalize(text)))


def moved_window(starts_at: datetime, ends_at: datetime, *, today: date, tz: str, date_text: str | None = None,
                 time_text: str | None = None, start_text: str | None = None,
                 end_text: str | None = None) -> tuple[datetime, datetime]:
    """A stream's new (start, end) after "日期 明天", "时间 20:00-24:00", "开始 20:00",
    "结束 01:00". A new date keeps the clock times; a new range without a date stays on the
    stream's day; a new start keeps the end; an end not after the start is the next day.
    Raises ValueError / parser.TimeParseError."""
    zone = ZoneInfo(tz)
    utc = ZoneInfo("UTC")
    day = starts_at.astimezone(zone).date()
    if date_text:
        new_day = resolve_day(date_text, today, tz)
        s_local, e_local = starts_at.astimezone(zone), ends_at.astimezone(zone)
        shift = new_day - day
        starts_at = datetime.combine(new_day, s_local.time(), tzinfo=zone).astimezone(utc)
        ends_at = datetime.combine(e_local.date() + shift, e_local.time(), tzinfo=zone).astimezone(utc)
        day = new_day
    if time_text:
        if has_date(time_text):
            day = resolve_day(time_text, today, tz)
        starts_at, ends_at = parser.parse_range(time_text, day, tz)
    if start_text:
        starts_at = datetime.combine(day, clock_time(start_text), tzinfo=zone).astimezone(utc)
    if end_text:
        local = starts_at.astimezone(zone)
        ends_at = window_on(local.date(), local.time(), clock_time(end_text), tz)[1]
    return starts_at, ends_at

"""Cell and header parsers for Compass-style exports (pure functions, no I/O).

    parse_number("1.2万")      -> 12000.0        parse_number("13.33%")   -> 0.1333
    parse_number("¥1,234.5")   -> 1234.5         parse_number("-")        -> None
    parse_duration("1分30秒")  -> 90.0           parse_duration("00:01:30") -> 90.0
    normalise_header("成交人数（人）") -> "成交人数(人)"
    split_unit("成交金额(万元)") -> ("成交金额", "万元")

Garbage raises ``ValueError``; a missing marker ("", "-", "--", "—", "/", "N/A", "null")
gives ``None``. Full-width digits, commas, currency signs and brackets are accepted.
``converter(type, header, unit)`` wraps these for one column of a table: ints for counts,
money rounded to 2 dp, rates as fractions (0..1), seconds; a bad cell raises ``CellError``
with a bilingual reason naming the column and the value.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
import math
import re
from typing import Any, Callable
import unicodedata

from bot.errors import LocalizedError

MISSING = frozenset({"", "-", "--", "---", "—", "——", "/", "n/a", "na", "null", "none", "nan",
                     "#n/a", "#div/0!"})

_CURRENCY = ("¥", "$", "rmb", "cny")
_MULTIPLIERS = {"万": 10_000, "w": 10_000, "亿": 100_000_000, "千": 1_000, "k": 1_000, "百万": 1_000_000}
_UNIT_SUFFIXES = ("元", "人", "次", "件", "单", "个", "笔", "位")
_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")
_DASHES = str.maketrans({"—": "-", "–": "-", "−": "-", "―": "-", "~": "-", "〜": "-",
                         "【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")"})
_SPACE = re.compile(r"[\s\u200b\ufeff]+")


def _clean(text: str) -> str:
    """NFKC (full-width → half-width), dashes unified, all whitespace removed, lower case."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return _SPACE.sub("", text).lower()


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and _clean(value) in MISSING


def parse_number(text: str | int | float | None) -> float | None:
    """A number as written in an export or a chat: "1.2万", "3.5亿", "13.33%" (→ 0.1333),
    "¥1,234.5", "￥８００", "1,530件", "10万+" (→ 100000, the lower bound). ``None`` for a
    missing marker; ``ValueError`` for anything else (incl. bools, inf, "1,2")."""
    if text is None:
        return None
    if isinstance(text, bool):
        raise ValueError(f"not a number: {text!r}")
    if isinstance(text, (int, float, Decimal)):
        value = float(text)
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError(f"not a number: {text!r}")
        return value
    if not isinstance(text, str):
        raise ValueError(f"not a number: {text!r}")
    try:  # fast path: plain "1234" / "12.5"
        value = float(text)
        if math.isfinite(value):
            return value
    except ValueError:
        pass
    s = _clean(text)
    if s in MISSING:
        return None
    sign, s = _take_sign(s)
    for cur in _CURRENCY:
        if s.startswith(cur):
            s = s[len(cur):]
            break
    if not sign:
        sign, s = _take_sign(s)
    factor = Decimal(1)
    if s.endswith("%"):
        s, factor = s[:-1], Decimal("0.01")
    else:
        s = s.removesuffix("+")  # "10万+": Compass shows fuzzy counts as a lower bound
        for unit in _UNIT_SUFFIXES:
            if s.endswith(unit):
                s = s[: -len(unit)]
                break
        for word, mult in _MULTIPLIERS.items():
            if s.endswith(word) and len(s) > len(word):
                s, factor = s[: -len(word)], Decimal(mult)
                break
    if not _NUMBER.fullmatch(s):
        raise ValueError(f"not a number: {text!r}")
    try:
        value = Decimal(s.replace(",", "")) * factor
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError(f"not a number: {text!r}") from exc
    return float(-value if sign == "-" else value)


def _take_sign(s: str) -> tuple[str, str]:
    if s[:1] in ("-", "+"):
        return s[0], s[1:]
    return "", s


_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)(?:小时|时|h|hr|hrs|hour|hours))?"
    r"(?:(?P<m>\d+(?:\.\d+)?)(?:分钟|分|m|min|mins|minute|minutes))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)(?:秒钟|秒|s|sec|secs|second|seconds)?)?")


def parse_duration(text: object, *, unit: float = 1.0) -> float | None:
    """Seconds from "1分30秒", "90秒", "90s", "1h2m", "1.5分钟", "00:01:30" (h:mm:ss),
    "1:30" (m:ss), a bare number (× ``unit``, seconds by default), an Excel time or
    timedelta. ``None`` for a missing marker; ``ValueError`` for garbage or negatives."""
    if text is None:
        return None
    if isinstance(text, timedelta):
        seconds = text.total_seconds()
    elif isinstance(text, time):
        seconds = text.hour * 3600 + text.minute * 60 + text.second + text.microsecond / 1e6
    elif isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        value = parse_number(text)
        if value is None:
            return None
        seconds = value * unit
    elif isinstance(text, str):
        s = _clean(text)
        if s in MISSING:
            return None
        seconds = _duration_text(s, unit, text)
    else:
        raise ValueError(f"not a duration: {text!r}")
    if seconds < 0:
        raise ValueError(f"negative duration: {text!r}")
    return float(round(seconds, 3))


def _duration_text(s: str, unit: float, original: str) -> float:
    try:
        return float(s) * unit
    except ValueError:
        pass
    if ":" in s:
        parts = s.split(":")
        if 2 <= len(parts) <= 3 and all(p.replace(".", "", 1).isdigit() for p in parts):
            nums = [float(p) for p in parts]
            if all(n < 60 for n in nums[1:]) and all(n.is_integer() for n in nums[:-1]):
                if len(nums) == 2:
                    return nums[0] * 60 + nums[1]
                return nums[0] * 3600 + nums[1] * 60 + nums[2]
        raise ValueError(f"not a duration: {original!r}")
    m = _DURATION.fullmatch(s)
    if not m or not any(m.groupdict().values()):
        raise ValueError(f"not a duration: {original!r}")
    h, mi, sec = (float(m[g]) if m[g] else 0.0 for g in ("h", "m", "s"))
    return h * 3600 + mi * 60 + sec


def normalise_header(text: str) -> str:
    """Compare-ready header: full-width → half-width (brackets, digits, letters), dashes
    unified, whitespace and a trailing colon or asterisk dropped, lower case.
    "商品曝光—点击率（人数）" → "商品曝光-点击率(人数)"; " GMV " → "gmv"."""
    return _clean(str(text)).rstrip(":*")


# A header's trailing "(…)" that is only a unit (not a qualifier like "(人数)"): unit → scale,
# one table for amounts and counts ("(分)" = fen, 0.01 yuan), one for durations ("(分)" = minutes).
QUANTITY_UNITS = {
    "元": 1, "¥": 1, "rmb": 1, "万元": 10_000, "万": 10_000, "亿": 100_000_000, "亿元": 100_000_000,
    "分": 0.01, "人": 1, "万人": 10_000, "次": 1, "万次": 10_000, "人次": 1, "个": 1, "件": 1, "单": 1,
    "笔": 1, "%": 1,
}
TIME_UNITS = {"秒": 1, "s": 1, "秒钟": 1, "分": 60, "分钟": 60, "min": 60, "小时": 3600, "h": 3600}
UNITS = frozenset(QUANTITY_UNITS) | frozenset(TIME_UNITS)


def split_unit(header: str) -> tuple[str, str | None]:
    """``normalise_header`` output → (name, unit) when the header ends in a unit in
    brackets ("成交金额(万元)" → ("成交金额", "万元")); (header, None) otherwise."""
    if header.endswith(")") and "(" in header:
        start = header.rindex("(")
        unit = header[start + 1:-1]
        if unit in UNITS and start > 0:
            return header[:start], unit
    return header, None


# -- dates and times -------------------------------------------------------------------------
_WHEN = re.compile(
    r"(?:(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2}))?"
    r"(?:(?P<sep>\s*)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?)?")
_DATE_IN_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_DOTTED = re.compile(r"(\d{4})[./](\d{1,2})[./](\d{1,2})")
_TIME_CACHE: dict[str, time] = {}


def parse_when(value: object) -> datetime | time | None:
    """A point in time from a cell: a ``datetime`` when the cell has a date, a ``time``
    when it only has a time of day ("19:00"). Accepts Excel datetimes/times, ISO strings,
    "2026/11/20 19:00", "2026年11月20日 19时05分", a range "19:00-19:01" (its start)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _excel_serial(value)
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    hit = _TIME_CACHE.get(value)
    if hit is not None:
        return hit
    try:
        dt = datetime.fromisoformat(value)
        return dt if dt.tzinfo is None else dt.replace(tzinfo=None)
    except ValueError:
        pass
    s = unicodedata.normalize("NFKC", value).strip()
    if s.lower() in MISSING or s in ("—", "——"):
        return None
    s = _DOTTED.sub(r"\1-\2-\3", s)
    s = (s.replace("年", "-").replace("月", "-").replace("日", " ").replace("T", " ")
         .replace("时", ":").replace("点", ":").replace("分", ":").replace("秒", "")).strip().rstrip(":")
    m = _WHEN.fullmatch(s)
    if m is None:
        for sep in ("~", "-", "至"):  # "19:00-19:01": keep the start
            head = s.rsplit(sep, 1)[0].strip() if sep in s else ""
            if ":" in head and _WHEN.fullmatch(head):
                m = _WHEN.fullmatch(head)
                break
    if m is None or not (m["y"] or m["h"]):
        raise ValueError(f"not a time: {value!r}")
    if m["y"] and m["h"] and not m["sep"]:
        raise ValueError(f"not a time: {value!r}")
    t = time(int(m["h"]), int(m["mi"]), int(m["s"] or 0)) if m["h"] else time(0)
    if not m["y"]:
        if len(_TIME_CACHE) < 5000:
            _TIME_CACHE[value] = t
        return t
    return datetime.combine(date(int(m["y"]), int(m["mo"]), int(m["d"])), t)


def parse_date(value: object) -> date | None:
    """A calendar date from a cell: Excel date, "2026-11-20", "2026/11/20", "2026年11月20日",
    "20261120". ``ValueError`` for garbage."""
    if isinstance(value, str):
        s = unicodedata.normalize("NFKC", value).strip()
        if len(s) == 8 and s.isdigit():
            return date(int(s[:4]), int(s[4:6]), int(s[6:]))
    when = parse_when(value)
    if when is None:
        return None
    if isinstance(when, time):
        raise ValueError(f"not a date: {value!r}")
    return when.date()


def find_date(text: str) -> date | None:
    """The first valid date written inside free text ("直播间数据 2026-11-20", a filename)."""
    for m in _DATE_IN_TEXT.finditer(unicodedata.normalize("NFKC", text or "")):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            continue
    return None


def _excel_serial(value: float) -> datetime | time:
    """An Excel serial number left unformatted: days since 1899-12-30 (fraction = time)."""
    if 0 <= value < 1:
        return (datetime(2000, 1, 1) + timedelta(days=value)).time().replace(microsecond=0)
    if 20_000 <= value <= 80_000:
        dt = datetime(1899, 12, 30) + timedelta(days=value)
        return dt.replace(microsecond=0) + timedelta(seconds=round(dt.microsecond / 1e6))
    raise ValueError(f"not a time: {value!r}")


class CellError(LocalizedError):
    """A cell that cannot be read: an i18n key (bot/i18n/*/errors.py) naming the column and
    the value; ``zh``/``en`` are its two readings."""


# -- cells of a column ----------------------------------------------------------------------
def _show(v: object) -> str:
    s = str(v).strip()
    return s if len(s) <= 30 else s[:29] + "…"


def _not_number(header: str, v: object) -> CellError:
    return CellError("data.err.not_number", header=header, value=_show(v))


def _number(v: object, header: str) -> float | None:
    if isinstance(v, str) and ("%" in v or "％" in v):
        raise _not_number(header, v)
    try:
        return parse_number(v)
    except ValueError:
        raise _not_number(header, v) from None


def _negative(header: str, v: object) -> CellError:
    return CellError("data.err.negative", header=header, value=_show(v))


_OWN_UNIT = re.compile(r"(?:万|w|亿|千|k|百万)(?:元|人|次|件|单|个|笔|位)?\+?$")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?e[+-]?\d+")
EXACT_DIGITS = 15  # Excel keeps 15 significant digits of a number


def own_unit(v: object) -> bool:
    """A cell that carries its own multiplier ("12.51万", "3k"): a unit in the header
    ("成交金额(万元)") must not be applied a second time."""
    return isinstance(v, str) and bool(_OWN_UNIT.search(_clean(v)))


def mangled_id(text: object) -> bool:
    """An id Excel turned into a float: "3.61235E+12" (a resaved CSV, or an xlsx number too
    long to be exact, see ``converter``'s ident)."""
    return text is not None and bool(_SCIENTIFIC.fullmatch(_clean(str(text))))


def converter(ftype: str, header: str, unit: str | None) -> Callable[[Any], Any]:
    """cell -> value for a column of type ``ftype`` (count, money, refund, rate, seconds, text,
    ident, when, date) headed ``header`` with ``unit`` (from ``split_unit``); raises ``CellError``.
    A cell with its own multiplier ("12.51万") under a header with a unit ("(万元)") is scaled
    once, by its own."""
    scale = (TIME_UNITS if ftype == "seconds" else QUANTITY_UNITS).get(unit or "", 1)

    def count(v: Any) -> int | None:
        n: float | None
        if v.__class__ is str:
            try:
                n = int(v)
            except ValueError:
                n = _number(v, header)
                if n is None:
                    return None
        elif v is None:
            return None
        else:
            n = _number(v, header)
            if n is None:
                return None
        if scale != 1 and not own_unit(v):
            n = n * scale
        if n < 0:
            raise _negative(header, v)
        return n if n.__class__ is int else round(n)

    def money(v: Any) -> float | None:
        x = _number(v, header)
        if x is None:
            return None
        if x < 0:
            if ftype != "refund":   # refunds are sometimes exported as negative amounts
                raise _negative(header, v)
            x = -x
        return round(x if own_unit(v) else x * scale, 2)

    def rate(v: Any) -> float | None:
        if v is None:
            return None
        try:
            x = parse_number(v)
        except ValueError:
            raise _not_number(header, v) from None
        if x is None:
            return None
        if not (isinstance(v, str) and ("%" in v or "％" in v)) and (unit == "%" or x > 1):
            x = x / 100
        if x < 0:
            raise _negative(header, v)
        if x > 1.000001:
            raise CellError("data.err.above_100", header=header, value=_show(v))
        return round(x, 6)

    def seconds(v: Any) -> float | None:
        try:
            return parse_duration(v, unit=scale)
        except ValueError:
            raise CellError("data.err.not_duration", header=header, value=_show(v)) from None

    def text(v: Any) -> str | None:
        if v is None:
            return None
        if v.__class__ is str:
            s = v.strip()
            return None if len(s) <= 4 and is_missing(s) else s
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return v.isoformat() if isinstance(v, (date, time)) else str(v)

    def ident(v: Any) -> str | None:
        """An id: a float too long to be exact is shown as Excel shows it ("3.71205E+18")."""
        if isinstance(v, float) and v.is_integer() and abs(v) >= 10 ** EXACT_DIGITS:
            return f"{v:.5E}".replace("E+0", "E+").replace(".00000E", "E")
        return text(v)

    def when(v: Any) -> datetime | time | None:
        try:
            return parse_when(v)
        except ValueError:
            raise CellError("data.err.not_time", header=header, value=_show(v)) from None

    def day(v: Any) -> date | None:
        try:
            return parse_date(v)
        except ValueError:
            raise CellError("data.err.not_date", header=header, value=_show(v)) from None

    return {"count": count, "money": money, "refund": money, "rate": rate, "seconds": seconds,
            "text": text, "ident": ident, "when": when, "date": day}[ftype]

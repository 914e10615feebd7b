"""Holiday arrangements as data: the file shipped with the release, and pasted imports.

* ``holidays_cn.csv`` (beside this file) holds every year's official arrangement known when
  the release was made: "date,kind,name" lines, kind ``holiday`` (a day off) or ``workday``
  (a make-up working day, 调休上班). :func:`write_shipped` regenerates it from the installed
  chinesecalendar (``python -m bot.timeparse.calendar_data``) — for 1.11.0 that is 2004–2026.
  The 2027 arrangement was not published when this was written (searched for "2027年部分
  节假日安排 国务院办公厅"; not found), so 2027 is not shipped: an admin imports it with
  /节假日 导入 2027 once the State Council publishes it.
* :func:`read_arrangement` reads what an admin pastes into /节假日 导入: CSV lines ("2027-02-05,
  holiday,春节"), plain lines ("2027-02-05 放假 春节", "2027-02-05~2027-02-11 放假 春节"), or
  the notice itself ("二、春节：2月5日至11日放假调休，共7天。2月20日（周六）上班。").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

SHIPPED = Path(__file__).with_name("holidays_cn.csv")
MAX_DAYS = 80  # an arrangement has ~35 days; more is a wrong paste
_ZH_WD = "一二三四五六日"

KIND_WORDS = {"holiday": "holiday", "off": "holiday", "放假": "holiday", "休": "holiday", "休息": "holiday",
              "假": "holiday", "节假日": "holiday", "补休": "holiday",
              "workday": "workday", "work": "workday", "上班": "workday", "班": "workday", "补班": "workday",
              "调休上班": "workday", "normal": "normal", "普通": "normal", "正常": "normal"}


def read_shipped(path: Path = SHIPPED) -> tuple[dict[date, tuple[str, str]], frozenset[int]]:
    """({date: (kind, name)}, the years the file covers). Never raises: a missing or broken
    file ships nothing (the packages answer instead)."""
    days: dict[date, tuple[str, str]] = {}
    years: set[int] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}, frozenset()
    for line in lines:
        m = re.match(r"#\s*years:\s*(\d{4})-(\d{4})", line)
        if m:
            years.update(range(int(m.group(1)), int(m.group(2)) + 1))
            continue
        parts = line.split(",")
        if len(parts) != 3 or line.startswith("#"):
            continue
        try:
            days[date.fromisoformat(parts[0])] = (parts[1], parts[2])
        except ValueError:
            continue
    return days, frozenset(years)


def write_shipped(path: Path = SHIPPED) -> int:
    """Regenerate the shipped file from the installed chinesecalendar; returns rows written."""
    from importlib.metadata import version

    import chinese_calendar.constants as cc

    from bot.timeparse.workdays import _zh_name

    rows = sorted([(d, "holiday", _zh_name(str(n))) for d, n in cc.holidays.items()]
                  + [(d, "workday", _zh_name(str(n)) + "调休上班") for d, n in cc.workdays.items()])
    first, last = rows[0][0].year, rows[-1][0].year
    head = [f"# China's official holiday arrangements (国务院办公厅 部分节假日安排), {first}–{last}.",
            f"# Generated from chinesecalendar {version('chinesecalendar')} (https://github.com/LKI/chinese-calendar),"
            " which types",
            "# them in from the State Council notices on gov.cn. kind: holiday = day off, workday = make-up",
            "# working day (调休上班). A year listed here is complete: a day not listed is an ordinary day.",
            f"# years: {first}-{last}", "date,kind,name"]
    path.write_text("\n".join(head + [f"{d.isoformat()},{k},{n}" for d, k, n in rows]) + "\n", encoding="utf-8")
    return len(rows)


# -- pasted arrangements ------------------------------------------------------------------------
@dataclass
class Arrangement:
    """What a paste says: days (date, kind, name) in date order, the lines that could not be
    read (with their numbers), warnings, and the source (a gov.cn address if one was pasted)."""
    year: int
    days: list[tuple[date, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source: str = ""


_URL = re.compile(r"https?://\S+")
_PAREN = re.compile(r"[（(][^）)]*[）)]")
_ISO = r"(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
_ISO_RANGE = re.compile(rf"^{_ISO}(?:\s*(?:~|～|至|到|—|–|\.\.)\s*(?:(?P<y2>\d{{4}})\s*[-/.年]\s*)?"
                        rf"(?:(?P<m2>\d{{1,2}})\s*[-/.月]\s*)?(?P<d2>\d{{1,2}})\s*[日号]?)?$")
_NOTICE_HEAD = re.compile(r"^\s*(?:[一二三四五六七八九十]+\s*[、.．]\s*)?(?P<name>[^：:，,。\d]{2,12})[：:]\s*(?P<body>.+)$")
_DATE_LIKE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*日|\d{4}\s*[-/.]\s*\d{1,2}|\d{1,2}\s*/\s*\d{1,2}")
_NOTICE_DATE = re.compile(r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日")


def _day(year: int, y: str | None, m: str | None, d: str | None, month: int | None = None) -> date:
    return date(int(y) if y else year, int(m) if m else (month or 0), int(d or 0))


def _span(a: date, b: date) -> list[date]:
    if b < a and b.month < a.month:  # "12月31日至1月2日"
        b = b.replace(year=b.year + 1)
    if b < a or (b - a).days > 31:
        raise ValueError("range")
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def _plain_line(line: str, year: int) -> list[tuple[date, str, str]] | None:
    """"2027-02-05,holiday,春节", "2027-02-05 放假 春节", "2027-02-05~2027-02-11 放假 春节"."""
    parts = [p.strip() for p in re.split(r"\s*[,，\t]\s*|\s+", line.strip(), maxsplit=2)]
    if len(parts) < 2 or parts[1].lower() not in KIND_WORDS:
        return None
    m = _ISO_RANGE.match(parts[0])
    if not m:
        return None
    start = _day(year, m.group("y"), m.group("m"), m.group("d"))
    days = [start]
    if m.group("d2"):
        end = _day(year, m.group("y2") or m.group("y"), m.group("m2") or m.group("m"), m.group("d2"))
        days = _span(start, end)
    kind = KIND_WORDS[parts[1].lower()]
    name = parts[2] if len(parts) > 2 else ""
    return [(d, kind, name) for d in days]


def _notice_line(line: str, year: int) -> list[tuple[date, str, str]] | None:
    """"二、春节：2月5日（农历除夕）至11日放假调休，共7天。2月20日（周六）上班。"."""
    head = _NOTICE_HEAD.match(line)
    if not head or "日" not in head.group("body"):
        return None
    name = head.group("name").strip()
    body = _PAREN.sub("", head.group("body"))
    out: list[tuple[date, str, str]] = []
    for clause in re.split(r"[。；;]", body):
        for piece in re.split(r"[，,]", clause):
            kind = ("workday" if "上班" in piece else
                    "holiday" if ("放假" in piece or "补休" in piece or "休息" in piece) else None)
            if kind is None:
                continue
            month: int | None = None
            found: list[date] = []
            pending_range = False
            pos = 0
            for m in _NOTICE_DATE.finditer(piece):
                between = piece[pos:m.start()]
                pos = m.end()
                d = _day(year, m.group("y"), m.group("m"), m.group("d"), month)
                month = d.month
                if pending_range or ("至" in between and found):
                    found.extend(_span(found[-1], d)[1:])
                else:
                    found.append(d)
                pending_range = False
            if not found:
                raise ValueError("no date")
            out += [(d, kind, name if kind == "holiday" else f"{name}调休上班") for d in found]
    return out or None


def read_arrangement(text: str, year: int) -> Arrangement:
    """Read a pasted arrangement for ``year`` (see the module docstring)."""
    plan = Arrangement(year)
    seen: dict[date, tuple[str, str]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        url = _URL.search(line)
        if url:
            plan.source = plan.source or url.group(0)[:300]
            line = _URL.sub("", line).strip()
        if not line or line.startswith("#") or line.lower().replace(" ", "") in ("date,kind,name", "日期,类型,名称"):
            continue
        try:
            days = _plain_line(line, year) or _notice_line(line, year)
        except ValueError:
            days = None
        if days is None:
            if _DATE_LIKE.search(line):  # it names a day we could not read: say so
                plan.problems.append(f"{number}: {raw.strip()[:60]}")
            continue
        for d, kind, name in days:
            if abs(d.year - year) > 1 or (d.year != year and d.month not in (1, 12)):
                plan.problems.append(f"{number}: {d.isoformat()}")
                continue
            seen[d] = (kind, name or seen.get(d, ("", ""))[1])
    plan.days = sorted((d, k, n) for d, (k, n) in seen.items())
    if len(plan.days) > MAX_DAYS:
        plan.problems.append(f"{len(plan.days)} > {MAX_DAYS}")
    for d, kind, _name in plan.days:
        if kind == "workday" and d.weekday() < 5:
            plan.warnings.append(f"{d.isoformat()}（周{_ZH_WD[d.weekday()]}）")
    return plan


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    print(write_shipped(), "rows written to", SHIPPED)

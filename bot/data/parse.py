"""Read Douyin Compass-style (抖音电商罗盘) exports into tables (pure: no database, no clock).

    tables = read_tables(data, "1号直播间_20261120.xlsx", default_date=date(2026, 11, 20))
    for t in tables:
        t.kind            # SUMMARY | PRODUCTS | TREND, recognised from the headers
        t.columns         # {"gmv": "成交金额（元）", ...}  canonical field -> header as written
        t.ignored         # ["直播间曝光次数（新）"]       headers not understood
        t.rows            # [{"gmv": 125113.6, "uv": 40000, ...}]  every field of the kind, None if absent
        t.rejected        # [Rejected(row=13, zh="成交金额（元）「abc」不是数字", en=...)]
    FIELDS[SUMMARY]       # the canonical fields of a kind; FIELD_TYPES[kind][field] their type

CSV (utf-8, utf-8-sig, gb18030, utf-16 with BOM; comma, tab or semicolon) and XLSX (every
sheet). Title lines above the header are kept in ``Table.title``. A bare time ("19:00") takes
its date from a date column, else ``default_date``, else a date in the title, else one in the
file name, else ``assume_date`` (then ``Table.date_from`` is "assumed": the caller moves the
times to the right day); with none of these it is a ``ParseError`` (a trend rolls over midnight
when the time jumps back by more than 12 hours). ``Table.date_from`` says where the date of
time-only cells came from. Rows whose figures cannot be true together (buyers above viewers,
bot.data.checks) are rejected with their row number. Files are read through bot.data.files
(size, zip, row and column caps; ``uploads.tick`` spends the time budget). Row numbers are the ones a person sees
in Excel: the file's first line is row 1. Counts are ints, money floats rounded to 2 dp, rates
fractions (13.33% -> 0.1333), durations seconds, times naive datetimes (Asia/Shanghai wall
time, as exported). ``iter_rows`` streams rows for large trend files.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any, Callable, Iterable, Iterator
import zipfile

from bot import uploads
from bot.errors import LocalizedError
from bot.data import checks, files
from bot.data.numbers import (
    CellError, converter, find_date, normalise_header, parse_duration, parse_number, split_unit,
)

__all__ = [
    "SUMMARY", "PRODUCTS", "TREND", "FIELDS", "FIELD_TYPES", "ParseError", "Rejected", "Table", "read_tables",
    "iter_rows", "iter_trend_rows", "parse_number", "parse_duration", "normalise_header",
]

SUMMARY, PRODUCTS, TREND = "summary", "products", "trend"
MAX_BYTES = files.MAX_BYTES
TITLE_ROWS = 10           # rows searched above the header for a title
TOTAL_WORDS = frozenset({"合计", "总计", "汇总", "总和", "total", "sum", "Total", "TOTAL"})

# kind -> [(field, type, synonyms)]; the first synonym is the Compass name, earlier wins a tie.
_SPEC: dict[str, list[tuple[str, str, str]]] = {
    SUMMARY: [
        ("date", "date", "日期 直播日期 开播日期 统计日期 数据日期"),
        ("start", "when", "开播时间 直播开始时间 开始时间 开播时刻"),
        ("end", "when", "下播时间 直播结束时间 结束时间 关播时间"),
        ("room", "text", "直播间 直播账号 账号名称 直播间名称 账号 账号昵称 达人昵称 主播昵称 抖音号"),
        ("title", "text", "直播标题 直播间标题 标题 直播主题"),
        ("duration", "seconds", "直播时长 开播时长"),
        ("gmv", "money", "成交金额 直播间成交金额 销售额 gmv 直播成交金额 成交额 用户支付金额 直播间用户支付金额"),
        ("uv", "count", "进入直播间人数 观看人数 场观 累计观看人数 场观人数 直播间观看人数 累计进入人数 uv"),
        ("pv", "count", "观看人次 观看次数 累计观看人次 直播间观看次数 进入直播间人次 pv"),
        ("peak_online", "count", "最高在线人数 在线人数峰值 最高在线 峰值在线人数 在线峰值 pcu"),
        ("avg_online", "count", "平均在线人数 平均在线 acu"),
        ("avg_dwell", "seconds", "人均观看时长 平均观看时长 人均停留时长 平均停留时长"),
        ("buyers", "count", "成交人数 成交用户数 购买人数 支付人数"),
        ("orders", "count", "成交订单数 订单数 成交单数 支付订单数"),
        ("items", "count", "成交件数 销量 成交商品件数 销售件数 件数"),
        ("new_fans", "count", "新增粉丝数 涨粉数 涨粉人数 新增粉丝 涨粉"),
        ("fans_club", "count", "新加团人数 加团人数 新增粉丝团人数 新增粉丝团"),
        ("interaction_rate", "rate", "互动率"),
        ("follow_rate", "rate", "关注率 转粉率"),
        ("watch_deal_rate", "rate", "观看-成交转化率 观看成交转化率 成交转化率 uv转化率 观看-成交率"),
        ("exposure_uv", "count", "商品曝光人数"),
        ("click_uv", "count", "商品点击人数"),
        ("exposure_click_rate", "rate", "商品曝光-点击率(人数) 商品曝光-点击率 商品曝光点击率 商品点击率"),
        ("click_deal_rate", "rate", "商品点击-成交转化率(人数) 商品点击-成交转化率 点击-成交转化率 点击成交转化率"),
        ("ad_spend", "money", "千川消耗 投放消耗 广告消耗 千川消耗金额 消耗 投放金额"),
        ("refund_amount", "refund", "退款金额"),
        ("gpm", "money", "gpm 千次观看成交金额 千次观看成交额"),
        ("uv_value", "money", "uv价值 单uv价值"),
    ],
    PRODUCTS: [
        ("product_id", "ident", "商品编号 商品id 商品编码 商品链接id"),
        ("name", "text", "商品名称 商品标题 商品名 商品"),
        ("gmv", "money", "成交金额 商品成交金额 销售额 gmv 成交额 用户支付金额"),
        ("items", "count", "成交件数 销量 销售件数 件数"),
        ("buyers", "count", "成交人数 购买人数 支付人数"),
        ("orders", "count", "成交订单数 订单数"),
        ("exposure_uv", "count", "商品曝光人数 曝光人数"),
        ("click_uv", "count", "商品点击人数 点击人数"),
        ("exposure_click_rate", "rate", "商品曝光-点击率(人数) 商品曝光-点击率 曝光-点击率(人数) 曝光点击率 商品点击率"),
        ("click_deal_rate", "rate", "商品点击-成交转化率(人数) 商品点击-成交转化率 点击-成交转化率(人数) "
                                    "点击-成交转化率 点击成交转化率"),
        ("refund_buyers", "count", "退款人数"),
        ("refund_amount", "refund", "退款金额"),
        ("price", "money", "商品价格 售价 价格 单价 直播价"),
    ],
    TREND: [
        ("minute", "when", "时间 分钟 时间点 时刻 日期时间 统计时间"),
        ("online", "count", "在线人数 实时在线人数 在线"),
        ("entering", "count", "进入人数 进入直播间人数 进场人数"),
        ("leaving", "count", "离开人数 离开直播间人数 离场人数"),
        ("gmv", "money", "成交金额 用户支付金额 gmv 销售额"),
        ("orders", "count", "成交订单数 订单数"),
        ("buyers", "count", "成交人数"),
        ("new_fans", "count", "新增粉丝数 涨粉数 新增粉丝"),
    ],
}
FIELDS: dict[str, tuple[str, ...]] = {k: tuple(f for f, _, _ in v) for k, v in _SPEC.items()}
FIELD_TYPES: dict[str, dict[str, str]] = {k: {f: t for f, t, _ in v} for k, v in _SPEC.items()}
_LOOKUP: dict[str, dict[str, tuple[str, str, int]]] = {
    kind: {normalise_header(syn): (f, t, prio) for f, t, syns in reversed(spec)
           for prio, syn in reversed(list(enumerate(syns.split())))}
    for kind, spec in _SPEC.items()}
_KNOWN = frozenset(h for table in _LOOKUP.values() for h in table)


class ParseError(LocalizedError, ValueError):
    """The file cannot be read as Compass data (an i18n key: bot/i18n/*/errors.py).
    ``str(err)`` is "中文 / English"."""

    def message(self, locale: str = "zh_CN") -> str:
        return self.text(locale)


@dataclass
class Rejected:
    row: int     # as a person sees it: the file's first line (or the sheet's row 1) is 1
    zh: str
    en: str
    label: str = ""  # what the row is about, when the table names it: the product, the room


# The column that names a row, so that a rejected row can be found without counting lines.
LABEL_FIELDS = ("name", "product_id", "room")


@dataclass
class Table:
    kind: str
    sheet: str | None
    columns: dict[str, str]
    ignored: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    total_rows: int = 0            # data rows seen; blank rows (or only "-" in the read columns) excluded
    skipped: list[Rejected] = field(default_factory=list)    # totals rows ("合计"), left out on purpose
    title: str | None = None                                 # text of the lines above the header
    header_row: int = 0
    units: dict[str, str] = field(default_factory=dict)      # field -> unit read from its header, "万元"
    date_from: str | None = None   # where bare times got their date: default | title | file | assumed
    row_numbers: list[int] = field(default_factory=list)     # a summary's rows as a person sees them


# -- headers ---------------------------------------------------------------------------------
def _lookup(kind: str, text: str) -> tuple[str, str, int, str | None] | None:
    norm = normalise_header(text)
    hit = _LOOKUP[kind].get(norm)
    if hit:
        return (*hit, None)
    name, unit = split_unit(norm)
    hit = _LOOKUP[kind].get(name) if unit else None
    return (*hit, unit) if hit else None


def _known(cell: object) -> bool:
    if not isinstance(cell, str) or not cell.strip() or len(cell) > 40:
        return False
    norm = normalise_header(cell)
    return norm in _KNOWN or (split_unit(norm)[1] is not None and split_unit(norm)[0] in _KNOWN)


def _detect(header: list[Any]) -> tuple[str | None, bool]:
    """(kind, ambiguous): ambiguous means trend- and summary-like; rows decide."""
    texts = [str(c) for c in header if isinstance(c, str) and c.strip()]
    if sum(map(_known, texts)) < 2:
        return None, False
    got = {kind: {hit[0] for t in texts if (hit := _lookup(kind, t))} for kind in _SPEC}
    if got[PRODUCTS] & {"name", "product_id"}:
        return PRODUCTS, False
    trend = "minute" in got[TREND] and bool(got[TREND] & {"online", "entering"})
    summary = bool(got[SUMMARY] & {"gmv", "uv", "pv", "peak_online", "avg_online", "buyers"})
    if trend:
        return TREND, summary
    return (SUMMARY if summary else None), False


def _map(kind: str, header: list[Any]) -> tuple[list[tuple[int, str, str, int, str | None]], list[str]]:
    best: dict[str, tuple[int, str, str, int, str | None]] = {}
    ignored: list[tuple[int, str]] = []
    for idx, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        text = str(cell).strip()
        hit = _lookup(kind, text)
        if hit is None:
            ignored.append((idx, text))
            continue
        fld, ftype, prio, unit = hit
        old = best.get(fld)
        if old is not None and old[3] <= prio:
            ignored.append((idx, text))
            continue
        if old is not None:
            ignored.append((old[0], old[2]))
        best[fld] = (idx, fld, text, prio, unit)
    return sorted(best.values()), [t for _, t in sorted(ignored)]


# -- rows to tables --------------------------------------------------------------------------
class _Rows:
    """(row number, cells) pairs with push-back, shared by the tables of one sheet."""

    def __init__(self, rows: Iterable[tuple[int, Any]]) -> None:
        self._it = iter(rows)
        self._back: list[tuple[int, Any]] = []

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> tuple[int, Any]:
        return self._back.pop() if self._back else next(self._it)

    def push(self, item: tuple[int, Any]) -> None:
        self._back.append(item)


@dataclass
class _Ctx:
    name: str
    default_date: date | None
    max_rows: int
    assume_date: date | None = None
    count: int = 0
    seen: list[str] = field(default_factory=list)

    def too_many(self) -> None:
        raise ParseError("data.err.too_many_rows", name=self.name, max_rows=self.max_rows)

    def check_raw(self, rownum: int) -> None:
        """Blank rows are not data, but a sheet of millions of them is refused too."""
        if rownum > 2 * self.max_rows + 1000:
            self.too_many()


def _blank(cells: Any) -> bool:
    return not any(cells) and all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _texts(cells: Any) -> list[str]:
    return [str(c).strip() for c in cells if c is not None and str(c).strip()]


def _scan(rows: _Rows, sheet: str | None, ctx: _Ctx) -> Iterator[tuple[Table, dict | None]]:
    title: list[str] = []
    looked = 0
    for rownum, cells in rows:
        if _blank(cells):
            ctx.check_raw(rownum)
            continue
        kind, ambiguous = _detect(list(cells))
        if kind is None:
            if len(_texts(cells)) > len(ctx.seen):
                ctx.seen = _texts(cells)[:12]
            title.append(" ".join(_texts(cells)))
            looked += 1
            if looked >= TITLE_ROWS:
                return
            continue
        yield from _table(rows, kind, ambiguous, rownum, list(cells), sheet, "\n".join(title) or None, ctx)
        title, looked = [], 0


def _table(rows: _Rows, kind: str, ambiguous: bool, header_row: int, header: list[Any],
           sheet: str | None, title: str | None, ctx: _Ctx) -> Iterator[tuple[Table, dict | None]]:
    if ambiguous:  # trend-like and summary-like headers: a trend has many rows
        peek = []
        for item in rows:
            peek.append(item)
            if len(peek) >= 3 or _blank(item[1]):
                break
        if sum(not _blank(c) for _, c in peek) < 3:
            kind = SUMMARY
        for item in reversed(peek):
            rows.push(item)
    cols, ignored = _map(kind, header)
    table = Table(kind=kind, sheet=sheet, columns={f: h for _, f, h, _, _ in cols}, ignored=ignored,
                  title=title, header_row=header_row, units={f: u for _, f, _, _, u in cols if u})
    yield table, None
    types = FIELD_TYPES[kind]
    plan = [(idx, f, converter(types[f], h, u)) for idx, f, h, _, u in cols]
    named = {f: idx for idx, f, *_ in cols}
    label_at = next((named[f] for f in LABEL_FIELDS if f in named), None)
    template = dict.fromkeys(FIELDS[kind])
    finish = _finisher(kind, table, ctx)
    blank = False
    for rownum, cells in rows:
        if not any(cells) and _blank(cells):
            blank = True
            ctx.check_raw(rownum)
            continue
        if blank:
            blank = False
            if _detect(list(cells))[0] is not None:   # a second table below a blank line
                rows.push((rownum, cells))
                return
        first = cells[0] or (cells[1] if len(cells) > 1 else None)
        if isinstance(first, str) and first.strip() in TOTAL_WORDS:
            table.total_rows += 1
            skipped = LocalizedError("data.err.total_row_skipped", text=first.strip())
            table.skipped.append(Rejected(rownum, skipped.zh, skipped.en))
            continue
        out = template.copy()
        errors = None
        n = len(cells)
        for idx, fld, conv in plan:
            if idx < n:
                try:
                    out[fld] = conv(cells[idx])
                except CellError as bad:
                    errors = (errors or []) + [bad]
        if errors is None and all(v is None for v in out.values()):
            blank = True      # only "-" / spaces in the columns we read: as good as blank
            ctx.check_raw(rownum)
            continue
        ctx.count += 1
        if ctx.count > ctx.max_rows:
            ctx.too_many()
        table.total_rows += 1
        try:
            if errors:
                raise CellError("errors.list", items=errors)
            finish(out)
        except CellError as bad:
            label = cells[label_at] if label_at is not None and label_at < n else None
            table.rejected.append(Rejected(rownum, bad.zh, bad.en, str(label).strip()[:30] if label else ""))
            continue
        if kind == SUMMARY:
            table.row_numbers.append(rownum)
        yield table, out


def _finisher(kind: str, table: Table, ctx: _Ctx) -> Callable[[dict], None]:
    sources = (("default", ctx.default_date), ("title", find_date(table.title or "")),
               ("file", find_date(PurePath(ctx.name).stem)), ("assumed", ctx.assume_date))
    origin, base = next(((k, d) for k, d in sources if d is not None), (None, None))

    def need_date(header: str, t: time) -> date:
        if base is None:
            raise ParseError("data.err.time_without_date", header=header, time=f"{t:%H:%M}")
        table.date_from = origin
        return base

    def name(fld: str) -> str:
        return table.columns.get(fld, fld)

    def plausible(row: dict) -> None:
        bad = checks.first_problem(row, name)
        if bad is not None:
            raise bad

    if kind == PRODUCTS:
        def products(row: dict) -> None:
            if row["name"] is None and row["product_id"] is None:
                raise CellError("data.err.no_product")
            plausible(row)
        return products

    if kind == TREND:
        state: dict[str, Any] = {"day": None, "prev": None}
        header = table.columns["minute"]
        half_day = timedelta(hours=12)

        def trend(row: dict) -> None:
            t = row["minute"]
            if t is None:
                raise CellError("data.err.empty_cell", header=header)
            if t.__class__ is datetime:
                state["day"], state["prev"] = t.date(), t
                return
            day = state["day"] or need_date(header, t)
            when = datetime.combine(day, t)
            prev = state["prev"]
            if prev is not None and prev - when > half_day:   # 23:59 -> 00:00: the next day
                when += timedelta(days=1)
            state["day"], state["prev"] = when.date(), when
            row["minute"] = when
        return trend

    def summary(row: dict) -> None:
        start, end = row["start"], row["end"]
        day = row["date"]
        if isinstance(start, time):
            start = datetime.combine(day or need_date(table.columns["start"], start), start)
        if isinstance(end, time):
            end_day = start.date() if start else day or need_date(table.columns["end"], end)
            end = datetime.combine(end_day, end)
            if start and end < start:      # 19:00 -> 01:00 ends the next day
                end += timedelta(days=1)
        row["start"], row["end"] = start, end
        row["date"] = day or (start.date() if start else base if origin != "assumed" else None)
        plausible(row)
    return summary


# -- files -----------------------------------------------------------------------------------
def _events(data: bytes, filename: str, default_date: date | None,
            max_rows: int, assume_date: date | None = None) -> Iterator[tuple[Table, dict | None]]:
    name = PurePath(filename or "").name or "?"
    ctx = _Ctx(name, default_date, max_rows, assume_date)
    found = False
    try:
        for sheet, rows in files.sources(data, name):
            for table, row in _scan(_Rows(rows), sheet, ctx):
                found = True
                yield table, row
    except files.FileError as exc:
        raise ParseError(exc.key, **exc.values) from None
    except uploads.TooSlow:
        raise
    except uploads.Refused as exc:
        raise ParseError(exc.key, **exc.values) from None
    except csv.Error as exc:
        raise ParseError("data.err.bad_csv", name=name, error=str(exc)) from exc
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ParseError("data.err.damaged_excel", name=name) from exc
    if not found:
        seen = ({"zh_CN": "、".join(ctx.seen), "en_US": ", ".join(ctx.seen)} if ctx.seen
                else LocalizedError("data.err.none_seen"))
        raise ParseError("data.err.no_table", name=name, seen=seen)


def read_tables(data: bytes, filename: str, *, default_date: date | None = None,
                max_rows: int = 200_000, assume_date: date | None = None) -> list[Table]:
    """Every table in the file, rows parsed. ``ParseError`` when nothing can be read."""
    tables: list[Table] = []
    for table, row in _events(data, filename, default_date, max_rows, assume_date):
        if row is None:
            tables.append(table)
        else:
            table.rows.append(row)
    return tables


def iter_rows(data: bytes, filename: str, *, default_date: date | None = None,
              max_rows: int = 200_000) -> Iterator[tuple[Table, dict[str, Any]]]:
    """Stream (table, row) pairs without keeping rows: ``table.rows`` stays empty while
    ``rejected``/``total_rows`` grow; they are final when the iteration ends."""
    for table, row in _events(data, filename, default_date, max_rows):
        if row is not None:
            yield table, row


def iter_trend_rows(data: bytes, filename: str, *, default_date: date | None = None,
                    max_rows: int = 200_000) -> Iterator[dict[str, Any]]:
    """Rows of the trend table(s) only, streamed (see ``iter_rows``)."""
    for table, row in iter_rows(data, filename, default_date=default_date, max_rows=max_rows):
        if table.kind == TREND:
            yield row

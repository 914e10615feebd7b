"""Reading a team's Bitable into the rows the booking import understands.

A link is a Base URL, ``https://<tenant>.feishu.cn/base/<app_token>?table=<table_id>&view=…``
(the app token after /base/, the table in ``table=``). Wiki-embedded Bases (/wiki/…) would
need the wiki node API and are refused with a hint.

Fields are listed (列出字段) for their types, then every record page by page (列出记录,
``page_size`` ≤ 500). Values are read as the docs describe them (多维表格记录数据结构,
bitable-v1/app-table-record/bitable-record-data-structure-overview): text as segments joined,
numbers as numbers, single select as its option, multi select joined with 、, dates (and
created/modified times) from millisecond timestamps in the bot's zone, person fields as the
person themselves (no lookup by name), formula and lookup fields as the text of their value,
checkboxes as 是/否, links as their text. A missing start date column is taken from a start
time column that is a date field.
"""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.schedule import fields as schedule_fields
from bot.schedule.importer import PersonCell

TEXT, NUMBER, SINGLE, MULTI, DATE, CHECKBOX, PERSON, URL, LOOKUP, FORMULA = 1, 2, 3, 4, 5, 7, 11, 15, 19, 20
DATE_TYPES = {DATE, 1001, 1002}
PAGE = 500
MAX_PAGES = 40  # 20,000 records
_BASE = re.compile(r"/base/([A-Za-z0-9]{6,64})")


@dataclass
class Table:
    header: list[str]
    types: dict[str, int]
    records: list[tuple[str, list[Any]]] = field(default_factory=list)  # (record_id, cells in header order)
    raw: dict[str, dict[str, Any]] = field(default_factory=dict)  # record_id -> fields as read


class ReadError(Exception):
    """Why the table cannot be read: ``kind`` scope | forbidden | missing | temporary."""

    def __init__(self, kind: str, code: int | None) -> None:
        super().__init__(kind)
        self.kind, self.code = kind, code


def parse_link(text: str) -> tuple[str, str]:
    """(app_token, table_id) from a Base link; UserError when it is not one."""
    text = text.strip().strip("<>")
    if "/wiki/" in text:
        raise UserError("bt.wiki_link")
    m = _BASE.search(text)
    if not m:
        raise UserError("bt.bad_link")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(text).query)
    table = (query.get("table") or [""])[0]
    if not re.fullmatch(r"tbl[A-Za-z0-9]{3,40}", table):
        raise UserError("bt.no_table")
    return m.group(1), table


def _kind(code: int | None, status: int) -> str:
    if code == 99991672:
        return "scope"
    if code == 91403:
        return "forbidden"
    if code in (91402, 1254040, 1254041):
        return "missing"
    return "temporary"


async def _pages(platform, path: str, paths: dict[str, str], size: int) -> list[dict]:
    items, token = [], ""
    for _ in range(MAX_PAGES):
        query = {"page_size": str(size)}
        if token:
            query["page_token"] = token
        result = await platform.call("GET", path, paths=paths, query=query)
        if not result.ok:
            raise ReadError(_kind(result.code, result.status), result.code)
        items += [i for i in result.data.get("items") or [] if isinstance(i, dict)]
        token = result.data.get("page_token") or ""
        if not result.data.get("has_more") or not token:
            break
    return items


async def read_table(platform, app_token: str, table_id: str, tz: str) -> Table:
    paths = {"app_token": app_token, "table_id": table_id}
    fields = await _pages(platform, "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/fields", paths, 100)
    records = await _pages(platform, "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records", paths, PAGE)
    header = [str(f.get("field_name", "")) for f in fields]
    types = {str(f.get("field_name", "")): int(f.get("type") or TEXT) for f in fields}
    zone = ZoneInfo(tz)
    table = Table(header, types)
    date_from_start = _start_date_column(header, types)
    if date_from_start:
        table.header = header + [schedule_fields.COLUMNS["date"][0]]
    for rec in records:
        values: dict[str, Any] = rec["fields"] if isinstance(rec.get("fields"), dict) else {}
        cells = [cell(values.get(name), types.get(name, TEXT), zone) for name in header]
        if date_from_start:
            cells.append(cell(values.get(date_from_start), DATE, zone))
        table.records.append((str(rec.get("record_id", "")), cells))
        table.raw[str(rec.get("record_id", ""))] = values
    return table


def _start_date_column(header: list[str], types: dict[str, int]) -> str | None:
    """The start column, when the table has no date column but its start is a date field."""
    names = {schedule_fields.column_for(h)[0]: h for h in header}
    start = names.get("start")
    if "date" not in names and start is not None and types.get(start) in DATE_TYPES:
        return start
    return None


def _segments(items: list) -> str:
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(str(item.get("text") or item.get("name") or item.get("link") or ""))
        elif item is not None:
            out.append(str(item))
    return "".join(out)


def cell(value: Any, kind: int, zone: ZoneInfo) -> Any:
    """One record value as an import cell (see the module docstring)."""
    if value is None:
        return ""
    if kind in DATE_TYPES and isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, zone)
    if kind in (PERSON, 1003, 1004) and isinstance(value, list):
        people = [v for v in value if isinstance(v, dict) and v.get("id")]
        return PersonCell(str(people[0]["id"]), str(people[0].get("name") or "")) if people else ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "value" in value:  # formula / lookup: {"type", "value": [...]}
            inner = value["value"]
            if isinstance(inner, list):
                return _segments(inner) if any(isinstance(i, dict) for i in inner) else "、".join(map(str, inner))
            return "" if inner is None else str(inner)
        return str(value.get("text") or value.get("link") or "")
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "、".join(value)
        return _segments(value)
    return str(value)


def text_of(value: Any, kind: int, zone: ZoneInfo) -> str:
    """A cell as text (what write-back compares against)."""
    got = cell(value, kind, zone)
    if isinstance(got, datetime):
        return got.isoformat()
    if isinstance(got, float) and got.is_integer():
        return str(int(got))
    return str(got)

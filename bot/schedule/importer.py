"""Booking-sheet import: a pasted table, a CSV or an XLSX file → streams, all or nothing.

Columns are mapped by header name (brackets and spaces ignored, synonyms such as
开播时间/下播时间/房间 understood); unknown columns are reported; each bad row is listed with its
row number and the reason; if any row is bad nothing is imported. Re-importing the same rows
changes nothing: a row whose room and start match a stream that is not cancelled updates that
stream (only the columns the sheet has) instead of adding another.

Uploads are bounded (bot.uploads): an xlsx is inspected before it is opened, rows are cut to
``uploads.MAX_COLUMNS`` cells, reading stops after ``MAX_ROWS`` rows, and ``read_upload`` reads
in the parse pool with a time budget (``uploads.Refused`` says why a file was refused).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import uploads
from bot.errors import UserError
from bot.i18n import t
from bot.timeparse import parser
from bot.schedule import fields, service
from bot.schedule.models import CANCELLED, CONFIRMED, ENDED, LIVE, PENDING, PERSON_FIELDS, Room

MAX_ROWS = 1000
SHEET_EXTENSIONS = (".csv", ".xlsx", ".xlsm", ".tsv", ".txt")
TITLE_FOR = {"streamer_id": "主播", "assistant_id": "助播", "field_control_id": "场控", "console_id": "中控",
             "tech_id": "技术"}


@dataclass
class Sheet:
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the user sees it, cells)


@dataclass
class Mapping:
    columns: dict[str, tuple[int, int]]  # field → (column index, scale)
    ignored: list[str]

    @property
    def is_booking_sheet(self) -> bool:
        c = self.columns
        return "date" in c and "room" in c and ("time" in c or ("start" in c and "end" in c))


@dataclass
class Rejected:
    row: int
    reason: str


@dataclass
class ImportResult:
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0  # rows marked 已取消 with nothing to cancel
    ignored: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected


# -- reading ------------------------------------------------------------------------------------
def _clean(cell: Any) -> Any:
    return cell.strip() if isinstance(cell, str) else ("" if cell is None else cell)


def _split(line: str, sep: str) -> list[str]:
    if sep == "|":
        return [c.strip() for c in line.strip().strip("|").split("|")]
    if sep == ",":
        return [c.strip() for c in next(csv.reader([line.replace("，", ",")]))]
    if sep == "  ":
        return re.split(r"\s{2,}", line.strip())
    return line.split(sep) if sep == "\t" else line.split()


_CELL = re.compile(r"\S+(?: \S+)*")


def _width(text: str) -> int:
    """Display width in a monospaced font: CJK and full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _aligned(head: str, line: str) -> list[str] | None:
    """A space-aligned row with empty cells: each cell goes to the header column that starts
    nearest to it (by display width), so a blank stays a blank instead of shifting cells left."""
    starts = [_width(head[:m.start()]) for m in _CELL.finditer(head)]
    cells = [""] * len(starts)
    for m in _CELL.finditer(line):
        at = _width(line[:m.start()])
        column = min(range(len(starts)), key=lambda i: abs(starts[i] - at))
        if cells[column]:
            return None  # not aligned after all
        cells[column] = m.group(0)
    return cells


def read_text(text: str) -> Sheet:
    """A pasted table: tab, comma, "|" or space separated; the first non-empty line is the
    header and is row 1."""
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return Sheet([], [])
    head = lines[0]
    if "\t" in head:
        sep = "\t"
    elif head.strip().startswith("|"):
        sep = "|"
    elif "," in head or "，" in head:
        sep = ","
    elif len(re.split(r"\s{2,}", head.strip())) >= 3:
        sep = "  "
    else:
        sep = " "
    header = _split(head, sep)
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or (sep == "|" and re.fullmatch(r"[\s|:\-]+", line)):
            continue
        cells = _split(line, sep)
        if sep == "  " and len(cells) < len(header):
            cells = line.split() if len(line.split()) == len(header) else _aligned(head, line) or cells
        rows.append((number, [c.strip() for c in cells]))
    return Sheet([h.strip() for h in header], rows)


def read_csv(data: bytes) -> Sheet:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return Sheet([], [])
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)
    reader: list[list[str]] = []
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        uploads.tick()
        if not reader and not any(c.strip() for c in row):
            continue  # blank lines above the header
        reader.append(row[:uploads.MAX_COLUMNS])
        if len(reader) > MAX_ROWS + 1:
            break  # import_sheet says there are too many
    if not reader:
        return Sheet([], [])
    rows = [(i, [c.strip() for c in r]) for i, r in enumerate(reader[1:], start=2) if any(c.strip() for c in r)]
    return Sheet([h.strip() for h in reader[0]], rows)


def read_xlsx(data: bytes, name: str = "?") -> Sheet:
    """The first worksheet with a booking-sheet header in its first 10 rows."""
    from openpyxl import load_workbook

    uploads.check_package(data, name)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - not a workbook we can read: not ours
        return Sheet([], [])
    try:
        for ws in book.worksheets:
            rows = []
            for number, values in enumerate(ws.iter_rows(values_only=True, max_col=uploads.MAX_COLUMNS), start=1):
                uploads.tick()
                rows.append((number, [_clean(v) for v in values]))
                if number > MAX_ROWS + 20:
                    break
            for i, (_number, cells) in enumerate(rows[:10]):
                if map_columns([str(c) for c in cells]).is_booking_sheet:
                    body = [(n, c) for n, c in rows[i + 1:] if any(str(x).strip() for x in c)]
                    return Sheet([str(c).strip() for c in cells], body)
        return Sheet([], [])
    finally:
        book.close()


SHEET_WORDS = ("排期", "排班", "档期", "场次", "schedule", "booking", "roster")


def named_like_sheet(file_name: str) -> bool:
    """A file name that says it is a booking sheet: used to answer someone who may not import
    one without downloading the file first."""
    lower = (file_name or "").lower()
    return lower.endswith(SHEET_EXTENSIONS) and any(w in lower for w in SHEET_WORDS)


def read_file(name: str, data: bytes) -> Sheet:
    lower = name.lower()
    if len(data) > uploads.MAX_DOWNLOAD:
        raise uploads.too_large(name)
    if lower.endswith((".xlsx", ".xlsm")):
        return read_xlsx(data, name)
    if lower.endswith((".csv", ".tsv", ".txt")):
        return read_csv(data)
    return Sheet([], [])


async def read_upload(name: str, data: bytes) -> Sheet:
    """``read_file`` off the event loop, with the upload time budget (``uploads.Refused``)."""
    return await uploads.run_bounded(read_file, name, data, name=name)


def map_columns(header: list[str]) -> Mapping:
    columns: dict[str, tuple[int, int]] = {}
    ignored = []
    for i, cell in enumerate(header):
        if not str(cell).strip():
            continue
        name, scale = fields.column_for(cell)
        if name is None or name in columns:
            ignored.append(str(cell).strip())
        else:
            columns[name] = (i, scale)
    return Mapping(columns, ignored)


# -- importing -------------------------------------------------------------------------------------
class _Bad(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _cell(cells: list[Any], mapping: Mapping, name: str) -> Any:
    index = mapping.columns.get(name, (None, 1))[0]
    if index is None or index >= len(cells):
        return ""
    return _clean(cells[index])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "-", "—", "/", "无"))


async def import_sheet(session: AsyncSession, sheet: Sheet, *, locale: str, tz: str, today: date, now: datetime,
                       by: str, chat_id: str, max_hours: float = service.DEFAULT_MAX_HOURS) -> ImportResult:
    """Import every row, or none: on any rejected row the savepoint is rolled back and the
    result lists why. Raises UserError when the sheet is not a booking sheet at all."""
    mapping = map_columns(sheet.header)
    if not mapping.is_booking_sheet:
        raise UserError("schedule.import_not_sheet", columns="、".join(h for h in sheet.header if h)[:200] or "-")
    if not sheet.rows:
        raise UserError("schedule.import_empty")
    if len(sheet.rows) > MAX_ROWS:
        raise UserError("schedule.import_too_many", n=len(sheet.rows), max=MAX_ROWS)
    result = ImportResult(ignored=mapping.ignored, rows=len(sheet.rows))
    rooms = await service.list_rooms(session)
    row_of: dict[int, int] = {}  # stream id → the row that added or updated it
    savepoint = await session.begin_nested()
    try:
        for number, cells in sheet.rows:
            try:
                await _import_row(session, cells, mapping, rooms, result, row_of, number, locale=locale, tz=tz,
                                  today=today, now=now, by=by, chat_id=chat_id, max_hours=max_hours)
            except _Bad as bad:
                result.rejected.append(Rejected(number, bad.reason))
    except BaseException:
        await savepoint.rollback()
        raise
    if result.rejected:
        await savepoint.rollback()
        result.added, result.updated, result.unchanged, result.skipped = [], [], 0, 0
    else:
        await savepoint.commit()
    return result


@dataclass(frozen=True)
class PersonCell:
    """A cell that already names a person (a Bitable person field): no lookup by name."""

    open_id: str
    name: str = ""

    def __str__(self) -> str:
        return self.name or self.open_id


@dataclass
class Row:
    """One sheet row read and checked, before anything is written."""

    room: Room
    starts_at: datetime
    ends_at: datetime
    values: dict[str, Any]  # person fields, brand, theme, target_gmv (only the sheet's columns)
    status: str | None


class BadRow(Exception):
    """Why a row cannot be read: ``reason`` in the asker's language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def read_row(session: AsyncSession, cells: list[Any], mapping: Mapping, rooms: list[Room], *, locale: str,
                   tz: str, today: date) -> Row:
    """One row as the booking import reads it (date, time, room, people, brand, target, status),
    or BadRow with the reason. Writes nothing: the CSV/XLSX import and the Bitable sync share it."""
    try:
        return await _read_row(session, cells, mapping, rooms, locale=locale, tz=tz, today=today)
    except _Bad as bad:
        raise BadRow(bad.reason) from None


async def _read_row(session: AsyncSession, cells: list[Any], mapping: Mapping, rooms: list[Room], *, locale: str,
                    tz: str, today: date) -> Row:
    def bad(key: str, **values: Any) -> _Bad:
        return _Bad(t(locale, key, **values))

    raw_date = _cell(cells, mapping, "date")
    if _blank(raw_date):
        raise bad("schedule.row_no_date")
    try:
        day = fields.sheet_date(raw_date, today)
    except ValueError:
        raise bad("schedule.row_bad_date", value=str(raw_date)[:30]) from None
    try:
        if "time" in mapping.columns and not _blank(_cell(cells, mapping, "time")):
            starts_at, ends_at = parser.parse_range(str(_cell(cells, mapping, "time")), day, tz)
        else:
            start_cell, end_cell = _cell(cells, mapping, "start"), _cell(cells, mapping, "end")
            if _blank(start_cell) or _blank(end_cell):
                raise bad("schedule.row_no_time")
            starts_at, ends_at = fields.window_on(day, fields.clock_time(start_cell), fields.clock_time(end_cell), tz)
    except (ValueError, parser.TimeParseError):
        shown = _cell(cells, mapping, "time") or f"{_cell(cells, mapping, 'start')}-{_cell(cells, mapping, 'end')}"
        raise bad("schedule.row_bad_time", value=str(shown)[:30]) from None
    room_text = str(_cell(cells, mapping, "room"))
    found = service.match_rooms(room_text, rooms) if room_text.strip() else []
    if len(found) != 1:
        if found:
            raise bad("schedule.room_ambiguous", text=room_text[:30], matches="、".join(r.name for r in found))
        raise bad("schedule.row_room_unknown", text=room_text[:30] or "-")
    room = found[0]
    values: dict[str, Any] = {}
    for f in PERSON_FIELDS:
        if f not in mapping.columns:
            continue
        cell = _cell(cells, mapping, f)
        if isinstance(cell, PersonCell):
            values[f] = cell.open_id
            continue
        if _blank(cell):
            values[f] = None
            continue
        try:
            values[f] = (await service.find_person(session, str(cell), title=TITLE_FOR[f]))[0]
        except UserError as exc:
            raise _Bad(t(locale, "schedule.field." + f) + "：" + t(locale, exc.key, **exc.values)) from None
    for f in ("brand", "theme"):
        if f in mapping.columns:
            values[f] = str(_cell(cells, mapping, f))[:200]
    if "target_gmv" in mapping.columns:
        cell = _cell(cells, mapping, "target_gmv")
        try:
            values["target_gmv"] = fields.parse_amount(cell, mapping.columns["target_gmv"][1])
        except ValueError:
            raise bad("schedule.row_bad_amount", value=str(cell)[:30]) from None
    status = None
    if "status" in mapping.columns and not _blank(_cell(cells, mapping, "status")):
        cell = str(_cell(cells, mapping, "status"))
        status = fields.parse_status(cell)
        if status not in (PENDING, CONFIRMED, CANCELLED):
            raise bad("schedule.row_bad_status", value=cell[:20])
    return Row(room, starts_at, ends_at, values, status)


async def _import_row(session: AsyncSession, cells: list[Any], mapping: Mapping, rooms: list[Room],
                      result: ImportResult, row_of: dict[int, int], number: int, *, locale: str, tz: str,
                      today: date, now: datetime, by: str, chat_id: str, max_hours: float) -> None:
    def bad(key: str, **values: Any) -> _Bad:
        return _Bad(t(locale, key, **values))

    row = await _read_row(session, cells, mapping, rooms, locale=locale, tz=tz, today=today)
    room, starts_at, ends_at, values, status = row.room, row.starts_at, row.ends_at, row.values, row.status
    existing = await service.stream_by_key(session, room.id, starts_at)
    if existing is not None and existing.id in row_of:
        raise bad("schedule.row_duplicate", row=row_of[existing.id])
    try:
        if status == CANCELLED:
            if existing is None:
                result.skipped += 1
            else:
                await service.cancel_stream(session, existing, reason=t(locale, "schedule.import_reason"),
                                            by=by, now=now)
                row_of[existing.id] = number
                result.updated.append(existing.id)
            return
        if existing is None:
            people = {f: v for f, v in values.items() if f in PERSON_FIELDS and v}
            stream = await service.add_stream(
                session, room=room, starts_at=starts_at, ends_at=ends_at, people=people,
                brand=values.get("brand", ""), theme=values.get("theme", ""), target_gmv=values.get("target_gmv"),
                status=status or PENDING, chat_id=chat_id, by=by, now=now, source="import", tz=tz,
                max_hours=max_hours)
            row_of[stream.id] = number
            result.added.append(stream.id)
            return
        if existing.status in (LIVE, ENDED):  # the sheet does not rewrite what happened
            row_of[existing.id] = number
            result.unchanged += 1
            return
        changes = dict(values, ends_at=ends_at)
        if status:
            changes["status"] = status
        diff = await service.edit_stream(session, existing, changes, by=by, now=now, tz=tz, max_hours=max_hours,
                                         kind="imported")
        row_of[existing.id] = number
        if diff:
            result.updated.append(existing.id)
        else:
            result.unchanged += 1
    except UserError as exc:
        other = exc.values.get("id")
        if exc.key.startswith("schedule.conflict") and other in row_of:
            raise bad("schedule.row_conflict_row", row=row_of[other]) from None
        raise _Bad(t(locale, exc.key, **exc.values)) from None

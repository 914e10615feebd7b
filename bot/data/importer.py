"""Importing a Compass-style export (summary, product table, per-minute trend) into streams.

    tables = await uploads.run_bounded(read, data, "1号间 11-20.xlsx")      # off the event loop
    outcome = await import_tables(session, tables, digest=..., file_name=..., stream_id=None, ...)

A file is cut into parts (bot.data.placing): each row of a summary (an export may list several
sessions), each product table, each trend. Each part goes to a stream, never to one its room,
date or time contradicts:

1. the stream named ("#12" in the file name, the message, or a button press), when the part
   does not contradict it (else the part is refused and the card says why);
2. the stream the part itself names (room or account alias + start time, or a trend's dated
   minutes), when exactly one fits;
3. for a part that says less (a product table, a trend with bare times): the stream the other
   parts of the same file went to, else the stream that received an import in this chat in
   the last 30 minutes, else the only fitting stream of this chat that ended in the last 12
   hours; each only if the part does not contradict it;
4. otherwise the part is asked about (``outcome.asked``, with the fitting streams as buttons),
   or refused when no stream fits.

Figures that cannot be true are refused row by row at parsing (bot.data.checks). Storing goes
through the ledger (bot.data.ledger): the same file again changes nothing, a different file of
the same kind for the same stream replaces what the earlier one wrote, and an import can be
undone. Excel-mangled product ids ("3.61235E+12") never merge products: those products are
keyed by their name, and the card says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.data import ledger, parse, placing, store
from bot.data.numbers import mangled_id
from bot.i18n import t
from bot.schedule import service as schedule
from bot.schedule.models import CANCELLED, Stream

STREAM_TAG = re.compile(r"[#＃]\s*(\d{1,9})(?!\d)")
DATA_EXTENSIONS = (".csv", ".xlsx", ".xlsm", ".tsv")
EXPORT_WORDS = ("罗盘", "compass", "数据", "直播间", "汇总", "趋势", "商品", "明细", "成交", "场次", "export", "data")
METRIC_FIELDS = frozenset({"gmv", "uv", "pv", "buyers", "orders", "items", "new_fans", "online", "entering",
                           "exposure_uv", "click_uv", "click_deal_rate", "peak_online", "avg_dwell"})
MAX_ASKED = 5
UTC = ZoneInfo("UTC")


@dataclass
class Placed:
    part: placing.Part
    stream: Stream
    state: str                 # new | replaced | unchanged
    replaced_file: str = ""


@dataclass
class Outcome:
    placed: list[Placed] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)          # "汇总表 第 3 行：…，没有导入"
    asked: list[placing.Part] = field(default_factory=list)   # parts to ask about (part.candidates)
    ignored: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)         # summary figures that had other values

    @property
    def streams(self) -> list[Stream]:
        return list({p.stream.id: p.stream for p in self.placed}.values())

    @property
    def unchanged(self) -> bool:
        return bool(self.placed) and all(p.state == "unchanged" for p in self.placed)


def is_data_file(file_name: str) -> bool:
    return file_name.lower().endswith(DATA_EXTENSIONS)


def named_like_export(file_name: str) -> bool:
    """A file name that says it is stream data: used to answer someone who may not import one
    without downloading the file first."""
    lower = (file_name or "").lower()
    return is_data_file(lower) and any(w in lower for w in EXPORT_WORDS)


def useful(tables: list[parse.Table]) -> list[parse.Table]:
    """Tables with at least one figure column: a plain product list (商品, 价格) is not data."""
    return [tb for tb in tables if METRIC_FIELDS & set(tb.columns)]


def tagged_stream(text: str) -> int | None:
    found = STREAM_TAG.search(text or "")
    return int(found.group(1)) if found else None


def read(data: bytes, file_name: str) -> list[parse.Table]:
    """The data tables of a file (pure, for the parse pool); bare times are put on
    ``placing.ASSUMED`` and moved onto their stream's date later."""
    tables = useful(parse.read_tables(data, file_name, assume_date=placing.ASSUMED))
    if not tables:
        raise parse.ParseError("data.err.no_figures")
    return tables


def label_of(table: parse.Table, locale: str, row: int | None = None, many: bool = False) -> str:
    kind = t(locale, f"data.kind.{table.kind}")
    sheet = f"（{table.sheet}）" if table.sheet else ""
    if row is not None and many:
        return t(locale, "data.part_row", kind=kind, sheet=sheet, row=row)
    return t(locale, "data.import_part", kind=kind, sheet=sheet, n=len(table.rows) if row is None else 1)


def stream_text(stream: Stream, rooms: dict[int, str], tz: ZoneInfo) -> str:
    return f"#{stream.id} {rooms.get(stream.room_id, '')} {schedule.span_text(stream.starts_at, stream.ends_at, tz)}"


def _rejected(table: parse.Table, locale: str) -> list[str]:
    where = f"{table.sheet}!" if table.sheet else ""
    return [t(locale, "data.reject_line", where=where, row=r.row, why=r.en if locale == "en_US" else r.zh,
              label=t(locale, "data.reject_label", label=r.label) if r.label else "")
            for r in table.rejected]


# -- placing ---------------------------------------------------------------------------------
def _timed(ev: placing.Evidence) -> bool:
    return not ev.time_only and (ev.start is not None or ev.first is not None)


async def place(session: AsyncSession, parts: list[placing.Part], explicit: Stream | None, out: Outcome, *,
                chat_id: str, now: datetime, tz: ZoneInfo, locale: str,
                rooms: dict[int, str]) -> list[tuple[placing.Part, Stream]]:
    assigned: list[tuple[placing.Part, Stream]] = []
    pending: list[placing.Part] = []
    for part in parts:
        ev = part.evidence
        if explicit is not None:
            why = placing.why_not(explicit, ev, tz)
            if why is None:
                assigned.append((part, explicit))
            else:
                out.refused.append(t(locale, "data.part_contradicts", part=part.label, said=ev.describe(),
                                     stream=stream_text(explicit, rooms, tz), why=t(locale, f"data.why_not.{why}")))
            continue
        part.candidates = await placing.streams_near(session, ev, tz, chat_id=chat_id, now=now)
        if _timed(ev) and not part.candidates:
            out.refused.append(_no_stream(part, locale))
        elif _timed(ev) and ev.room is not None and len(part.candidates) == 1:
            assigned.append((part, part.candidates[0]))
        else:
            pending.append(part)
    siblings = list({s.id: s for _, s in assigned}.values())
    just = await placing.just_imported(session, chat_id, now) if pending else None
    for part in pending:
        ev = part.evidence
        recent = [s for s in part.candidates if now - placing.RECENT <= s.ends_at <= now]
        if len(siblings) == 1 and placing.consistent(siblings[0], ev, tz):  # the rest of the same file
            assigned.append((part, siblings[0]))
        elif just is not None and placing.consistent(just, ev, tz):  # the file before, minutes ago
            assigned.append((part, just))
        elif not part.candidates:
            out.refused.append(_no_stream(part, locale))
        elif len(part.candidates) == 1 and (_timed(ev) or part.candidates[0].ends_at <= now):
            assigned.append((part, part.candidates[0]))
        elif len(recent) == 1 and not _timed(ev):
            assigned.append((part, recent[0]))
        else:
            out.asked.append(part)
    return _one_per_stream(assigned, out, tz, locale, rooms)


def _no_stream(part: placing.Part, locale: str) -> str:
    return t(locale, "data.part_no_stream", part=part.label,
             said=part.evidence.describe() or t(locale, "data.said_nothing"))


def _one_per_stream(assigned: list[tuple[placing.Part, Stream]], out: Outcome, tz: ZoneInfo, locale: str,
                    rooms: dict[int, str]) -> list[tuple[placing.Part, Stream]]:
    """Two parts of one kind for the same stream: the first is taken, the second refused."""
    seen: dict[tuple[int, str], placing.Part] = {}
    kept = []
    for part, stream in assigned:
        first = seen.setdefault((stream.id, part.table.kind), part)
        if first is part:
            kept.append((part, stream))
        else:
            out.refused.append(t(locale, "data.part_same_stream", part=part.label, other=first.label,
                                 stream=stream_text(stream, rooms, tz)))
    return kept


# -- storing ---------------------------------------------------------------------------------
def product_keys(rows: list[dict], locale: str) -> tuple[list[dict], list[str], list[str]]:
    """(rows kept, their keys, notes): 商品编号 as the key, except ids Excel mangled
    ("3.61235E+12") and ids shared by products with different names, which fall back to the
    product name; a row with a mangled id and no name cannot be told apart and is left out."""
    names_by_id: dict[str, set[str]] = {}
    for r in rows:
        if r.get("product_id"):
            names_by_id.setdefault(str(r["product_id"]), set()).add(str(r.get("name") or ""))
    mangled = {pid for pid in names_by_id if mangled_id(pid)}
    shared = {pid for pid, names in names_by_id.items() if len(names) > 1 and pid not in mangled}
    kept, keys, lost = [], [], 0
    for r in rows:
        pid = str(r.get("product_id") or "")
        if pid and pid not in mangled and pid not in shared:
            key = store.product_key(r)
        elif r.get("name"):
            key = "name:" + str(r["name"]).strip()[:120]
        else:
            lost += 1
            continue
        kept.append(r)
        keys.append(key)
    notes = []
    if mangled:
        notes.append(t(locale, "data.note_mangled_ids", example=sorted(mangled)[0],
                       n=sum(1 for r in rows if str(r.get("product_id") or "") in mangled)))
    if shared:
        notes.append(t(locale, "data.note_shared_ids", ids="、".join(sorted(shared)[:3])))
    if lost:
        notes.append(t(locale, "data.note_lost_products", n=lost))
    return kept, keys, notes


def _stored_rows(part: placing.Part, stream: Stream, tz: ZoneInfo) -> list[dict]:
    if part.table.kind != parse.TREND:
        return part.rows
    day = placing.window(stream, tz)[0].date()
    out = []
    for r in part.rows:
        minute = r.get("minute")
        if not isinstance(minute, datetime):
            continue
        local = placing.moved(minute, day) if part.evidence.time_only else minute
        out.append({**r, "minute": local.replace(tzinfo=tz).astimezone(UTC)})
    return out


async def import_tables(session: AsyncSession, tables: list[parse.Table], *, digest: str, file_name: str,
                        stream_id: int | None, chat_id: str, by: str, now: datetime, tz: ZoneInfo, locale: str,
                        part: str | None = None) -> Outcome:
    """Place and store the parts of a file (``part``: only that one, as a button asks).
    Raises UserError for a named stream that does not exist."""
    from bot.errors import UserError
    from bot.norms import checkpoints

    stream_id = stream_id or tagged_stream(file_name)
    explicit = None
    if stream_id is not None:
        explicit = await schedule.stream_by_id(session, stream_id)
        if explicit is None or explicit.status == CANCELLED:
            raise UserError("data.stream_unknown", id=stream_id)
    parts = await placing.parts_of(session, tables, file_name, lambda tb, row, many: label_of(tb, locale, row, many))
    if part is not None:
        parts = [p for p in parts if p.index == part]
        if not parts:
            raise UserError("data.stale_button")
    out = Outcome()
    shown = tables if part is None else list({id(p.table): p.table for p in parts}.values())
    for table in shown:
        out.ignored += [c for c in table.ignored if c not in out.ignored]
        out.rejected += _rejected(table, locale)
    rooms = {r.id: r.name for r in await schedule.list_rooms(session, include_inactive=True)}
    assigned = await place(session, parts, explicit, out, chat_id=chat_id, now=now, tz=tz, locale=locale,
                           rooms=rooms)
    for p, stream in assigned:
        rows, keys = _stored_rows(p, stream, tz), None
        if p.table.kind == parse.PRODUCTS:
            rows, keys, notes = product_keys(rows, locale)
            out.notes += [n for n in notes if n not in out.notes]
        prior = await store.values_of(session, stream.id)
        _row, state, _over, replaced_file = await ledger.write(
            session, p.table.kind, rows, stream.id, digest=digest, file_name=file_name, chat_id=chat_id, by=by,
            now=now, rejected=len(p.table.rejected), keys=keys)
        out.placed.append(Placed(p, stream, state, replaced_file))
        if state != "unchanged" and p.table.kind == parse.SUMMARY:
            after = await store.values_of(session, stream.id)
            out.replaced += [k for k, v in prior.items() if k in after and after[k] != v and k not in out.replaced]
            await checkpoints.mark_done(session, stream.id, "export", by=by, at=now)  # the T+1h export norm
    if any(p.state != "unchanged" for p in out.placed):
        await store.audit(session, action="import", now=now, user_id=by, chat_id=chat_id, what=file_name,
                          detail={"streams": sorted({p.stream.id for p in out.placed}),
                                  "tables": [p.part.table.kind for p in out.placed]},
                          rows=sum(len(p.part.rows) for p in out.placed))
    return out

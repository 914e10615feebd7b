"""Where stream data comes from, behind one small interface.

Douyin/Kuaishou data APIs are not reachable from here, so today data arrives as files: uploaded
into a group (bot.commands.data) or dropped into a folder (``FileDrop``). A future live source
implements ``DataSource`` and is polled the same way:

    class DataSource(Protocol):
        name: str
        def poll(self) -> list[Drop]      # new exports since the last call (cheap, no side effects)

Each ``Drop`` goes through the same importer as an upload (bot.data.importer.import_file):
header mapping, stream matching ("#12" in the name, else room and start time), the content-hash
ledger (a file is taken once), the audit log, and an import card in the stream's group.

``FileDrop`` watches ``BOT_DATA_DROP_DIR`` (e.g. a folder a Compass export job or a shared
drive syncs into): every minute, files with a .csv/.xlsx name are read; nothing is moved or
deleted, the ledger makes re-reading harmless.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from bot.commands.registry import on_startup
from bot.context import Ctx
from bot.data import cards, importer, parse
from bot.data.models import DataImport
from bot.reminders import timers
from bot.reminders.recurrence import Recurrence
from bot.schedule import service as schedule

log = logging.getLogger("bot.data.sources")
KIND = "data.filedrop"
MAX_FILES = 50  # per poll


@dataclass(frozen=True)
class Drop:
    name: str
    data: bytes
    source: str  # "filedrop:/path/to/file.csv"


class DataSource(Protocol):
    name: str

    def poll(self) -> list[Drop]: ...


class FileDrop:
    name = "filedrop"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def poll(self) -> list[Drop]:
        if not self.folder.is_dir():
            return []
        found = sorted(p for p in self.folder.iterdir() if p.is_file() and importer.is_data_file(p.name))
        return [Drop(p.name, p.read_bytes(), f"filedrop:{p}") for p in found[:MAX_FILES]]


def source_for(ctx: Ctx) -> DataSource | None:
    folder = ctx.svc.settings.extra.get("BOT_DATA_DROP_DIR", "")
    return FileDrop(folder) if folder else None


async def seen(ctx: Ctx, data: bytes) -> bool:
    digest = hashlib.sha256(data).hexdigest()
    return (await ctx.session.execute(select(DataImport.id).where(DataImport.digest == digest).limit(1))).first() is not None


async def take(ctx: Ctx, drop: Drop) -> None:
    """Import one drop; the card goes to the stream's group. Files that are not data, name no
    known stream or are ambiguous are logged and skipped (a person can still upload them)."""
    if await seen(ctx, drop.data):
        return
    try:
        async with ctx.session.begin_nested():
            outcome = await importer.import_file(ctx.session, drop.data, drop.name, stream_id=None, chat_id="",
                                                 by="", now=ctx.now(), tz=ctx.svc.tz, locale=ctx.locale)
            if outcome.choices or outcome.stream is None:
                raise LookupError("cannot tell which stream")
    except (parse.ParseError, LookupError, Exception) as exc:  # noqa: BLE001 - one bad file never stops the rest
        log.warning("data drop skipped", extra={"file": drop.source, "why": str(exc)[:200]})
        return
    stream = outcome.stream
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    label = f"#{stream.id} {room.name if room else ''} {schedule.span_text(stream.starts_at, stream.ends_at, ctx.svc.tz)}"
    if stream.chat_id:
        await ctx.send(stream.chat_id, card=cards.import_card(
            ctx.t, ctx.locale, stream_label=label, stream_id=stream.id, file_name=drop.name, parts=outcome.parts,
            ignored=outcome.ignored, rejected=outcome.rejected, unchanged=outcome.unchanged, replaced=outcome.replaced))


@timers.handler(KIND)
async def poll(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    source = source_for(ctx)
    if source is None:
        return
    for drop in source.poll():
        await take(ctx, drop)


@on_startup
async def plan(svc, session) -> None:
    """Poll the drop folder every minute when one is configured."""
    if not svc.settings.extra.get("BOT_DATA_DROP_DIR"):
        await timers.cancel(session, KIND)
        return
    now = svc.clock.now()
    await timers.schedule(session, key=KIND, kind=KIND, due=now + timedelta(seconds=5),
                          rule=Recurrence(kind="interval", every_minutes=1, tz=svc.settings.timezone),
                          ref=KIND, stale_after=timedelta(minutes=5))

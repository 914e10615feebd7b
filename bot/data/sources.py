"""Where stream data comes from, behind one small interface.

Douyin/Kuaishou data APIs are not reachable from here, so today data arrives as files: uploaded
into a group (bot.commands.data) or dropped into a folder (``FileDrop``). A future live source
implements ``DataSource`` and is polled the same way:

    class DataSource(Protocol):
        name: str
        def poll(self) -> list[Drop]      # new exports since the last call (cheap, no side effects)

Each ``Drop`` goes through the same reader and importer as an upload (bot.data.importer:
bounded parsing off the event loop, header mapping, stream placing: "#12" in the name, else
room and start time, never a stream the file contradicts), the ledger (a file is taken once,
even after an undo), the audit log, and an import card in each stream's group.

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
from bot import uploads
from bot.data import cards, importer
from bot.data.models import DataImport
from bot.feature_settings import DataSettings, of
from bot import timers
from bot.timers.recurrence import Recurrence
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
    folder = of(ctx.svc.settings, DataSettings).data_drop_dir
    return FileDrop(folder) if folder else None


async def seen(ctx: Ctx, data: bytes) -> bool:
    digest = hashlib.sha256(data).hexdigest()
    return (await ctx.session.execute(select(DataImport.id).where(DataImport.digest == digest).limit(1))).first() is not None


async def take(ctx: Ctx, drop: Drop) -> None:
    """Import one drop; the card goes to each stream's group. Parts that are not data, name no
    known stream or are ambiguous are logged and skipped (a person can still upload them)."""
    if await seen(ctx, drop.data):
        return
    try:
        async with ctx.session.begin_nested():
            tables = await uploads.run_bounded(importer.read, drop.data, drop.name, name=drop.name)
            outcome = await importer.import_tables(ctx.session, tables, digest=hashlib.sha256(drop.data).hexdigest(),
                                                   file_name=drop.name, stream_id=None, chat_id="", by="",
                                                   now=ctx.now(), tz=ctx.svc.tz, locale=ctx.locale)
            if not outcome.placed:
                raise LookupError("cannot tell which stream")
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the rest
        log.warning("data drop skipped", extra={"file": drop.source, "why": str(exc)[:200]})
        return
    if outcome.asked or outcome.refused:
        log.warning("data drop partly skipped", extra={"file": drop.source, "asked": len(outcome.asked),
                                                       "refused": len(outcome.refused)})
    rooms = {r.id: r.name for r in await schedule.list_rooms(ctx.session, include_inactive=True)}
    for stream in outcome.streams:
        if not stream.chat_id:
            continue
        mine = [p for p in outcome.placed if p.stream.id == stream.id]
        placed = [(p.part.label, stream.id, importer.stream_text(stream, rooms, ctx.svc.tz), p.state, p.replaced_file)
                  for p in mine]
        await ctx.send(stream.chat_id, card=cards.import_card(
            ctx.t, ctx.locale, file_name=drop.name, placed=placed, refused=[], asked=[], ignored=outcome.ignored,
            rejected=outcome.rejected, notes=outcome.notes, replaced=outcome.replaced))


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
    if not of(svc.settings, DataSettings).data_drop_dir:
        await timers.cancel(session, KIND)
        return
    now = svc.clock.now()
    await timers.schedule(session, key=KIND, kind=KIND, due=now + timedelta(seconds=5),
                          rule=Recurrence(kind="interval", every_minutes=1, tz=svc.settings.timezone),
                          ref=KIND, stale_after=timedelta(minutes=5))

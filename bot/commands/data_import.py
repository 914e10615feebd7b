"""/数据 导入 and /数据 撤销: importing a Compass export (an uploaded file, a reply with
"@LiveOps 导入数据", or the picker card when the file does not say which stream) and undoing
the latest import of a stream. Split from bot.commands.data (the DATA command group lives there).
docs/data-import.md says what a file must look like and how a user sends one in @-only mode.
"""
from __future__ import annotations

import hashlib
import re

from bot import roles, uploads
from bot.access import Scope
from bot.commands.data import DATA, stream_of
from bot.commands.registry import on_file, on_mention
from bot.context import Ctx
from bot.data import cards, importer, ledger, parse, store
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction, IncomingMessage
from bot.metrics import imported
from bot.schedule import service as schedule
from bot.schedule.models import Stream


@DATA.verb("导入", "import", role=roles.OPS, scope=Scope.TEAM, args=("[#场次]（回复一个上传的文件）", "[#stream] (as a reply to a file)"),
           needs_reply=True,
           summary=("导入回复的文件", "Import the replied file"), examples=["/数据 导入 #12"], examples_en=["/data import #12"])
async def import_verb(ctx: Ctx, rest: str) -> None:
    await import_replied(ctx, rest)


@DATA.verb("撤销", "undo", aliases=("撤回",), role=roles.OPS, scope=Scope.TEAM, args=("#<场次>", "#<stream>"),
           summary=("撤销这场最近一次导入", "Undo the stream's latest import"), examples=["/数据 撤销 #12"],
           examples_en=["/data undo #12"])
async def undo_verb(ctx: Ctx, rest: str) -> None:
    await undo_import(ctx, rest)


# -- imports ---------------------------------------------------------------------------------------
async def run_import(ctx: Ctx, message_id: str, file_key: str, file_name: str, *, stream_id: int | None = None,
                     quiet_if_foreign: bool = False, part: str | None = None) -> bool:
    """Download (bounded, bot.uploads), parse off the event loop, place and store; answer with
    the import card (and a picker card for each part that has to be asked about)."""
    data = await ctx.file_bytes(message_id, file_key)
    if not data:
        raise UserError("data.download_failed")
    try:
        tables = await uploads.run_bounded(importer.read, data, file_name, name=file_name)
    except parse.ParseError as exc:
        if quiet_if_foreign:
            return False  # not a data export: leave it to the other file handlers
        imported(ctx, "data", "unreadable")
        await ctx.reply(exc.message(ctx.locale))
        return True
    except uploads.Refused as exc:
        await ctx.reply(exc.message(ctx.locale))
        return True
    digest = hashlib.sha256(data).hexdigest()
    outcome = await importer.import_tables(ctx.session, tables, digest=digest, file_name=file_name, stream_id=stream_id,
                                           chat_id=ctx.chat_id, by=ctx.user_id, now=ctx.now(), tz=ctx.svc.tz,
                                           locale=ctx.locale, part=part)
    imported(ctx, "data", "ok" if outcome.placed else "rejected" if outcome.refused else "asked",
             len(outcome.rejected))
    if outcome.placed or outcome.refused or not outcome.asked:
        await ctx.reply(card=await import_card(ctx, file_name, outcome, digest))
    ref = {"m": message_id, "k": file_key, "n": file_name[:100]}
    whole = len(outcome.asked) == 1 and not outcome.placed and not outcome.refused
    for asked in outcome.asked[:importer.MAX_ASKED]:
        labels = [(s.id, await stream_label(ctx, s)) for s in asked.candidates[:5]]
        await ctx.reply(card=cards.pick_stream_card(ctx.t, file_name, labels, {**ref, "p": asked.index},
                                                    part="" if whole else asked.label, said=asked.evidence.describe()))
    return True


async def import_card(ctx: Ctx, file_name: str, outcome: importer.Outcome, digest: str):
    placed = [(p.part.label, p.stream.id, await stream_label(ctx, p.stream), p.state, p.replaced_file)
              for p in outcome.placed]
    allowed = roles.allowed(ctx.roles, roles.OPS)
    return cards.import_card(ctx.t, ctx.locale, file_name=file_name, placed=placed, refused=outcome.refused,
                             asked=[p.label for p in outcome.asked], ignored=outcome.ignored,
                             rejected=outcome.rejected, notes=outcome.notes, replaced=outcome.replaced,
                             digest=digest if allowed else "")


async def stream_label(ctx: Ctx, stream: Stream) -> str:
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    return f"#{stream.id} {room.name if room else ''} {schedule.span_text(stream.starts_at, stream.ends_at, ctx.svc.tz)}"


def _is_data_file(msg: IncomingMessage) -> bool:
    return msg.msg_type == "file" and bool(msg.file_key) and importer.is_data_file(msg.file_name or "")


def _named_like_an_export(msg: IncomingMessage) -> bool:
    return importer.named_like_export(msg.file_name or "")


@on_file(priority=20, match=_is_data_file, role=roles.OPS, scope=Scope.TEAM, explain=_named_like_an_export,
         label=("导入直播数据", "data import"))
async def data_file(ctx: Ctx, msg: IncomingMessage) -> bool:
    """An uploaded CSV/XLSX whose headers are a Compass export is imported; others pass on.
    Only ops get here: the router checks before anything is downloaded."""
    return await run_import(ctx, msg.message_id, msg.file_key, msg.file_name or "", quiet_if_foreign=True)


async def import_replied(ctx: Ctx, rest: str) -> None:
    parent = ctx.message.parent_id if ctx.message else None
    if not parent:
        raise UsageError(ctx.t("data.import_hint"))
    from bot.compliance.service import fetch_message

    content = await fetch_message(ctx.svc.platform, parent)
    if content is None or content.msg_type != "file" or not content.file_key:
        raise UserError("data.import_not_file")
    await run_import(ctx, parent, content.file_key, content.file_name or "data.csv",
                     stream_id=importer.tagged_stream(rest))


IMPORT_WORDS = ("导入数据", "导入", "import")


def _is_import_reply(msg: IncomingMessage) -> bool:
    words = msg.text.replace("＃", "#").split()
    return bool(words) and words[0] in IMPORT_WORDS and bool(msg.parent_id)


@on_mention(priority=20, match=_is_import_reply, role=roles.OPS, scope=Scope.TEAM,
            label=("导入直播数据", "data import"))
async def import_mention(ctx: Ctx, msg: IncomingMessage) -> bool:
    """"@LiveOps 导入数据 [#12]" as a reply to an uploaded export."""
    words = msg.text.replace("＃", "#").split()
    await import_replied(ctx, " ".join(words[1:]))
    return True


async def undo_import(ctx: Ctx, rest: str, digest: str | None = None) -> None:
    """/数据 撤销 #12: the stream's latest import is undone (ops; audit-logged)."""
    word = rest.strip()
    if importer.tagged_stream(word) is None:
        raise UsageError(ctx.t("data.undo_usage"))
    stream = await stream_of(ctx, word)
    undone = await ledger.undo_file(ctx.session, stream.id, digest=digest, by=ctx.user_id, now=ctx.now())
    if not undone:
        raise UserError("data.undo_nothing", id=stream.id)
    name = undone[0].file_name
    await store.audit(ctx.session, action="undo", now=ctx.now(), user_id=ctx.user_id, chat_id=ctx.chat_id,
                      what=f"#{stream.id} {name}"[:300], detail={"kinds": [r.kind for r in undone]})
    kinds = "、".join(ctx.t(f"data.kind.{r.kind}") for r in reversed(undone))
    await ctx.reply(ctx.t("data.undone", id=stream.id, file=name[:60], kinds=kinds))


@cards.UNDO.handle
async def undo_pressed(ctx: Ctx, act: CardAction) -> None:
    try:
        stream_id, digest = int(act.value["s"]), str(act.value["d"])
    except (KeyError, TypeError, ValueError):
        raise UserError("data.stale_button") from None
    if not re.fullmatch(r"[0-9a-f]{8,64}", digest):
        raise UserError("data.stale_button")
    await undo_import(ctx, f"#{stream_id}", digest=digest)


@cards.PICK.handle
async def pick(ctx: Ctx, act: CardAction) -> None:
    value = act.value
    try:
        stream_id, message_id, file_key = int(value["s"]), str(value["m"]), str(value["k"])
    except (KeyError, TypeError, ValueError):
        raise UserError("data.stale_button") from None
    name = str(value.get("n") or "data.csv")
    part = str(value["p"]) if value.get("p") is not None else None
    stream = await stream_of(ctx, f"#{stream_id}")
    if act.message_id:
        await ctx.update_card(act.message_id, cards.picked_card(ctx.t, name, await stream_label(ctx, stream), stream_id))
    await run_import(ctx, message_id, file_key, name, stream_id=stream_id, part=part)



"""/开播 (/live), /下播 (/offair), /讲解 (/explain) and the checkpoint card buttons.

/开播 records the actual start (the schedule-accuracy KPI compares it with the scheduled
start) and starts the in-stream cadence in the room's field-control group; /下播 records the
end, stops the cadence and any running explanation, and plans the T+1h data export and the
T+24h review (bot.reviews.service.stream_ended). Which stream: "#12", a room name, or —
without either — the one stream of this field-control group / the one that fits now.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import records, roles
from bot.access import Scope
from bot.cards import escape_md
from bot.commands.registry import command, command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction
from bot.norms import afterstream, cadence, checkpoints, config, script_gate
from bot.norms import cards as norm_cards
from bot.norms.models import DONE, OPEN, Checkpoint, Explanation
from bot.people import display_name
from bot.schedule import service as schedule
from bot.schedule.models import CONFIRMED, LIVE, PENDING, Room, Stream
from bot.commands.schedule import ROOMISH

START_WINDOW = timedelta(hours=2)  # /开播 without an id looks this far ahead of the scheduled start
GROUP = ("直播", "Live")


def hm(ctx: Ctx, when) -> str:
    return when.astimezone(ctx.svc.tz).strftime("%H:%M")


async def resolve(ctx: Ctx, args: str, *, live: bool) -> Stream:
    """The stream a /开播 or /下播 means."""
    arg = args.strip()
    if (arg and arg[0] in "#＃") or arg.isdigit():
        return await schedule.get_stream(ctx.session, arg.split()[0])
    room_id = None
    if arg:
        room_id = (await schedule.find_room(ctx.session, arg)).id
    else:
        field_room = (await ctx.session.execute(select(Room.id).where(Room.field_chat_id == ctx.chat_id))).scalars().first()
        room_id = field_room
    now = ctx.now()
    if live:
        query = select(Stream).where(Stream.status == LIVE)
        if room_id is not None:
            query = query.where(Stream.room_id == room_id)
        found = list((await ctx.session.execute(query.order_by(Stream.starts_at))).scalars())
    else:
        found = [s for s in await schedule.streams_between(ctx.session, now, now + START_WINDOW, room_id=room_id,
                                                           statuses=(PENDING, CONFIRMED))]
    if room_id is None and len(found) > 1:
        mine = [s for s in found if s.chat_id == ctx.chat_id]
        found = mine or found
    if not found:
        raise UserError("norms.no_live_stream" if live else "norms.no_stream_now")
    if len(found) > 1:
        raise UserError("norms.which_stream", ids=" ".join(f"#{s.id}" for s in found[:8]))
    return found[0]


async def far_from_schedule(ctx: Ctx, stream: Stream, *, ending: bool) -> bool:
    """More than the ``far`` setting away from the schedule: ask on a card instead (True)."""
    cfg = await config.effective(ctx.session, stream.room_id)
    planned = stream.ends_at if ending else stream.starts_at
    minutes = int((ctx.now() - planned).total_seconds() // 60)
    if abs(minutes) <= int(cfg["far"]) or (ending and minutes > 0):
        return False
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    card = norm_cards.far_from_schedule_card(ctx, stream, room, ending=ending, minutes=minutes)
    if ctx.action is not None:
        ctx.toast(ctx.t("norms.asked_far"), "warning")
        await ctx.send(ctx.chat_id, card=card)
    else:
        await ctx.reply(card=card)
    return True


async def go_live(ctx: Ctx, stream: Stream, *, confirmed: bool = False) -> None:
    """Record the start: the stream's own people (streamer, 场控, 中控 ...) and ops only."""
    await ctx.load(records.STREAM, stream.id, owners_only=True)
    if stream.status == LIVE:
        raise UserError("norms.already_live", id=stream.id)
    if not confirmed and await far_from_schedule(ctx, stream, ending=False):
        return
    now = ctx.now()
    await schedule.mark_live(ctx.session, stream, at=now, by=ctx.user_id)
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    started = await cadence.start(ctx.session, stream, room, now, ctx.svc.settings.timezone)
    cfg = await config.effective(ctx.session, stream.room_id)
    off = int((now - stream.starts_at).total_seconds() // 60)
    if abs(now - stream.starts_at) <= timedelta(minutes=cfg["ontime"]):
        timing = ctx.t("norms.on_time")
    elif off > 0:
        timing = ctx.t("norms.late_start", minutes=off)
    else:
        timing = ctx.t("norms.early_start", minutes=-off)
    rhythm = "、".join(ctx.t("norms.every", what=ctx.t(f"norms.what.{w}"), minutes=cfg[f"cadence.{w}"])
                      for w in started) if ctx.locale != "en_US" else ", ".join(
        ctx.t("norms.every", what=ctx.t(f"norms.what.{w}"), minutes=cfg[f"cadence.{w}"]) for w in started)
    text = ctx.t("norms.live_started", id=stream.id, room=room.name if room else "?", time=hm(ctx, now),
                 timing=timing, rhythm=rhythm or "-")
    await ctx.reply(text)
    chat = cadence.target_chat(stream, room)
    if chat and chat != ctx.chat_id:
        await ctx.send(chat, text)


def _names_a_stream(rest: str) -> bool:
    """"#12", a room ("1号间", "1号直播间") or nothing: what /开播 and /下播 take."""
    words = rest.split()
    return not words or (len(words) == 1 and bool(ROOMISH.match(words[0])))


@command("开播", "live", examples_en=["/live #12", "/live"], scope=Scope.OWNERS, record=records.STREAM,
         accepts=_names_a_stream, summary=("记录开播，开始直播中节奏提醒", "Record the stream's start and begin the in-stream cadence"),
         args=("[#场次|直播间]", "[#stream|room]"), examples=["/开播 #12", "/开播 1号间", "/开播"],
         group=GROUP, order=10)
async def live_command(ctx: Ctx, args: str) -> None:
    await go_live(ctx, await resolve(ctx, args, live=False))


@command("下播", "offair", examples_en=["/offair #12", "/offair"], scope=Scope.OWNERS, record=records.STREAM,
         accepts=_names_a_stream, summary=("记录下播，停止节奏提醒，安排数据导出和复盘", "Record the end, stop the cadence, plan export and review"),
         args=("[#场次|直播间]", "[#stream|room]"), examples=["/下播 #12", "/下播"],
         aliases=("end-live",), group=GROUP, order=11)
async def offair_command(ctx: Ctx, args: str) -> None:
    await go_off_air(ctx, await resolve(ctx, args, live=True))


async def go_off_air(ctx: Ctx, stream: Stream, *, confirmed: bool = False) -> None:
    await ctx.load(records.STREAM, stream.id, owners_only=True)
    if stream.status != LIVE:
        raise UserError("schedule.not_live", id=stream.id)
    if not confirmed and await far_from_schedule(ctx, stream, ending=True):
        return
    now = ctx.now()
    await schedule.mark_ended(ctx.session, stream, at=now, by=ctx.user_id)
    await cadence.stop(ctx.session, stream.id)
    running = (await ctx.session.execute(select(Explanation.chat_id).where(
        Explanation.stream_id == stream.id, Explanation.ended_at.is_(None)))).scalars()
    for chat in set(running):
        await afterstream.end_explanation(ctx.session, chat, now)
    await checkpoints.plan_after(ctx.session, stream, now)
    from bot.reviews import service as reviews

    await reviews.stream_ended(ctx.session, stream_id=stream.id, ended_at=now, chat_id=stream.chat_id)
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    cfg = await config.effective(ctx.session, stream.room_id)
    minutes = int((now - (stream.actual_start or stream.starts_at)).total_seconds() // 60)
    text = ctx.t("norms.ended", id=stream.id, room=room.name if room else "?", time=hm(ctx, now),
                 minutes=minutes, export=hm(ctx, now + timedelta(minutes=cfg["after.export"])),
                 review=(now + timedelta(hours=24)).astimezone(ctx.svc.tz).strftime("%m-%d %H:%M"))
    await ctx.reply(text)
    chat = cadence.target_chat(stream, room)
    if chat and chat != ctx.chat_id:
        await ctx.send(chat, text)


# -- checkpoint buttons ------------------------------------------------------------------------
def parse_latency(text: str) -> int | None:
    digits = "".join(ch for ch in str(text or "").strip().lower().removesuffix("ms").removesuffix("毫秒") if ch.isdigit())
    return int(digits) if digits and len(digits) <= 6 else None


async def confirm(ctx: Ctx, cp: Checkpoint, *, latency: str | None = None, message_id: str = "",
                  override: str = "") -> None:
    if cp.status == DONE:
        raise UserError("norms.already_done")
    if cp.status != OPEN:
        raise UserError("norms.not_open")
    if ctx.user_id != cp.owner_id and not roles.allowed(ctx.roles, roles.OPS):
        raise UserError("norms.not_owner")
    stream = await schedule.stream_by_id(ctx.session, cp.stream_id)
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    cfg = await config.effective(ctx.session, stream.room_id)
    gate = None
    if cp.kind == "script" and not override:  # only a check of the stream's script opens it
        gate = await script_gate.open_gate(ctx.session, stream.id, cfg)
        cp.gate_record_id = gate.id
    if cp.kind == "equipment":
        ms = parse_latency(latency or "")
        if ms is None:
            raise UserError("norms.need_latency", max=cfg["latency_max"])
        cp.latency_ms = ms
        if ms > cfg["latency_max"]:
            cp.failed_at = ctx.now()
            await ctx.reply(ctx.t("norms.latency_failed", ms=ms, max=cfg["latency_max"], id=stream.id))
            return
    cp.status, cp.done_by, cp.done_at = DONE, ctx.user_id, ctx.now()
    if override:
        cp.override_reason = override[:500]
    await checkpoints.mark_done(ctx.session, stream.id, cp.kind, by=ctx.user_id, at=ctx.now())
    who = await display_name(ctx, ctx.user_id) or ctx.user_id[-6:]
    card = norm_cards.done_card(ctx, cp, stream, room, who, gate=gate)
    if message_id:
        await ctx.update_card(message_id, card)
    else:
        await ctx.reply(card=card)


@norm_cards.CHECKPOINT_DONE.handle
async def done_button(ctx: Ctx, act: CardAction) -> None:
    cp = await ctx.session.get(Checkpoint, ctx.ref)
    if cp is None:
        raise UserError("norms.cp_unknown")
    latency = (act.form_value or {}).get("latency")
    await confirm(ctx, cp, latency=latency, message_id=act.message_id)


@norm_cards.GO_LIVE.handle
async def live_button(ctx: Ctx, act: CardAction) -> None:
    await go_live(ctx, await schedule.get_stream(ctx.session, str(ctx.ref)))


@norm_cards.GO_LIVE_ANYWAY.handle
async def live_anyway_button(ctx: Ctx, act: CardAction) -> None:
    await go_live(ctx, await schedule.get_stream(ctx.session, str(ctx.ref)), confirmed=True)


@norm_cards.END_ANYWAY.handle
async def end_anyway_button(ctx: Ctx, act: CardAction) -> None:
    await go_off_air(ctx, await schedule.get_stream(ctx.session, str(ctx.ref)), confirmed=True)


# -- product explanation timer -----------------------------------------------------------------

async def stream_here(ctx: Ctx) -> Stream | None:
    rooms = list((await ctx.session.execute(select(Room.id).where(Room.field_chat_id == ctx.chat_id))).scalars())
    live = list((await ctx.session.execute(select(Stream).where(Stream.status == LIVE))).scalars())
    here = [s for s in live if s.room_id in rooms] or [s for s in live if s.chat_id == ctx.chat_id]
    return here[0] if len(here) == 1 else None


EXPLAIN = command_group("讲解", "explain", summary=("商品讲解计时：爆款 8–12 分钟，引流款 3–5 分钟",
                                                   "Product explanation timer (hero 8–12 min, traffic 3–5 min)"),
                        group=GROUP, order=12)


async def start_explaining(ctx: Ctx, kind: str, product: str) -> None:
    if not product.strip():
        raise UsageError(ctx.t("norms.explain_product_needed"))
    now = ctx.now()
    stream = await stream_here(ctx)
    cfg = await config.effective(ctx.session, stream.room_id if stream else None)
    low, high = cfg[f"explain.{kind}"]
    row, previous = await afterstream.start_explanation(
        ctx.session, chat_id=ctx.chat_id, stream_id=stream.id if stream else None, kind=kind, product=product.strip(),
        by=ctx.user_id, now=now, bounds=(int(low), int(high)))
    text = ctx.t("norms.explain_started", product=escape_md(row.product), kind=ctx.t(f"norms.explain_kind.{kind}"),
                 lower=low, upper=high)
    if previous is not None:
        text = ended_text(ctx, previous) + "\n" + text
    await ctx.reply(text)


@EXPLAIN.verb("爆款", "hero", scope=Scope.TEAM, args=("<商品名>", "<product>"),
              summary=("爆款讲解计时", "Time a hero product"), examples=["/讲解 爆款 花西子散粉"],
              examples_en=["/explain hero 花西子散粉"])
async def explain_hero(ctx: Ctx, rest: str) -> None:
    await start_explaining(ctx, afterstream.HERO, rest)


@EXPLAIN.verb("引流", "traffic", aliases=("引流款",), scope=Scope.TEAM, args=("<商品名>", "<product>"),
              summary=("引流款讲解计时", "Time a traffic product"), examples=["/讲解 引流 9.9元眉笔"],
              examples_en=["/explain traffic 9.9元眉笔"])
async def explain_traffic(ctx: Ctx, rest: str) -> None:
    await start_explaining(ctx, afterstream.TRAFFIC, rest)


@EXPLAIN.verb("结束", "end", aliases=("停止", "stop", "done"), scope=Scope.TEAM,
              summary=("结束讲解计时", "Stop the timer"), examples=["/讲解 结束"], examples_en=["/explain end"])
async def explain_end(ctx: Ctx, rest: str) -> None:
    row = await afterstream.end_explanation(ctx.session, ctx.chat_id, ctx.now())
    if row is None:
        raise UserError("norms.explain_none")
    await ctx.reply(ended_text(ctx, row))


def ended_text(ctx: Ctx, row: Explanation) -> str:
    m, s = divmod(row.seconds or 0, 60)
    key = "norms.explain_ended_over" if row.overtime else "norms.explain_ended"
    return ctx.t(key, product=row.product, minutes=m, seconds=f"{s:02d}", upper=row.upper_min)

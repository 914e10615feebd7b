"""/数据 (/data): stream figures, KPIs against targets, imports, exports, who may see sales.

    /数据 [#12]                          a stream's KPIs with charts (default: the latest with data)
    /数据 本周|上周|本月|上月|今天|昨天 [直播间 X|@主播]   a period's KPIs
    /数据 运营 [本月|上月|本周]            the operator KPIs the bot records itself
    /数据 录入 #12 GMV 12.5万 UV 4万 成交人数 800 …   manual figures (ops)
    /数据 导入 (as a reply to an uploaded file), or just upload a Compass export (docs/data-import.md)
    /数据 撤销 #12                         undo the stream's latest imported file (ops; also a card button)
    /数据 目标 [列表 | 指标 值 [直播间 X|@主播] | 删除 指标 [直播间 X|@主播]]   targets (changes: ops)
    /数据 导出 [#12|本周|本月|上月]        CSV of the figures (ops; audit-logged)
    /数据 内部群 [开|关]                   mark this group internal: sales figures shown (ops)
    /数据 审计                             the data audit log (ops)
"""
from __future__ import annotations


from sqlalchemy import select

from bot import periods, roles
from bot.access import Scope
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.data import cards, checks, exports, importer, kpi, parse, report, store, visibility
from bot.data.models import StreamFigures
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction
from bot.schedule import service as schedule
from bot.schedule.models import Stream
from bot.store.models import Chat

EVERY_ROOM = {"全部", "所有", "团队", "all", "team"}  # in a room's field group: not just this room
ON, OFF = {"开", "开启", "是", "on", "yes"}, {"关", "关闭", "否", "off", "no"}
DELETE = {"删除", "清除", "delete", "remove"}
# manual entry words → canonical fields (bot.data.parse)
FIELDS = {"gmv": "gmv", "成交金额": "gmv", "销售额": "gmv", "uv": "uv", "场观": "uv", "观看人数": "uv", "进入人数": "uv",
          "pv": "pv", "观看人次": "pv", "成交人数": "buyers", "买家数": "buyers", "订单数": "orders", "成交订单数": "orders",
          "件数": "items", "成交件数": "items", "涨粉": "new_fans", "新增粉丝": "new_fans", "新增粉丝数": "new_fans",
          "停留": "avg_dwell", "人均观看时长": "avg_dwell", "人均停留": "avg_dwell", "点击人数": "click_uv",
          "商品点击人数": "click_uv", "曝光人数": "exposure_uv", "商品曝光人数": "exposure_uv", "最高在线": "peak_online",
          "在线峰值": "peak_online", "千川消耗": "ad_spend", "投放消耗": "ad_spend", "退款金额": "refund_amount"}
COUNTS = {"uv", "pv", "buyers", "orders", "items", "new_fans", "click_uv", "exposure_uv", "peak_online"}



async def masked(ctx: Ctx) -> bool:
    """Sales figures hidden in this answer? The one decision: bot.data.visibility."""
    return await visibility.sales_hidden(ctx.session, ctx.chat_id, held=ctx.roles,
                                         direct=bool(ctx.message is not None and ctx.message.is_direct))


def period_bounds(ctx: Ctx, period: periods.Period):
    return period.bounds(ctx.svc.tz)


DATA = command_group("数据", "data", summary=("直播数据与KPI：导入、录入、查看、目标、导出", "Stream data and KPIs: import, enter, view, targets, export"),
                     aliases=("直播数据", "kpi"), group=("数据", "Data"), order=50)


def _is_view(rest: str) -> bool:
    words = rest.split()
    return not words or periods.starts_with_period(words) or importer.tagged_stream(words[0]) is not None


@DATA.verb("查看", "show", aliases=("看",), default=True, scope=Scope.TEAM, accepts=_is_view,
           args=("[#场次] ｜ 本周|上周|本月|上月|今天|昨天 [直播间 X|@主播|全部]",
                 "[#stream] | today|yesterday|week|last-week|month|last-month [room X|@streamer|all]"),
           summary=("一场或一段时间的 KPI", "A stream's or a period's KPIs"),
           examples=["/数据 #12", "/数据 本周", "/数据 本月 直播间 1号直播间"],
           examples_en=["/data #12", "/data week", "/data month room 1号直播间"])
async def data_command(ctx: Ctx, args: str) -> None:
    parts = args.strip().split(None, 1)
    head = parts[0].lower() if parts else ""
    rest = parts[1].strip() if len(parts) > 1 else ""
    if periods.starts_with_period(args.split()) or head in ("主播", "streamer", "直播间", "room"):
        await period(ctx, args)
    elif not head:
        await show_latest(ctx)
    elif importer.tagged_stream(head) is not None and not rest:
        await show_stream(ctx, await stream_of(ctx, head))
    else:
        raise UsageError(ctx.t("data.bad_args", word=head[:20]))


@DATA.verb("运营", "operator", aliases=("ops",), scope=Scope.TEAM, args=("[本月|上月|本周]", "[month|last-month|week]"),
           summary=("运营 KPI（机器人自己记录的）", "Operator KPIs the bot records"), examples=["/数据 运营 本月"],
           examples_en=["/data operator month"])
async def operator_verb(ctx: Ctx, rest: str) -> None:
    await operator(ctx, rest)


@DATA.verb("录入", "enter", aliases=("填写", "set"), role=roles.OPS, scope=Scope.TEAM,
           args=("#场次 GMV 12.5万 UV 4万 成交人数 800 …", "#stream GMV 125000 UV 40000 成交人数 800 …"),
           summary=("手工录入数据", "Enter figures by hand"), examples=["/数据 录入 #12 GMV 12.5万 UV 4万 成交人数 800 涨粉 400"],
           examples_en=["/data enter #12 GMV 125000 UV 40000 成交人数 800"])
async def enter_verb(ctx: Ctx, rest: str) -> None:
    await enter(ctx, rest)


def _listing_targets(rest: str) -> bool:
    words = rest.split()
    return not words or (len(words) == 1 and words[0].lower() in ("列表", "list"))


@DATA.verb("目标", "targets", aliases=("target",), when=_listing_targets, scope=Scope.TEAM, args=("[列表]", "[list]"),
           summary=("KPI 目标", "KPI targets"), examples=["/数据 目标"], examples_en=["/data targets"])
async def targets_list_verb(ctx: Ctx, rest: str) -> None:
    await show_targets(ctx)


@DATA.verb("目标", "targets", aliases=("target",), role=roles.OPS, scope=Scope.TEAM,
           args=("指标 值 [直播间 X|@主播] ｜ 删除 指标 …", "metric value [room X|@streamer] | delete metric …"),
           summary=("设或删 KPI 目标", "Set or delete a KPI target"), examples=["/数据 目标 转化率 6% 直播间 1号直播间"],
           examples_en=["/data targets 转化率 6% room 1号直播间"])
async def targets_verb(ctx: Ctx, rest: str) -> None:
    await targets(ctx, rest)


@DATA.verb("导出", "export", role=roles.OPS, scope=Scope.TEAM, args=("[#场次|本周|本月|上月]", "[#stream|week|month]"),
           summary=("导出 CSV（记审计）", "Export CSV (audit-logged)"), examples=["/数据 导出 本月"], examples_en=["/data export month"])
async def export_verb(ctx: Ctx, rest: str) -> None:
    await export(ctx, rest)


@DATA.verb("内部群", "internal", aliases=("内部",), when=lambda rest: not rest.strip(), scope=Scope.TEAM,
           summary=("本群是否显示销售额", "Whether this group sees sales figures"), examples=["/数据 内部群"],
           examples_en=["/data internal"])
async def internal_show_verb(ctx: Ctx, rest: str) -> None:
    await internal(ctx, rest)


@DATA.verb("内部群", "internal", aliases=("内部",), role=roles.OPS, scope=Scope.TEAM, args=("开|关", "on|off"),
           summary=("设为内部群（显示销售额）或取消", "Mark this group internal (sales shown) or not"),
           examples=["/数据 内部群 开"], examples_en=["/data internal on"])
async def internal_verb(ctx: Ctx, rest: str) -> None:
    await internal(ctx, rest)


@DATA.verb("审计", "audit", role=roles.OPS, scope=Scope.TEAM, summary=("数据操作记录", "The data audit log"),
           examples=["/数据 审计"], examples_en=["/data audit"])
async def audit_verb(ctx: Ctx, rest: str) -> None:
    await audit(ctx)


async def stream_of(ctx: Ctx, ref: str) -> Stream:
    sid = importer.tagged_stream(ref)
    stream = await schedule.stream_by_id(ctx.session, sid) if sid is not None else None
    if stream is None:
        raise UserError("data.stream_unknown", id=sid if sid is not None else ref[:20])
    return stream


async def show_stream(ctx: Ctx, stream: Stream) -> None:
    rep = await report.stream_report(ctx.session, stream)
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    names = await schedule.names_of(ctx.session, [stream.streamer_id] if stream.streamer_id else [])
    await ctx.reply(card=cards.stream_card(ctx.t, ctx.locale, rep, ctx.svc.tz, room=room.name if room else "?",
                                           streamer=names.get(stream.streamer_id or "", ""), masked=await masked(ctx)))


async def show_latest(ctx: Ctx) -> None:
    row = (await ctx.session.execute(select(Stream).join(StreamFigures, StreamFigures.stream_id == Stream.id)
                                     .order_by(Stream.starts_at.desc()).limit(1))).scalar_one_or_none()
    if row is None:
        raise UserError("data.none_yet")
    await show_stream(ctx, row)


async def scope_of(ctx: Ctx, text: str) -> tuple[int | None, str | None, str]:
    """"直播间 1号直播间" / "@李主播" / "主播 李主播" → (room_id, streamer_id, label)."""
    from bot.commands.schedule import mentions_of

    text, found = mentions_of(ctx, text.strip())
    words = text.split(None, 1)
    if not words:
        return None, None, ""
    head, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    if head in ("直播间", "room"):
        room = await schedule.find_room(ctx.session, rest)
        return room.id, None, room.name
    if head in ("主播", "streamer"):
        text = rest
    if text.startswith(("@", "＠")) or head in ("主播", "streamer"):
        open_id, name = await schedule.find_person(ctx.session, text, mentions=found, title="主播")
        return None, open_id, name
    room = await schedule.find_room(ctx.session, text)
    return room.id, None, room.name


async def period_scope(ctx: Ctx, rest: str) -> tuple[int | None, str | None, str]:
    """As scope_of, except that with no scope a room's field group sees its own room (as its
    daily briefing does) and "全部" asks for every room."""
    if rest.strip().lower() in EVERY_ROOM:
        return None, None, ""
    if not rest.strip():
        room = await schedule.field_room(ctx.session, ctx.chat_id)
        if room is not None:
            return room.id, None, room.name
    return await scope_of(ctx, rest)


async def period(ctx: Ctx, args: str) -> None:
    """A period's KPIs; the period may come first or after the scope ("/数据 主播 @x 本月"); none: this week."""
    today = ctx.local_now().date()
    found, words = periods.take(args.split(), today)
    which = found or periods.parse("本周", today)
    assert which is not None
    rest = " ".join(words)
    room_id, streamer_id, label = await period_scope(ctx, rest)
    start, end = period_bounds(ctx, which)
    rep = await report.period_report(ctx.session, start, end, ctx.svc.tz, room_id=room_id, streamer_id=streamer_id)
    fans = None
    if which.kind in ("month", "last_month"):
        fans = await report.month_fans(ctx.session, start, end, room_id=room_id, streamer_id=streamer_id)
    title = ctx.t("data.period_title", period=which.label(ctx.t), scope=label or ctx.t("data.scope_all"))
    await ctx.reply(card=cards.period_card(ctx.t, ctx.locale, rep, ctx.svc.tz, title=title, masked=await masked(ctx),
                                           fans=fans))


async def operator(ctx: Ctx, rest: str) -> None:
    which = periods.parse(rest.strip() or "本月", ctx.local_now().date())
    if which is None:
        raise UsageError(ctx.t("data.bad_period", word=rest[:20]))
    start, end = period_bounds(ctx, which)
    figs = await report.operator_kpis(ctx.session, start, end, ctx.now())
    newbies = await report.newbies(ctx.session, ctx.now())
    names = await schedule.names_of(ctx.session, [n.streamer_id for n in newbies])
    title = ctx.t("data.operator_title", period=which.label(ctx.t))
    card = cards.operator_card(ctx.t, ctx.locale, title, figs, newbies, names)
    from bot.survey.commands import operator_section  # the satisfaction survey (issue 17)

    await operator_section(ctx, card, start, end)
    from bot.norms.quarterly import operator_section as norms_section  # the issue-19 norms

    await norms_section(ctx, card, start, end)
    await ctx.reply(card=card)


# -- manual figures ---------------------------------------------------------------------------------
def read_pairs(ctx: Ctx, text: str) -> dict[str, float]:
    tokens = text.replace("=", " ").replace("：", " ").replace(":", " ").split()
    if not tokens or len(tokens) % 2:
        raise UsageError(ctx.t("data.enter_pairs"))
    values: dict[str, float] = {}
    for word, raw in zip(tokens[::2], tokens[1::2]):
        field = FIELDS.get(word.lower())
        if field is None:
            raise UserError("data.enter_unknown_field", word=word[:20], known="、".join(sorted(set(FIELDS) - {"gmv"}))[:300])
        try:
            value = parse.parse_duration(raw) if field == "avg_dwell" else parse.parse_number(raw)
        except ValueError:
            value = None
        if value is None or value < 0:
            raise UserError("data.enter_bad_value", word=word[:20], value=raw[:20])
        values[field] = int(round(value)) if field in COUNTS else round(float(value), 2)
    return values


async def enter(ctx: Ctx, rest: str) -> None:
    words = rest.split(None, 1)
    if not words or importer.tagged_stream(words[0]) is None:
        raise UsageError(ctx.t("data.enter_need_stream"))
    stream = await stream_of(ctx, words[0])
    values = read_pairs(ctx, words[1] if len(words) > 1 else "")
    if values.get("buyers") is not None and values.get("uv") is not None and values["buyers"] > values["uv"]:
        raise UserError("data.enter_buyers_gt_uv")
    merged = {**await store.values_of(ctx.session, stream.id), **values}
    bad = checks.first_problem(merged, lambda f: ctx.t(f"data.metric.{f}"))
    if bad is not None:  # with the figures already stored: cannot be true together
        raise UserError("data.enter_implausible", why=bad.en if ctx.locale == "en_US" else bad.zh)
    changed = await store.save_values(ctx.session, stream.id, values, source="manual", by=ctx.user_id, now=ctx.now())
    await store.audit(ctx.session, action="manual", now=ctx.now(), user_id=ctx.user_id, chat_id=ctx.chat_id,
                      what=f"#{stream.id}", detail={k: v[1] for k, v in changed.items()})
    await show_stream(ctx, stream)


# -- targets ---------------------------------------------------------------------------------------
async def targets(ctx: Ctx, rest: str) -> None:
    words = rest.split()
    if not words or words[0] in ("列表", "list"):
        await show_targets(ctx)
        return
    deleting = words[0].lower() in DELETE
    if deleting:
        words = words[1:]
    if not words:
        raise UsageError(ctx.t("data.target_usage"))
    metric = kpi.ALIASES.get(words[0].lower())
    if metric is None or metric not in kpi.METRICS:
        raise UserError("data.target_unknown", word=words[0][:20], known="、".join(sorted(k for k in kpi.ALIASES if not k.isascii()))[:400])
    value = None
    if not deleting:
        if len(words) < 2:
            raise UsageError(ctx.t("data.target_usage"))
        raw = words[1]
        try:
            value = parse.parse_duration(raw) if metric == "avg_dwell" else parse.parse_number(raw)
        except ValueError:
            value = None
        if value is None or value < 0 or (kpi.METRICS[metric][0] == kpi.RATE and value > 10):
            raise UserError("data.enter_bad_value", word=words[0][:20], value=raw[:20])
        words = words[2:]
    else:
        words = words[1:]
    room_id, streamer_id, label = await scope_of(ctx, " ".join(words))
    scope = store.room_scope(room_id) if room_id else store.streamer_scope(streamer_id) if streamer_id else store.TEAM
    await store.set_target(ctx.session, scope, metric, value, by=ctx.user_id, now=ctx.now())
    await store.audit(ctx.session, action="target", now=ctx.now(), user_id=ctx.user_id, chat_id=ctx.chat_id,
                      what=f"{scope}:{metric}", detail={"value": value})
    await show_targets(ctx, note=ctx.t("data.target_saved" if value is not None else "data.target_deleted",
                                       scope=label or ctx.t("data.scope_team"), metric=ctx.t(f"data.metric.{metric}")))


async def show_targets(ctx: Ctx, note: str = "") -> None:
    rows = await store.all_targets(ctx.session)
    rooms = {r.id: r.name for r in await schedule.list_rooms(ctx.session, include_inactive=True)}
    names = await schedule.names_of(ctx.session, [r.scope.split(":", 1)[1] for r in rows if r.scope.startswith("streamer:")])
    listed: list[tuple[str, str, float]] = []
    for metric, value in sorted(store.defaults().items()):
        if not any(r.scope == store.TEAM and r.metric == metric for r in rows):
            listed.append((ctx.t("data.scope_default"), metric, value))
    for r in rows:
        kind, _, ref = r.scope.partition(":")
        label = (ctx.t("data.scope_team") if kind == "team" else rooms.get(int(ref), ref) if kind == "room"
                 else "@" + names.get(ref, ref[-6:]))
        listed.append((label, r.metric, r.value))
    card = cards.targets_card(ctx.t, ctx.locale, listed, masked=await masked(ctx))
    if note:
        card.elements.insert(0, {"tag": "markdown", "content": note})
    await ctx.reply(card=card)


# -- export, internal groups, audit ----------------------------------------------------------------


async def export(ctx: Ctx, rest: str) -> None:
    word = rest.strip().lower() or "本月"
    if importer.tagged_stream(word) is not None:
        stream = await stream_of(ctx, word)
        rows = [(stream, await store.values_of(ctx.session, stream.id))]
        what = f"#{stream.id}"
    elif (chosen := periods.parse(word, ctx.local_now().date())) is not None:
        start, end = period_bounds(ctx, chosen)
        rows = await store.streams_between(ctx.session, start, end)
        what = chosen.label(ctx.t)
    else:
        raise UsageError(ctx.t("data.bad_period", word=word[:20]))
    rooms = {r.id: r.name for r in await schedule.list_rooms(ctx.session, include_inactive=True)}
    names = await schedule.names_of(ctx.session, [s.streamer_id for s, _ in rows if s.streamer_id])
    stamp = ctx.local_now().strftime("%Y%m%d%H%M")
    await store.audit(ctx.session, action="export", now=ctx.now(), user_id=ctx.user_id, chat_id=ctx.chat_id,
                      what=what, rows=len(rows))
    # the file carries sales figures: a group where they are hidden gets none, the requester
    # (whose role allows them: the export needs ops) gets it in a direct chat
    data = exports.figures_csv(rows, rooms, names, ctx.svc.tz, ctx.t)
    if await masked(ctx):
        await ctx.send_file(ctx.user_id, f"直播数据_{stamp}.csv", data, receive_id_type="open_id")
        await ctx.reply(ctx.t("data.exported_private", n=len(rows), what=what))
        return
    await ctx.send_file(ctx.chat_id, f"直播数据_{stamp}.csv", data)
    await ctx.reply(ctx.t("data.exported", n=len(rows), what=what))


async def internal(ctx: Ctx, rest: str) -> None:
    chat = await ctx.session.get(Chat, ctx.chat_id)
    word = rest.strip().lower()
    if not word:
        await ctx.reply(ctx.t("data.internal_on" if chat and chat.internal else "data.internal_off"))
        return
    if word not in ON | OFF or chat is None:
        raise UsageError(ctx.t("data.internal_usage"))
    if word in ON and not visibility.may_be_internal(chat):
        raise UserError("data.internal_not_allowed")
    chat.internal = word in ON
    await store.audit(ctx.session, action="internal", now=ctx.now(), user_id=ctx.user_id, chat_id=ctx.chat_id,
                      what=chat.name or ctx.chat_id, detail={"internal": chat.internal})
    await ctx.reply(ctx.t("data.internal_set_on" if chat.internal else "data.internal_set_off"))


async def audit(ctx: Ctx) -> None:
    rows = await store.audit_log(ctx.session)
    names = await schedule.names_of(ctx.session, [r.user_id for r in rows if r.user_id])
    lines = [ctx.t("data.audit_line", at=r.at.astimezone(ctx.svc.tz).strftime("%m-%d %H:%M"),
                   who=names.get(r.user_id, r.user_id[-6:]), action=ctx.t(f"data.audit.{r.action}"), what=r.what,
                   chat=r.chat_id[-8:]) for r in rows]
    await ctx.reply(ctx.t("data.audit_head") + "\n" + ("\n".join(lines) or ctx.t("data.audit_none")))


@cards.VIEW.handle
async def view(ctx: Ctx, act: CardAction) -> None:
    try:
        stream_id = int(act.value["s"])
    except (KeyError, TypeError, ValueError):
        raise UserError("data.stale_button") from None
    await show_stream(ctx, await stream_of(ctx, f"#{stream_id}"))

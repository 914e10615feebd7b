"""/故障 (/fault) and free-text fault reports ("@LiveOps 3号直播间推流断了").

An @mention that the classifier calls a fault opens ticket #id (or joins the same room's
open ticket of the same category); any other @mention is left to the next handler. Last of
all (priority 95), a mention that names a room or a live-stream term (直播间, 小黄车, 评论区 …)
but no symptom the classifier knows, and that nothing rules out (a question, a negation …),
gets "这是故障吗？" with 是故障，登记 / 不是; the rest get the help reply. The ticket card
buttons: 认领, 已解决 (with cause/fix), 升级, 改类别/级别.
"""
from __future__ import annotations

from sqlalchemy import select

from bot import periods, records, roles
from bot.access import Scope
from bot.commands.registry import command_group, on_chatter, on_mention
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.faults import cards, flows, parse, service
from bot.faults.classify import asks, classify
from bot.schedule.rooms import RoomRef, find_rooms
from bot.faults.stats import Record, compute
from bot.feishu.events import CardAction, IncomingMessage
from bot.norms import emergency
from bot.people import names
from bot.store.models import Chat

FAULT = command_group("故障", "fault", summary=("报故障、认领、解决、查看与统计故障", "Report, ack, resolve and measure faults"),
                      aliases=("报障", "incident"), group=("故障响应", "Faults"), order=30)


@FAULT.verb("报告", "report", aliases=("报",), default=True, scope=Scope.OPEN, accepts=lambda rest: bool(rest.strip()),
            args=("<描述>", "<description>"), summary=("报一个故障（写清直播间和现象）", "Report a fault (room and symptom)"),
            examples=["/故障 3号直播间推流断了"], examples_en=["/fault room 3 stream keeps dropping"])
async def fault_command(ctx: Ctx, args: str) -> None:
    args = args.strip()
    if not args:
        raise UsageError()
    cls = classify(args + (" [image]" if ctx.message and ctx.message.image_keys else ""))
    f, merged = await flows.report(ctx, args, cls, manual=not cls.is_fault)
    if not merged:
        await emergency.from_fault(ctx, f)  # a violation warning off hours: a 1-hour emergency (issue 19)


@FAULT.verb("列表", "list", aliases=("ls", "open"), scope=Scope.TEAM, summary=("未解决的故障", "Open faults"),
            examples=["/故障 列表"], examples_en=["/fault list"])
async def list_verb(ctx: Ctx, rest: str) -> None:
    await _list(ctx)


@FAULT.verb("#编号", "#id", pattern=r"[#＃]\d+", scope=Scope.RECORD, record=records.FAULT, args=("#<编号>", "#<id>"),
            summary=("故障详情和时间线", "A fault's details and timeline"), examples=["/故障 #12"], examples_en=["/fault #12"])
async def details_verb(ctx: Ctx, rest: str) -> None:
    await _details(ctx, ctx.ref)


@FAULT.verb("统计", "stats", aliases=("statistics",), scope=Scope.TEAM, args=("[本月|上月|近7天]", "[this month|last 7 days]"),
            summary=("MTTA、MTTR、10 分钟内处理率", "MTTA, MTTR, share handled in 10 minutes"),
            examples=["/故障 统计 本月"], examples_en=["/fault stats this month"])
async def stats_verb(ctx: Ctx, rest: str) -> None:
    await _stats(ctx, rest)


@FAULT.verb("认领", "ack", aliases=("claim",), scope=Scope.RECORD, record=records.FAULT, args=("#<编号>", "#<id>"),
            summary=("认领", "Acknowledge"), examples=["/故障 认领 #12"], examples_en=["/fault ack #12"])
async def ack_verb(ctx: Ctx, rest: str) -> None:
    await flows.ack(ctx, ctx.ref)


@FAULT.verb("解决", "resolve", aliases=("已解决", "done"), scope=Scope.RECORD, record=records.FAULT,
            args=("#<编号> 原因 … 处理 …", "#<id> cause … fix …"), summary=("标记已解决", "Resolve"),
            examples=["/故障 解决 #12 原因 推流码过期 处理 更新推流码后恢复"],
            examples_en=["/fault resolve #12 cause stream key expired fix new key"])
async def resolve_verb(ctx: Ctx, rest: str) -> None:
    cause, fix = parse.cause_and_fix(parse.strip_id(rest))
    await flows.resolve(ctx, ctx.ref, cause, fix)


@FAULT.verb("升级", "escalate", scope=Scope.RECORD, record=records.FAULT, args=("#<编号>", "#<id>"),
            summary=("升级给主管", "Escalate to the leads"), examples=["/故障 升级 #12"], examples_en=["/fault escalate #12"])
async def escalate_verb(ctx: Ctx, rest: str) -> None:
    await flows.escalate(ctx, ctx.ref)
    await ctx.reply(ctx.t("faults.escalated_ok", id=ctx.ref))


@FAULT.verb("改", "change", aliases=("修改", "edit"), scope=Scope.RECORD, record=records.FAULT,
            args=("#<编号> 类别 网络 级别 P1 直播间 …", "#<id> category network severity P1 room …"),
            summary=("改类别、级别或直播间", "Change category, severity or room"),
            examples=["/故障 改 #12 类别 网络 级别 P1"], examples_en=["/fault change #12 category network severity P1"])
async def change_verb(ctx: Ctx, rest: str) -> None:
    await _change(ctx, rest)


@FAULT.verb("技术群", "techgroup", aliases=("tech-group",), role=roles.OPS, scope=Scope.TEAM,
            summary=("把本群设为技术群（P2/P3 在这里开话题）", "Make this the tech group"),
            examples=["/故障 技术群"], examples_en=["/fault techgroup"])
async def techgroup_verb(ctx: Ctx, rest: str) -> None:
    await _tech_group(ctx)


async def _list(ctx: Ctx) -> None:
    faults = await service.active(ctx.session)
    who = await names(ctx, sorted({f.acked_by for f in faults if f.acked_by})) if faults else {}
    await ctx.reply(card=cards.listing(faults, who, ctx.locale, ctx.svc.tz))


async def _details(ctx: Ctx, fault_id: int) -> None:
    f = await flows.get_fault(ctx, fault_id)
    events = await service.timeline(ctx.session, f.id)
    who = await names(ctx, sorted({e.by for e in events if e.by})) if events else {}
    await ctx.reply(card=cards.details(f, events, who, ctx.locale, ctx.svc.tz, flows.ack_due(ctx, f)))


async def _stats(ctx: Ctx, text: str) -> None:
    period = periods.parse(text.strip() or "本月", ctx.local_now().date())
    if period is None:
        raise UsageError(ctx.t("faults.bad_period", text=text[:20]))
    start, end = period.utc_bounds(ctx.svc.tz)
    faults = await service.between(ctx.session, start, end)
    records = [Record(category=f.category, room=f.room_name, tech=f.acked_by or f.resolved_by,
                      created_at=f.created_at, acked_at=f.acked_at, resolved_at=f.resolved_at,
                      ack_breached=f.ack_breached, resolve_breached=f.resolve_breached) for f in faults]
    techs = sorted({r.tech for r in records if r.tech})
    who = await names(ctx, techs) if techs else {}
    await ctx.reply(card=cards.stats_card(compute(records), period.label(ctx.t), who, ctx.locale))


async def _change(ctx: Ctx, rest: str) -> None:
    fault_id = ctx.ref
    try:
        wanted = parse.change_args(parse.strip_id(rest))
    except ValueError as exc:
        raise UserError("faults.change_unknown", word=str(exc)[:20]) from None
    if not wanted:
        raise UsageError(ctx.t("faults.change_hint"))
    changed = await flows.change(ctx, fault_id, **wanted)
    await ctx.reply(ctx.t("faults.changed", id=fault_id, what="、".join(changed)) if changed
                    else ctx.t("faults.unchanged", id=fault_id))


async def _tech_group(ctx: Ctx) -> None:
    for chat in (await ctx.session.execute(select(Chat).where(Chat.kind == "tech"))).scalars():
        chat.kind = ""
    chat = await ctx.session.get(Chat, ctx.chat_id)
    if chat is not None:
        chat.kind = "tech"
    await ctx.reply(ctx.t("faults.tech_group_set"))


# -- free text ----------------------------------------------------------------------------------------
@on_mention(priority=80, match=lambda msg: True, scope=Scope.OPEN)
async def fault_mention(ctx: Ctx, msg: IncomingMessage) -> bool:
    images = list(msg.image_keys)
    group_fault = await service.by_group(ctx.session, ctx.chat_id)
    if group_fault is not None:  # said in a fault group: evidence on its timeline
        await flows.evidence(ctx, group_fault, msg.text, images)
        await ctx.reply(ctx.t("faults.evidence_saved", id=group_fault.id))
        return True
    cls = classify(msg.text + (" [image]" if images else ""))
    if not cls.is_fault:
        return False
    f, merged = await flows.report(ctx, msg.text, cls)
    if not merged:
        await emergency.from_fault(ctx, f)  # a violation warning off hours: a 1-hour emergency (issue 19)
    return True


@on_mention(priority=95, match=lambda msg: bool(msg.text.strip()), scope=Scope.OPEN)
async def maybe_fault_mention(ctx: Ctx, msg: IncomingMessage) -> bool:
    """Names a room or a live-stream term, no known symptom, nothing rules it out: ask."""
    cls = classify(msg.text)
    if cls.is_fault or not cls.unsure:
        return False
    from bot.schedule import service as schedule

    rooms = await schedule.list_rooms(ctx.session)
    named = [r.name for r in find_rooms(msg.text, [RoomRef(str(r.id), r.name, tuple(r.aliases or ())) for r in rooms])]
    if not asks(cls, named):
        return False
    terms = [*named, *(o for o in cls.objects if not any(o in n for n in named))]
    what = "、".join(f"「{w}」" for w in terms[:4])
    await ctx.reply(card=cards.ask(msg.text.strip(), what, ctx.user_id, ctx.locale, message_id=msg.message_id,
                                   images=list(msg.image_keys)))
    return True


@on_chatter(priority=50, match=lambda msg: True, chat_kinds=("fault",))
async def fault_chatter(ctx: Ctx, msg: IncomingMessage) -> bool:
    """Replies and images in an active fault group are kept on its timeline as evidence
    (silently). Chatter in any other chat never gets here (the router knows the chat's kind)."""
    f = await service.active_in_group(ctx.session, ctx.chat_id)
    if f is None:
        return False
    images = list(msg.image_keys)
    if not msg.text.strip() and not images:
        return False
    await flows.evidence(ctx, f, msg.text, images)
    return True


# -- buttons ------------------------------------------------------------------------------------------
def _id(act: CardAction) -> int:
    return int(act.value["id"])  # checked by the router (the action's record scope)


@cards.ACK.handle
async def ack_button(ctx: Ctx, act: CardAction) -> None:
    await flows.ack(ctx, _id(act))


@cards.RESOLVE.handle
async def resolve_button(ctx: Ctx, act: CardAction) -> None:
    form = act.form_value or {}
    await flows.resolve(ctx, _id(act), str(form.get("cause", "") or ""), str(form.get("fix", "") or ""))


@cards.ESCALATE.handle
async def escalate_button(ctx: Ctx, act: CardAction) -> None:
    await flows.escalate(ctx, _id(act))


@cards.CHANGE.handle
async def change_button(ctx: Ctx, act: CardAction) -> None:
    f = await flows.get_fault(ctx, _id(act))
    flows.check_may_act(ctx, f, reporter_ok=True)
    await ctx.send(ctx.chat_id, card=cards.change_form(f, ctx.locale))


@cards.CHANGE_SAVE.handle
async def change_save(ctx: Ctx, act: CardAction) -> None:
    form = act.form_value or {}
    changed = await flows.change(ctx, _id(act), category=str(form.get("category") or "") or None,
                                 severity=parse.severity_of(str(form.get("severity") or "")),
                                 room=str(form.get("room") or "").strip() or None)
    await ctx.send(ctx.chat_id, ctx.t("faults.changed", id=_id(act), what="、".join(changed)) if changed
                   else ctx.t("faults.unchanged", id=_id(act)))


def _asked(ctx: Ctx, act: CardAction) -> tuple[str, str] | None:
    """(author, text) of a "这是故障吗？" card; None (and a toast) when the press may not decide."""
    author, text = str(act.value.get("by") or ""), str(act.value.get("text") or "").strip()
    if not author or not text:
        ctx.toast(ctx.t("access.stale_button"), "warning")
        return None
    if ctx.user_id != author and not roles.allowed(ctx.roles, roles.OPS):
        ctx.toast(ctx.t("faults.ask_not_yours"), "warning")
        return None
    return author, text


@cards.ASK_FILE.handle
async def ask_file(ctx: Ctx, act: CardAction) -> None:
    asked = _asked(ctx, act)
    if asked is None:
        return
    author, text = asked
    images = [str(k) for k in act.value.get("img") or [] if k][:3]
    f, merged = await flows.report(ctx, text, classify(text), reporter=author,
                                   message_id=str(act.value.get("msg") or ""), images=images, confirmed_by=ctx.user_id)
    if merged:
        line = ctx.t("faults.ask_merged", id=f.id, where=cards.room_text(f, ctx.locale),
                     state=ctx.t(f"faults.state.{f.status}"))
    else:
        line = ctx.t("faults.ask_filed", id=f.id, who=await flows.display(ctx, ctx.user_id))
    await _answered(ctx, act, line, "success")


@cards.ASK_NO.handle
async def ask_no(ctx: Ctx, act: CardAction) -> None:
    if _asked(ctx, act) is None:
        return
    line = ctx.t("faults.ask_dismissed", who=await flows.display(ctx, ctx.user_id))
    await _answered(ctx, act, line, "info")


async def _answered(ctx: Ctx, act: CardAction, line: str, kind: str) -> None:
    """The question card loses its buttons: in the callback's answer (at once) and patched
    through the outbox (durable, and for every member's view); the presser gets a toast."""
    card = cards.ask_answered(ctx.t("faults.ask_title"), line)
    ctx.respond_card(card)
    if act.message_id:
        await ctx.update_card(act.message_id, card)
    ctx.toast(line, kind)

"""/应急 (/emergency): off-hours emergencies handled within 1 hour (bot.norms.emergency).

    /应急                              open emergencies and who is on call
    /应急 报告 未到场 #12 主播电话不通     start one by hand (未到场 | 违规)
    /应急 值班 @甲 @乙                  the ops on-call rotation, one week each (ops)
"""
from __future__ import annotations

from bot import roles
from bot.access import Scope
from bot.cards import Card, escape_md
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.faults.oncall import monday
from bot.feishu.events import CardAction
from bot.norms import emergency
from bot.norms.more_models import Emergency
from bot.people import names
from bot.schedule import service as schedule

KINDS = {"未到场": "noshow", "迟到": "noshow", "缺席": "noshow", "noshow": "noshow", "no-show": "noshow",
         "违规": "violation", "违规警告": "violation", "violation": "violation"}

EMERGENCY = command_group("应急", "emergency", summary=("非工作时间突发（主播未到场、违规警告）1 小时内处理",
                                                       "Off-hours emergencies handled within 1 hour"),
                          aliases=("突发",), group=("直播", "Live"), order=17)


@EMERGENCY.verb("列表", "list", default=True, scope=Scope.TEAM, accepts=lambda rest: not rest.strip(),
                summary=("进行中的应急和值班运营", "Open emergencies and the ops on call"), examples=["/应急"],
                examples_en=["/emergency"])
async def list_verb(ctx: Ctx, rest: str) -> None:
    if rest.strip():
        raise UsageError(ctx.t("more.em_usage"))
    rows = await emergency.open_emergencies(ctx.session)
    oncall = await emergency.on_call(ctx.session, ctx.now(), ctx.svc.tz, chat_id=ctx.chat_id,
                                     admins=ctx.svc.settings.admins)
    rot = await emergency.rotation(ctx.session)
    ids = sorted(set(oncall) | set(rot.get("members") or []))
    who = await names(ctx, ids) if ids else {}
    card = Card(ctx.t("more.em_list_title", n=len(rows)), template="red" if rows else "green")
    card.markdown(ctx.t("more.em_oncall", who="、".join(who.get(i, i[-6:]) for i in oncall) or "-",
                        order=" → ".join(who.get(i, i[-6:]) for i in rot.get("members") or []) or ctx.t("more.em_no_rotation")))
    tz = ctx.svc.tz
    card.markdown("\n".join(ctx.t("more.em_line", id=r.id, what=ctx.t(f"more.em_kind.{r.kind}"),
                                  where=escape_md(r.room_name or "-"), due=r.due_at.astimezone(tz).strftime("%H:%M"))
                            for r in rows[:30]) or ctx.t("more.em_none"))
    await ctx.reply(card=card)


@EMERGENCY.verb("报告", "report", aliases=("发起", "start"), scope=Scope.TEAM,
                args=("未到场|违规 [#场次|直播间] [说明]", "noshow|violation [#stream|room] [note]"),
                summary=("发起一个应急（1 小时内处理）", "Start an emergency (handled within 1 hour)"),
                examples=["/应急 报告 违规 1号间 收到违规警告"], examples_en=["/emergency report violation room 1 warning"])
async def report_verb(ctx: Ctx, rest: str) -> None:
    words = rest.split(None, 1)
    kind = KINDS.get(words[0].lower()) if words else None
    if kind is None:
        raise UsageError(ctx.t("more.em_usage"))
    text = words[1].strip() if len(words) > 1 else ""
    stream, room_name = None, ""
    head = text.split()[0] if text.split() else ""
    if head[:1] in ("#", "＃"):
        stream = await schedule.get_stream(ctx.session, head)
        text = text[len(head):].strip()
    elif head:
        room = await schedule.room_by_name(ctx.session, head)
        if room is not None:
            room_name = room.name
            text = text[len(head):].strip()
            stream = await schedule.live_stream_in_room(ctx.session, room.id, ctx.now())
    chat = (stream.chat_id if stream is not None else "") or ctx.chat_id
    em, _ = await emergency.start(ctx, kind, chat_id=chat, text=text or ctx.t(f"more.em_kind.{kind}"), stream=stream,
                                  room_name=room_name, idem_key=f"msg:{ctx.message.message_id}" if ctx.message else None)
    if chat != ctx.chat_id:
        await ctx.reply(ctx.t("more.em_started", id=em.id))


@EMERGENCY.verb("值班", "oncall", role=roles.OPS, scope=Scope.TEAM, args=("@甲 @乙 …", "@A @B …"),
                summary=("运营应急值班（每人一周轮换）", "The ops on-call rotation (a week each)"),
                examples=["/应急 值班 @张场控 @王运营"], examples_en=["/emergency oncall @张场控 @王运营"])
async def oncall_verb(ctx: Ctx, rest: str) -> None:
    people = [m.open_id for m in (ctx.message.mentions if ctx.message else ()) if m.open_id and f"@{m.name}" in rest]
    if not people:
        raise UserError("more.em_need_people")
    await emergency.set_rotation(ctx.session, people, starts_on=monday(ctx.local_now().date()), by=ctx.user_id,
                                 now=ctx.now())
    who = await names(ctx, people)
    await ctx.reply(ctx.t("more.em_rotation_set", order=" → ".join(who[p] for p in dict.fromkeys(people))))


@emergency.RESOLVE.handle
async def resolve_pressed(ctx: Ctx, act: CardAction) -> None:
    em = await ctx.session.get(Emergency, int(ctx.ref or 0))
    outcome = str(act.value.get("o") or "")
    if em is None or outcome not in emergency.OUTCOMES:
        ctx.toast(ctx.t("access.stale_button"), "warning")
        return
    note = str((act.form_value or {}).get("note") or "")
    if not await emergency.resolve(ctx, em, outcome, note):
        ctx.toast(ctx.t("more.em_already"), "info")
        return
    shown = emergency.card(ctx, em)
    ctx.respond_card(shown)
    if em.card_key:
        await ctx.update_card(f"@{em.card_key}", shown, chat_id=em.chat_id)
    await ctx.send(em.chat_id, ctx.t("more.em_resolved_text", id=em.id, outcome=ctx.t(f"more.em_outcome.{outcome}"),
                                     minutes=int((em.resolved_at - em.started_at).total_seconds() // 60)))


@emergency.ARRIVED.handle
async def arrived_pressed(ctx: Ctx, act: CardAction) -> None:
    stream = await schedule.get_stream(ctx.session, f"#{ctx.ref}")
    if not await emergency.arrived(ctx.session, stream.id):
        await schedule.log(ctx.session, stream, "arrived", by=ctx.user_id, at=ctx.now())
    ctx.toast(ctx.t("more.arrived_toast", id=stream.id), "success")
    await ctx.reply(ctx.t("more.arrived_text", id=stream.id))

"""What happens to a fault: open (or merge), the response place, notifications and buzzes,
ack, resolve, escalate, change. Every message is an outbox row in the caller's transaction;
every deadline is a timer (bot.faults.sla), so it survives restarts and fires once.

Where the response happens (``Fault.mode``):
* ``group``: P0/P1 get a dedicated group created through the outbox; when it exists the
  ``faults.group_created`` callback posts and pins the card there and buzzes the on-call;
* ``thread``: P2/P3 get the card in the tech group (a Chat of kind "tech", else the
  reporting group) and everything else as replies in its thread;
* ``fallback``: the group could not be created (230xxx): the reporting group, said so.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot import outbox, roles
from bot.context import Ctx
from bot.errors import UserError
from bot.faults import cards, service
from bot.faults.classify import DEFAULT_SEVERITY, Category, Classification, category_label, raise_severity
from bot.faults.models import FALLBACK, GROUP, OPEN, RESOLVED, THREAD, Fault, Step
from bot.faults.policy import SEVERITIES, Policy, load
from bot.i18n import t
from bot import timers
from bot.store.db import insert_ignore
from bot.store.models import Chat
from bot.schedule import service as schedule

GROUP_CALLBACK = "faults.group_created"
BUZZ_CALLBACK = "faults.buzzed"  # the sender reports who the buzz could not reach (bot.faults.sla)


def policy(ctx: Ctx) -> Policy:
    return load(ctx.svc.settings.extra)


def mention(open_id: str) -> str:
    return outbox.mention(open_id) if open_id else ""


def mentions(ids) -> str:
    return " ".join(mention(i) for i in dict.fromkeys(ids) if i)


def ack_due(ctx: Ctx, f: Fault) -> datetime:
    return f.created_at + timedelta(minutes=policy(ctx).ack(f.severity))


# -- opening ------------------------------------------------------------------------------------
async def report(ctx: Ctx, text: str, cls: Classification, *, manual: bool = False, reporter: str = "",
                 message_id: str | None = None, images: list[str] | None = None,
                 confirmed_by: str = "") -> tuple[Fault, bool]:
    """A fault report: merged into an active ticket of the same room and category (of the same
    group and category when it names no room), or a new one; returns the ticket and whether
    the report was merged. ``reporter``/``message_id``/``images`` default to the message being
    handled; a report confirmed with the "这是故障吗？" button names its original author and
    message, and ``confirmed_by`` who pressed."""
    now, pol = ctx.now(), policy(ctx)
    reporter = reporter or ctx.user_id
    category = cls.category if cls.is_fault and cls.category else (cls.guess or Category.OTHER)
    place = await service.locate(ctx.session, text, reporter, now, ctx.chat_id)
    if images is None:
        images = list(ctx.message.image_keys) if ctx.message else []
    if message_id is None:
        message_id = ctx.message.message_id if ctx.message else ""
    same = await service.mergeable(ctx.session, room_id=place.room_id, chat_id=ctx.chat_id, category=category.value,
                                   now=now, minutes=pol.merge_minutes)
    if same is not None:
        await merge(ctx, same, text, images, reporter=reporter)
        return same, True
    base = cls.severity.value if cls.is_fault and cls.severity else DEFAULT_SEVERITY[category].value
    severity = raise_severity(base, place.live == "live", place.live == "soon").value
    label = category_label(category, ctx.locale)
    if cls.is_fault:
        reasons = cls.reasons_in(ctx.locale)
    elif confirmed_by:
        reasons = [ctx.t("faults.reason_confirmed", who=await display(ctx, confirmed_by), category=label)]
    else:
        reasons = [ctx.t("faults.reason_manual", category=label)]
    if place.guessed:
        reasons.append(ctx.t("faults.reason_room_guessed", room=place.room_name))
    if place.from_group:
        reasons.append(ctx.t("faults.reason_room_group", room=place.room_name))
    if place.candidates:
        reasons.append(ctx.t("faults.reason_room_many", rooms="、".join(place.candidates), room=place.room_name))
    if place.room_id is None:
        reasons.append(ctx.t("faults.reason_room_unknown"))
    if severity != base:
        reasons.append(ctx.t(f"faults.reason_raised_{place.live}", base=base, sev=severity))
    crew = await service.crew_for(ctx.session, category=category.value, place=place, reporter=reporter, now=now,
                                  tz=ctx.svc.tz, admins=ctx.svc.settings.admins, chat_id=ctx.chat_id)
    fault = Fault(category=category.value, severity=severity, base_severity=base, room_id=place.room_id,
                  room_name=place.room_name, stream_id=place.stream.id if place.stream is not None else None,
                  live=place.live, text=text[:2000], reasons=reasons, confidence=cls.confidence,
                  locale=ctx.locale, chat_id=ctx.chat_id, reporter_id=reporter, report_message_id=message_id or "",
                  oncall_ids=crew.oncall, backup_ids=crew.backup, field_control_id=crew.field_control,
                  lead_ids=crew.leads, tech_lead_ids=crew.tech_leads, created_at=now, updated_at=now)
    ctx.session.add(fault)
    await ctx.session.flush()
    await service.add_event(ctx.session, fault.id, "reported", by=reporter, at=now, text=text,
                            images=len(images), image_keys=images[:9])
    if pol.wants_group(severity):
        fault.mode, fault.group_name = GROUP, cards.group_name(fault, fault.locale)
    else:
        fault.mode = THREAD
        fault.group_chat_id = await tech_chat(ctx) or ctx.chat_id
    fault.card_key = await ctx.reply(card=ticket_card(ctx, fault))
    if fault.mode == GROUP:
        await create_group(ctx, fault)
    elif fault.group_chat_id != ctx.chat_id:
        fault.group_card_key = await ctx.send(fault.group_chat_id, card=ticket_card(ctx, fault))
        await notify_first(ctx, fault)
    else:
        fault.group_card_key = fault.card_key
        await notify_first(ctx, fault)
    await schedule_ack(ctx, fault)
    await schedule_resolve(ctx, fault)
    return fault, False


async def tech_chat(ctx: Ctx) -> str:
    return (await ctx.session.execute(select(Chat.chat_id).where(Chat.kind == "tech")
                                      .order_by(Chat.first_seen))).scalars().first() or ""


def first_notified(ctx: Ctx, f: Fault) -> list[str]:
    """Who is buzzed at T+0: the on-call; also the backup when the on-call reported it
    themselves or it is off hours; the ops leads when nobody is on call."""
    ids = [i for i in f.oncall_ids if i != f.reporter_id]
    off_hours = not policy(ctx).office_hours(ctx.now(), ctx.svc.tz)
    if len(ids) < len(f.oncall_ids) or off_hours:
        ids += f.backup_ids
    if not ids:
        ids = list(f.lead_ids)
    return list(dict.fromkeys(i for i in ids if i))


async def notify_first(ctx: Ctx, f: Fault) -> None:
    ids = first_notified(ctx, f)
    if not f.oncall_ids:
        text = t(f.locale, "faults.nobody_text", id=f.id, who=mentions(ids) or "-")
    elif f.reporter_id in f.oncall_ids:
        text = t(f.locale, "faults.self_report_text", id=f.id, who=mentions(ids) or "-")
    else:
        text = t(f.locale, "faults.call_text", id=f.id, who=mentions(ids),
                 minutes=policy(ctx).ack(f.severity))
    await post(ctx, f, text)
    await buzz(ctx, f, ids)
    await service.add_event(ctx.session, f.id, "buzz", at=ctx.now(), n=len(ids), ids=ids)


async def create_group(ctx: Ctx, f: Fault) -> None:
    # Everyone buzzed at T+0 must be a member (off hours or a self-report: the backup too).
    members = [f.reporter_id, *f.oncall_ids, *first_notified(ctx, f), f.field_control_id, *f.lead_ids]
    members = [m for m in dict.fromkeys(members) if m and m != ctx.svc.bot.open_id][:50]
    f.mode, f.group_name = GROUP, cards.group_name(f, f.locale)
    await ctx.out.create_chat(ctx.key("fault_group"), lane=f"fault:{f.id}", name=f.group_name,
                              description=t(f.locale, "faults.group_desc", id=f.id), user_ids=members,
                              bot_ids=[ctx.svc.settings.app_id], fault_id=f.id, callback=GROUP_CALLBACK)


async def group_ready(ctx: Ctx, f: Fault, chat_id: str) -> None:
    """The fault group exists: card in, pinned, on-call buzzed, reporting card updated."""
    f.group_chat_id = chat_id
    # not internal: a fault group pulls in people from outside the team (the reporter), so no sales figures
    await ctx.session.execute(insert_ignore(ctx.svc.db, Chat, chat_id=chat_id, name=f.group_name[:200],
                                            chat_type="group", kind="fault", internal=False,
                                            first_seen=ctx.now(), locale=f.locale))
    f.group_card_key = await ctx.send(chat_id, card=ticket_card(ctx, f))
    await ctx.out.pin(ctx.key("pin"), chat_id, "@" + f.group_card_key)
    await service.add_event(ctx.session, f.id, "group", at=ctx.now(), name=f.group_name)
    if f.status != RESOLVED:
        await notify_first(ctx, f)
    await refresh_cards(ctx, f, reporting_only=True)


async def group_failed(ctx: Ctx, f: Fault, code: int | None) -> None:
    """The group could not be created: respond in the reporting group, and say so."""
    f.mode, f.group_chat_id, f.group_card_key = FALLBACK, "", ""
    await service.add_event(ctx.session, f.id, "group_failed", at=ctx.now(), code=str(code or "-"))
    await ctx.send(f.chat_id, t(f.locale, "faults.group_failed", id=f.id, code=code or "-"))
    if f.status != RESOLVED:
        await notify_first(ctx, f)
    await refresh_cards(ctx, f, reporting_only=True)


# -- messages, buzzes and card updates -------------------------------------------------------------
def response_card_key(f: Fault) -> str:
    if f.mode in (GROUP, THREAD) and f.group_card_key:
        return f.group_card_key
    return f.card_key


async def post(ctx: Ctx, f: Fault, text: str) -> str:
    """A text where the response happens."""
    if f.mode == GROUP and f.group_chat_id:
        return await ctx.send(f.group_chat_id, text)
    if f.mode == THREAD and f.group_card_key:
        key = ctx.key()
        await ctx.out.reply(key, "@" + f.group_card_key, text, chat=f.group_chat_id, in_thread=True)
        return key
    return await ctx.send(f.chat_id, text)


async def buzz(ctx: Ctx, f: Fault, ids: list[str], kind: str = "app") -> None:
    ids = [i for i in dict.fromkeys(ids) if i]
    card_key = response_card_key(f)
    if not ids or not card_key:
        return
    lane = f.group_chat_id if card_key == f.group_card_key and f.group_chat_id else f.chat_id
    # The sender buzzes only members of the card's chat; whoever it cannot reach comes back
    # to buzz_fallback (through BUZZ_CALLBACK).
    await ctx.out.urgent(ctx.key(f"urgent_{kind}"), "@" + card_key, ids, chat=lane, kind=kind, fault_id=f.id,
                         callback=BUZZ_CALLBACK)


def buzz_why(locale: str, code: int | None) -> str:
    if code == 230052:
        return t(locale, "faults.buzz_why.230052")
    return t(locale, "faults.buzz_why.not_member" if code in (None, 230001) else "faults.buzz_why.other")


async def buzz_fallback(ctx: Ctx, f: Fault, ids: list[str], code: int | None) -> None:
    """A buzz could not reach ``ids`` (not in the chat: 230001; only owners and admins may buzz
    there: 230052): @mention them where the response happens, message each directly, and say
    so on the fault card."""
    ids = [i for i in dict.fromkeys(ids) if i]
    if not ids:
        return
    why = buzz_why(f.locale, code)
    await post(ctx, f, t(f.locale, "faults.buzz_fallback_text", id=f.id, who=mentions(ids), why=why))
    where = t(f.locale, f"faults.where.{f.mode or 'pending'}", name=f.group_name)
    for open_id in ids:
        await ctx.dm(open_id, t(f.locale, "faults.buzz_fallback_dm", id=f.id, title=cards.title(f, f.locale),
                                why=why, where=where))
    await service.add_event(ctx.session, f.id, "buzz_fallback", at=ctx.now(), n=len(ids), why=why, ids=ids)
    if not f.buzz_fallback:
        f.buzz_fallback, f.updated_at = True, ctx.now()
        await refresh_cards(ctx, f)


async def add_members(ctx: Ctx, f: Fault, ids: list[str]) -> None:
    ids = [i for i in dict.fromkeys(ids) if i and i != ctx.svc.bot.open_id]
    if f.mode == GROUP and f.group_chat_id and ids:
        await ctx.out.add_members(ctx.key("members"), f.group_chat_id, ids[:50])


def ticket_card(ctx: Ctx, f: Fault):
    from bot.feishu import groupmode

    notes = []
    if f.buzz_fallback and f.status != RESOLVED:
        notes.append(t(f.locale, "faults.buzz_fallback_note"))
    if f.mode == GROUP and not groupmode.all_messages(ctx.svc):  # @-only: say how the timeline is fed
        notes.append(t(f.locale, "platform.timeline_mentions", bot=ctx.svc.bot.name))
    note = "\n".join(notes)
    return cards.ticket(f, f.locale, ctx.svc.tz, ack_due=ack_due(ctx, f), note=note)


async def refresh_cards(ctx: Ctx, f: Fault, *, reporting_only: bool = False) -> None:
    card = ticket_card(ctx, f)
    if f.card_key:
        await ctx.update_card("@" + f.card_key, card, chat_id=f.chat_id)
    if not reporting_only and f.group_card_key and f.group_card_key != f.card_key:
        await ctx.update_card("@" + f.group_card_key, card, chat_id=f.group_chat_id)


# -- timers -----------------------------------------------------------------------------------------
async def schedule_ack(ctx: Ctx, f: Fault) -> None:
    pol = policy(ctx)
    off_hours = not pol.office_hours(f.created_at, ctx.svc.tz)
    for step, minutes in pol.ladder(f.severity, off_hours):
        key = Step.ACK2 if step == Step.LEAD else step  # one timer per rung, whichever the path
        await timers.schedule(ctx.session, key=f"fault:{f.id}:{key}", kind="fault.sla",
                              due=f.created_at + timedelta(minutes=minutes), payload={"fault": f.id, "step": step},
                              chat_id=f.chat_id, ref=f"fault:{f.id}:ack", created_by=f.reporter_id)


async def schedule_resolve(ctx: Ctx, f: Fault) -> None:
    await timers.schedule(ctx.session, key=f"fault:{f.id}:resolve", kind="fault.sla",
                          due=f.created_at + timedelta(minutes=policy(ctx).resolve(f.severity)),
                          payload={"fault": f.id, "step": Step.RESOLVE}, chat_id=f.chat_id,
                          ref=f"fault:{f.id}:res", created_by=f.reporter_id)


async def schedule_nudge(ctx: Ctx, f: Fault, n: int) -> None:
    await timers.schedule(ctx.session, key=f"fault:{f.id}:nudge:{n}", kind="fault.sla",
                          due=ctx.now() + timedelta(minutes=policy(ctx).nudge(f.severity)),
                          payload={"fault": f.id, "step": Step.NUDGE, "n": n}, chat_id=f.chat_id,
                          ref=f"fault:{f.id}:res", created_by=f.reporter_id)


# -- people acting ------------------------------------------------------------------------------------
def involved(f: Fault) -> set[str]:
    return {*f.oncall_ids, *f.backup_ids, *f.lead_ids, *f.tech_lead_ids, f.field_control_id} - {""}


def check_may_act(ctx: Ctx, f: Fault, *, reporter_ok: bool = False) -> None:
    if roles.ADMIN in ctx.roles or roles.TECH in ctx.roles or roles.OPS in ctx.roles:
        return
    if ctx.user_id in involved(f) or (reporter_ok and ctx.user_id == f.reporter_id):
        return
    raise UserError("faults.not_allowed", id=f.id)


async def get_fault(ctx: Ctx, fault_id: int) -> Fault:
    f = await service.get(ctx.session, fault_id)
    if f is None:
        raise UserError("faults.not_found", id=fault_id)
    return f


async def ack(ctx: Ctx, fault_id: int) -> None:
    f = await get_fault(ctx, fault_id)
    check_may_act(ctx, f)
    tz = ctx.svc.tz
    if f.status == RESOLVED:
        await ctx.reply(ctx.t("faults.ack_late", id=f.id, who=mention(f.resolved_by), when=cards.hm(f.resolved_at, tz)))
        return
    now = ctx.now()
    if not await service.claim_ack(ctx.session, f.id, ctx.user_id, now):
        f = await service.get(ctx.session, f.id)
        await ctx.reply(ctx.t("faults.ack_taken", id=f.id, who=mention(f.acked_by), when=cards.hm(f.acked_at, tz)))
        return
    f = await service.get(ctx.session, f.id)
    await timers.cancel_ref(ctx.session, f"fault:{f.id}:ack")
    await schedule_nudge(ctx, f, 1)
    took = cards.duration((now - f.created_at).total_seconds(), f.locale)
    await service.add_event(ctx.session, f.id, "ack", by=ctx.user_id, at=now, took=took)
    await refresh_cards(ctx, f)
    await post(ctx, f, t(f.locale, "faults.acked_text", id=f.id, who=mention(ctx.user_id), took=took))
    if f.mode == GROUP and f.group_chat_id and ctx.chat_id != f.chat_id:
        await ctx.send(f.chat_id, t(f.locale, "faults.acked_report", id=f.id, reporter=mention(f.reporter_id),
                                    who=mention(ctx.user_id)))


async def resolve(ctx: Ctx, fault_id: int, cause: str, fix: str) -> None:
    f = await get_fault(ctx, fault_id)
    check_may_act(ctx, f, reporter_ok=True)
    if f.status == RESOLVED:
        await ctx.reply(ctx.t("faults.already_resolved", id=f.id, who=mention(f.resolved_by),
                                when=cards.hm(f.resolved_at, ctx.svc.tz)))
        return
    cause, fix = cause.strip(), fix.strip()
    if not cause and not fix:
        raise UserError("faults.need_cause", id=f.id)
    now = ctx.now()
    if not await service.claim_resolve(ctx.session, f, ctx.user_id, now, cause=cause, fix=fix):
        await ctx.reply(ctx.t("faults.already_resolved", id=f.id, who="", when=""))
        return
    f = await service.get(ctx.session, f.id)
    await timers.cancel_ref(ctx.session, f"fault:{f.id}")
    await service.add_event(ctx.session, f.id, "resolved", by=ctx.user_id, at=now, text=f"{cause} / {fix}")
    await refresh_cards(ctx, f)
    if f.mode == GROUP and f.group_chat_id:
        resolved_name = t(f.locale, "faults.resolved_prefix") + f.group_name.split("] ", 1)[-1]
        await ctx.out.update_chat(ctx.key("rename"), f.group_chat_id, name=resolved_name[:60])
        f.group_name = resolved_name[:60]
    events = await service.timeline(ctx.session, f.id)
    from bot.people import names as names_of

    names = await names_of(ctx, sorted({e.by for e in events if e.by} | {f.acked_by, f.resolved_by} - {""}))
    summary = cards.summary(f, events, names, f.locale, ctx.svc.tz)
    await ctx.send(f.chat_id, card=summary)
    if f.mode in (GROUP, THREAD) and f.group_chat_id and f.group_chat_id != f.chat_id:
        await post(ctx, f, t(f.locale, "faults.resolved_text", id=f.id, who=mention(ctx.user_id)))


async def escalate(ctx: Ctx, fault_id: int) -> None:
    """Raise one level and pull in the ops and tech leads now."""
    f = await get_fault(ctx, fault_id)
    check_may_act(ctx, f, reporter_ok=True)
    if f.status == RESOLVED:
        raise UserError("faults.closed", id=f.id)
    before = f.severity
    f.severity = SEVERITIES[max(0, SEVERITIES.index(f.severity) - 1)]
    f.escalated, f.updated_at = True, ctx.now()
    await after_severity_change(ctx, f, before)
    from bot.faults import ladder  # the rung's table reads this module

    await ladder.climb(ctx, f, Step.ESCALATE, by=ctx.user_id, before=before, after=f.severity)


async def change(ctx: Ctx, fault_id: int, *, category: str | None = None, severity: str | None = None,
                 room: str | None = None) -> list[str]:
    f = await get_fault(ctx, fault_id)
    check_may_act(ctx, f, reporter_ok=True)
    if f.status == RESOLVED:
        raise UserError("faults.closed", id=f.id)
    changed: list[str] = []
    before = f.severity
    if category and category != f.category:
        f.category = Category(category).value
        changed.append(ctx.t("faults.f.category"))
    if severity and severity != f.severity:
        f.severity = severity
        changed.append(ctx.t("faults.f.severity"))
    if room:
        r = await schedule.find_room(ctx.session, room)
        if r.id != f.room_id:
            f.room_id, f.room_name = r.id, r.name
            changed.append(ctx.t("faults.f.room"))
    if not changed:
        return []
    f.updated_at = ctx.now()
    f.reasons = [*f.reasons, ctx.t("faults.reason_changed", who=await display(ctx, ctx.user_id))]
    await service.add_event(ctx.session, f.id, "changed", by=ctx.user_id, at=ctx.now(), what="、".join(changed),
                            category=f.category, severity=f.severity)
    await after_severity_change(ctx, f, before)
    if f.mode == GROUP and f.group_chat_id:
        new_name = cards.group_name(f, f.locale)
        if new_name != f.group_name:
            f.group_name = new_name
            await ctx.out.update_chat(ctx.key("rename"), f.group_chat_id, name=new_name)
    await refresh_cards(ctx, f)
    return changed


async def after_severity_change(ctx: Ctx, f: Fault, before: str) -> None:
    if f.severity == before:
        return
    if f.status == OPEN:
        await schedule_ack(ctx, f)
    await schedule_resolve(ctx, f)
    if policy(ctx).wants_group(f.severity) and f.mode == THREAD:
        await create_group(ctx, f)


async def display(ctx: Ctx, open_id: str) -> str:
    from bot.people import display_name

    return await display_name(ctx, open_id) or open_id[-6:]


async def merge(ctx: Ctx, f: Fault, text: str, images: list[str], *, reporter: str = "") -> None:
    reporter = reporter or ctx.user_id
    f.reports += 1
    f.updated_at = ctx.now()
    await service.add_event(ctx.session, f.id, "merged", by=reporter, at=ctx.now(), text=text,
                            images=len(images), image_keys=images[:9])
    if reporter != f.reporter_id:
        await add_members(ctx, f, [reporter])
    if ctx.action is None:  # a press (这是故障吗？) is answered on the card itself
        state = t(ctx.locale, f"faults.state.{f.status}")
        await ctx.reply(ctx.t("faults.merged", id=f.id, state=state, where=cards.room_text(f, ctx.locale)))
    await refresh_cards(ctx, f)


async def evidence(ctx: Ctx, f: Fault, text: str, images: list[str]) -> None:
    await service.add_event(ctx.session, f.id, "evidence", by=ctx.user_id, at=ctx.now(), text=text,
                            images=len(images), image_keys=images[:9])


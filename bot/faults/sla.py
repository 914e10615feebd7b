"""The SLA ladder on the timer engine, and the outbox callbacks of the fault group.

Timers (kind "fault.sla", payload {"fault": id, "step": ...}):
* ``ack2``    T + ack/2 (T+5 for a 10-minute target), still unacked: buzz the on-call again and
              pull in the backup;
* ``lead``    off hours only (bot.faults.policy: nights, weekends, holidays), instead of ``ack2``:
              T + ack/2, still unacked: buzz again and escalate to the ops leads at once;
* ``breach``  T + ack target, still unacked: the SLA is breached; the ops leads and tech
              leads are pulled in and buzzed (also by SMS/phone when BOT_FAULT_PAID_URGENT is
              set, since those cost money), the breach is recorded;
* ``nudge``   acked but not resolved: a nudge to whoever acked, again every few minutes;
* ``resolve`` T + resolve target, not resolved: the resolve breach alert to the leads.
Ack cancels the ``fault:{id}:ack`` timers, resolve cancels everything under ``fault:{id}``;
each step also re-checks the ticket's state, so a fire that races an ack does nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime

from bot import outbox
from bot.context import Ctx
from bot.faults import flows, service
from bot.faults.models import ACKED, OPEN, RESOLVED
from bot.i18n import t
from bot.metrics import count
from bot.reminders import timers
from bot.sender import on_failed, on_sent

log = logging.getLogger("bot.faults")
MAX_NUDGES = 12


@timers.handler("fault.sla")
async def fire(ctx: Ctx, timer, *, due: datetime, late: bool) -> None:
    with outbox.priority(outbox.PAGE):  # escalations are pages: ahead of briefings and bulk sends
        await _fire(ctx, timer)


async def _fire(ctx: Ctx, timer) -> None:
    payload = timer.payload or {}
    f = await service.get(ctx.session, int(payload.get("fault", 0)))
    if f is None or f.status == RESOLVED:
        return
    step = payload.get("step")
    now = ctx.now()
    if step == "ack2" and f.status == OPEN:
        ids = [*f.oncall_ids, *f.backup_ids] or list(f.lead_ids)
        await flows.add_members(ctx, f, f.backup_ids)
        minutes = int((now - f.created_at).total_seconds() // 60)
        await flows.post(ctx, f, t(f.locale, "faults.ack2_text", id=f.id, minutes=minutes,
                                   who=flows.mentions(f.oncall_ids) or "-",
                                   backup=flows.mentions(f.backup_ids) or t(f.locale, "faults.no_backup")))
        await flows.buzz(ctx, f, ids)
        await service.add_event(ctx.session, f.id, "ack2", at=now, minutes=minutes)
    elif step == "lead" and f.status == OPEN:
        minutes = int((now - f.created_at).total_seconds() // 60)
        await flows.add_members(ctx, f, [*f.backup_ids, *f.lead_ids])
        await flows.post(ctx, f, t(f.locale, "faults.offhours_lead_text", id=f.id, minutes=minutes,
                                   leads=flows.mentions(f.lead_ids) or "-", who=flows.mentions(f.oncall_ids) or "-"))
        await flows.buzz(ctx, f, list(dict.fromkeys([*f.lead_ids, *f.oncall_ids, *f.backup_ids])))
        await service.add_event(ctx.session, f.id, "offhours_lead", at=now, minutes=minutes)
    elif step == "breach" and f.status == OPEN:
        f.ack_breached, f.updated_at = True, now
        ids = list(dict.fromkeys([*f.lead_ids, *f.tech_lead_ids]))
        await flows.add_members(ctx, f, ids)
        minutes = flows.policy(ctx).ack(f.severity)
        await flows.post(ctx, f, t(f.locale, "faults.breach_text", id=f.id, minutes=minutes,
                                   leads=flows.mentions(ids) or "-", who=flows.mentions(f.oncall_ids) or "-"))
        await flows.buzz(ctx, f, [*ids, *f.oncall_ids, *f.backup_ids])
        paid = flows.policy(ctx).paid_urgent
        if paid:
            await flows.buzz(ctx, f, ids, kind=paid)
        if f.mode == "group" and f.group_chat_id:
            await ctx.send(f.chat_id, t(f.locale, "faults.breach_report", id=f.id, minutes=minutes))
        await service.add_event(ctx.session, f.id, "breach", at=now, minutes=minutes, paid=paid or "-")
        count(ctx, "sla_breaches", kind="ack")
        await flows.refresh_cards(ctx, f)
    elif step == "nudge" and f.status == ACKED:
        n = int(payload.get("n", 1))
        minutes = int((now - f.created_at).total_seconds() // 60)
        await flows.post(ctx, f, t(f.locale, "faults.nudge_text", id=f.id, who=flows.mention(f.acked_by),
                                   minutes=minutes))
        if n < MAX_NUDGES:
            await flows.schedule_nudge(ctx, f, n + 1)
    elif step == "resolve":
        f.resolve_breached, f.updated_at = True, now
        ids = list(dict.fromkeys([*f.lead_ids, *f.tech_lead_ids]))
        minutes = flows.policy(ctx).resolve(f.severity)
        await flows.add_members(ctx, f, ids)
        await flows.post(ctx, f, t(f.locale, "faults.resolve_breach_text", id=f.id, minutes=minutes,
                                   leads=flows.mentions(ids) or "-"))
        await flows.buzz(ctx, f, ids)
        await service.add_event(ctx.session, f.id, "resolve_breach", at=now, minutes=minutes)
        count(ctx, "sla_breaches", kind="resolve")


def _ctx(svc, session, f, label: str) -> Ctx:
    return Ctx(svc=svc, session=session, cause=f"fault:{f.id}:{label}", locale=f.locale, user_id="",
               chat_id=f.chat_id)


@on_sent(flows.GROUP_CALLBACK)
async def group_created(svc, row, result: dict) -> None:
    session = result["session"]
    f = await service.get(session, int((row.payload or {}).get("fault_id", 0)))
    if f is None or not result.get("chat_id"):
        return
    await flows.group_ready(_ctx(svc, session, f, "group"), f, result["chat_id"])


@on_failed(flows.GROUP_CALLBACK)
async def group_not_created(svc, row, result: dict) -> None:
    session = result["session"]
    f = await service.get(session, int((row.payload or {}).get("fault_id", 0)))
    if f is None:
        return
    await flows.group_failed(_ctx(svc, session, f, "nogroup"), f, row.error_code)


@on_sent(flows.BUZZ_CALLBACK)
async def buzzed(svc, row, result: dict) -> None:
    """The sender could not buzz some of the targets: reach them another way."""
    refused = [str(i) for i in result.get("refused") or [] if i]
    if not refused:
        return
    session = result["session"]
    f = await service.get(session, int((row.payload or {}).get("fault_id", 0)))
    if f is None or f.status == RESOLVED:
        return
    await flows.buzz_fallback(_ctx(svc, session, f, f"buzzfb:{row.id}"), f, refused, result.get("code"))

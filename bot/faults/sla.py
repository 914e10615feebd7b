"""The SLA ladder on the timer engine, and the outbox callbacks of the fault group.

Timers (kind "fault.sla", payload {"fault": id, "step": ...}); what each step does is one row
of the table in bot.faults.ladder:
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
from bot.faults import flows, ladder, service
from bot.faults.models import RESOLVED
from bot import timers
from bot.sender import on_failed, on_sent

log = logging.getLogger("bot.faults")


@timers.handler("fault.sla")
async def fire(ctx: Ctx, timer, *, due: datetime, late: bool) -> None:
    with outbox.priority(outbox.PAGE):  # escalations are pages: ahead of briefings and bulk sends
        await _fire(ctx, timer)


async def _fire(ctx: Ctx, timer) -> None:
    payload = timer.payload or {}
    f = await service.get(ctx.session, int(payload.get("fault", 0)))
    if f is None or f.status == RESOLVED:
        return
    await ladder.climb(ctx, f, str(payload.get("step") or ""), int(payload.get("n", 1)))


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

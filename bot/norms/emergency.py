"""Off-hours emergencies handled within 1 hour (seed 二(一): "主播未到场、违规警告等突发 1 小时内处理").

What starts one:

* a streamer no-show: the schedule listener plans two timers per stream (kind
  ``norms.noshow``, ref ``noshow:{stream_id}``): at the scheduled start, when the stream is
  not live, a card asks whether the streamer is there (button 主播已到场: logged on the
  stream as "arrived"); ``emergency.noshow`` minutes later (default 10; 0 = off), still not
  live and nobody confirmed the streamer → emergency;
* a platform violation warning outside office hours: a fault report the triage files as
  平台违规 (category ``sanction``) when bot.faults.policy says it is off hours;
* by hand: ``/应急 报告 未到场 #12`` or ``/应急 报告 违规 1号间 …``.

An emergency posts a card with its owner (the ops on call: ``/应急 值班 @甲 @乙`` is a weekly
rotation computed like the technicians' (bot.faults.oncall), else the ops lead), buzzes them
through the sender's urgent path (whoever cannot be buzzed is @mentioned and messaged
directly: ``BUZZ_CALLBACK``), offers the backup plan as buttons (助播救场, 更换主播, and 主播已到
/ 已处理), records the outcome, and tells the ops lead when it is still open after
``emergency.window`` minutes (default 60; timer kind ``norms.emergency``).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox, records
from bot.access import Scope
from bot.cards import Button, Card, Input, escape_md
from bot.commands.registry import card_action
from bot.context import Ctx
from bot.leads import TeamSetting, escalation_targets
from bot.norms import config
from bot.norms.more_models import OPEN, RESOLVED, Emergency
from bot import timers
from bot.schedule import service as schedule
from bot.schedule.cards import at
from bot.schedule.models import CANCELLED, ENDED, LIVE, Stream
from bot.sender import on_sent

KIND, WATCH = "norms.emergency", "norms.noshow"
ONCALL_KEY = "emergency_oncall"  # TeamSetting: {"members": [...], "starts_on": "YYYY-MM-DD"}
BUZZ_CALLBACK = "norms.emergency_buzzed"
OUTCOMES = ("rescue", "replace", "arrived", "fixed")
RESOLVE = card_action("emergency.resolve", label=("处理应急", "handle the emergency"), scope=Scope.RECORD,
                      record=records.EMERGENCY)
ARRIVED = card_action("emergency.arrived", label=("确认主播到场", "confirm the streamer is here"), scope=Scope.OWNERS,
                      record=records.STREAM)


# -- who is on call -----------------------------------------------------------------------------
async def rotation(session: AsyncSession) -> dict:
    row = await session.get(TeamSetting, ONCALL_KEY)
    return row.value if row is not None and isinstance(row.value, dict) else {}


async def set_rotation(session: AsyncSession, members: list[str], *, starts_on: date, by: str, now: datetime) -> None:
    value = {"members": list(dict.fromkeys(members)), "starts_on": starts_on.isoformat()}
    row = await session.get(TeamSetting, ONCALL_KEY)
    if row is None:
        session.add(TeamSetting(key=ONCALL_KEY, value=value, updated_by=by, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = value, by, now
    await session.flush()


async def on_call(session: AsyncSession, when: datetime, tz, *, chat_id: str = "", admins=()) -> list[str]:
    """The ops on call at ``when`` (the weekly rotation), else the ops lead (bot.leads)."""
    from bot.faults.models import OncallRotation
    from bot.faults.oncall import on_call as duty

    value = await rotation(session)
    if value.get("members"):
        rot = OncallRotation(category="", members=list(value["members"]), starts_on=value["starts_on"], period_days=7)
        primary = duty([rot], [], "", when.astimezone(tz).date()).primary
        if primary:
            return [primary]
    return (await escalation_targets(session, chat_id=chat_id, admins=admins))[:2]


# -- starting and resolving ---------------------------------------------------------------------
async def start(ctx: Ctx, kind: str, *, chat_id: str, text: str = "", stream: Stream | None = None,
                room_name: str = "", fault_id: int | None = None, idem_key: str | None = None) -> tuple[Emergency, bool]:
    """Open an emergency (idempotent by ``idem_key``); (row, False) when it exists already."""
    if idem_key:
        found = (await ctx.session.execute(select(Emergency).where(Emergency.idem_key == idem_key))).scalars().first()
        if found is not None:
            return found, False
    now = ctx.now()
    cfg = await config.effective(ctx.session, stream.room_id if stream is not None else None)
    if stream is not None and not room_name:
        room = await schedule.room_by_id(ctx.session, stream.room_id)
        room_name = room.name if room else ""
    oncall = await on_call(ctx.session, now, ctx.svc.tz, chat_id=chat_id, admins=ctx.svc.settings.admins)
    em = Emergency(kind=kind, chat_id=chat_id, stream_id=stream.id if stream is not None else None, fault_id=fault_id,
                   room_name=room_name[:64], text=text[:1000], reported_by=ctx.user_id, oncall_ids=oncall,
                   people=list(stream.people().values()) if stream is not None else [], started_at=now,
                   due_at=now + timedelta(minutes=int(cfg["emergency.window"] or 60)), idem_key=idem_key)
    ctx.session.add(em)
    await ctx.session.flush()
    em.card_key = await ctx.send(chat_id, card=card(ctx, em))
    await timers.schedule(ctx.session, key=f"emergency:{em.id}:escalate", kind=KIND, due=em.due_at,
                          payload={"id": em.id}, chat_id=chat_id, ref=f"emergency:{em.id}", created_by=ctx.user_id)
    await buzz(ctx, em, oncall)
    return em, True


async def buzz(ctx: Ctx, em: Emergency, ids: list[str]) -> None:
    """The existing urgent path (as for faults): the sender buzzes the members of the card's
    chat; whoever it cannot reach comes back to ``buzzed`` (mention + direct message)."""
    ids = [i for i in dict.fromkeys(ids) if i]
    if not ids or not em.card_key:
        return
    await ctx.out.urgent(ctx.key("urgent_app"), "@" + em.card_key, ids, chat=em.chat_id, kind="app",
                         emergency_id=em.id, callback=BUZZ_CALLBACK)


@on_sent(BUZZ_CALLBACK)
async def buzzed(svc, row, result: dict) -> None:
    refused = [str(i) for i in result.get("refused") or [] if i]
    if not refused:
        return
    session = result["session"]
    em = await session.get(Emergency, int((row.payload or {}).get("emergency_id", 0)))
    if em is None or em.status != OPEN:
        return
    ctx = Ctx(svc=svc, session=session, cause=f"emergency:{em.id}:buzzfb:{row.id}", locale=svc.settings.locale,
              user_id="", chat_id=em.chat_id)
    await ctx.send(em.chat_id, ctx.t("more.em_buzz_fallback", id=em.id, who=" ".join(outbox.mention(i) for i in refused)))
    for open_id in refused:
        await ctx.dm(open_id, ctx.t("more.em_buzz_dm", id=em.id, what=ctx.t(f"more.em_kind.{em.kind}"),
                                    where=em.room_name or "-"))


def _hm(ctx: Ctx, when: datetime) -> str:
    return when.astimezone(ctx.svc.tz).strftime("%m-%d %H:%M")


def card(ctx: Ctx, em: Emergency, *, stage: str = "open") -> Card:
    resolved = em.status == RESOLVED
    template = "green" if resolved else ("red" if stage == "escalate" or em.escalated_at else "orange")
    card = Card(ctx.t("more.em_title", id=em.id, what=ctx.t(f"more.em_kind.{em.kind}")), template=template)
    where = em.room_name + (f" · #{em.stream_id}" if em.stream_id else "")
    card.markdown(ctx.t("more.em_body", where=escape_md(where or "-"), text=escape_md(em.text[:300] or "-"),
                        owner=" ".join(at(x) for x in em.oncall_ids) or "-", start=_hm(ctx, em.started_at),
                        due=_hm(ctx, em.due_at)))
    if em.escalated_at:
        card.markdown(ctx.t("more.em_escalated", leads=" ".join(at(x) for x in em.lead_ids) or "-"))
    if resolved:
        took = int(((em.resolved_at or em.started_at) - em.started_at).total_seconds() // 60)
        verdict = ctx.t("more.in_time" if em.resolved_at and em.resolved_at <= em.due_at else "more.late")
        card.markdown(ctx.t("more.em_done", outcome=ctx.t(f"more.em_outcome.{em.outcome}"), who=at(em.resolved_by or ""),
                            minutes=took, verdict=verdict) + (f"\n{escape_md(em.note)}" if em.note else ""))
        return card
    card.markdown(ctx.t(f"more.em_plan.{em.kind}"))
    last = "arrived" if em.kind == "noshow" else "fixed"
    columns = [{"tag": "column", "width": "auto", "elements": [
        Button(ctx.t(f"more.em_btn.{o}"), RESOLVE(id=em.id, o=o), kind="primary" if o == "rescue" else "default",
               submit=True, name=f"em_{o}_{em.id}").to_dict()]} for o in ("rescue", "replace", last)]
    card.elements.append({"tag": "form", "name": f"emergency_{em.id}", "elements": [
        Input("note", ctx.t("more.em_note"), placeholder=ctx.t("more.em_note_hint")).to_dict(),
        {"tag": "column_set", "flex_mode": "flow", "columns": columns}]})
    card.note(ctx.t("more.em_hint"))
    return card


async def resolve(ctx: Ctx, em: Emergency, outcome: str, note: str) -> bool:
    if em.status != OPEN:
        return False
    em.status, em.outcome, em.note = RESOLVED, outcome, note.strip()[:500]
    em.resolved_by, em.resolved_at = ctx.user_id, ctx.now()
    await timers.cancel_ref(ctx.session, f"emergency:{em.id}")
    return True


async def open_emergencies(session: AsyncSession) -> list[Emergency]:
    return list((await session.execute(select(Emergency).where(Emergency.status == OPEN).order_by(Emergency.id))).scalars())


async def share_in_time(session: AsyncSession, start: datetime, end: datetime, now: datetime) -> tuple[int, int]:
    rows = (await session.execute(select(Emergency).where(Emergency.started_at >= start,
                                                          Emergency.started_at < end))).scalars().all()
    counted = [r for r in rows if r.status == RESOLVED or r.due_at <= now]
    good = sum(1 for r in counted if r.resolved_at is not None and r.resolved_at <= r.due_at)
    return good, len(counted)


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    em = await ctx.session.get(Emergency, int(timer.payload.get("id", 0)))
    if em is None or em.status != OPEN:
        return
    em.lead_ids = await escalation_targets(ctx.session, chat_id=em.chat_id, late=em.oncall_ids,
                                           admins=ctx.svc.settings.admins)
    em.escalated_at = ctx.now()
    shown = card(ctx, em, stage="escalate")
    if em.card_key:
        await ctx.update_card(f"@{em.card_key}", shown, chat_id=em.chat_id)
    await ctx.send(em.chat_id, ctx.t("more.em_escalate_text", id=em.id, what=ctx.t(f"more.em_kind.{em.kind}"),
                                     who=" ".join(outbox.mention(x) for x in [*em.lead_ids, *em.oncall_ids])))
    for lead in em.lead_ids:
        await ctx.dm(lead, card=shown)


# -- the no-show watch --------------------------------------------------------------------------
def watch_ref(stream_id: int) -> str:
    return f"noshow:{stream_id}"


async def plan_watch(session: AsyncSession, stream: Stream, kind: str, now: datetime) -> None:
    """The schedule's listener: (re)plan or cancel a stream's no-show timers."""
    if stream.id is None:
        await session.flush()
    await timers.cancel_ref(session, watch_ref(stream.id))
    if stream.status in (CANCELLED, ENDED, LIVE) or stream.source == "demo":
        return
    cfg = await config.effective(session, stream.room_id)
    grace = int(cfg["emergency.noshow"] or 0)
    if not grace:
        return
    for stage, due in (("check", stream.starts_at), ("noshow", stream.starts_at + timedelta(minutes=grace))):
        if due > now:
            await timers.schedule(session, key=f"{watch_ref(stream.id)}:{stage}", kind=WATCH, due=due,
                                  payload={"stream": stream.id, "stage": stage, "start": stream.starts_at.isoformat()},
                                  chat_id=stream.chat_id, ref=watch_ref(stream.id), created_by=stream.created_by,
                                  stale_after=timedelta(hours=2))


async def on_stream_change(session: AsyncSession, stream: Stream, kind: str, now: datetime) -> None:
    if kind in ("added", "imported", "changed", "cancelled", "confirmed"):
        await plan_watch(session, stream, kind, now)


schedule.on_stream_change(on_stream_change)


async def arrived(session: AsyncSession, stream_id: int) -> bool:
    from bot.schedule.models import StreamChange

    return (await session.execute(select(StreamChange.id).where(StreamChange.stream_id == stream_id,
                                                                StreamChange.kind == "arrived"))).first() is not None


def check_card(ctx: Ctx, stream: Stream, room_name: str, grace: int) -> Card:
    card = Card(ctx.t("more.check_title", id=stream.id), template="orange")
    card.markdown(ctx.t("more.check_body", room=escape_md(room_name), start=_hm(ctx, stream.starts_at),
                        who=at(stream.streamer_id) if stream.streamer_id else "-", grace=grace, id=stream.id))
    card.buttons(Button(ctx.t("more.btn_arrived"), ARRIVED(id=stream.id), kind="primary"))
    return card


@timers.handler(WATCH)
async def watch(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    stream = await schedule.stream_by_id(ctx.session, int(timer.payload.get("stream", 0)))
    if stream is None or stream.status in (CANCELLED, ENDED, LIVE) or stream.starts_at.isoformat() != timer.payload.get("start"):
        return
    if await arrived(ctx.session, stream.id):
        return
    room = await schedule.room_by_id(ctx.session, stream.room_id)
    name = room.name if room else ""
    chat = (room.field_chat_id if room and room.field_chat_id else "") or stream.chat_id or timer.chat_id
    if timer.payload.get("stage") == "check":
        cfg = await config.effective(ctx.session, stream.room_id)
        await ctx.send(chat, card=check_card(ctx, stream, name, int(cfg["emergency.noshow"] or 0)))
        return
    await start(ctx, "noshow", chat_id=stream.chat_id or chat, stream=stream, room_name=name,
                text=ctx.t("more.noshow_text", id=stream.id, start=_hm(ctx, stream.starts_at)),
                idem_key=f"noshow:{stream.id}:{stream.starts_at.isoformat()}")


async def from_fault(ctx: Ctx, fault) -> Emergency | None:
    """A platform violation warning outside office hours starts an emergency too."""
    from bot.faults.flows import policy

    if fault.category != "sanction" or policy(ctx).office_hours(ctx.now(), ctx.svc.tz):
        return None
    stream = await schedule.stream_by_id(ctx.session, fault.stream_id) if fault.stream_id else None
    em, _ = await start(ctx, "violation", chat_id=fault.chat_id, text=fault.text, stream=stream,
                        room_name=fault.room_name or "", fault_id=fault.id, idem_key=f"fault:{fault.id}")
    return em

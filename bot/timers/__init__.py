"""Timers: the small interface every time-bound feature uses.

The database owns every timer (table ``timers``); the engine (bot.timers.engine) only
wakes up when the next one is due, claims it and calls its handler. Features do two things:

1. Declare what a kind of timer does, once, at import time::

       from bot import timers

       @timers.handler("fault.sla")
       async def fire(ctx: Ctx, timer: Timer, *, due: datetime, late: bool) -> None:
           await ctx.send(timer.chat_id, ctx.t("faults.sla_breached", **timer.payload))

   ``ctx`` is a normal Ctx: ``chat_id`` = the timer's chat, ``user_id`` = ``created_by``, the
   chat's language, ``cause = "timer:{id}:{due:%Y%m%dT%H%M%S}"`` so whatever it sends is
   sent once even if the fire is redone after a crash. It runs in the same transaction as
   the timer's own update (never open another session). ``due`` is the time it was due
   (UTC); ``late`` is True when it fires more than 5 minutes after that (the bot was down).
   An exception is logged with a reference id, its writes are rolled back, and the timer
   moves on as if it had fired (no endless refiring). When any handler of a claimed batch
   fails, the batch is rolled back and redone with a savepoint per handler, so a handler
   can run twice for one fire with only the second run kept: do everything through the
   session and ctx (sends are outbox rows), nothing else with side effects.

2. Schedule, change and cancel timers inside their own transaction (``ctx.session``)::

       await timers.schedule(session, key="stream:12:t-2h", kind="stream.checkpoint",
                             due=start - timedelta(hours=2), payload={"stream": 12},
                             chat_id=chat, ref="stream:12", created_by=ctx.user_id)
       await timers.schedule(session, key="briefing:oc_x", kind="briefing.daily",
                             due=next_fire(rule, now), rule=rule, chat_id="oc_x")
       await timers.cancel_ref(session, "stream:12")   # every timer of stream 12

Functions (all take the caller's AsyncSession; nothing commits on its own):

* ``schedule(session, *, key, kind, due, payload=None, rule=None, chat_id="", ref="",
  created_by="", stale_after=None, tz=None) -> Timer`` – insert, or update the timer with
  this key (idempotent: call it again with new values to move it); the result is active.
  ``rule`` is a Recurrence (or its dict) for repeating timers: after each fire the next
  due is ``recurrence.next_fire(rule, now)``, so missed occurrences fire once (late) and the
  timer moves to the next future one. ``stale_after`` (seconds or timedelta): if the engine
  gets to a fire later than that, it is skipped instead of sent (in-stream nudges).
* ``cancel(session, key) -> bool`` / ``cancel_ref(session, ref_prefix) -> int`` – the ref
  itself and refs under it ("stream:12" cancels "stream:12" and "stream:12:t-2h", not
  "stream:120"; a prefix ending in ":" matches everything under it).
* ``pause(session, key) -> bool`` / ``resume(session, key, *, now=None) -> Timer | None`` –
  with ``now``, a repeating timer resumed after its due time continues at its next
  occurrence; a one-off overdue timer fires right away (late).
* ``snooze(session, key, until) -> Timer | None`` – the next fire moves to ``until`` (a
  repeating timer then continues with its rule); works on active, paused and done timers.
* ``get(session, key) -> Timer | None``.

Committing a session that changed timers wakes the engines in this process so they re-plan;
other processes notice within the 30 s safety poll (or fire it themselves when due).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Mapping

from sqlalchemy import event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.clock import wall_now
from bot.timers.models import ACTIVE, CANCELLED, DONE, PAUSED, Timer
from bot.timers.recurrence import DEFAULT_TZ, Recurrence, next_fire

log = logging.getLogger("bot.timers")

Handler = Callable[..., Awaitable[None]]
HANDLERS: dict[str, Handler] = {}
EXACT: set[str] = set()  # kinds woken for without slack (``handler(kind, exact=True)``)
_changed_hooks: list[Callable[[], None]] = []  # engines to wake after a commit

__all__ = ["Timer", "handler", "schedule", "cancel", "cancel_ref", "pause", "resume", "snooze", "get",
           "ACTIVE", "PAUSED", "DONE", "CANCELLED", "HANDLERS", "EXACT"]


def handler(kind: str, *, exact: bool = False) -> Callable[[Handler], Handler]:
    """Declare the handler of a timer kind: ``async def fire(ctx, timer, *, due, late)``.
    ``exact``: the engine wakes for this kind at its due time, without the timer slack that lets
    timers due close together fire in one transaction (a paced fan-out keeps its small blocks)."""

    def wrap(fn: Handler) -> Handler:
        if kind in HANDLERS and HANDLERS[kind] is not fn:
            raise ValueError(f"timer kind '{kind}' has two handlers")
        HANDLERS[kind] = fn
        if exact:
            EXACT.add(kind)
        return fn

    return wrap


def _rule_dict(rule: Recurrence | Mapping[str, Any] | None) -> dict | None:
    if rule is None:
        return None
    rec = rule if isinstance(rule, Recurrence) else Recurrence.from_dict(rule)
    return None if rec.kind == "once" else rec.to_dict()


def _seconds(value: float | int | timedelta | None) -> int | None:
    if value is None:
        return None
    return int(value.total_seconds() if isinstance(value, timedelta) else value)


def _changed(session: AsyncSession) -> None:
    session.info["timers_changed"] = True  # wake the engines after commit
    session.info["timers_touched"] = True  # tells the engine a handler changed timers


async def schedule(session: AsyncSession, *, key: str, kind: str, due: datetime,
                   payload: dict | None = None, rule: Recurrence | Mapping[str, Any] | None = None,
                   chat_id: str = "", ref: str = "", created_by: str = "",
                   stale_after: float | int | timedelta | None = None, tz: str | None = None) -> Timer:
    """Create or replace (by ``key``) an active timer due at ``due`` (aware)."""
    if due.tzinfo is None or due.utcoffset() is None:
        raise ValueError("timers need an aware due time")
    if not key or len(key) > 200:
        raise ValueError("a timer key is 1–200 characters")
    rule_d = _rule_dict(rule)
    zone = (rule_d or {}).get("tz") or tz or DEFAULT_TZ
    now = wall_now()
    values = dict(key=key, kind=kind, payload=payload or {}, next_due=due, rule=rule_d, tz=zone,
                  state=ACTIVE, chat_id=chat_id[:128], ref=ref[:128], created_by=created_by[:128],
                  stale_after_seconds=_seconds(stale_after), last_error=None, updated_at=now)
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Timer).values(**values, fire_count=0, created_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
        k: getattr(stmt.excluded, k) for k in values if k != "key"})
    result = await session.execute(stmt.returning(Timer), execution_options={"populate_existing": True})
    timer = result.scalar_one()
    _changed(session)
    return timer


async def get(session: AsyncSession, key: str) -> Timer | None:
    return (await session.execute(select(Timer).where(Timer.key == key)
                                  .execution_options(populate_existing=True))).scalar_one_or_none()


async def _set(session: AsyncSession, where: Any, states: tuple[str, ...], **values: Any) -> int:
    result = await session.execute(
        update(Timer).where(where, Timer.state.in_(states)).values(**values, updated_at=wall_now())
        .execution_options(synchronize_session=False))
    if result.rowcount:
        _changed(session)
    return int(result.rowcount or 0)


async def cancel(session: AsyncSession, key: str) -> bool:
    """Cancel the timer with this key; False if there is none still pending."""
    return bool(await _set(session, Timer.key == key, (ACTIVE, PAUSED), state=CANCELLED))


async def cancel_ref(session: AsyncSession, ref_prefix: str) -> int:
    """Cancel every pending timer whose ref is ``ref_prefix`` or lies under it; returns how many."""
    if not ref_prefix:
        raise ValueError("cancel_ref needs a ref")
    if ref_prefix.endswith(":"):
        where = Timer.ref.startswith(ref_prefix, autoescape=True)
    else:
        where = or_(Timer.ref == ref_prefix, Timer.ref.startswith(ref_prefix + ":", autoescape=True))
    return await _set(session, where, (ACTIVE, PAUSED), state=CANCELLED)


async def pause(session: AsyncSession, key: str) -> bool:
    return bool(await _set(session, Timer.key == key, (ACTIVE,), state=PAUSED))


async def resume(session: AsyncSession, key: str, *, now: datetime | None = None) -> Timer | None:
    """Make a paused timer active again; None if it is not paused."""
    timer = await get(session, key)
    if timer is None or timer.state != PAUSED:
        return None
    due = timer.next_due
    if now is not None and timer.rule and due <= now:
        due = next_fire(Recurrence.from_dict(timer.rule), now) or due
    await _set(session, Timer.id == timer.id, (PAUSED,), state=ACTIVE, next_due=due)
    return await get(session, key)


async def snooze(session: AsyncSession, key: str, until: datetime) -> Timer | None:
    """Move the next fire to ``until`` and make the timer active; None if cancelled or unknown."""
    if until.tzinfo is None:
        raise ValueError("snooze needs an aware time")
    if not await _set(session, Timer.key == key, (ACTIVE, PAUSED, DONE), state=ACTIVE, next_due=until):
        return None
    return await get(session, key)


def on_change(fn: Callable[[], None]) -> Callable[[], None]:
    """Register a callback run after any commit that changed timers (the engines use it)."""
    _changed_hooks.append(fn)
    return fn


def off_change(fn: Callable[[], None]) -> None:
    if fn in _changed_hooks:
        _changed_hooks.remove(fn)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the real commit is still to come
        return
    session.info.pop("timers_touched", None)
    if session.info.pop("timers_changed", None):
        for fn in list(_changed_hooks):
            try:
                fn()
            except Exception:  # noqa: BLE001 - a wake-up must never break a commit
                log.exception("timer change hook failed")


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop("timers_changed", None)
    session.info.pop("timers_touched", None)

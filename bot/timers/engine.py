"""The timer engine: wakes at the next due time, claims due timers, runs their handlers.

* The database owns every timer. The engine holds one wake-up, "at the next due time" (a
  timer handle on the loop), re-planned after every run, after any commit that changed timers
  (bot.timers' after_commit hook), and by a 30-second safety poll (an APScheduler 3 interval
  job, AsyncIOScheduler), which also notices timers written by other processes.
* Times come from the injected clock: the wake delay is ``next_due - clock.now()`` (plus
  ``SLACK``, so timers due close together fire in one batch). A clock
  that jumps (the sandbox's fast-forward, ``ManualClock.advance`` in tests) calls
  :meth:`TimerEngine.on_clock`, which fires everything now due before it returns.
* Claiming: due rows are selected ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) or inside the
  ``BEGIN IMMEDIATE`` transaction every SQLite session starts with (exclusive), so two
  processes never fire one timer twice. Up to ``batch`` timers are claimed per transaction;
  their handlers run in that transaction, and one executemany moves the rows on. Sends go
  through the outbox keyed by ``timer:{id}:{due}``, so a fire redone after a crash sends
  nothing twice.
* Lateness: more than 5 minutes after ``due`` the handler gets ``late=True``; a timer with
  ``stale_after_seconds`` fired later than that is skipped (not sent in a burst). A repeating
  timer that missed several occurrences fires once and moves to its next future occurrence.
* A handler that raises is logged with a reference id, its writes are rolled back and the
  timer moves on (no endless refiring). Fast path: handlers run without savepoints; when
  one raises, the batch's transaction is rolled back and the batch redone with a savepoint
  per handler (handlers of that batch run twice; only the second run is kept). Database trouble (the claim transaction itself fails) leaves the rows due
  and backs the engine off (1 s doubling to 60 s) instead of spinning.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import String, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import logs, roles
from bot.clock import wall_now
from bot.context import Ctx
from bot.timeparse import holiday_store
from bot import timers
from bot.timers.models import ACTIVE, DONE, Timer
from bot.timers.recurrence import Recurrence, next_fire
from bot.router import new_ref
from bot.services import Services
from bot.store.types import UTCDateTime

log = logging.getLogger("bot.timers")
for _name in ("apscheduler.scheduler", "apscheduler.executors.default"):
    logging.getLogger(_name).setLevel(logging.WARNING)  # one "job ran" line per wake-up is noise

LATE_AFTER = timedelta(minutes=5)
SAFETY_POLL_SECONDS = 30
# Timer slack: a wake-up is set this much after the next due time, so timers due within it fire
# together, in one transaction (Linux's timerslack, Go's and Node's timer coalescing). Never early;
# a reminder shown 0.2 s late is not seen as late, and timers falling due a few a second cost
# less than half the CPU each (tests/bench/bench_cpu.py). A clock jump (the sandbox's
# fast-forward, tests) fires at once, without it; kinds declared ``exact`` (the briefing
# fan-out's paced blocks) are woken for at their due time.
SLACK = 0.2
# (session, chat_id, user_id) -> (language, roles held): bot.router.Router.locale_and_roles
Who = Callable[[AsyncSession, str, str], Awaitable[tuple[str, set[str]]]]


def cause_of(timer_id: int, due: datetime) -> str:
    return f"timer:{timer_id}:{due.astimezone(timezone.utc):%Y%m%dT%H%M%S}"


class TimerEngine:
    def __init__(self, svc: Services, who: Who | None = None, worker_id: str = "timers", *,
                 batch: int = 50) -> None:
        self.svc, self.worker_id, self.batch = svc, worker_id, batch
        self.who = who or self._default_who
        self.running = False
        self.fired = 0  # handlers run by this engine (for tests, benches, /状态)
        self.skipped = 0  # stale fires skipped
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._scheduler: AsyncIOScheduler | None = None  # the safety poll
        self._wake_handle: asyncio.TimerHandle | None = None  # the wake-up for the next due timer
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listening = False
        self._failures = 0
        self._retry_at = 0.0  # monotonic time before which the engine does not claim (db trouble)
        self.planned: datetime | None = None  # next due the wake-up is set for
        self._next_read = False  # the last batch read the next due time (self._next_due) after its commit
        self._next_due: tuple[datetime | None, str | None] = (None, None)  # the next due time and its kind

    # -- life cycle --------------------------------------------------------------------------
    async def start(self, *, catch_up: bool = True) -> None:
        """Start waking; with ``catch_up`` first fire what fell due while the bot was down."""
        self._loop = asyncio.get_running_loop()
        self.running = True
        timers.on_change(self.poke)
        if not self._listening:  # a clock keeps its listeners: add ours once
            self.svc.clock.add_listener(self.on_clock)
            self._listening = True
        self._scheduler = AsyncIOScheduler(timezone=timezone.utc)
        self._scheduler.add_job(self._wake_job, "interval", seconds=SAFETY_POLL_SECONDS, id="safety",
                                misfire_grace_time=None, coalesce=True)
        self._scheduler.start()
        if catch_up:
            await self.run_due()
        await self.plan()
        self._task = asyncio.create_task(self._run(), name=f"timer engine {self.worker_id}")

    async def stop(self) -> None:
        self.running = False
        timers.off_change(self.poke)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._disarm()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            self._task = None

    def poke(self) -> None:
        """Re-plan soon (safe from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            if asyncio.get_running_loop() is loop:
                self._wake.set()
                return
        except RuntimeError:
            pass
        loop.call_soon_threadsafe(self._wake.set)

    async def _wake_job(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while self.running:
            await self._wake.wait()
            self._wake.clear()
            if not self.running:
                break
            try:
                await self.run_due()
                await self.plan()
            except Exception:  # noqa: BLE001 - keep the engine alive whatever happens
                log.exception("timer engine loop failed")
                await asyncio.sleep(1.0)

    async def on_clock(self, _now: datetime) -> None:
        """The clock jumped: fire everything now due before returning."""
        if not self.running:
            return
        await self.run_due()
        await self.plan()

    # -- planning ----------------------------------------------------------------------------
    async def plan(self) -> None:
        """Set the single wake-up to the earliest active timer."""
        if self._scheduler is None:
            return
        await self._calendar_check()
        if self._next_read:  # the last batch read it, after its own changes, in its transaction
            (due, kind), self._next_read = self._next_due, False
        else:
            try:
                async with self.svc.db.session() as session:
                    due, kind = (await session.execute(_NEXT_DUE)).first() or (None, None)
            except Exception:  # noqa: BLE001 - the safety poll will try again
                log.exception("timer planning failed")
                return
        if self._scheduler is None or not self.running:  # stopped meanwhile
            return
        self.planned = due
        self._disarm()
        if due is None:
            return
        delay = (due - self.svc.clock.now()).total_seconds()
        delay = max(delay, self._retry_at - time.monotonic())
        if delay <= 0:
            self._wake.set()
            return
        if kind not in timers.EXACT:
            delay += SLACK  # timers falling due close together fire in one batch
        # One timer handle on the loop, not an APScheduler date job: replacing that job and
        # running it cost ~800 µs of CPU a firing here, the handle ~230 (the wake itself).
        self._wake_handle = asyncio.get_running_loop().call_later(delay, self._wake.set)

    def wake_in(self) -> float | None:
        """Seconds until the planned wake-up (None when none is set)."""
        handle = self._wake_handle
        if handle is None or handle.cancelled():
            return None
        return handle.when() - asyncio.get_running_loop().time()

    def _disarm(self) -> None:
        if self._wake_handle is not None:
            self._wake_handle.cancel()
            self._wake_handle = None

    async def _calendar_check(self) -> None:
        """Pick up holiday data another replica changed (holiday_store: once a minute at most)."""
        if not holiday_store.check_due():
            return
        try:
            async with self.svc.db.session() as session:
                await holiday_store.refresh_if_stale(session)
        except Exception:  # noqa: BLE001 - the calendar is checked again next time
            log.exception("holiday data check failed")

    # -- firing ------------------------------------------------------------------------------
    async def run_due(self) -> int:
        """Fire every timer due now (in batches); returns how many this engine handled."""
        total, safe = 0, False
        async with self._lock:
            while time.monotonic() >= self._retry_at:
                try:
                    n = await self._fire_batch(safe)
                except _HandlerFailed:
                    safe = True  # redo the batch, each handler in its own savepoint
                    continue
                except Exception:  # noqa: BLE001 - database trouble: back off, rows stay due
                    self._failures += 1
                    delay = min(60.0, 2.0 ** (self._failures - 1))
                    self._retry_at = time.monotonic() + delay
                    log.exception("timer claim failed", extra={"ref": new_ref(), "retry_in": delay})
                    if self._loop is not None and self.running:  # try again then, not at the next poll
                        self._loop.call_later(delay, self._wake.set)
                    break
                self._failures, safe = 0, False
                total += n
                if n == 0 or n < self.batch and not self._due_again():
                    break
        if total:
            self.svc.wake_sender()
            self.svc.pulse.set()
        return total

    def _due_again(self) -> bool:
        """After a batch that was not full: is anything due already (a handler planned a step
        for now)? The batch read the next due time after its own changes."""
        due = self._next_due[0]
        return not self._next_read or (due is not None and due <= self.svc.clock.now())

    async def _fire_batch(self, safe: bool) -> int:
        """Claim up to ``batch`` due timers and fire them in one transaction.

        Fast path (``safe=False``): handlers run without savepoints; if one raises, the
        whole transaction is rolled back (nothing was sent: sends are outbox rows) and the
        batch is redone with a savepoint per handler, so the failure is isolated."""
        now = self.svc.clock.now()
        self._next_read = False
        async with self.svc.db.session() as session:
            rows = list((await session.execute(_DUE, {"now": now, "lim": self.batch})).scalars())
            cache: dict[tuple[str, str], tuple[str, set[str]]] = {}
            seen = [(timer.kind, (now - timer.next_due).total_seconds()) for timer in rows]
            params = [await logs.bound_call(self._fire(session, timer, now, cache, safe), timer=timer.key,
                                            cause=cause_of(timer.id or 0, timer.next_due)) for timer in rows]
            conn = await session.connection()  # Core statements: no ORM execution path
            if params:
                await conn.execute(_ADVANCE, params)
            last = len(rows) < self.batch
            next_due = ((await conn.execute(_NEXT_DUE)).first() or (None, None)) if last else (None, None)
        self._next_read, self._next_due = last, tuple(next_due)  # committed: plan() may use it
        if self.svc.metrics:  # committed: count each fire once, even when the batch was redone
            self.svc.metrics.timers_fired(seen, params)
        ran = sum(p["inc"] for p in params)
        self.fired += ran
        self.skipped += len(params) - ran
        return len(rows)

    async def _fire(self, session: AsyncSession, timer: Timer, now: datetime,
                    cache: dict[tuple[str, str], tuple[str, set[str]]], safe: bool) -> dict[str, Any]:
        """Run one timer's handler; returns the parameters of its row update."""
        tid, key, kind, due = timer.id, timer.key, timer.kind, timer.next_due
        rule = _rule_of(timer)
        lateness = (now - due).total_seconds()
        late = lateness > LATE_AFTER.total_seconds()
        stale = timer.stale_after_seconds is not None and lateness > timer.stale_after_seconds
        error: str | None = None
        session.info.pop("timers_touched", None)
        if stale:
            log.info("stale timer skipped", extra={"timer": key, "late_s": round(lateness)})
        else:
            fn = timers.HANDLERS.get(kind)
            savepoint = await session.begin_nested() if safe else None
            try:
                if fn is None:
                    raise LookupError(f"no handler for timer kind {kind!r}")
                await fn(await self._ctx(session, timer, due, cache), timer, due=due, late=late)
                if savepoint is not None:
                    await savepoint.commit()
            except Exception as exc:  # noqa: BLE001 - one bad handler never stops the others
                if savepoint is None:
                    raise _HandlerFailed(key) from exc
                if savepoint.is_active:
                    await savepoint.rollback()
                error = new_ref()
                log.exception("timer handler failed", extra={"ref": error, "timer": key, "kind": kind})
        params: dict[str, Any] = {"tid": tid, "inc": 0 if stale else 1, "fired_at": None if stale else now,
                                  "due_next": None, "new_state": None, "err": error, "upd": wall_now()}
        if session.info.pop("timers_touched", None):  # did the handler reschedule or cancel it?
            cur = (await session.execute(select(Timer.next_due, Timer.state).where(Timer.id == tid))).one()
            if cur.state != ACTIVE or cur.next_due != due:
                return params  # leave the row as the handler set it
        nxt = next_fire(rule, max(now, due)) if rule is not None else None
        if nxt is None:
            params["new_state"] = DONE
        else:
            params["due_next"] = nxt
        return params

    async def _ctx(self, session: AsyncSession, timer: Timer, due: datetime,
                   cache: dict[tuple[str, str], tuple[str, set[str]]]) -> Ctx:
        who = (timer.chat_id, timer.created_by)
        if who not in cache:
            cache[who] = await self.who(session, timer.chat_id, timer.created_by)
        locale, held = cache[who]
        return Ctx(svc=self.svc, session=session, cause=cause_of(timer.id or 0, due), locale=locale,
                   user_id=timer.created_by, chat_id=timer.chat_id, roles=set(held))

    async def _default_who(self, session: AsyncSession, chat_id: str, user_id: str) -> tuple[str, set[str]]:
        held = await roles.roles_of(session, user_id, self.svc.settings.admins) if user_id else set()
        return self.svc.settings.locale, held


class _HandlerFailed(Exception):
    pass


_T = Timer.__table__
# One executemany per batch moves every fired timer on (None = keep the column as it is).
_ADVANCE = (update(_T).where(_T.c.id == bindparam("tid")).values(
    fire_count=_T.c.fire_count + bindparam("inc"),
    last_fired_at=func.coalesce(bindparam("fired_at", type_=UTCDateTime), _T.c.last_fired_at),
    next_due=func.coalesce(bindparam("due_next", type_=UTCDateTime), _T.c.next_due),
    state=func.coalesce(bindparam("new_state", type_=String(16)), _T.c.state),
    last_error=bindparam("err", type_=String(64)),
    updated_at=bindparam("upd", type_=UTCDateTime)))


def _rule_of(timer: Timer) -> Recurrence | None:
    if not timer.rule:
        return None
    try:
        rule = Recurrence.from_dict(timer.rule)
    except (ValueError, TypeError):
        log.error("timer %s has a malformed rule; firing it once", timer.key)
        return None
    return rule if rule.recurring else None


# The next due time and its kind (ix_timers_state_due's first entry).
_NEXT_DUE = select(_T.c.next_due, _T.c.kind).where(_T.c.state == ACTIVE).order_by(_T.c.next_due).limit(1)
# The due timers, first due first (built once: building a statement costs more than running it).
_DUE = (select(Timer).where(Timer.state == ACTIVE, Timer.next_due <= bindparam("now", type_=UTCDateTime))
        .order_by(Timer.next_due).limit(bindparam("lim")).with_for_update(skip_locked=True))

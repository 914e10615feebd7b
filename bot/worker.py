"""Inbox workers: claim an event, route it, and mark it done in the same transaction as
everything the handler wrote (its answers included). A worker that dies mid-way leaves
its claim to expire; another worker (or this one after a restart) takes the row again.

An event the webhook stores usually needs no claim: the intake claims it for a sleeping worker
in the transaction that stores it and hands it over after the commit (bot.store.inbox).
Idle costs nothing: a worker with nothing to claim sleeps until this process stores an event
(the webhook or the long connection wakes one idle worker per event), until a lane held by
another worker falls free (that worker may have died: the claim says when), or once a
minute (events stored by another replica while this one's workers sleep). One wake-up
wakes one worker; a worker that took an event wakes one more, so a burst fans out to every
worker and a single event costs one claim: a worker whose event was its lane's last goes back
to sleep without looking again unless something was stored (or woke it) meanwhile, or the
last look that found nothing is older than LOOK_FRESH.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import datetime, timedelta

from bot.clock import wall_now
from bot import logs
from bot.logs import Repeated
from bot.answers import PressAnswers
from bot.feishu import events
from bot.feishu.ingress import Ingress
from bot.router import Router, new_ref
from bot.services import Services
from bot.store import inbox

log = logging.getLogger("bot.worker")
SAFETY_LOOK = 60.0  # seconds: events another replica stored while every worker here slept
# During a burst at the webhook, a worker about to take an event first lets the requests in
# flight be stored and answered (they share this event loop), for at most this long: the 200
# never waits for the work. The workers wait in turn: in a burst they take one event per
# INTAKE_FIRST between them, not one each, so the loop pauses for the work a quarter as often
# (docs/benchmarks.md); an event waits at most INTAKE_FIRST per worker longer. While a card
# press waits for its answer (it has seconds: bot.answers) the workers do not wait at all.
INTAKE_FIRST = 0.25
# A worker that finished its lane's last event skips the claim that would find nothing only if
# an empty claim looked at the held lanes' leases at most this long ago (a replica that died
# holding a lane is taken over at its lease end, not a safety look later).
LOOK_FRESH = 5.0


class Sleeper:
    """A worker asleep: woken by its event; ``handed`` is set while the intake is claiming an
    event for it (its result: the claimed row, or None for a plain wake-up)."""

    __slots__ = ("name", "event", "handed")

    def __init__(self, name: str) -> None:
        self.name = name
        self.event = asyncio.Event()
        self.handed: asyncio.Future | None = None


class InboxWorkers:
    def __init__(self, svc: Services, router: Router, worker_id: str, *, concurrency: int = 4,
                 lease: timedelta = timedelta(seconds=60), poll: float = 1.0) -> None:
        self.svc, self.router, self.worker_id = svc, router, worker_id
        self.answers = PressAnswers()  # card presses the webhook is waiting to answer
        self.concurrency, self.lease = concurrency, lease
        self.poll = poll  # back-off after a failed claim (database down)
        self.alive = 0
        self.stopping = False
        self.processed = 0
        self.claims = 0  # claim transactions made: benches and profiles read it
        self._gen = 0  # bumped by every wake-up: a claim that found nothing looks again if it moved
        self._idle: deque[Sleeper] = deque()  # sleeping workers, first asleep first woken
        # Events this process stored and woke a worker for, not yet claimed (by event id: a claim
        # may take an older row nobody announced, whose taker must then wake another worker).
        self._announced: set[str] = set()
        self._looked = 0.0  # monotonic time of the last claim that found nothing
        self._next_expiry: datetime | None = None  # a held lane's lease end, as the last empty claim saw it
        self._reserved = 0  # sleeping workers the intake reserved and has not answered yet
        self._missed = 0  # wake-ups that found only reserved workers: as many of them look again
        self.intake: Ingress | None = None  # the Ingress (app.py): while it is storing requests, they go first
        self._turn = asyncio.Lock()  # the worker waiting for the intake's burst to pause (INTAKE_FIRST)

    def wake(self, n: int = 1) -> None:
        """Something may be claimable: wake up to ``n`` sleeping workers."""
        self._gen += 1
        while n > 0 and self._idle:
            self._idle.popleft().event.set()
            n -= 1
        if n > 0 and self._reserved:  # asleep but reserved by the intake: each looks once more after its event
            self._missed = min(self._reserved, self._missed + n)

    def asleep(self) -> bool:
        """Whether a worker sleeps that the intake could claim an event for (``reserve``)."""
        return bool(self._idle) and not self.stopping

    def reserve(self) -> Sleeper | None:
        """A sleeping worker for the intake to claim an event for (bot.store.inbox.InboxWriter);
        it stays asleep until ``hand`` gives it the outcome."""
        if not self._idle or self.stopping:
            return None
        sleeper = self._idle.popleft()
        sleeper.handed = asyncio.get_running_loop().create_future()
        self._reserved += 1
        return sleeper

    def hand(self, sleeper: Sleeper, row) -> None:
        """The intake's outcome for a reserved worker: the row claimed for it (committed), or
        None (nothing claimed for it: it wakes and claims as usual)."""
        self._reserved = max(0, self._reserved - 1)
        if sleeper.handed is not None and not sleeper.handed.done():
            sleeper.handed.set_result(row)
        elif row is not None:  # it stopped waiting (cancelled at shutdown, or waited a whole lease): the lease hands it on
            log.warning("an event claimed for a worker that stopped waiting is taken again at its lease end",
                        extra={"event_id": row.event_id, "worker": sleeper.name})
        if row is None:
            self._gen += 1
        sleeper.event.set()

    def announce(self, event_id: str, *, wake: bool = True) -> None:
        """The ingress stored a new event: one worker for it (``wake=False``: one is awake for
        it already, a worker the intake reserved and could not hand it to)."""
        self._announced.add(event_id)
        if wake:
            self.wake()

    def stop(self) -> None:
        """Finish the event in hand, then leave the loop."""
        self.stopping = True
        self.wake(self.concurrency)

    async def run(self) -> None:
        # Without the bot's own open_id no @mention can be recognised: events wait, stored,
        # until start-up (or the background retry in app.py) has read it.
        while not self.svc.bot.open_id and not self.stopping:
            await asyncio.sleep(1.0)
        await inbox.rebuild_lanes(self.svc.db)
        if given_up := await inbox.give_up_exhausted(self.svc.db, wall_now()):
            self._gave_up(given_up)
        await asyncio.gather(*(self._loop(i) for i in range(self.concurrency)))

    async def _loop(self, n: int) -> None:
        self.alive += 1
        name = f"{self.worker_id}/{n}"
        trouble = Repeated(log, f"inbox claim failed ({name})")
        row = None  # an event the intake claimed for this worker while it slept
        try:
            while not self.stopping or row is not None:
                gen = self._gen
                if self.intake is not None and not self.answers:  # (a press waiting for its answer goes first)
                    async with self._turn:  # one at a time: the next one's wait starts as this one goes
                        await self.intake.quiet(INTAKE_FIRST)
                    if row is None and self.stopping:
                        break
                if row is None:
                    try:
                        self.claims += 1
                        got = await inbox.claim(self.svc.db, name, wall_now(), self.lease)
                        trouble.ok()
                    except Exception:  # noqa: BLE001 - database down: back off, keep the loop alive
                        trouble.failed()
                        await asyncio.sleep(self.poll)
                        continue
                    if got.given_up:
                        self._gave_up(got.given_up)
                    if got.row is None:
                        self._announced.clear()  # whatever was announced is claimed, or waits in a held lane
                        self._looked = time.monotonic()
                        if self._gen != gen or self.stopping:  # woken while claiming: look again
                            continue
                        self._next_expiry = got.next_expiry
                        row = await self._sleep(self._until_expiry(), name)
                        continue
                    row = got.row
                    if row.event_id in self._announced:  # its own wake-up already went out with it
                        self._announced.discard(row.event_id)
                    else:  # found unannounced (another replica's, a retry, a lapsed lease): there may be more
                        self.wake()
                more = await logs.bound_call(self.process(row, name), event_id=row.event_id, worker=name)
                row = None
                # Its lane drained and nothing came in meanwhile: sleep without a claim that would
                # find nothing (a lane another worker holds is that worker's to pass on), as long as
                # the lease ends seen by an empty claim are at most LOOK_FRESH old.
                if self._missed:
                    self._missed -= 1
                elif not (more or self._announced or self._gen != gen or self.stopping
                          or time.monotonic() - self._looked > LOOK_FRESH):
                    row = await self._sleep(self._until_expiry(), name)
        finally:
            self.alive -= 1

    def _until_expiry(self) -> float:
        """How long to sleep: until the lease of a lane held elsewhere runs out (as the last
        claim that found nothing saw it: its holder may have died), at most SAFETY_LOOK."""
        if self._next_expiry is None:
            return SAFETY_LOOK
        return min(SAFETY_LOOK, max(0.05, (self._next_expiry - wall_now()).total_seconds() + 0.05))

    async def _sleep(self, timeout: float, name: str):
        """Sleep until woken or ``timeout``; returns the row the intake claimed for this worker
        meanwhile, if any."""
        sleeper = Sleeper(name)
        self._idle.append(sleeper)
        try:
            async with asyncio.timeout(timeout):  # (wait_for would start a task per sleep)
                await sleeper.event.wait()
        except TimeoutError:
            pass
        finally:
            if sleeper in self._idle:
                self._idle.remove(sleeper)
        if sleeper.handed is None:
            return None
        try:  # reserved: the intake's transaction is deciding (it always says; a lease's worth at most)
            async with asyncio.timeout(self.lease.total_seconds()):
                return await sleeper.handed
        except TimeoutError:
            return None

    def _gave_up(self, n: int) -> None:
        log.error("events that failed repeatedly were set aside (status failed)")
        if self.svc.metrics:
            self.svc.metrics.events_given_up.inc(n)

    async def process(self, row, name: str) -> bool:
        """Handle one claimed row; whether this worker should look for more at once (its lane
        has more events, or the row failed and waits out its lease)."""
        started = time.monotonic()
        try:
            event = events.parse(row.payload, self.svc.bot.open_id)
        except events.EventShapeError:
            event = events.OtherEvent(row.event_id, row.event_type)
        except Exception:  # noqa: BLE001 - a malformed event is acknowledged, never kills the loop
            log.warning("malformed event ignored", extra={"event_id": row.event_id}, exc_info=True)
            event = events.OtherEvent(row.event_id, row.event_type)
        answer = None
        try:
            async with self.svc.db.session() as session:
                answer = await self.router.handle(session, event)
                more = await inbox.finish(session, row.id, name, wall_now(), lane=row.lane)
                if more is None:
                    raise LostClaim(row.event_id)
        except LostClaim:
            log.warning("claim lost, another worker has the event", extra={"event_id": row.event_id})
            return True
        except Exception:  # noqa: BLE001 - infrastructure trouble: leave it for a retry
            ref = new_ref()
            log.exception("event processing failed", extra={"ref": ref, "event_id": row.event_id})
            if self.svc.metrics:
                self.svc.metrics.event_failures.inc()
            self.answers.resolve(row.event_id, None)  # the retry's effects land later; say nothing now
            return True
        # Only after the commit: the presser is never told of something that was rolled back.
        self.answers.resolve(row.event_id, answer)
        self.processed += 1
        self.svc.pulse.set()
        if self.svc.metrics:
            self.svc.metrics.handle_latency.observe(time.monotonic() - started)
        self.svc.wake_sender()
        return more


class LostClaim(Exception):
    pass

"""Inbox workers: claim an event, route it, and mark it done in the same transaction as
everything the handler wrote (its answers included). A worker that dies mid-way leaves
its claim to expire; another worker (or this one after a restart) takes the row again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from bot.clock import wall_now
from bot import logs
from bot.logs import Repeated
from bot.answers import PressAnswers
from bot.feishu import events
from bot.router import Router, new_ref
from bot.services import Services
from bot.store import inbox

log = logging.getLogger("bot.worker")


class InboxWorkers:
    def __init__(self, svc: Services, router: Router, worker_id: str, *, concurrency: int = 4,
                 lease: timedelta = timedelta(seconds=60), poll: float = 1.0) -> None:
        self.svc, self.router, self.worker_id = svc, router, worker_id
        self.answers = PressAnswers()  # card presses the webhook is waiting to answer
        self.concurrency, self.lease, self.poll = concurrency, lease, poll
        self._wake = asyncio.Event()
        self.alive = 0
        self.stopping = False
        self._last_housekeeping = 0.0
        self.processed = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the event in hand, then leave the loop."""
        self.stopping = True
        self._wake.set()

    async def run(self) -> None:
        # Without the bot's own open_id no @mention can be recognised: events wait, stored,
        # until start-up (or the background retry in app.py) has read it.
        while not self.svc.bot.open_id and not self.stopping:
            await asyncio.sleep(1.0)
        await inbox.give_up_exhausted(self.svc.db, wall_now())
        await asyncio.gather(*(self._loop(i) for i in range(self.concurrency)))

    async def _loop(self, n: int) -> None:
        self.alive += 1
        name = f"{self.worker_id}/{n}"
        trouble = Repeated(log, f"inbox claim failed ({name})")
        expired_checked = 0.0
        try:
            while not self.stopping:
                try:
                    # Expired claims (a dead worker's rows) first once a second; in between the
                    # pending rows first, and expired ones whenever nothing is pending.
                    expired_first = time.monotonic() - expired_checked >= 1.0
                    if expired_first:
                        expired_checked = time.monotonic()
                    row = await inbox.claim(self.svc.db, name, wall_now(), self.lease,
                                            expired_first=expired_first)
                    trouble.ok()
                except Exception:  # noqa: BLE001 - database down: back off, keep the loop alive
                    trouble.failed()
                    await asyncio.sleep(self.poll)
                    continue
                if row is None:
                    await self._housekeeping()
                    self._wake.clear()
                    if self.stopping:
                        break
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.poll)
                    except asyncio.TimeoutError:
                        pass
                    continue
                self._wake.set()  # there may be more: let a sibling look too
                await logs.bound_call(self.process(row, name), event_id=row.event_id, worker=name)
        finally:
            self.alive -= 1

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping < 30:
            return
        self._last_housekeeping = now
        try:
            if given_up := await inbox.give_up_exhausted(self.svc.db, wall_now()):
                log.error("events that failed repeatedly were set aside (status failed)")
                if self.svc.metrics:
                    self.svc.metrics.events_given_up.inc(given_up)
        except Exception:  # noqa: BLE001
            log.exception("inbox housekeeping failed")

    async def process(self, row, name: str) -> None:
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
                if not await inbox.finish(session, row.id, name, wall_now()):
                    raise LostClaim(row.event_id)
        except LostClaim:
            log.warning("claim lost, another worker has the event", extra={"event_id": row.event_id})
            return
        except Exception:  # noqa: BLE001 - infrastructure trouble: leave it for a retry
            ref = new_ref()
            log.exception("event processing failed", extra={"ref": ref, "event_id": row.event_id})
            if self.svc.metrics:
                self.svc.metrics.event_failures.inc()
            self.answers.resolve(row.event_id, None)  # the retry's effects land later; say nothing now
            return
        # Only after the commit: the presser is never told of something that was rolled back.
        self.answers.resolve(row.event_id, answer)
        self.processed += 1
        self.svc.pulse.set()
        if self.svc.metrics:
            self.svc.metrics.handle_latency.observe(time.monotonic() - started)
        self.svc.wake_sender()


class LostClaim(Exception):
    pass

"""The outbox sender: takes due rows, keeps Feishu's limits, sends, records the outcome.

Ordering: only the oldest unfinished row of each lane (a chat, a user) is sent, so one chat's
messages arrive in order while different chats go in parallel. Among the lanes' heads the most
urgent go first (bot.outbox priorities: pages, answers to people, routine, bulk).
Limits (bot.sendlimits): per API 50 a second and 1,000 a minute, per lane and per message 5 a
second; bulk rows use at most 90 % of each API window, so a big fan-out never takes a page's
slot; a 429 pauses only its API, a 230020 only its lane.
Failures (bot.feishu.codes): temporary errors are retried with backoff; permanent ones mark
the row failed (shown by /状态), run the feature's fallback (``on_failed``) and go into the
admins' hourly digest (bot.outbox_digest). A crash between sending and marking is harmless: the
retry carries the same Feishu uuid, which Feishu (and the simulator) dedupe for an hour.
Cards older than 14 days are sent afresh instead of patched (bot.sendcalls); a refused buzz
is recorded as ``refused`` for the row's callback to reach those people another way.

Rows queued in this process usually need no claim: they are inserted already claimed for this
sender and handed over from memory after their commit (bot.outbox says when, bot.sendtake how).
Idle costs nothing: the sender reads the database only when a commit in this process queued
rows (bot.outbox tells it), when a retry it scheduled is due, when one of its sends finished
with more rows behind it in the lane, or once a minute (rows of other processes, dead
replicas' leases).
"""
from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot import outbox
from bot.clock import wall_now
from bot import logs
from bot.feishu.codes import CARD_TOO_OLD
from bot.feishu.platform import Platform
from bot.logs import Repeated
from bot.outbox import BULK, PERSON
from bot.sendcalls import SEND_API, Job, keys_for, made_at, perform, request_for, result_of, too_old
from bot.sendlimits import Limits
from bot.sendoutcomes import CALLBACKS, FAILURE_CALLBACKS, Outcomes, on_failed, on_sent
from bot.sendtake import HandedOver
from bot.sendstore import (SentMarks, claim_update, claimable, lowest,
                           next_due)
from bot.store.db import Database, claim_settings
from bot.store.models import OutboxMessage

__all__ = ["Sender", "on_sent", "on_failed", "request_for", "result_of", "CALLBACKS", "FAILURE_CALLBACKS"]
log = logging.getLogger("bot.sender")

MAX_ATTEMPTS = 20  # temporary errors: about 13 minutes of retries (backoff 0.5 s doubling to 60 s)
LEASE = outbox.LEASE
SAFETY_POLL = 60.0  # seconds between looks while nothing is known to be due
LOOK_GAP = 0.05  # at most this often for routine and bulk rows (pages and answers: at once)
HIGH = outbox.ALL & ~(1 << BULK)  # the bits of pages, answers and routine rows


class Sender(HandedOver, Outcomes):
    def __init__(self, db: Database, platform: Platform, worker_id: str, *, limits: Limits | None = None,
                 batch: int = 50, callback_env: Any = None, metrics: Any = None,
                 pulse: asyncio.Event | None = None, clock: Any = None) -> None:
        self.db, self.platform, self.worker_id = db, platform, worker_id
        self.limits = limits or Limits()
        self.batch = batch
        self.callback_env = callback_env
        self.metrics = metrics
        self.clock = clock
        self.pulse = pulse or asyncio.Event()
        self.running = False
        self.stopping = False
        self.looks = 0  # claim transactions made: tests and profiles read it
        self.ready: list[Job] = []
        self.inflight: dict[asyncio.Task, Job] = {}
        self._event = asyncio.Event()
        self._bits = 0  # priorities queued (bot.outbox bits) since the last look
        self._full = True  # the next look also takes over expired leases and plans the next due row
        self._last_look = -math.inf
        self._due: list[float] = []  # heap, monotonic: when rows put back for a retry fall due
        self._bulk_at = math.inf  # monotonic: when the bulk share of the send window reopens
        self._next_full = 0.0  # monotonic: the safety poll, or another process's lease runs out
        self._bulk_more = False  # the last look left bulk rows behind (the bulk share was used up)
        self._orphans: set[int] = set()  # rows this process claimed but could not finish
        self._marks = SentMarks(db, in_flight=lambda: len(self.inflight))  # a lone send: marked at once
        self._promised = 0
        self._unverified = []
        self._releasing = set()

    # -- waking ----------------------------------------------------------------------------
    def wake(self) -> None:
        """Look for due rows now, everywhere (tools and tests)."""
        self._full = True
        self._note(outbox.ALL)

    def nudge(self) -> None:
        """Something happened (an event was handled): costs nothing unless rows were queued."""
        self._event.set()

    def _note(self, bits: int) -> None:
        self._bits |= bits
        self._event.set()

    def stop(self) -> None:
        """Finish the rows in hand, then leave the loop."""
        self.stopping = True
        self._event.set()

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else wall_now()

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        self.running = True
        outbox.listen(self._note)
        outbox.take_with(self.db.engine.sync_engine, self)
        trouble = Repeated(log, "outbox claim failed")
        try:
            while not self.stopping:
                self._event.clear()  # set again by anything that happens from here on
                now = time.monotonic()
                if self._unverified:
                    try:
                        await self._verify()
                    except Exception:  # noqa: BLE001 - database hiccup: try again in a moment
                        trouble.failed()
                        await asyncio.sleep(0.1)
                        continue
                if self._should_look(now):
                    try:
                        await self._release_orphans()
                        await self._look(now)
                        trouble.ok()
                    except Exception:  # noqa: BLE001 - database hiccup: look again in a second
                        trouble.failed()
                        self._bits, self._full = 0, True
                        self._next_full = time.monotonic() + 1.0
                now = time.monotonic()
                wait = self._dispatch(now)
                if self._bulk_more:
                    self._bulk_at = min(self._bulk_at, now + max(LOOK_GAP, self.limits.bulk_opens(SEND_API, now)))
                await self._sleep(self._timeout(wait, now))
        finally:
            outbox.unlisten(self._note)
            outbox.stop_taking(self.db.engine.sync_engine, self)
            if self.inflight:  # finish the rows in hand
                await asyncio.wait(list(self.inflight))
            if self.ready or self._unverified:  # claimed, never started: due again at once
                self._orphans |= {j.row.id for j in self.ready + self._unverified}
                self.ready, self._unverified = [], []
            if self._orphans:
                try:
                    await self._release_orphans()
                except Exception:  # noqa: BLE001 - their lease runs out instead
                    pass
            self.running = False

    async def _sleep(self, timeout: float) -> None:
        if timeout <= 0:
            await asyncio.sleep(0)
            return
        try:
            async with asyncio.timeout(timeout):  # (wait_for would start a task per sleep)
                await self._event.wait()
        except TimeoutError:
            pass

    def _timeout(self, wait: float, now: float) -> float:
        """Until the next blocked job may go, the next planned look, or a throttled look;
        anything else (a commit that queued rows, a send finishing) sets the event."""
        timeout = min(wait, SAFETY_POLL)
        if self._room(BULK) > 0:
            timeout = min(timeout, self._next_time() - now)
        if self._bits and self._room(lowest(self._bits)) > 0:
            timeout = min(timeout, self._last_look + LOOK_GAP - now)
        return timeout

    def _room(self, level: int) -> int:
        """Rows that may still be claimed: ``batch`` in hand, twice that for pages and answers."""
        return (2 * self.batch if level < BULK else self.batch) - self.held

    def _should_look(self, now: float) -> bool:
        if self.stopping:
            return False
        if self._bits and self._room(lowest(self._bits)) > 0:
            return lowest(self._bits) <= PERSON or now - self._last_look >= LOOK_GAP
        return now >= self._next_time() and self._room(BULK) > 0

    def _next_time(self) -> float:
        return min(self._due[0] if self._due else math.inf, self._bulk_at, self._next_full)

    # -- claiming --------------------------------------------------------------------------
    async def _look(self, mono: float) -> None:
        bits, full = self._bits, self._full or mono >= self._next_full
        timed = bool(self._due) and self._due[0] <= mono  # a retry fell due: its priority is unknown
        while self._due and self._due[0] <= mono:
            heapq.heappop(self._due)
        bulk_timed, self._bulk_at = mono >= self._bulk_at, math.inf
        want_high = full or timed or bool(bits & HIGH)
        want_bulk = full or timed or bulk_timed or bool(bits & (1 << BULK)) or self._bulk_more
        self._bits, self._full = 0, False
        self._last_look = mono
        if full:
            self._next_full = mono + SAFETY_POLL
        self.looks += 1
        now = wall_now()
        held = self.held
        high_room = 2 * self.batch - held
        bulk_waiting = sum(1 for j in self.ready if j.row.priority >= BULK)
        bulk_cap = max(0, min(self.batch - held, self.limits.bulk_room(SEND_API, mono) - bulk_waiting))
        async with self.db.session() as session:
            await claim_settings(await session.connection())
            stale = await claimable(session, "stale", high_room, now) if full else []
            high = await claimable(session, "high", high_room - len(stale), now) if want_high else []
            bulk = await claimable(session, "bulk", bulk_cap, now) if want_bulk and bulk_cap else []
            if want_bulk:
                self._bulk_more = len(bulk) == bulk_cap
            if len(stale) + len(high) >= high_room:
                self._bits |= 1 << PERSON  # more pages may wait: look again when room frees
            rows: list[OutboxMessage] = []
            if stale or high or bulk:
                rows = list((await session.execute(claim_update(), {
                    "ids": stale + high + bulk, "now": now, "who": self.worker_id, "until": now + LEASE})).scalars())
            if full:
                await self._plan_next(session, now, mono)
            # A row it holds already (handed over, its lease run out meanwhile) is not taken twice.
            held_ids = {j.row.id for j in (*self.ready, *self.inflight.values(), *self._unverified)}
            self.ready += [j for j in await self._resolve(session, sorted(rows, key=lambda r: r.id or 0))
                           if j.row.id not in held_ids]
        await self._behind(session)  # rows it failed (their reference is gone)

    async def _plan_next(self, session, now: datetime, mono: float) -> None:
        """Rows not due yet (retries left by a process that stopped) and other processes' leases:
        look again when the first of them is due."""
        retry, lease = (await session.execute(next_due(), {"now": now, "who": self.worker_id})).one()
        if retry is not None:
            heapq.heappush(self._due, mono + max(0.01, (retry - now).total_seconds() + 0.01))
        if lease is not None:
            self._next_full = min(self._next_full, mono + max(0.01, (lease - now).total_seconds() + 0.01))

    async def _resolve(self, session, rows: list[OutboxMessage]) -> list[Job]:
        """Real targets ("@key" points at another row's result), and whether a PATCH must be a
        fresh card; rows that must wait or cannot go are settled here."""
        refs = {r.target[1:] for r in rows if r.target.startswith("@")}
        deps: dict[str, OutboxMessage] = {}
        if refs:
            deps = {d.key: d for d in (await session.execute(
                select(OutboxMessage).where(OutboxMessage.key.in_(sorted(refs))))).scalars()}
        now = self._now()
        jobs: list[Job] = []
        for row in rows:
            fresh = bool((row.payload or {}).get("fresh_card"))
            chat = row.lane if row.lane.startswith("oc_") else ""
            if not row.target.startswith("@"):
                job = self._own_target(row)
            else:
                dep = deps.get(row.target[1:])
                if dep is None and row.op == "patch" and chat:  # the card's row was cleaned up
                    job = Job(row, "", "fresh", chat, origin=row.target[1:])
                elif dep is None or dep.status == "failed":
                    await self._fail_in(session, row, None, "dependency failed or missing")
                    continue
                elif dep.status != "sent":
                    await self._set_pending(session, row, 1.0, "waiting for the row it refers to", None, count=False)
                    continue
                else:
                    res = dep.result or {}
                    target = res.get("message_id") or res.get("chat_id") or res.get("id") or ""
                    chat = res.get("chat_id") or chat
                    old = row.op == "patch" and (fresh or too_old(made_at(res, dep.sent_at), now))
                    job = Job(row, target, "fresh" if old and chat else "", chat, origin=dep.key)
            try:
                job.keys = keys_for(job)
            except ValueError as exc:  # an op the sender cannot send
                await self._fail_in(session, row, None, str(exc))
                continue
            jobs.append(job)
        return jobs

    # -- sending ---------------------------------------------------------------------------
    def _dispatch(self, now: float) -> float:
        """Start every ready job the limits allow, most urgent first; seconds until the next
        blocked one may go (inf: when a send in flight finishes)."""
        if not self.ready:
            return math.inf
        wait = math.inf
        keep: list[Job] = []
        for job in sorted(self.ready, key=lambda j: (j.row.priority, j.row.id)):
            w = self.limits.wait(job.keys, now, bulk=job.row.priority >= BULK)
            if w > 0:
                keep.append(job)
                wait = min(wait, w)
                continue
            self.limits.take(job.keys)
            context = logs.context_for(**logs.from_key(job.row.key))  # its log lines carry the cause
            task = asyncio.create_task(self._send(job), context=context)
            self.inflight[task] = job
            task.add_done_callback(self._finished)
        self.ready = keep
        return wait

    def _finished(self, task: asyncio.Task) -> None:
        job = self.inflight.pop(task, None)
        if job is None:
            return
        self._marks.recount()  # a send that ended without a mark no longer holds the batch open
        exc = None if task.cancelled() else task.exception()
        if task.cancelled() or exc is not None:  # e.g. the database went away mid-send
            log.error("send interrupted", extra={"key": job.row.key}, exc_info=exc)
            self._orphans.add(job.row.id)
            self._note(1 << PERSON)
        self.pulse.set()
        self._event.set()

    async def _release_orphans(self) -> None:
        """Rows whose send or outcome could not be recorded (the database was away) are not
        in flight any more: make them due again now instead of after their lease. A resend
        carries the same Feishu uuid, so one that did reach Feishu is not posted twice."""
        if not self._orphans:
            return
        ids = sorted(self._orphans)
        await self._release(ids)
        self._orphans.difference_update(ids)  # (more may have come in meanwhile)

    async def _release(self, ids: list[int]) -> None:
        async with self.db.session() as session:
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.id.in_(ids), OutboxMessage.status == "sending",
                OutboxMessage.claimed_by == self.worker_id).values(status="pending", claimed_until=None))

    async def _send(self, job: Job) -> None:
        row = job.row
        started = time.monotonic()
        try:
            out = await perform(self.platform, job, self._now().isoformat())
        finally:
            self.limits.done(job.keys)
        api = out.api
        if self.metrics:
            self.metrics.send_latency.observe(time.monotonic() - started)
        if api.ok or out.handled:
            await self._done(job, out.result)
        elif row.op == "patch" and api.code == CARD_TOO_OLD and job.mode != "fresh" and job.chat:
            await self._retry(row, 0.0, "card older than 14 days: sent afresh", api.code, count=False,
                              payload={**row.payload, "fresh_card": True})
        elif api.kind == "rate":
            for name in job.keys.apis:
                self.limits.pause_api(name, api.retry_after)
            await self._retry(row, api.retry_after, f"rate limited ({api.code})", api.code, count=False)
        elif api.kind == "chat_rate":
            self.limits.pause_lane(row.lane, api.retry_after)
            await self._retry(row, api.retry_after, f"chat rate limited ({api.code})", api.code, count=False)
        elif api.kind in ("temporary", "token") and row.attempts + 1 < MAX_ATTEMPTS:
            await self._retry(row, min(60.0, 0.5 * 2 ** row.attempts), api.msg or f"HTTP {api.status}", api.code)
        elif api.kind in ("temporary", "token"):
            await self._fail(row, api.code, f"gave up after {MAX_ATTEMPTS} attempts: {api.msg or f'HTTP {api.status}'}")
        else:
            await self._fail(row, api.code, api.msg or f"HTTP {api.status}")
        if self.metrics and not api.ok:
            self.metrics.send_errors.labels(code=str(api.code if api.code is not None else api.status)).inc()

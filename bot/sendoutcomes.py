"""What becomes of a row once its send is over (the outcome half of bot.sender.Sender): sent,
due again, or failed for good; the features' callbacks for each (``on_sent``, ``on_failed``);
and the look behind a finished row, so the next message waiting in its chat goes now, not at
the next poll (inside the finishing transaction where writers take turns, after its commit
elsewhere: bot.sendstore.writers_take_turns).
"""
from __future__ import annotations

import heapq
import logging
import time
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from sqlalchemy import update

from bot import outbox, outbox_digest
from bot.clock import wall_now
from bot.sendcalls import Job
from bot.sendstore import (SentMarks, adopt, behind, behind_committed, finish, outcome_of,
                           writers_take_turns)
from bot.store.db import Database
from bot.store.models import OutboxMessage

log = logging.getLogger("bot.sender")

Callback = Callable[[Any, OutboxMessage, dict], Awaitable[None]]
CALLBACKS: dict[str, Callback] = {}
FAILURE_CALLBACKS: dict[str, Callback] = {}


def on_sent(name: str) -> Callable[[Callback], Callback]:
    """Register what to do once a row is sent (e.g. post a card into a group just created)."""

    def wrap(fn: Callback) -> Callback:
        CALLBACKS[name] = fn
        return fn

    return wrap


def on_failed(name: str) -> Callable[[Callback], Callback]:
    """Register what to do when a row with this callback fails for good (result: {"session"}),
    e.g. fall back to the reporting group when a fault group cannot be created."""

    def wrap(fn: Callback) -> Callback:
        FAILURE_CALLBACKS[name] = fn
        return fn

    return wrap



class Outcomes:
    """The outcome half of bot.sender.Sender (its attributes are the sender's)."""

    db: Database
    metrics: Any
    callback_env: Any
    _marks: SentMarks
    _due: list[float]

    def _note(self, bits: int) -> None:  # the sender's: look for rows of these priorities
        raise NotImplementedError

    def _now(self) -> datetime:  # the sender's clock
        raise NotImplementedError

    async def _done(self, job: Job, result: dict) -> None:
        row = job.row
        outcome = outcome_of(row, "sent", sent=wall_now(), result=result, error=row.last_error, code=row.error_code)
        if not row.callback and not (job.mode == "fresh" and job.origin):
            # The common case, on a plain connection and with the sends finishing alongside it
            # (bot.sendstore.SentMarks): the outcome, and whether a row waits behind it in its lane.
            waiting = await self._marks.mark(outcome, row.lane)
            if waiting:
                self._note(waiting)
            self._sent(row)
            return
        async with self.db.session() as session:
            await session.execute(finish(), outcome)
            if job.mode == "fresh" and job.origin and result.get("message_id"):
                await adopt(session, job, result)
            if row.callback and row.callback in CALLBACKS:
                await CALLBACKS[row.callback](self.callback_env, row, {**result, "session": session})
            elif row.callback:
                log.error("no outbox callback named %s", row.callback)
            await self._after(session, row)
        await self._behind(session)
        self._sent(row)

    def _sent(self, row: OutboxMessage) -> None:
        log.info("sent", extra={"op": row.op})
        if self.metrics:
            self.metrics.sent.labels(op=row.op).inc()

    async def _retry(self, row: OutboxMessage, delay: float, why: str, code: int | None, *, count: bool = True,
                     payload: dict | None = None) -> None:
        async with self.db.session() as session:
            await self._set_pending(session, row, delay, why, code, count=count, payload=payload)
        log.info("send retry", extra={"key": row.key, "why": why, "delay": delay})

    async def _set_pending(self, session, row: OutboxMessage, delay: float, why: str, code: int | None, *,
                           count: bool, payload: dict | None = None) -> None:
        await session.execute(finish(), outcome_of(
            row, "pending", attempts=row.attempts + (1 if count else 0), error=why[:500], code=code,
            due=wall_now() + timedelta(seconds=delay)))
        if payload is not None:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(payload=payload))
        heapq.heappush(self._due, time.monotonic() + delay + 0.005)

    async def _fail(self, row: OutboxMessage, code: int | None, why: str) -> None:
        async with self.db.session() as session:
            await self._fail_in(session, row, code, why)
        await self._behind(session)

    async def _fail_in(self, session, row: OutboxMessage, code: int | None, why: str) -> None:
        """Failed for good: recorded, the feature's fallback runs, the admins' digest will list it
        (all in this transaction: whatever the fallback queues exists the moment the row is
        seen as failed; a failing fallback is rolled back alone)."""
        row.error_code, row.last_error = code, why
        log.error("send failed for good", extra={"key": row.key, "op": row.op, "code": code, "why": why})
        if self.metrics:
            self.metrics.send_failures.labels(code=str(code if code is not None else "none")).inc()
        digest_row = row.key.startswith(outbox_digest.PREFIX)
        await session.execute(finish(), outcome_of(row, "failed", sent=wall_now(), error=why[:500], code=code,
                                                       reported=digest_row))
        hook = FAILURE_CALLBACKS.get(row.callback or "")
        if hook is not None:
            savepoint = await session.begin_nested()
            try:
                await hook(self.callback_env, row, {"session": session})
                await savepoint.commit()
            except Exception:  # noqa: BLE001
                await savepoint.rollback()
                log.exception("failure callback %s failed", row.callback)
        if not digest_row:
            await outbox_digest.note(session, self._now())
        await self._after(session, row)  # the row behind it goes now, not at the next poll

    async def _after(self, session, row: OutboxMessage) -> None:
        """A row of this lane is finished: if another waits behind it, look again. Where writers
        take turns, asked in this transaction; elsewhere after it commits (``_behind``; why:
        bot.sendstore.writers_take_turns)."""
        if not writers_take_turns(self.db):
            session.info.setdefault("finished_lanes", []).append((row.lane, row.id))
            return
        nxt = (await session.execute(behind(), {"lane": row.lane, "rid": row.id})).first()
        if nxt is not None:
            outbox.queued(session, 1 << nxt[0])

    async def _behind(self, session) -> None:
        """After ``session`` committed: look again for the rows waiting behind those it finished."""
        finished = session.info.pop("finished_lanes", None)
        if finished:
            for waiting in await behind_committed(self.db, finished):
                if waiting:
                    self._note(waiting)

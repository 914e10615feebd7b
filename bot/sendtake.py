"""Rows handed to the sender at their insert (bot.outbox): claimed for it in the transaction
that queued them and given to it after the commit, with no claim transaction of its own.

The sender counts the rows claimed for it in transactions not committed yet, so it is never
handed more than ``batch`` rows at once. On PostgreSQL two transactions writing to one lane at
the same moment may both have claimed their row (neither saw the other's): before any handed
row goes, one statement checks it is its lane's first unfinished row, and a later one is put
back for a look to take in its turn: a handed row never overtakes an earlier committed row of its
lane, the order the claim of a look keeps. A row committed after the sender stopped is put back
at once (no look will come for it).
"""
from __future__ import annotations

import asyncio
import logging

from bot.sendcalls import Job, keys_for
from bot.sendstore import lane_heads
from bot.store.db import Database
from bot.store.models import OutboxMessage

log = logging.getLogger("bot.sender")


class HandedOver:
    """The hand-over half of bot.sender.Sender (its attributes are the sender's)."""

    db: Database
    running: bool
    stopping: bool
    batch: int
    ready: list[Job]
    inflight: dict[asyncio.Task, Job]
    _unverified: list[Job]  # handed over, not yet seen to be their lane's first (PostgreSQL)
    _promised: int  # rows claimed for it at their insert, in transactions not committed yet
    _orphans: set[int]
    _bits: int
    _event: asyncio.Event
    _releasing: set[asyncio.Task]

    async def _release(self, ids: list[int]) -> None:  # the sender's: the rows due again
        raise NotImplementedError

    @property
    def held(self) -> int:
        """Rows in hand: ready, in flight, handed over and not yet checked, and promised."""
        return len(self.ready) + len(self.inflight) + len(self._unverified) + self._promised

    def accepts(self, level: int) -> bool:
        """May a row of ``level`` be claimed for this sender at its insert (bot.outbox)? While it
        runs and holds fewer than ``batch`` rows (a look may take twice that for pages)."""
        return self.running and not self.stopping and self.held < self.batch

    def promise(self, n: int = 1) -> None:
        """``n`` rows were claimed for this sender in a transaction still open (``forget`` when
        it rolls back, ``take`` when it commits)."""
        self._promised += n

    def forget(self, n: int = 1) -> None:
        self._promised = max(0, self._promised - n)

    def take(self, rows: list[OutboxMessage]) -> None:
        """Rows claimed for this sender at their insert, just committed: ready to go (on
        PostgreSQL once ``_verify`` saw each is its lane's first)."""
        self.forget(len(rows))
        if not self.running or self.stopping:  # stopped meanwhile: no look will come, release them now
            task = asyncio.get_running_loop().create_task(self._put_back([r.id or 0 for r in rows]))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)
            return
        for row in rows:
            job = self._own_target(row)
            try:
                job.keys = keys_for(job)
            except ValueError:  # an op it cannot send: a look fails it with the reason
                self._orphans.add(row.id or 0)
                self._bits |= 1 << row.priority
                continue
            (self._unverified if self.db.dialect == "postgresql" else self.ready).append(job)
        self._event.set()

    async def _put_back(self, ids: list[int]) -> None:
        try:
            await self._release(ids)
        except Exception:  # noqa: BLE001 - their lease hands them on instead
            log.exception("rows handed to a stopped sender could not be put back", extra={"ids": ids})

    async def put_back_done(self) -> None:
        """Wait for the rows handed over after the sender stopped to be put back (shutdown)."""
        while self._releasing:
            await asyncio.gather(*self._releasing)

    async def _verify(self) -> None:
        """PostgreSQL: two transactions writing to one lane at once may both have claimed their
        row (neither saw the other's). Only a lane's first unfinished row goes; a later one is
        put back, and a look takes it in its turn. (SQLite serialises writers: never needed.)"""
        jobs = list(self._unverified)  # they stay counted as held while the statement runs
        async with self.db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")  # one statement: no BEGIN/ROLLBACK
            heads = dict((await conn.execute(lane_heads(), {"lanes": sorted({j.row.lane for j in jobs})})).all())
        del self._unverified[:len(jobs)]  # (take() only appends)
        for job in jobs:
            if heads.get(job.row.lane) == job.row.id:
                self.ready.append(job)
            else:
                self._orphans.add(job.row.id or 0)
                self._bits |= 1 << job.row.priority

    @staticmethod
    def _own_target(row: OutboxMessage) -> Job:
        """The job of a row whose target is its own (not "@key")."""
        fresh = bool((row.payload or {}).get("fresh_card"))
        chat = row.lane if row.lane.startswith("oc_") else ""
        return Job(row, row.target, "fresh" if fresh and chat else "", chat)


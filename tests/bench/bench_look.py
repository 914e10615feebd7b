"""The sender's look against the shape of its queue (a script, not a test).

The look (bot.sendstore.claimable) finds each chat's first waiting answer, most urgent first.
Until 2026-12-06 it walked the waiting rows in sending order and skipped those behind another
row of their chat: with one busy chat whose first answer was being sent, every look read that
chat's whole backlog and found nothing, after every batch of sends. Now it reads at most the
first SCAN rows and otherwise walks the chats (one index probe each).

For each database and shape the bench fills a fresh outbox, then times the look (best of 7)
and, as the baseline in the same run, the unbounded walk it replaced. Shapes: one busy chat
with 300 and with 3,000 answers waiting behind the one being sent (the target: the look at
3,000 within 1.5 x the look at 300, like the inbox's backlog bench), 20 busy chats with 750
each, and a 1,000-group fan-out (one row per chat), where the old walk was already short. The
last shape is the busy chats again with the statistics of a quiet hour: 20,000 sent rows
analysed before the backlog came, and no analyse since (autovacuum off for the table), as a
busy minute finds PostgreSQL (the plan then has to follow the index by itself).

    python -m tests.bench.bench_look [--sqlite-only]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import timedelta

from sqlalchemy import and_, bindparam, insert, select, text

from bot import outbox
from bot.clock import wall_now
from bot.sendstore import claimable
from bot.store.db import Database, claim_settings
from bot.store.models import OutboxMessage
from bot.store.types import UTCDateTime
from tests.bench.bench_briefing import drop, scratch

RATIO_TARGET = 1.5
SHAPES = [("1 chat, 300 waiting", 1, 301, True), ("1 chat, 3,000 waiting", 1, 3001, True),
          ("20 chats, 750 waiting each", 20, 751, True), ("1,000-group fan-out", 1000, 1, False),
          (STALE := "20 chats, 750 each, stale statistics", 20, 751, True)]

_T = OutboxMessage.__table__
_E = _T.alias("earlier")
# The look before 2026-12-06, for the baseline: every waiting row in sending order, each
# checked for an earlier live row in its chat, until ``lim`` are found.
OLD = (select(_T.c.id).where(
    _T.c.status == "pending", _T.c.next_attempt_at <= bindparam("now", type_=UTCDateTime), _T.c.priority < outbox.BULK,
    select(_E.c.id).where(and_(_E.c.lane == _T.c.lane, _E.c.id < _T.c.id, _E.c.status.in_(("pending", "sending"))))
    .limit(1).scalar_subquery().is_(None)).order_by(_T.c.priority, _T.c.id).limit(bindparam("lim")))


def rows_for(chats: int, per_chat: int, head_sending: bool, now) -> list[dict]:
    rows = []
    for i in range(per_chat):  # arrival order: the chats' answers interleaved
        for c in range(chats):
            sending = head_sending and i == 0
            rows.append({"key": f"k{c}:{i}", "op": "send", "lane": f"oc_{c:04d}", "target": f"oc_{c:04d}",
                         "payload": {}, "status": "sending" if sending else "pending", "attempts": 0,
                         "created_at": now, "next_attempt_at": now - timedelta(seconds=1),
                         "priority": outbox.PERSON, "reported": False, "claimed_by": "other" if sending else None,
                         "claimed_until": now + timedelta(seconds=60) if sending else None})
    return rows


async def best_of(fn, n: int = 7) -> float:
    best = float("inf")
    for _ in range(n):
        started = time.perf_counter()
        await fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


async def fill(db: Database, rows: list[dict]) -> None:
    async with db.engine.begin() as conn:
        for i in range(0, len(rows), 1000):
            await conn.execute(insert(_T), rows[i:i + 1000])


async def analyse(db: Database, pg: bool) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE outbox" if pg else "ANALYZE"))
        await conn.commit()


async def one(pg: bool, chats: int, per_chat: int, head_sending: bool, stale: bool) -> tuple[float, float, int]:
    url = await scratch(pg)
    db = Database(url)
    try:
        await db.migrate()
        now = wall_now()
        if stale:  # a quiet hour's statistics: sent rows only
            if pg:
                async with db.engine.begin() as conn:
                    await conn.execute(text("ALTER TABLE outbox SET (autovacuum_enabled = false)"))
            await fill(db, [{**r, "key": f"sent{i}", "status": "sent", "lane": f"oc_s{i % 500}"}
                            for i, r in enumerate(rows_for(1, 20000, False, now))])
            await analyse(db, pg)
        await fill(db, rows_for(chats, per_chat, head_sending, now))
        if not stale:
            await analyse(db, pg)
        async with db.session() as session:
            await claim_settings(await session.connection())
            found = len(await claimable(session, "high", 64, now))
            new = await best_of(lambda: claimable(session, "high", 64, now))
            old = await best_of(lambda: session.execute(OLD, {"now": now, "lim": 64}))
        return new, old, found
    finally:
        await db.close()
        await drop(pg)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    figures = []
    for pg in ([False] if args.sqlite_only else [False, True]):
        db = "PostgreSQL" if pg else "SQLite"
        print(f"the sender's look on {db}: ms per look (best of 7), 64 wanted")
        print(f"{'queue':<40}{'look':>9}{'old walk':>10}{'found':>7}")
        looks = {}
        for name, chats, per_chat, head_sending in SHAPES:
            new, old, found = asyncio.run(one(pg, chats, per_chat, head_sending, name == STALE))
            looks[name] = new
            print(f"{name:<40}{new:>9.2f}{old:>10.2f}{found:>7}")
            figures.append({"name": f"sender look, {name} ({db})", "value": round(new, 2), "unit": "ms",
                            "target": None, "ok": None})
            figures.append({"name": f"old walk, {name} ({db})", "value": round(old, 2), "unit": "ms",
                            "target": None, "ok": None})
        ratio = looks[SHAPES[1][0]] / looks[SHAPES[0][0]]
        print(f"look at 3,000 waiting ÷ at 300: {ratio:.2f} (target ≤ {RATIO_TARGET})\n")
        figures.append({"name": f"sender look 3000 ÷ 300 waiting in one chat ({db})", "value": round(ratio, 2),
                        "unit": "×", "target": f"≤ {RATIO_TARGET}", "ok": ratio <= RATIO_TARGET})
    print("RESULT " + json.dumps({"bench": "look", "figures": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()

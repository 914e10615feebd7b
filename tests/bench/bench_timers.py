"""Benchmark the timer engine: many pending timers, real time, real database.

Run:  .venv/bin/python -m tests.bench.bench_timers [--count 100000] [--spread 600]
      .venv/bin/python -m tests.bench.bench_timers --pg                  # PostgreSQL, one engine
      .venv/bin/python -m tests.bench.bench_timers --pg --processes 2    # two processes, one database

What it does: creates a scratch database (SQLite file in a temp directory, or the database
``liveops_bench_timers_<pid>`` on the PostgreSQL at 127.0.0.1:5432, dropped at the end),
inserts ``--count`` one-off timers due evenly over ``--spread`` seconds starting after a
short lead, and runs the real TimerEngine (SystemClock, APScheduler wake-ups) in this process
or in ``--processes`` worker processes. Every fire runs the real handler path (a Ctx in the
claim transaction, one outbox row via ctx.send, the batch's row update) plus one row in an
unconstrained ``bench_fires`` table, so a timer fired twice would show up twice. At the end it
prints: how many fired, lost (not fired by last due + ``--grace``), duplicates (fired more than
once), lateness p50/p95/p99/max (handler wall time minus due time) and throughput. Target: p99 ≤ 1 s, 0 lost, 0 duplicates.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import insert, text  # noqa: E402

import bot.store.tables  # noqa: E402,F401
from bot.clock import SystemClock, wall_now  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot import timers  # noqa: E402
from bot.timers.engine import TimerEngine  # noqa: E402
from bot.timers.models import Timer  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.store.db import Database  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
PG_NAME = f"liveops_bench_timers_{os.getpid()}"  # one scratch database per run
WORKER = os.environ.get("BENCH_WORKER", "main")


@timers.handler("bench")
async def bench_fire(ctx, timer, *, due, late):
    await ctx.session.execute(text("INSERT INTO bench_fires (timer_id, due_s, fired_s, worker) "
                                   "VALUES (:t, :d, :f, :w)"),
                              {"t": timer.id, "d": due.timestamp(), "f": time.time(), "w": WORKER})
    await ctx.send(timer.chat_id, f"bench {timer.id}")


# -- set-up ----------------------------------------------------------------------------------
async def scratch_db(pg: bool) -> str:
    if not pg:
        path = Path(tempfile.mkdtemp(prefix="bench_timers_")) / "bench.db"
        return f"sqlite+aiosqlite:///{path}"
    admin = Database(PG_ADMIN)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
    await admin.close()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_NAME}"


async def populate(url: str, count: int, spread: float, lead: float) -> float:
    """Migrate, add the fires table, insert the timers; returns the first due (epoch seconds)."""
    db = Database(url)
    await db.migrate()
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_fires (timer_id INTEGER NOT NULL, due_s DOUBLE PRECISION, "
                                "fired_s DOUBLE PRECISION, worker VARCHAR(32))"))
    start = wall_now() + timedelta(seconds=lead)
    step = spread / max(1, count)
    now = wall_now()
    t0 = time.perf_counter()
    chunk = 5000
    for lo in range(0, count, chunk):
        rows = [dict(key=f"bench:{i}", kind="bench", payload={}, next_due=start + timedelta(seconds=i * step),
                     rule=None, tz="Asia/Shanghai", state="active", chat_id=f"oc_bench{i % 50}",
                     ref=f"bench:{i}", created_by="", fire_count=0, created_at=now, updated_at=now)
                for i in range(lo, min(count, lo + chunk))]
        async with db.session() as session:
            await session.execute(insert(Timer), rows)
    took = time.perf_counter() - t0
    await db.close()
    if wall_now() > start:
        print(f"warning: inserting took {took:.1f} s, longer than the lead of {lead:.0f} s: "
              f"raise --lead", file=sys.stderr)
    print(f"inserted {count:,} timers in {took:.1f} s; due from {start:%H:%M:%S} over {spread:.0f} s")
    return start.timestamp()


# -- running ---------------------------------------------------------------------------------
async def run_engine(url: str, until: float, batch: int, name: str) -> int:
    db = Database(url)
    svc = Services(settings=Settings(database_url=url), db=db, clock=SystemClock(), platform=None)
    engine = TimerEngine(svc, worker_id=name, batch=batch)
    await engine.start()
    while time.time() < until:
        await asyncio.sleep(0.5)
        if engine.fired and await _remaining(db) == 0:
            break
    await engine.stop()
    await db.close()
    return engine.fired


async def _remaining(db: Database) -> int:
    async with db.engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM timers WHERE state = 'active'"))).scalar() or 0


async def report(url: str, count: int, first_due: float, spread: float) -> dict:
    db = Database(url)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT timer_id, due_s, fired_s, worker FROM bench_fires"))).all()
        outbox = (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar()
    await db.close()
    ids = [r.timer_id for r in rows]
    late = sorted(max(0.0, r.fired_s - r.due_s) for r in rows)
    by_worker: dict[str, int] = {}
    for r in rows:
        by_worker[r.worker] = by_worker.get(r.worker, 0) + 1

    def pct(p: float) -> float:
        return late[min(len(late) - 1, int(round(p * (len(late) - 1))))] if late else float("nan")

    last_fire = max((r.fired_s for r in rows), default=first_due)
    out = {"fired": len(rows), "distinct": len(set(ids)), "lost": count - len(set(ids)),
           "duplicates": len(ids) - len(set(ids)), "outbox_rows": outbox,
           "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "max": late[-1] if late else float("nan"),
           "mean": statistics.fmean(late) if late else float("nan"),
           "rate": len(rows) / max(1e-9, last_fire - first_due), "by_worker": by_worker}
    return out


def spawn_workers(n: int, url: str, until: float, batch: int) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        env = dict(os.environ, BENCH_WORKER=f"p{i + 1}")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tests.bench.bench_timers", "--worker", "--url", url, "--until", str(until),
             "--batch", str(batch)], env=env, cwd=str(Path(__file__).resolve().parents[2])))
    return procs


async def main_async(args: argparse.Namespace) -> int:
    if args.worker:
        fired = await run_engine(args.url, args.until, args.batch, WORKER)
        print(f"worker {WORKER}: fired {fired:,}")
        return 0
    url = await scratch_db(args.pg)
    lead = args.lead if args.lead is not None else max(5.0, args.count / 8000)
    first_due = await populate(url, args.count, args.spread, lead)
    until = first_due + args.spread + args.grace
    kind = "PostgreSQL" if args.pg else "SQLite"
    if args.processes:
        print(f"{kind}: {args.processes} worker processes, batch {args.batch}")
        procs = spawn_workers(args.processes, url, until, args.batch)
        while any(p.poll() is None for p in procs):
            await asyncio.sleep(0.5)
    else:
        print(f"{kind}: one engine in this process, batch {args.batch}")
        await run_engine(url, until, args.batch, WORKER)
    r = await report(url, args.count, first_due, args.spread)
    print(f"fired {r['fired']:,} · distinct {r['distinct']:,} · lost {r['lost']:,} · duplicates {r['duplicates']:,}"
          f" · outbox rows {r['outbox_rows']:,}")
    print(f"lateness: p50 {r['p50'] * 1000:.0f} ms · p95 {r['p95'] * 1000:.0f} ms · p99 {r['p99'] * 1000:.0f} ms"
          f" · max {r['max'] * 1000:.0f} ms · mean {r['mean'] * 1000:.0f} ms")
    print(f"rate {r['rate']:.0f} fires/s (offered {args.count / args.spread:.0f}/s) · by worker {r['by_worker']}")
    ok = r["lost"] == 0 and r["duplicates"] == 0 and r["p99"] <= 1.0
    print("PASS" if ok else "FAIL", "(target: p99 ≤ 1 s, 0 lost, 0 duplicates)")
    where = f"{kind}, {args.processes} processes" if args.processes else f"{kind}, one engine"
    print("RESULT " + json.dumps({"bench": "timers", "figures": [
        {"name": f"lateness p99, {args.count} timers over {args.spread:.0f} s ({where})",
         "value": round(r["p99"] * 1000), "unit": "ms", "target": "≤ 1000", "ok": r["p99"] <= 1.0},
        {"name": "lateness p50", "value": round(r["p50"] * 1000), "unit": "ms", "target": None, "ok": None},
        {"name": "timers lost", "value": r["lost"], "unit": "", "target": "0", "ok": r["lost"] == 0},
        {"name": "timers fired twice", "value": r["duplicates"], "unit": "", "target": "0",
         "ok": r["duplicates"] == 0},
    ]}, ensure_ascii=False))
    if args.pg and not args.keep:
        admin = Database(PG_ADMIN)
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        await admin.close()
    return 0 if ok else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=100_000, help="pending timers (default 100000)")
    p.add_argument("--spread", type=float, default=600.0, help="seconds the due times are spread over (600)")
    p.add_argument("--lead", type=float, default=None, help="seconds before the first is due (auto)")
    p.add_argument("--grace", type=float, default=60.0,
                   help="seconds to wait after the last due time before counting the rest as lost (60)")
    p.add_argument("--pg", action="store_true", help=f"PostgreSQL ({PG_ADMIN.rsplit('/', 1)[0]}) instead of SQLite")
    p.add_argument("--processes", type=int, default=0, help="run N worker processes instead of one engine here")
    p.add_argument("--batch", type=int, default=50, help="timers claimed per transaction (50)")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL scratch database")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--until", type=float, help=argparse.SUPPRESS)
    args = p.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())

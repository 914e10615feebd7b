"""The webhook's burst write on PostgreSQL: on asyncpg itself over a kept connection, as shipped
(bot.store.pg_held), against the same statement through SQLAlchemy's pool and Core (how it ran
before). A script, not a test.

Batches of ``--rows`` events of about 1 KB (a signed command's envelope) are written to a
scratch database, the two ways taking turns in blocks of 50; printed is the bot's own CPU a
batch and an event (the rows' building excluded), the wall time a batch, and the ratio.

    python -m tests.bench.bench_pg_write [--batches 600] [--rows 14 32]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from datetime import datetime, timezone

from sqlalchemy import text

from bot.store import pg_held
from bot.store.db import Database
from tests import scratch_pg
from tests.bench.bench_checkpoints import rows

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
NAME = "liveops_bench_pg_write"
# The shipped statement with SQLAlchemy's named parameters: $1::VARCHAR[] -> CAST(:p1 AS VARCHAR[])
_CORE = text(re.sub(r"\$(\d+)::([A-Z ]+\[\])", r"CAST(:p\1 AS \2)", pg_held.STORE_BURST))


def _core_write(conn, batch: list[dict]) -> int:
    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    params = {f"p{n}": column for n, column in enumerate(pg_held.burst_args(batch), 1)}
    return len(conn.execute(_CORE, params).all())


def _stored(batch: list[dict]) -> list[dict]:
    now = datetime.now(timezone.utc)
    return [{**row, "source": "webhook", "status": "pending", "attempts": 0, "received_at": now, "done_at": None}
            for row in batch]


async def run(batches: int, size: int) -> dict:
    url = await scratch_pg.create(PG_ADMIN, NAME)
    if url is None:
        raise SystemExit(f"PostgreSQL is not reachable at {PG_ADMIN}")
    db = Database(url)
    await db.migrate()
    ways = {"SQLAlchemy Core, pooled": lambda batch: db.connected(_core_write, batch),
            "asyncpg, kept (as shipped)": lambda batch: pg_held.write_burst(db.held, batch)}
    cpu = {name: 0.0 for name in ways}
    wall = {name: 0.0 for name in ways}
    n = 0
    try:
        for write in ways.values():  # warm both: prepared statements, pool
            for _ in range(20):
                await write(_stored(rows(n, size)))
                n += size
        for _block in range(batches // 50):
            for name, write in ways.items():
                todo = [_stored(rows(n + i * size, size)) for i in range(50)]
                n += 50 * size
                c, t = time.process_time(), time.perf_counter()
                for batch in todo:
                    await write(batch)
                cpu[name] += time.process_time() - c
                wall[name] += time.perf_counter() - t
    finally:
        await db.close()
        await scratch_pg.drop(PG_ADMIN, NAME)
    done = batches // 50 * 50
    return {name: {"cpu_us": cpu[name] / done * 1e6, "wall_us": wall[name] / done * 1e6} for name in ways}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=600)
    parser.add_argument("--rows", type=int, nargs="+", default=[14, 32])
    args = parser.parse_args()
    figures = []
    for size in args.rows:
        result = asyncio.run(run(args.batches, size))
        for name, r in result.items():
            print(f"{size:3} rows, {name:28} bot CPU {r['cpu_us']:6.0f} µs a batch ({r['cpu_us'] / size:5.1f} an event), "
                  f"wall {r['wall_us']:6.0f} µs")
        base, new = result.values()
        ratio = new["cpu_us"] / base["cpu_us"]
        print(f"{size:3} rows: bot CPU, as shipped ÷ SQLAlchemy: {ratio:.2f}")
        figures += [{"name": f"PG burst write, bot CPU an event ({size} rows)", "value": round(new["cpu_us"] / size, 1),
                     "unit": "µs"},
                    {"name": f"PG burst write, bot CPU as shipped ÷ SQLAlchemy ({size} rows)", "value": round(ratio, 2),
                     "unit": "×"}]
    print("RESULT " + json.dumps({"bench": "pg_write", "figures": [
        {**figure, "target": None, "ok": None} for figure in figures]}, ensure_ascii=False))


if __name__ == "__main__":
    main()

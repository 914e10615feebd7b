"""A 30-second PostgreSQL outage, end to end (a script, not a test): the scenario of
tests/test_outage.py with the issue's full outage length, printing how the bot came back.

The bot (in this process, injected clock, simulator on loopback) reaches a scratch
PostgreSQL database only through a TCP proxy that is cut (connections reset, new ones
refused) for ``--seconds`` of real time. Before the cut 30 messages are accepted and one
answer is on the wire; during it 10 messages and a card press get 503 and a reminder falls
due. Figures: seconds from the database's return until /readyz is ready, until the overdue
reminder has fired, and until every retried event is handled and answered; lost answers and
duplicates (targets: 0 and 0).

    python -m tests.bench.bench_outage [--seconds 30]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


async def main_async(seconds: float) -> dict:
    from sqlalchemy import text

    from bot.store.db import Database
    from tests.test_outage import outage_scenario

    name = f"liveops_bench_outage_{os.getpid()}"
    admin = Database(PG_ADMIN)
    async with admin.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    try:
        await db.migrate()
        return await outage_scenario(db, seconds)
    finally:
        await db.close()
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=30.0, help="length of the outage (30)")
    args = p.parse_args()
    logging.disable(logging.CRITICAL)  # the bot logs every failed attempt during the outage
    f = asyncio.run(main_async(args.seconds))
    lost = f["expected"] - f["answered"]
    ok = (lost == 0 and f["duplicates"] == 0 and f["reminder_fires"] == 1 and f["background_alive"]
          and f["inbox"] == {"done": 44})
    print(f"PostgreSQL outage of {args.seconds:.0f} s (proxy cut: connections reset, new ones refused)")
    print("during: webhook and card callback answered 503, /readyz 503 (asserted)")
    print(f"after the database came back: /readyz ready in {f['ready_after_s']:.1f} s; overdue reminder fired "
          f"in {f['timer_after_s']:.1f} s; all {f['expected']} messages answered in {f['drained_after_s']:.1f} s "
          f"(incl. Feishu's retries of the 11 refused events)")
    print(f"lost {lost}, answered twice {f['duplicates']}, reminder fires {f['reminder_fires']}, "
          f"background loops alive {f['background_alive']}")
    print("PASS" if ok else "FAIL")
    print("RESULT " + json.dumps({"bench": "outage", "figures": [
        {"name": f"ready after a {args.seconds:.0f} s outage", "value": round(f["ready_after_s"], 1), "unit": "s",
         "target": None, "ok": None},
        {"name": "overdue reminder fired after", "value": round(f["timer_after_s"], 1), "unit": "s",
         "target": None, "ok": None},
        {"name": "every message answered after", "value": round(f["drained_after_s"], 1), "unit": "s",
         "target": None, "ok": None},
        {"name": "messages lost", "value": lost, "unit": "", "target": "0", "ok": lost == 0},
        {"name": "messages answered twice", "value": f["duplicates"], "unit": "", "target": "0",
         "ok": f["duplicates"] == 0},
    ]}, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

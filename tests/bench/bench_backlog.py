"""A backlog in one chat drains in time linear in its length (a script, not a test).

Run:  .venv/bin/python -m tests.bench.bench_backlog [--sizes 300,1000,3000] [--pg] [--sqlite]

For each size N: a scratch database, N plain group messages of ONE chat stored in the inbox
while the bot is stopped (as after an outage, or a chat flooding faster than it is handled),
then the bot as shipped (LiveOpsBot: inbox workers, timers and sender on, against the
simulator) starts and drains them. Events of one chat are handled one at a time, in order,
so three of the four workers have nothing to take the whole time: what they cost while they
look is what this measures.

Database CPU: on PostgreSQL the user + system time of the server processes serving the bench
database (/proc/<pid>/stat of the backends in pg_stat_activity, sampled before and after); on
SQLite, which runs inside the bot's process, the process's CPU. Printed per event for each N,
with the ratio of the largest N to the smallest. Target: within 1.5× (flat), both databases.
Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import text  # noqa: E402

from bot.clock import ManualClock, wall_now  # noqa: E402
from bot.sim.server import FeishuSimulator  # noqa: E402
from bot.store.db import Database  # noqa: E402
from tests.bench.bench_briefing import PG_ADMIN, PG_NAME, drop, scratch  # noqa: E402

APP_ID = "cli_backlog"
TICK = os.sysconf("SC_CLK_TCK")
TARGET = 1.5


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


class DbCpu:
    """CPU of the PostgreSQL backends serving one database (or of this process, for SQLite)."""

    def __init__(self, admin: Database | None) -> None:
        self.admin = admin
        self.start: dict[int, float] = {}

    async def pids(self) -> list[int]:
        async with self.admin.engine.connect() as conn:  # type: ignore[union-attr]
            return list((await conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                {"d": PG_NAME})).scalars())

    async def begin(self) -> None:
        if self.admin is None:
            self.t0 = time.process_time()
            return
        self.start = {pid: proc_cpu(pid) for pid in await self.pids()}

    async def end(self) -> float:
        if self.admin is None:
            return time.process_time() - self.t0
        now = {pid: proc_cpu(pid) for pid in await self.pids()}
        return sum(v - self.start.get(pid, 0.0) for pid, v in now.items())


def chatter(i: int, chat: str, user: str) -> dict:
    eid = f"ev_backlog_{i:06d}"
    return {"schema": "2.0",
            "header": {"event_id": eid, "event_type": "im.message.receive_v1", "app_id": APP_ID,
                       "create_time": str(int(time.time() * 1000)), "tenant_key": "t", "token": ""},
            "event": {"sender": {"sender_id": {"open_id": user}, "sender_type": "user"},
                      "message": {"message_id": f"om_backlog_{i:06d}", "chat_id": chat, "chat_type": "group",
                                  "message_type": "text", "create_time": str(int(time.time() * 1000)),
                                  "content": json.dumps({"text": f"今天灯光不错 {i}"}, ensure_ascii=False)}}}


async def one(n: int, pg: bool) -> dict:
    from bot.app import LiveOpsBot
    from bot.config import Settings

    clock = ManualClock(datetime.now(timezone.utc), frozen=False)
    sim = FeishuSimulator(app_id=APP_ID, app_secret="s", encrypt_key=None, verification_token="t", clock=clock,
                          group_msg=True)
    sim_url = await sim.start()
    ops = sim.add_user("运营", open_id="ou_ops")["open_id"]
    chat = sim.add_chat("直播群", [ops], chat_id="oc_busy")["chat_id"]
    db_url = await scratch(pg)
    admin = Database(PG_ADMIN) if pg else None
    bot = LiveOpsBot(Settings(app_id=APP_ID, app_secret="s", verification_token="t", domain=sim_url.rstrip("/"),
                              database_url=db_url))
    try:
        await bot.db.migrate()
        stored = await asyncio.gather(*(bot.inbox_writer.store(
            now=wall_now(), event_id=f"ev_backlog_{i:06d}", event_type="im.message.receive_v1",
            message_id=f"om_backlog_{i:06d}", payload=chatter(i, chat, ops), lane=chat) for i in range(n)))
        assert all(stored)
        meter = DbCpu(admin)
        await bot.start(migrate=False)
        await meter.begin()
        t0 = time.monotonic()
        deadline = t0 + 600
        while bot.workers.processed < n and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - t0
        cpu = await meter.end()
        claims = getattr(bot.workers, "claims", 0)
        async with bot.db.engine.connect() as conn:
            done = (await conn.execute(text("SELECT count(*) FROM inbox WHERE status = 'done'"))).scalar()
            twice = (await conn.execute(text("SELECT count(*) FROM inbox WHERE attempts > 1"))).scalar()
        await bot.stop()
    finally:
        await sim.stop()
        if admin is not None:
            await admin.close()
        await drop(pg)
    return {"n": n, "seconds": elapsed, "cpu_ms": cpu * 1000 / n, "done": done, "retried": twice,
            "claims": claims / n}


async def run(sizes: list[int], pg: bool) -> list[dict]:
    out = []
    for n in sizes:
        out.append(await one(n, pg))
        r = out[-1]
        print(f"  {'PostgreSQL' if pg else 'SQLite'} {n:>5} events in one chat: drained in {r['seconds']:.1f} s, "
              f"database CPU {r['cpu_ms']:.2f} ms/event, {r['claims']:.2f} claims/event, "
              f"{r['done']} done, {r['retried']} retried", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="300,1000,3000")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL only")
    ap.add_argument("--sqlite", action="store_true", help="SQLite only")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = [True] if args.pg else [False] if args.sqlite else [False, True]
    import logging
    logging.basicConfig(level=logging.ERROR)
    figures = []
    for pg in kinds:
        name = "PostgreSQL" if pg else "SQLite (bot process)"
        rows = asyncio.run(run(sizes, pg))
        ratio = rows[-1]["cpu_ms"] / rows[0]["cpu_ms"]
        ok = ratio <= TARGET and all(r["done"] == r["n"] for r in rows)
        per = " / ".join(f"{r['cpu_ms']:.2f}" for r in rows)
        ns = " / ".join(str(r["n"]) for r in rows)
        print(f"{name}: database CPU per event {per} ms at {ns} events; {sizes[-1]} ÷ {sizes[0]} = {ratio:.2f} "
              f"(target ≤ {TARGET}); every event handled: {all(r['done'] == r['n'] for r in rows)}")
        for r in rows:
            figures.append({"name": f"{name}: DB CPU/event, {r['n']} in one chat", "value": round(r["cpu_ms"], 2),
                            "unit": "ms", "target": None, "ok": None})
        figures.append({"name": f"{name}: {sizes[-1]} ÷ {sizes[0]} per event", "value": round(ratio, 2),
                        "unit": "×", "target": f"≤ {TARGET}", "ok": ok})
    print("RESULT " + json.dumps({"bench": "backlog", "figures": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()

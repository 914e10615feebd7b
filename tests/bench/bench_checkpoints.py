"""The webhook's SQLite write with WAL checkpoints on a thread against SQLite's own checkpoint
in the commit (a script, not a test; bot.store.sqlite_wal).

The intake's batches (``--batch`` events of about 1 KB, as a signed command's envelope) are
written back to back through ``InboxWriter`` on a fresh SQLite file, with a pause of
``--pause`` ms after each (the loop waiting on the network, as in service), twice: as shipped,
and with the thread switched off (every commit that crosses 1,000 WAL pages checkpoints itself,
SQLite's default). Each write is a stretch the event loop cannot serve requests: printed are
its wall time (median, p90, p99, the longest) and the loop's own CPU per event, and the WAL's
size at the end.

    python -m tests.bench.bench_checkpoints [--batches 300] [--batch 64] [--pause 2]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bot.store import inbox
from bot.store.db import Database


def rows(start: int, n: int) -> list[dict]:
    out = []
    for i in range(start, start + n):
        eid = secrets.token_hex(16)
        body = {"schema": "2.0", "header": {"event_id": eid, "event_type": "im.message.receive_v1",
                                            "create_time": "1796634504145", "app_id": "cli_bench", "tenant_key": "t"},
                "event": {"sender": {"sender_id": {"open_id": f"ou_u{i % 50:02d}"}, "sender_type": "user"},
                          "message": {"message_id": f"om_{eid}", "chat_id": f"oc_c{i % 20:02d}", "chat_type": "group",
                                      "message_type": "text", "create_time": "1796634504145",
                                      "content": json.dumps({"text": f"/在吗 {i}"}, ensure_ascii=False)}}}
        out.append({"event_id": eid, "event_type": "im.message.receive_v1", "message_id": f"om_{eid}",
                    "payload": json.dumps(body, ensure_ascii=False), "lane": f"oc_c{i % 20:02d}"})
    return out


async def run(threaded: bool, batches: int, batch: int, pause: float) -> dict:
    path = Path(tempfile.mkdtemp(prefix="bench_checkpoints_")) / "bench.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    if not threaded:  # before any connection is made: SQLite's own checkpoints
        db.write_lock.checkpoints = None
    await db.migrate()
    writer = inbox.InboxWriter(db)
    walls, cpu = [], 0.0
    for b in range(batches):
        todo = rows(b * batch, batch)
        now = datetime.now(timezone.utc)
        t, c = time.perf_counter(), time.thread_time()
        await asyncio.gather(*(writer.store(now=now, **row) for row in todo))
        cpu += time.thread_time() - c
        walls.append(time.perf_counter() - t)
        await asyncio.sleep(pause)
    wal = os.path.getsize(str(path) + "-wal")
    done = db.write_lock.checkpoints.done if threaded else 0
    await db.close()
    walls.sort()
    at = lambda q: walls[min(len(walls) - 1, int(len(walls) * q))] * 1000  # noqa: E731
    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": walls[-1] * 1000,
            "cpu_us": cpu / (batches * batch) * 1e6, "wal_mb": wal / 1e6, "checkpoints": done}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--pause", type=float, default=2.0, help="ms after each batch")
    args = parser.parse_args()
    results = {}
    for name, threaded in (("in the commit (SQLite's own)", False), ("on a thread (as shipped)", True)):
        results[name] = r = asyncio.run(run(threaded, args.batches, args.batch, args.pause / 1000))
        print(f"{name:30} write ms p50 {r['p50']:.2f} p90 {r['p90']:.2f} p99 {r['p99']:.2f} max {r['max']:.2f}; "
              f"loop CPU {r['cpu_us']:.1f} µs an event; WAL {r['wal_mb']:.1f} MB; thread checkpoints {r['checkpoints']}")
    base, new = results.values()
    ratio = {key: new[key] / base[key] for key in ("p90", "p99", "max", "cpu_us")}
    print(f"as shipped ÷ in the commit: p90 write {ratio['p90']:.2f}, p99 {ratio['p99']:.2f}, "
          f"longest {ratio['max']:.2f}, loop CPU an event {ratio['cpu_us']:.2f}")
    figures = [{"name": "SQLite write p90, checkpoints on a thread", "value": round(new["p90"], 2), "unit": "ms"},
               {"name": "SQLite write p90, thread ÷ in the commit", "value": round(ratio["p90"], 2), "unit": "×"},
               {"name": "SQLite write p99, thread ÷ in the commit", "value": round(ratio["p99"], 2), "unit": "×"},
               {"name": "SQLite longest write, thread ÷ in the commit", "value": round(ratio["max"], 2), "unit": "×"},
               {"name": "loop CPU an event, thread ÷ in the commit", "value": round(ratio["cpu_us"], 2), "unit": "×"}]
    print("RESULT " + json.dumps({"bench": "checkpoints", "figures": [
        {**figure, "target": None, "ok": None} for figure in figures]}, ensure_ascii=False))


if __name__ == "__main__":
    main()

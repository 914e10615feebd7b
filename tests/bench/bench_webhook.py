"""Webhook load benchmark (a script, not a test).

Signed, encrypted im.message.receive_v1 events at fixed concurrency against
  1. a bare aiohttp handler that only answers 200 (the baseline), and
  2. the bot's real webhook with the durable inbox (SQLite by default, --pg for PostgreSQL),
each served by its own process on loopback, measured in the same run. Prints throughput,
p50/p99 time-to-200 and the ratio. Targets (2-core machine): throughput >= 0.5x bare,
p99 <= 25 ms at 64 concurrent requests.

    python -m tests.bench.bench_webhook [--requests 6000] [--concurrency 64] [--pg]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

KEY, TOKEN = "bench-encrypt-key", "bench-token"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- servers (run in a child process) ------------------------------------------------------
async def serve_bare(port: int) -> None:
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/feishu/events", ok)
    await _run(app, port)


async def serve_bot(port: int, db_url: str) -> None:
    from bot.app import LiveOpsBot
    from bot.config import Settings

    settings = Settings(app_id="cli_bench", app_secret="x", encrypt_key=KEY, verification_token=TOKEN,
                        domain="http://127.0.0.1:9", database_url=db_url)
    bot = LiveOpsBot(settings)
    await bot.db.migrate()
    await _run(bot.web_app(), port)  # the edge only: no workers draining the inbox meanwhile


async def _run(app, port: int) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# -- client ------------------------------------------------------------------------------------
def make_requests(n: int) -> list[tuple[bytes, dict]]:
    from bot.feishu import crypto

    out = []
    for i in range(n):
        eid = secrets.token_hex(12)
        body = {"schema": "2.0", "header": {"event_id": eid, "event_type": "im.message.receive_v1",
                                            "create_time": str(int(time.time() * 1000)), "token": TOKEN,
                                            "app_id": "cli_bench", "tenant_key": "t"},
                "event": {"sender": {"sender_id": {"open_id": f"ou_{i % 50}"}, "sender_type": "user"},
                          "message": {"message_id": f"om_{eid}", "chat_id": f"oc_{i % 20}", "chat_type": "group",
                                      "message_type": "text", "content": json.dumps({"text": f"/在吗 {i}"})}}}
        raw = json.dumps({"encrypt": crypto.encrypt(KEY, json.dumps(body))}).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        out.append((raw, {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
                          "X-Lark-Signature": crypto.signature(ts, nonce, KEY, raw),
                          "Content-Type": "application/json"}))
    return out


async def load(url: str, reqs: list[tuple[bytes, dict]], concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(reqs))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one_worker() -> None:
            nonlocal errors
            while queue:
                raw, headers = queue.pop()
                t0 = time.perf_counter()
                async with session.post(url, data=raw, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "errors": errors, "n": len(latencies)}


def start_server(kind: str, db_url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_webhook", "--serve", kind,
                             "--port", str(port), "--db", db_url], cwd=ROOT, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if line != "ready":
        raise SystemExit(f"{kind} server did not start")
    return proc, port


async def bench(kind: str, db_url: str, n: int, concurrency: int, warmup: int) -> dict:
    proc, port = start_server(kind, db_url)
    try:
        url = f"http://127.0.0.1:{port}/feishu/events"
        await load(url, make_requests(warmup), concurrency)
        return await load(url, make_requests(n), concurrency)
    finally:
        proc.terminate()
        proc.wait()


def pg_url() -> str:
    import asyncpg  # noqa: F401

    async def make() -> None:
        conn = await __import__("asyncpg").connect("postgresql://postgres@127.0.0.1:5432/test")
        await conn.execute("DROP DATABASE IF EXISTS liveops_bench")
        await conn.execute("CREATE DATABASE liveops_bench")
        await conn.close()

    asyncio.run(make())
    return "postgresql+asyncpg://postgres@127.0.0.1:5432/liveops_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=["bare", "bot"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--db")
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--pg", action="store_true")
    args = parser.parse_args()
    if args.serve == "bare":
        asyncio.run(serve_bare(args.port))
        return
    if args.serve == "bot":
        asyncio.run(serve_bot(args.port, args.db))
        return
    tmp = tempfile.mkdtemp()
    db_url = pg_url() if args.pg else f"sqlite+aiosqlite:///{tmp}/bench.db"
    warmup = min(500, args.requests // 5)
    bare = asyncio.run(bench("bare", db_url, args.requests, args.concurrency, warmup))
    bot = asyncio.run(bench("bot", db_url, args.requests, args.concurrency, warmup))
    ratio = bot["rps"] / bare["rps"]
    print(f"webhook benchmark: {args.requests} signed+encrypted events, concurrency {args.concurrency}, "
          f"inbox on {'PostgreSQL' if args.pg else 'SQLite'}")
    print(f"{'server':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, r in (("bare aiohttp (200)", bare), ("bot webhook + inbox", bot)):
        print(f"{name:<22}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['errors']:>8}")
    print(f"throughput ratio bot/bare: {ratio:.2f} (target >= 0.50); "
          f"bot p99 {bot['p99']:.1f} ms (target <= 25 ms)")
    db = "PostgreSQL" if args.pg else "SQLite"
    print("RESULT " + json.dumps({"bench": "webhook", "figures": [
        {"name": f"bot webhook + inbox ({db})", "value": round(bot["rps"]), "unit": "req/s", "target": None,
         "ok": None},
        {"name": "bare aiohttp handler", "value": round(bare["rps"]), "unit": "req/s", "target": None, "ok": None},
        {"name": "throughput bot ÷ bare", "value": round(ratio, 2), "unit": "×", "target": "≥ 0.5",
         "ok": ratio >= 0.5},
        {"name": f"bot p99 at {args.concurrency} concurrent", "value": round(bot["p99"], 1), "unit": "ms",
         "target": "≤ 25", "ok": bot["p99"] <= 25},
        {"name": "non-200 answers", "value": bot["errors"], "unit": "", "target": "0", "ok": bot["errors"] == 0},
    ]}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Webhook load benchmark (a script, not a test): the server as shipped.

Signed, encrypted im.message.receive_v1 events at fixed concurrency against
  1. a bare aiohttp handler that only answers 200 (the baseline), and
  2. the bot as shipped: ``python -m bot run`` (webhook with the durable inbox, inbox workers,
     timer engine and outbox sender all on) against the Feishu simulator in this process,
each served by its own process on loopback, measured in the same run, the requests sent and timed by
a load generator in a process of its own (tests/bench/loadgen.py). Plain group chatter by
default (stored, read, left alone); with ``--reply`` every event is a command ("/在吗") that is
handled and answered (one reply queued per event, sent within Feishu's limits). After the load
the bench waits for the workers to drain the inbox and checks every event was handled exactly
once (inbox rows done on their first attempt, one answer per command). Each server gets
``--rounds`` timed loads back to back after a warm-up (the bot's are one burst: its backlog
grows from round to round); the round with the median 200s a second is reported, with its own
p50/p99, and every round is printed beside it. Prints 200s per second, p50/p99 time-to-200 and
the ratio to bare. Targets (issue 20): p99 ≤ 25 ms at 64 concurrent, 200s ≥ 0.6× bare, every
event handled once.

    python -m tests.bench.bench_webhook [--requests 3000] [--rounds 5] [--concurrency 64] [--reply]
                                        [--pg | --both]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEY, TOKEN = "bench-encrypt-key", "bench-token"
APP_ID = "cli_bench"
ROOT = Path(__file__).resolve().parents[2]
CHATS, USERS = 20, 50
P99_TARGET, RATIO_TARGET = 25.0, 0.6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the baseline (run in a child process) --------------------------------------------------
async def serve_bare(port: int) -> None:
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/feishu/events", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# -- client ------------------------------------------------------------------------------------
def make_requests(n: int, reply: bool, tag: str) -> list[tuple[bytes, dict]]:
    from bot.feishu import crypto

    out = []
    for i in range(n):
        eid = f"{tag}{i:06d}{secrets.token_hex(6)}"
        text = f"/在吗 {i}" if reply else f"今天灯光不错 {i}"
        body = {"schema": "2.0", "header": {"event_id": eid, "event_type": "im.message.receive_v1",
                                            "create_time": str(int(time.time() * 1000)), "token": TOKEN,
                                            "app_id": APP_ID, "tenant_key": "t"},
                "event": {"sender": {"sender_id": {"open_id": f"ou_u{i % USERS:02d}"}, "sender_type": "user"},
                          "message": {"message_id": f"om_{eid}", "chat_id": f"oc_c{i % CHATS:02d}",
                                      "chat_type": "group", "message_type": "text",
                                      "create_time": str(int(time.time() * 1000)),
                                      "content": json.dumps({"text": text}, ensure_ascii=False)}}}
        raw = json.dumps({"encrypt": crypto.encrypt(KEY, json.dumps(body, ensure_ascii=False))}).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        out.append((raw, {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
                          "X-Lark-Signature": crypto.signature(ts, nonce, KEY, raw),
                          "Content-Type": "application/json"}))
    return out


def posted(sim, raw: bytes) -> None:
    """Record the message an event carries in the simulator, as if the user had sent it there."""
    from bot.feishu import crypto
    from bot.sim.state import Message

    event = json.loads(crypto.decrypt(KEY, json.loads(raw)["encrypt"]))["event"]
    msg, sender = event["message"], event["sender"]["sender_id"]["open_id"]
    sim.state.add_message(Message(message_id=msg["message_id"], chat_id=msg["chat_id"], sender_id=sender,
                                  sender_type="user", msg_type="text", content=msg["content"],
                                  seq=sim.state.next_seq()))


async def generate(url: str, warm: list, rounds: list[list], concurrency: int,
                   pids: dict[str, int]) -> tuple[list[dict], dict[str, float]]:
    """The warm-up and the rounds (back to back) from the load generator's own process
    (tests/bench/loadgen.py says why). Each round's figures, and the share of a core each of
    ``pids`` (name -> process id) and the generator ("generator") used during the rounds."""
    from tests.bench.process import cpu_seconds

    with tempfile.NamedTemporaryFile(prefix="bench_webhook_requests_", suffix=".pickle", delete=False) as f:
        path = f.name
    proc = None
    try:
        with open(path, "wb") as f:
            pickle.dump({"warm": warm, "rounds": rounds}, f)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.bench.loadgen", url, path, str(concurrency), cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        result, began, used, wall = None, {}, {}, 0.0
        async for line in proc.stdout:
            text = line.decode().strip()
            if text == "start":
                began, wall = {name: cpu_seconds(pid) for name, pid in pids.items()}, time.perf_counter()
            elif text == "end":
                used, wall = {name: cpu_seconds(pid) - began[name] for name, pid in pids.items()}, time.perf_counter() - wall
            elif text.startswith("RESULT "):
                result = json.loads(text[len("RESULT "):])
        if await proc.wait() or result is None or not used:
            raise SystemExit("the load generator failed")
        return result["rounds"], {**{name: cpu / wall for name, cpu in used.items()}, "generator": result["cpu"] / wall}
    finally:
        if proc is not None and proc.returncode is None:  # this side failed: stop the load too
            proc.kill()
            await proc.wait()
        os.unlink(path)


def median_round(rounds: list[dict]) -> dict:
    """The round with the median 200s a second, its own p50 and p99, every round's rate beside it
    (one round is a fraction of a second: a stall of the machine moves one round, not the median)."""
    ranked = sorted(rounds, key=lambda r: r["rps"])
    return {**ranked[len(ranked) // 2], "rounds": [r["rps"] for r in rounds], "p99s": [r["p99"] for r in rounds],
            "errors": sum(r["errors"] for r in rounds), "n": sum(r["n"] for r in rounds)}


async def bench_bare(n: int, concurrency: int, warmup: int, reply: bool, rounds: int = 1) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_webhook", "--serve", "bare",
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    if proc.stdout.readline().decode().strip() != "ready":
        raise SystemExit("bare server did not start")
    try:
        url = f"http://127.0.0.1:{port}/feishu/events"
        timed = [make_requests(n, reply, f"b{r}") for r in range(rounds)]
        rounds_run, cores = await generate(url, make_requests(warmup, reply, "w"), timed, concurrency,
                                           {"server": proc.pid})
        return {**median_round(rounds_run), "server_core": cores["server"], "generator_core": cores["generator"]}
    finally:
        proc.terminate()
        proc.wait()


async def bench_bot(pg: bool, n: int, concurrency: int, warmup: int, reply: bool, rounds: int = 1) -> dict:
    """The bot as shipped (``python -m bot run``) against the simulator in this process."""
    from datetime import datetime, timezone

    from sqlalchemy import text

    from bot.clock import ManualClock
    from bot.sim.server import FeishuSimulator
    from bot.store.db import Database
    from tests.bench.bench_briefing import drop, scratch
    from tests.bench.process import wait_ready

    clock = ManualClock(datetime.now(timezone.utc), frozen=False)
    sim = FeishuSimulator(app_id=APP_ID, app_secret="s", encrypt_key=KEY, verification_token=TOKEN, clock=clock,
                          group_msg=True)
    sim_url = await sim.start()
    users = [sim.add_user(f"主播{i}", open_id=f"ou_u{i:02d}")["open_id"] for i in range(USERS)]
    for c in range(CHATS):
        sim.add_chat(f"直播群{c}", users, chat_id=f"oc_c{c:02d}")
    db_url = await scratch(pg)
    db = Database(db_url)
    await db.migrate()
    port = free_port()
    log = open(Path(tempfile.mkdtemp(prefix="bench_webhook_log_")) / "bot.log", "wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": "s",
           "FEISHU_DOMAIN": sim_url.rstrip("/"), "DATABASE_URL": db_url, "BOT_PORT": str(port),
           "BOT_LOG_LEVEL": "WARNING", "BOT_TRANSPORT": "webhook", "FEISHU_ENCRYPT_KEY": KEY,
           "FEISHU_VERIFICATION_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        await wait_ready(port)
        url = f"http://127.0.0.1:{port}/feishu/events"
        warm, timed = make_requests(warmup, reply, "w"), [make_requests(n, reply, f"b{r}") for r in range(rounds)]
        for raw, _headers in warm + [req for part in timed for req in part]:  # in Feishu the messages exist:
            posted(sim, raw)  # the answers reply to them
        rounds_run, cores = await generate(url, warm, timed, concurrency, {"bot": proc.pid, "sim": os.getpid()})
        result = median_round(rounds_run)  # back to back: one burst
        result["bot_core"] = cores["bot"]  # share of a core while loaded
        result["generator_core"] = cores["generator"]
        result["sim_core"] = cores["sim"]  # the simulator (this process)
        total = warmup + n * rounds
        t0 = time.monotonic()
        async with db.engine.connect() as conn:
            while True:
                done = (await conn.execute(text("SELECT count(*) FROM inbox WHERE status = 'done'"))).scalar()
                if done >= total or time.monotonic() - t0 > 300:
                    break
                await conn.commit()
                await asyncio.sleep(0.2)
            result["drain_s"] = time.monotonic() - t0
            q = lambda sql: conn.execute(text(sql))  # noqa: E731
            result["done"] = (await q("SELECT count(*) FROM inbox WHERE status = 'done'")).scalar()
            result["rows"] = (await q("SELECT count(*) FROM inbox")).scalar()
            result["retried"] = (await q("SELECT count(*) FROM inbox WHERE attempts <> 1")).scalar()
            result["answers"] = (await q("SELECT count(*) FROM outbox WHERE key LIKE 'evt:%'")).scalar()
            result["answered_events"] = (await q(
                "SELECT count(DISTINCT split_part(key, ':', 2)) FROM outbox WHERE key LIKE 'evt:%'"
                if pg else "SELECT count(DISTINCT substr(key, 5, instr(substr(key, 5), ':') - 1)) "
                           "FROM outbox WHERE key LIKE 'evt:%'")).scalar()
        result["total"] = total
        once = result["done"] == total == result["rows"] and result["retried"] == 0
        if reply:
            once = once and result["answers"] == total == result["answered_events"]
        result["once"] = once
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        await db.close()
        await sim.stop()
        await drop(pg)


def both_in_fresh_processes() -> None:
    """This script once for SQLite and once for PostgreSQL, each in a new process (the same
    arguments otherwise); their output as it comes and one RESULT line with both's figures."""
    figures = []
    base = [a for a in sys.argv[1:] if a not in ("--both", "--pg")]
    for extra in ([], ["--pg"]):
        out = subprocess.run([sys.executable, "-m", "tests.bench.bench_webhook", *base, *extra], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
        for line in out.stdout.splitlines():
            if line.startswith("RESULT "):
                figures += json.loads(line[len("RESULT "):])["figures"]
            else:
                print(line, flush=True)
        if out.returncode:
            raise SystemExit(f"bench_webhook {' '.join(extra) or '(SQLite)'} failed:\n{out.stderr[-2000:]}")
    print("RESULT " + json.dumps({"bench": "webhook", "figures": figures}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=["bare"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--reply", action="store_true", help="every event a command, handled and answered")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL only")
    parser.add_argument("--both", action="store_true", help="SQLite and PostgreSQL")
    parser.add_argument("--rounds", type=int, default=5, help="timed loads of --requests each, back to back; "
                                                              "the median round is reported")
    args = parser.parse_args()
    if args.serve == "bare":
        asyncio.run(serve_bare(args.port))
        return
    if args.both:  # each database in a process of its own (as before the generator had its own)
        both_in_fresh_processes()
        return
    warmup = min(500, args.requests // 5)
    kinds = [args.pg]
    mode = "commands, each answered (--reply)" if args.reply else "plain chatter, read and left alone"
    figures = []
    for pg in kinds:
        db = "PostgreSQL" if pg else "SQLite"
        bare = asyncio.run(bench_bare(args.requests, args.concurrency, warmup, args.reply, args.rounds))
        bot = asyncio.run(bench_bot(pg, args.requests, args.concurrency, warmup, args.reply, args.rounds))
        ratio = bot["rps"] / bare["rps"]
        print(f"webhook benchmark: {args.rounds} rounds of {args.requests} signed+encrypted events ({mode}), "
              f"concurrency {args.concurrency}, the bot as shipped (workers, timers, sender) on {db}; "
              f"the median round of each server")
        print(f"{'server':<26}{'200s/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
        for name, r in (("bare aiohttp (200)", bare), ("bot (python -m bot run)", bot)):
            print(f"{name:<26}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['errors']:>8}   rounds: "
                  + ", ".join(f"{rps:.0f}/s p99 {p99:.1f}" for rps, p99 in zip(r["rounds"], r["p99s"])))
        print(f"ratio bot/bare {ratio:.2f} (target ≥ {RATIO_TARGET}); bot p99 {bot['p99']:.1f} ms "
              f"(target ≤ {P99_TARGET:g} ms); inbox drained {bot['drain_s']:.1f} s after the load; "
              f"{bot['done']} of {bot['total']} handled, {bot['retried']} more than once"
              + (f", {bot['answers']} answers for {bot['answered_events']} events" if args.reply else ""))
        print(f"bare aiohttp's load: the server used {bare['server_core']:.2f} of a core, the load generator "
              f"{bare['generator_core']:.2f}")
        print(f"during the load: the bot used {bot['bot_core']:.2f} of a core, the load generator "
              f"{bot['generator_core']:.2f}, the simulator {bot['sim_core']:.2f} ({os.cpu_count()} cores)")
        tag = f"{db}{', --reply' if args.reply else ''}"
        figures += [
            {"name": f"bot 200s/s ({tag})", "value": round(bot["rps"]), "unit": "req/s", "target": None, "ok": None},
            {"name": f"bare aiohttp 200s/s ({tag})", "value": round(bare["rps"]), "unit": "req/s", "target": None,
             "ok": None},
            {"name": f"200s bot ÷ bare ({tag})", "value": round(ratio, 2), "unit": "×", "target": f"≥ {RATIO_TARGET}",
             "ok": ratio >= RATIO_TARGET},
            {"name": f"time-to-200 p99 at {args.concurrency} ({tag})", "value": round(bot["p99"], 1), "unit": "ms",
             "target": f"≤ {P99_TARGET:g}", "ok": bot["p99"] <= P99_TARGET},
            {"name": f"bot process CPU during the load ({tag})", "value": round(bot["bot_core"], 2),
             "unit": "cores", "target": None, "ok": None},
            {"name": f"every event handled once ({tag})", "value": bot["done"], "unit": "events",
             "target": str(bot["total"]), "ok": bot["once"] and bot["errors"] == 0},
        ]
    print("RESULT " + json.dumps({"bench": "webhook", "figures": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Webhook throughput with 2 bot replicas on one PostgreSQL against 1 replica (a script,
not a test). Target: 2 replicas ≥ 1.6 × 1 replica, and zero duplicates.

Each run starts N real bot processes (``python -m bot run``, the whole bot: webhook, inbox
workers, outbox sender, timer engine) on a fresh PostgreSQL database, with the Feishu
simulator in this process for the bot's identity and sends. A separate load-generator
process offers the same load to every configuration: ``--events`` signed, encrypted
``im.message.receive_v1`` events ("/在吗 n" in 100 chats) at ``--concurrency`` concurrent
requests, spread round-robin over the replicas as a load balancer would, and every 10th event
delivered a second time to another replica (Feishu's at-least-once retry). The requests are
signed before the clock starts, so the generator spends its time on HTTP only.

Figures per configuration:
* accepted/s: events answered 200 (durable in the inbox) per second, first request to last;
* handled/s: events handled per second, first request until every event's handler has run
  and its answer is queued in the outbox (read from the database). This is the figure that
  scales with replicas, and the ratio target applies to it;
* duplicates: handler runs beyond one per event (the replicas' liveops_commands_total summed
  against the number of events), inbox rows per event, answers queued per event.
Sending the answers is not part of the figure: Feishu allows 50 messages/s per app whatever
the number of replicas, so the simulator holds every message send (the bot's 10 s timeout and
backoff keep the senders nearly idle) and the answers stay queued in the outbox.

On a 2-core machine the replicas, PostgreSQL and the load generator share the two cores, so
2 replicas cannot reach 2 ×; the script prints the CPU seconds each process used.

    python -m tests.bench.bench_replicas [--events 4000] [--concurrency 32] [--replicas 1,2]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.process import cpu_seconds, free_port, wait_ready  # noqa: E402

APP_ID, SECRET, KEY, TOKEN = "cli_benchreplica01", "bench-secret", "bench-replica-key", "bench-replica-token"
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
CHATS = 100


def pg_backends(db_name: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL server processes serving one database (same machine)."""
    out = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if f" {db_name} " in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                out[int(proc.name)] = cpu_seconds(int(proc.name))
        except OSError:
            continue
    return out


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# -- the load generator (its own process) ---------------------------------------------------------
def make_events(n: int, first: int, urls: list[str]) -> list[tuple[str, bytes, dict]]:
    from bot.feishu import crypto

    out = []
    for i in range(first, first + n):
        eid = secrets.token_hex(12)
        body = {"schema": "2.0",
                "header": {"event_id": eid, "event_type": "im.message.receive_v1", "token": TOKEN,
                           "create_time": str(int(time.time() * 1000)), "app_id": APP_ID, "tenant_key": "t"},
                "event": {"sender": {"sender_id": {"open_id": f"ou_{i % 40}"}, "sender_type": "user"},
                          "message": {"message_id": f"om_{eid}", "chat_id": f"oc_bench{i % CHATS}",
                                      "chat_type": "group", "message_type": "text",
                                      "content": json.dumps({"text": f"/在吗 {i}"})}}}
        raw = json.dumps({"encrypt": crypto.encrypt(KEY, json.dumps(body))}).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        headers = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
                   "X-Lark-Signature": crypto.signature(ts, nonce, KEY, raw), "Content-Type": "application/json"}
        target = urls[i % len(urls)]
        out.append((target, raw, headers))
        if i % 10 == 0:  # delivered again, to another replica when there is one
            out.append((urls[(i + 1) % len(urls)], raw, headers))
    return out


async def generate(urls: list[str], n: int, first: int, concurrency: int) -> dict:
    reqs = make_events(n, first, urls)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go"
    queue = list(reversed(reqs))
    latencies: list[float] = []
    errors = 0
    cpu0 = time.process_time()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def worker() -> None:
            nonlocal errors
            while queue:
                url, raw, headers = queue.pop()
                t0 = time.perf_counter()
                async with session.post(url, data=raw, headers=headers) as resp:
                    await resp.read()
                    errors += resp.status != 200
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(reqs), "elapsed": elapsed, "errors": errors, "cpu": time.process_time() - cpu0,
            "p50": statistics.median(latencies) * 1000, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000}


# -- the orchestrator ----------------------------------------------------------------------------
class Replica:
    def __init__(self, sim_url: str, db_url: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": SECRET,
               "FEISHU_ENCRYPT_KEY": KEY, "FEISHU_VERIFICATION_TOKEN": TOKEN, "FEISHU_DOMAIN": sim_url,
               "DATABASE_URL": db_url, "BOT_PORT": str(self.port), "BOT_LOG_LEVEL": "CRITICAL"}
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    async def ready(self, timeout: float = 90) -> None:
        await wait_ready(self.port, proc=self.proc, timeout=timeout, what=f"a replica ({self.log.name})")

    async def handler_runs(self) -> int:
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{self.url}/metrics") as r:
                text = await r.text()
        total = 0.0
        for line in text.splitlines():
            if line.startswith('liveops_commands_total{command="ping"}'):
                total += float(line.split()[-1])
        return int(total)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


async def scratch_db(name: str) -> str:
    from bot.store.db import Database
    from tests import scratch_pg

    url = await scratch_pg.create(PG_ADMIN, name)
    if url is None:
        raise SystemExit(f"PostgreSQL is not reachable at {PG_ADMIN}")
    db = Database(url)
    await db.migrate()
    await db.close()
    return url


async def drop_db(name: str) -> None:
    from tests import scratch_pg

    await scratch_pg.drop(PG_ADMIN, name)


async def counts(conn) -> tuple[int, int, int]:
    """(inbox rows, inbox rows done, reply rows in the outbox)."""
    from sqlalchemy import text

    inbox, done = (await conn.execute(text(
        "SELECT count(*), count(*) FILTER (WHERE status = 'done') FROM inbox"))).one()
    replies = (await conn.execute(text("SELECT count(*) FROM outbox WHERE op = 'reply'"))).scalar()
    return inbox, done, replies


def start_generator(urls: list[str], n: int, first: int, concurrency: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_replicas", "--generate", json.dumps(urls),
                             "--events", str(n), "--first", str(first), "--concurrency", str(concurrency)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("the load generator did not start")
    return proc


async def run_generator(proc: subprocess.Popen) -> dict:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    line = await asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline)
    proc.wait()
    return json.loads(line)


async def wait_done(conn_db, target: int, timeout: float) -> float:
    """Poll the inbox until `target` events are done; returns the time it happened. The poll
    reads the (status, id) index for the rows still open (the backlog), not the whole table:
    its own cost must stay out of PostgreSQL's CPU figure."""
    from sqlalchemy import text

    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        async with conn_db.engine.connect() as conn:
            open_rows = (await conn.execute(text(
                "SELECT count(*) FROM inbox WHERE status IN ('pending', 'claimed')"))).scalar()
            if open_rows == 0:
                _, done, _ = await counts(conn)
                if done >= target:
                    return time.perf_counter()
        await asyncio.sleep(0.05)
    raise SystemExit(f"only {done} of {target} events were handled in {timeout:.0f} s")


async def run_config(k: int, events: int, concurrency: int, warmup: int, workdir: Path) -> dict:
    from sqlalchemy import text

    from bot.sim.server import FeishuSimulator
    from bot.store.db import Database

    name = f"liveops_bench_replicas_{os.getpid()}_{k}"
    db_url = await scratch_db(name)
    # a tenant that approved im:message.group_msg: un-@ text in groups arrives
    sim = FeishuSimulator(app_id=APP_ID, app_secret=SECRET, encrypt_key=KEY, verification_token=TOKEN, group_msg=True)
    sim_url = (await sim.start()).rstrip("/")
    replicas = [Replica(sim_url, db_url, workdir / f"replica{k}_{i}.log") for i in range(k)]
    db = Database(db_url)
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        # Hold every message send (the bot times out after 10 s and backs off): sending is
        # capped by Feishu's 50/s per app whatever the replicas, so it stays out of the figure.
        sim.faults.add("timeout", path_contains="/im/v1/messages", times=10**9, seconds=600)
        urls = [f"{r.url}/feishu/events" for r in replicas]
        warm = start_generator(urls, warmup, 0, concurrency)
        await run_generator(warm)
        await wait_done(db, warmup, 120)
        gen = start_generator(urls, events, warmup, concurrency)
        cpu0 = [cpu_seconds(r.proc.pid) for r in replicas]
        pg0, ticks0, own0, stats0 = pg_backends(name), machine_ticks(), time.process_time(), dict(sim.stats)
        started = time.perf_counter()
        result_task = asyncio.create_task(run_generator(gen))
        handled_at = await wait_done(db, warmup + events, 600)
        load = await result_task
        cpu = [cpu_seconds(r.proc.pid) - c for r, c in zip(replicas, cpu0)]
        pg1 = pg_backends(name)
        pg_cpu = sum(c - pg0.get(pid, 0.0) for pid, c in pg1.items())
        if os.environ.get("BENCH_DEBUG"):
            fresh = [c for pid, c in pg1.items() if pid not in pg0]
            print(f"  pg: {len(pg1)} backends, {len(fresh)} new while measuring ({sum(fresh):.1f} s CPU)",
                  file=sys.stderr)
            for pid, c in sorted(pg1.items(), key=lambda kv: pg0.get(kv[0], 0.0) - kv[1])[:8]:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                print(f"  pg cpu {c - pg0.get(pid, 0.0):.2f} s (new: {pid not in pg0}) {cmd[:90]}", file=sys.stderr)
        ticks1, own = machine_ticks(), time.process_time() - own0
        busy = (ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1])
        async with db.engine.connect() as conn:
            inbox, done, replies = await counts(conn)
            if os.environ.get("BENCH_DEBUG"):  # where PostgreSQL spent its scans
                stats = await conn.execute(text(
                    "SELECT relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd, "
                    "n_tup_hot_upd FROM pg_stat_user_tables WHERE seq_scan + coalesce(idx_scan, 0) > 0 "
                    "ORDER BY seq_tup_read + coalesce(idx_tup_fetch, 0) DESC"))
                for row in stats:
                    print("  pg:", dict(row._mapping), file=sys.stderr)
                xact = (await conn.execute(text(
                    "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched FROM pg_stat_database "
                    "WHERE datname = current_database()"))).one()
                print("  pg database:", dict(xact._mapping), file=sys.stderr)
        runs = sum([await r.handler_runs() for r in replicas])
        total = warmup + events
        return {"replicas": k, "events": events, "requests": load["requests"],
                "accepted_rps": events / load["elapsed"], "handled_rps": events / (handled_at - started),
                "p50": load["p50"], "p99": load["p99"], "errors": load["errors"],
                "inbox_rows": inbox, "done": done, "replies": replies, "handler_runs": runs, "total": total,
                "duplicates": (runs - total) + (inbox - total) + (replies - total),
                "replica_cpu": cpu, "generator_cpu": load["cpu"], "pg_cpu": pg_cpu, "sim_cpu": own,
                "machine_busy": busy, "elapsed": handled_at - started,
                "sends": sim.stats["requests"] - stats0["requests"]}
    finally:
        for r in replicas:
            r.stop()
        await db.close()
        await sim.stop()
        await drop_db(name)


def ratio_ceiling(one: dict, cores: int) -> float:
    """The best 2-replica ÷ 1-replica ratio this machine allows. A replica is one Python process,
    so one replica handles at most 1/r events a second (r = its CPU seconds per event); two
    replicas also need the database's, the generator's and the simulator's CPU per event (o)
    and get at most cores/(r + o). Zero overhead beyond the 1-replica run is assumed."""
    r = sum(one["replica_cpu"]) / one["events"]
    o = (one["pg_cpu"] + one["generator_cpu"] + one["sim_cpu"]) / one["events"]
    return min(2.0, cores / (r + o) * r)


async def main_async(args: argparse.Namespace) -> int:
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="bench_replicas_"))
    configs = [int(x) for x in args.replicas.split(",")]
    results = []
    for k in configs:
        r = await run_config(k, args.events, args.concurrency, args.warmup, workdir)
        results.append(r)
    print(f"{args.events} events (+ every 10th delivered twice) at {args.concurrency} concurrent requests, "
          f"PostgreSQL, {os.cpu_count()} CPU cores shared by replicas, PostgreSQL and the load generator")
    print(f"{'replicas':>8}{'accepted/s':>12}{'handled/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'non-200':>8}"
          f"{'dups':>6}{'seconds':>9}  CPU seconds: replicas | PostgreSQL | generator | simulator; machine busy")
    for r in results:
        cpu = " + ".join(f"{c:.1f}" for c in r["replica_cpu"])
        print(f"{r['replicas']:>8}{r['accepted_rps']:>12.0f}{r['handled_rps']:>11.0f}{r['p50']:>8.1f}"
              f"{r['p99']:>8.1f}{r['errors']:>8}{r['duplicates']:>6}{r['elapsed']:>9.1f}  {cpu} | "
              f"{r['pg_cpu']:.1f} | {r['generator_cpu']:.1f} | {r['sim_cpu']:.1f}; {r['machine_busy']:.0%}")
    for r in results:
        per_cpu = r["events"] / max(1e-9, sum(r["replica_cpu"]))
        print(f"{r['replicas']} replica(s): {per_cpu:.0f} events handled per replica CPU second; "
              f"Open API calls while measuring {r['sends']}")
    figures = []
    for r in results:
        figures.append({"name": f"{r['replicas']} replica(s): events handled", "value": round(r["handled_rps"]),
                        "unit": "events/s", "target": None, "ok": None})
    by = {r["replicas"]: r for r in results}
    if 1 in by and 2 in by:
        ratio = by[2]["handled_rps"] / by[1]["handled_rps"]
        accept = by[2]["accepted_rps"] / by[1]["accepted_rps"]
        print(f"2 replicas ÷ 1: handled {ratio:.2f}× (target ≥ 1.6), accepted {accept:.2f}×")
        eff = (by[2]["events"] / sum(by[2]["replica_cpu"])) / (by[1]["events"] / sum(by[1]["replica_cpu"]))
        print(f"events per replica CPU second, 2 replicas ÷ 1: {eff:.2f}")
        ceiling = ratio_ceiling(by[1], os.cpu_count() or 1)
        print(f"ceiling on this machine: {ceiling:.2f}× (one replica is held to one core by the GIL; two "
              f"share {os.cpu_count()} cores with PostgreSQL, the generator and the simulator at the CPU "
              f"per event of the 1-replica run); measured {ratio:.2f}× = {ratio / ceiling:.0%} of it")
        figures += [{"name": "2 replicas ÷ 1, events handled", "value": round(ratio, 2), "unit": "×",
                     "target": "≥ 1.6", "ok": ratio >= 1.6},
                    {"name": "2 replicas ÷ 1, ceiling on this machine's cores", "value": round(ceiling, 2),
                     "unit": "×", "target": None, "ok": None},
                    {"name": "2 replicas ÷ 1, webhook 200s", "value": round(accept, 2), "unit": "×",
                     "target": None, "ok": None},
                    {"name": "2 replicas ÷ 1, events per replica CPU second", "value": round(eff, 2), "unit": "×",
                     "target": None, "ok": None}]
    dups = sum(r["duplicates"] for r in results)
    figures.append({"name": "duplicate handling (all runs)", "value": dups, "unit": "", "target": "0",
                    "ok": dups == 0})
    print("RESULT " + json.dumps({"bench": "replicas", "figures": figures}, ensure_ascii=False))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=4000)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--replicas", default="1,2", help="configurations to run, e.g. 1,2 or 1,2,3")
    p.add_argument("--generate", help=argparse.SUPPRESS)
    p.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.generate:
        result = asyncio.run(generate(json.loads(args.generate), args.events, args.first, args.concurrency))
        print(json.dumps(result), flush=True)
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())

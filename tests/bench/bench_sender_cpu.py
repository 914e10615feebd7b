"""CPU of the bot process (``python -m bot run``, its own process, real clock) against the
simulator: idle, per ignored chat message, per answered command (one send each).

Run:  .venv/bin/python -m tests.bench.bench_sender_cpu [--pg] [--idle 60] [--events 300] [--rate 20]
                                                        [--profile DIR]

Phases: ``--idle`` seconds with nothing happening; ``--events`` plain group messages the bot
ignores at ``--rate`` a second; the same number of "@LiveOps /ping" commands, each answered.
CPU is the process's user + system time (/proc/<pid>/stat). With ``--profile DIR`` py-spy
(pip install py-spy) samples each phase and the bench prints the share of samples in the
outbox sender (bot/sender.py and what it calls). Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aiohttp  # noqa: E402

from bot.clock import ManualClock  # noqa: E402
from bot.sim.server import FeishuSimulator  # noqa: E402
from bot.store.db import Database  # noqa: E402
from tests.bench.bench_briefing import drop, scratch  # noqa: E402

APP_ID = "cli_bench"
ROOT = Path(__file__).resolve().parents[2]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Profiler:
    """py-spy on the bot for one phase; the share of samples that are the sender's."""

    def __init__(self, pid: int, out: Path | None) -> None:
        self.pid, self.out = pid, out
        self.proc: subprocess.Popen | None = None

    def start(self, name: str) -> None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if self.out is None or not Path(spy).exists():
            return
        self.file = self.out / f"{name}.txt"
        self.proc = subprocess.Popen([spy, "record", "-p", str(self.pid), "-r", "100", "-f", "raw", "--nonblocking",
                                      "-o", str(self.file), "-d", "3600"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def stop(self) -> str:
        if self.proc is None:
            return ""
        self.proc.send_signal(2)  # SIGINT: py-spy writes what it has
        self.proc.wait(timeout=30)
        self.proc = None
        samples: Counter[str] = Counter()
        total = 0
        for line in self.file.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit():
                continue
            total += int(n)
            for part, key in (("bot/sender.py", "sender"), ("bot/store/inbox.py", "inbox"),
                              ("bot/worker.py", "workers"), ("bot/timers/engine.py", "timers"),
                              ("bot/feishu/ingress.py", "webhook")):
                if part in stack:
                    samples[key] += int(n)
        if not total:
            return "no samples"
        return ", ".join(f"{k} {v / total:.0%}" for k, v in samples.most_common()) + f" of {total} samples"


async def run(args) -> None:
    clock = ManualClock(datetime.now(timezone.utc), frozen=False)
    sim = FeishuSimulator(app_id=APP_ID, app_secret="s", encrypt_key=None, verification_token="t", clock=clock)
    sim_url = await sim.start()
    db_url = await scratch(args.pg)
    db = Database(db_url)
    await db.migrate()
    await db.close()
    ops = sim.add_user("运营", open_id="ou_ops")["open_id"]
    chat = sim.add_chat("直播群", [ops], chat_id="oc_cpu")["chat_id"]
    port = free_port()
    log = open(Path(tempfile.mkdtemp(prefix="bench_cpu_log_")) / "bot.log", "wb")
    env = {**os.environ, "PYTHONPATH": str(Path.cwd()), "FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": "s",
           "FEISHU_DOMAIN": sim_url.rstrip("/"), "DATABASE_URL": db_url, "BOT_PORT": str(port),
           "BOT_LOG_LEVEL": "WARNING", "BOT_TRANSPORT": "webhook", "FEISHU_VERIFICATION_TOKEN": "t"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=Path.cwd(), env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    sim.event_url = f"http://127.0.0.1:{port}/feishu/events"
    out = Path(args.profile) if args.profile else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    spy = Profiler(proc.pid, out)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        await asyncio.sleep(5)  # start-up work settles

        spy.start("idle")
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        await asyncio.sleep(args.idle)
        idle = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
        idle_profile = spy.stop()

        async def burst(name: str, text: str, answered: bool) -> tuple[float, str]:
            before = len([m for m in sim.state.chat_message_list(chat) if m.sender_type == "app"])
            spy.start(name)
            c0 = cpu_seconds(proc.pid)
            for i in range(args.events):
                started = time.monotonic()
                await sim.send_text(chat, ops, f"{text} {i}")
                await asyncio.sleep(max(0.0, 1 / args.rate - (time.monotonic() - started)))
            deadline = time.monotonic() + 60
            while answered and time.monotonic() < deadline:
                got = len([m for m in sim.state.chat_message_list(chat) if m.sender_type == "app"]) - before
                if got >= args.events:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(3)  # the last events handled
            used = cpu_seconds(proc.pid) - c0 - idle * 3
            return used / args.events, spy.stop()

        chatter, chatter_profile = await burst("chatter", "今天灯光不错", False)
        command, command_profile = await burst("commands", "@LiveOps /ping", True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        await sim.stop()
        await drop(args.pg)
    db_name = "PostgreSQL" if args.pg else "SQLite"
    print(f"bot process CPU ({db_name}): idle {idle * 100:.2f}% of a core ({idle * 60:.2f} s per idle minute); "
          f"ignored chatter {chatter * 1000:.1f} ms/event; answered /ping {command * 1000:.1f} ms/command "
          f"(≈ {max(0.0, command - chatter) * 1000:.1f} ms more than an ignored message: handling + one send)")
    if out:
        print(f"py-spy, idle: {idle_profile}")
        print(f"py-spy, chatter at {args.rate}/s: {chatter_profile}")
        print(f"py-spy, commands at {args.rate}/s: {command_profile}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--idle", type=float, default=60.0)
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--profile", default="")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()

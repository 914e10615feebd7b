"""The bot process as the CPU benches see it (tests/bench/bench_cpu.py): its CPU seconds from
/proc, a free port to run it on, and py-spy sampling one phase at a time."""
from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def sleeps(pid: int) -> int:
    """Times the process's main thread (its event loop) went to sleep and was woken since it
    started: each wake-up costs this machine a fixed price whatever the bot then does."""
    for line in Path(f"/proc/{pid}/task/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    return 0


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
        self.proc = subprocess.Popen([spy, "record", "-p", str(self.pid), "-r", os.environ.get("SPY_RATE", "100"), "-f", "raw", "--nonblocking",
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
        if not self.file.exists():  # py-spy could not attach (the process was not ready yet)
            return "no samples"
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


async def wait_ready(port: int, *, proc: subprocess.Popen | None = None, timeout: float = 60.0,
                     what: str = "the bot") -> None:
    """Until the bot on ``port`` answers /readyz with 200 (``timeout`` seconds at most); stops at
    once when ``proc`` (the bot's process) has exited."""
    import aiohttp

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"{what} exited (see its log)")
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{what} did not become ready (see its log)")

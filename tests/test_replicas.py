"""Three bot processes on one PostgreSQL, fed by the simulator: each event answered once,
even when Feishu delivers it twice to different replicas and when a replica is killed -9
under load."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from bot.sim.server import FeishuSimulator
from bot.store.db import Database
from tests import scratch_pg
from tests.conftest import PG_ADMIN_URL
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
APP_ID, SECRET, KEY, TOKEN = "cli_replica000001", "replica-secret", "replica-key", "replica-token"


async def _scratch_db() -> str | None:
    url = await scratch_pg.create(PG_ADMIN_URL, f"liveops_replicas_{os.getpid()}")
    if url is not None:
        db = Database(url)
        await db.migrate()
        await db.close()
    return url


class Replica:
    def __init__(self, n: int, sim_url: str, db_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": SECRET,
               "FEISHU_ENCRYPT_KEY": KEY, "FEISHU_VERIFICATION_TOKEN": TOKEN, "FEISHU_DOMAIN": sim_url,
               "DATABASE_URL": db_url, "BOT_PORT": str(self.port), "BOT_LOG_LEVEL": "WARNING",
               "BOT_LEASE_SECONDS": "5"}
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def ready(self, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as s:
            while loop.time() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(self.proc.stderr.read().decode()[-2000:])
                try:
                    async with s.get(f"{self.url}/readyz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)  # waiting for a child process to boot, not for the bot's work
        raise AssertionError("replica did not become ready")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


async def _wait_for_replies(sim: FeishuSimulator, chat_id: str, expected: int, timeout: float = 60) -> list[dict]:
    """Wait (on the simulator's message signal, no polling) until `expected` bot replies."""
    seq = 0
    try:
        while len([m for m in sim.messages(chat_id) if m["sender"]["type"] == "app"]) < expected:
            seq = (await sim.wait_for_message(chat_id, after_seq=seq, timeout=timeout))["seq"]
    except TimeoutError:
        pass
    return [m for m in sim.messages(chat_id) if m["sender"]["type"] == "app"]


async def _deliver(sim: FeishuSimulator, replicas: list[Replica], live: list[Replica], user: str, chat: str,
                   n: int, label: str, duplicates_every: int = 5) -> list[str]:
    """Post n messages, spread over the live replicas (a load balancer); some are delivered
    again to another replica. A delivery that fails is retried on a live replica, as
    Feishu's retry behind a load balancer would."""
    ids = []
    for i in range(n):
        target = live[i % len(live)]
        sim.event_url = f"{target.url}/feishu/events"
        msg = await sim.send_text(chat, user, f"/在吗 {label}{i}")
        ids.append(msg["message_id"])
        event_id = sim.events()[-1]["event_id"]
        tries = 0
        while (msg["delivery"] or {}).get("status") != 200 and tries < 5:
            tries += 1
            alive = [r for r in live if r.proc.poll() is None]
            sim.event_url = f"{alive[tries % len(alive)].url}/feishu/events"
            msg["delivery"] = await sim.redeliver(event_id)
        if i % duplicates_every == 0:
            other = [r for r in live if r is not target and r.proc.poll() is None]
            if other:
                sim.event_url = f"{other[0].url}/feishu/events"
                await sim.redeliver(event_id)
    return ids


async def test_three_replicas_one_answer_per_event_even_after_kill_9():
    db_url = await _scratch_db()
    if db_url is None:
        pytest.skip(scratch_pg.why(PG_ADMIN_URL))
    # a tenant that approved im:message.group_msg: un-@ text in groups arrives
    sim = FeishuSimulator(app_id=APP_ID, app_secret=SECRET, encrypt_key=KEY, verification_token=TOKEN, group_msg=True)
    sim_url = (await sim.start()).rstrip("/")
    user = sim.add_user("多副本测试", open_id="ou_replica_user")["open_id"]
    chat = sim.add_chat("副本群", [user], chat_id="oc_replicas")["chat_id"]
    replicas = [Replica(i, sim_url, db_url) for i in range(3)]
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        first = await _deliver(sim, replicas, replicas, user, chat, 30, "a")
        replies = await _wait_for_replies(sim, chat, 30)
        # kill -9 one replica while a second batch is arriving
        second_task = asyncio.create_task(_deliver(sim, replicas, replicas, user, chat, 30, "b"))
        await asyncio.sleep(0.3)
        replicas[0].kill()
        second = await second_task
        replies = await _wait_for_replies(sim, chat, 60, timeout=120)
        parents = Counter(m["parent_id"] for m in replies)
        assert set(parents) == set(first + second), "every accepted message is answered"
        assert max(parents.values()) == 1, "no message is answered twice"
        sends = [r for r in sim.requests("/reply") if r["status"] == 200]
        assert len({r["json"]["uuid"] for r in sends}) == len(sends) == 60
    finally:
        for r in replicas:
            r.stop()
        await sim.stop()
        await scratch_pg.drop(PG_ADMIN_URL, db_url.rsplit("/", 1)[1])

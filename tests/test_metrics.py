"""Metrics an on-call engineer alerts on: each one is made to happen through the real bot and
the simulator, then read back from the bot's own /metrics page (both databases)."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.config import Settings
from bot.feishu.ingress import Ingress
from bot.feishu.longconn import LongConnection
from bot.metrics import Metrics
from bot import timers
from tests.test_data_e2e import SUMMARY, data  # noqa: F401 - the fixture
from tests.test_faults_e2e import team  # noqa: F401 - the fixture
from tests.test_schedule_service import seed_team


async def scrape(h) -> dict[tuple[str, frozenset], float]:
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{h.bot_url}/metrics") as r:
            assert r.status == 200
            body = await r.text()
    return parse(body)


def parse(body: str) -> dict[tuple[str, frozenset], float]:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_handler_error_is_counted(harness):
    h = harness
    await h.say("member", "/提醒 列表")
    assert value(await scrape(h), "liveops_handler_errors_total", where="remind") == 0
    async with h.db.engine.begin() as conn:  # the table disappears under the running bot
        await conn.execute(text("ALTER TABLE reminders RENAME TO reminders_gone"))
    try:
        await h.say("member", "/提醒 列表")
    finally:
        async with h.db.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE reminders_gone RENAME TO reminders"))
    assert "参考编号" in h.text_of(h.last_reply())
    assert value(await scrape(h), "liveops_handler_errors_total", where="remind") == 1


async def test_timers_fired_failed_skipped_and_lateness(harness):
    h = harness
    await h.say("member", "/提醒 10分钟后 喝水")
    async with h.db.session() as s:
        now = h.clock.now()
        await timers.schedule(s, key="m:nohandler", kind="metrics.nohandler", due=now + timedelta(minutes=5),
                              chat_id=h.chats["team"])
        await timers.schedule(s, key="m:stale", kind="metrics.nohandler", due=now + timedelta(minutes=1),
                              chat_id=h.chats["team"], stale_after=30)
    await h.advance(600)
    samples = await scrape(h)
    assert value(samples, "liveops_timers_total", kind="reminder", outcome="fired") == 1
    assert value(samples, "liveops_timers_total", kind="metrics.nohandler", outcome="failed") == 1
    assert value(samples, "liveops_timers_total", kind="metrics.nohandler", outcome="skipped") == 1
    # one observation per fire that ran (not the skipped one); the reminder fired on time,
    # the handler-less timer 5 minutes late (at the end of the 10-minute jump)
    ran = sum(v for (name, labels), v in samples.items()
              if name == "liveops_timers_total" and ("outcome", "skipped") not in labels)
    assert value(samples, "liveops_timer_lateness_seconds_count") == ran
    assert value(samples, "liveops_timer_lateness_seconds_bucket", le="0.1") >= 1
    assert (value(samples, "liveops_timer_lateness_seconds_bucket", le="300.0")
            - value(samples, "liveops_timer_lateness_seconds_bucket", le="60.0")) >= 1


async def test_briefings_sent_and_skipped(harness):
    h = harness
    await h.say("ops", "/日报 订阅 09:30")
    assert "已订阅日报" in h.text_of(h.last_reply())
    await h.advance(19.5 * 3600 + 5)  # Fri 27 Nov 09:30:05 Shanghai
    assert value(await scrape(h), "liveops_briefings_total", kind="daily", outcome="sent") == 1
    await h.stop_bot()
    await h.clock.advance(28 * 3600)  # down until Saturday 13:30: 4 hours late, skipped
    await h.start_bot()
    await h.settle()
    samples = await scrape(h)
    assert value(samples, "liveops_briefings_total", kind="daily", outcome="skipped_late") == 1
    assert value(samples, "liveops_briefings_total", kind="daily", outcome="sent") == 0


async def test_sla_breach_and_open_faults(team):  # noqa: F811
    h = team
    assert value(await scrape(h), "liveops_open_faults") == 0
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    assert value(await scrape(h), "liveops_open_faults") == 1
    await h.advance(10 * 60)  # no one took it: the ack SLA is breached
    samples = await scrape(h)
    assert value(samples, "liveops_sla_breaches_total", kind="ack") == 1
    assert value(samples, "liveops_sla_breaches_total", kind="resolve") == 0


async def test_schedule_import_rejected_rows(harness):
    h = harness
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
    table = ("日期\t时间\t直播间\t主播\n"
             "11/30\t19:00-23:00\t1号直播间\t李主播\n"
             "12/01\t19:00-23:00\t5号直播间\t李主播\n"
             "12/02\t19:00-23:00\t1号直播间\t小明")
    await h.say("ops", "/排期 导入\n" + table)
    samples = await scrape(h)
    assert value(samples, "liveops_imports_total", kind="schedule", outcome="rejected") == 1
    assert value(samples, "liveops_import_rejected_rows_total", kind="schedule") == 2
    await h.say("ops", "/排期 导入\n" + table.rsplit("\n", 2)[0])
    assert value(await scrape(h), "liveops_imports_total", kind="schedule", outcome="ok") == 1


async def test_data_import_counted(data):  # noqa: F811
    h = data
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "罗盘汇总.csv", SUMMARY)
    await h.settle()
    assert "汇总表 1 行" in h.text_of(h.last_reply())
    assert value(await scrape(h), "liveops_imports_total", kind="data", outcome="ok") == 1


async def test_permanent_send_failure_by_code(harness):
    h = harness
    h.sim.faults.add("permanent", path_contains="/im/v1/messages", times=1)
    await h.say("member", "/帮助")
    assert value(await scrape(h), "liveops_send_failures_total", code="230002") == 1


async def test_info_tells_the_transport(harness):
    samples = await scrape(harness)
    assert value(samples, "liveops_info", transport="webhook", sandbox="false") == 1


class FakeLongConnectionServer:
    """Feishu's long-connection endpoint as far as connecting goes: the endpoint call hands
    out a WebSocket URL, the socket is accepted and can be dropped."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.connected = asyncio.Event()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/callback/ws/endpoint", self.endpoint)
        app.router.add_get("/ws", self.socket)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def endpoint(self, request: web.Request) -> web.Response:
        config = {"ReconnectCount": 2, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120}
        return web.json_response({"code": 0, "msg": "ok", "data": {
            "URL": f"ws://127.0.0.1:{self.port}/ws?device_id=d1&service_id=1", "ClientConfig": config}})

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.connected.set()
        async for _ in ws:
            pass
        return ws


async def wait_for(predicate, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)  # another thread (the SDK's) changes the state


async def test_long_connection_state():
    server = FakeLongConnectionServer()
    url = await server.start()
    metrics = Metrics(transport="ws")
    settings = Settings(app_id="cli_ws0000000001", app_secret="s", domain=url, transport="ws")
    ingress = Ingress(encrypt_key="", verification_token="", store=None)  # no event is sent here
    conn = LongConnection(settings, ingress, asyncio.get_running_loop(), metrics=metrics)

    def connected() -> float:
        return value(parse(metrics.render()[0].decode()), "liveops_longconn_connected")

    try:
        assert connected() == 0
        conn.start()
        await asyncio.wait_for(server.connected.wait(), 20)
        await wait_for(lambda: connected() == 1)
        server.connected.clear()
        await server.sockets[0].close()  # Feishu drops the connection: the SDK reconnects
        await asyncio.wait_for(server.connected.wait(), 20)
        assert value(parse(metrics.render()[0].decode()), "liveops_longconn_reconnects_total") == 1
        await wait_for(lambda: connected() == 1)
        conn.stop()
        await wait_for(lambda: connected() == 0)
    finally:
        conn.stop()
        for ws in server.sockets:
            await ws.close()
        await server.runner.cleanup()

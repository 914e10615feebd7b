"""The sandbox: the bot, the local Feishu simulator and SQLite on one port, with a demo team
and a web chat page at "/". Started only by ``liveops run --sandbox`` (``python3 dev.py run``
on a machine without Feishu credentials), on 127.0.0.1 unless ``--host`` says otherwise, with
its own database ``data/sandbox.db`` (never DATABASE_URL), re-created at each start unless
``--keep-data``.

Everything speaks the real protocols: the page posts to the simulator's /_sim API, the
simulator pushes signed, encrypted events to the bot's webhook, and the bot answers through
the lark-oapi client against the simulator's /open-apis.

Time: the sandbox clock runs with real time and can be fast-forwarded from the page. A
fast-forward is lived through: the clock stops at each timer's due time on the way, the bot
fires it on time and its messages are delivered before the clock moves on (so reminders are
not "late", and each message carries the sandbox time it was sent at). With ``--keep-data``
the clock resumes where it was left (data/sandbox.clock.json).
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import secrets
import socket
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from aiohttp import web

from bot import roles
from bot.app import LiveOpsBot
from bot.clock import ManualClock, wall_now
from bot.config import Settings
from bot.feishu.ingress import MAX_BODY_BYTES
from bot.server import StopSignals, serve, settle_heap
from bot.sim.inspect import refusal
from bot.sim.server import FeishuSimulator

log = logging.getLogger("bot.sandbox")
STATIC = Path(__file__).parent / "sim" / "static"
# VChart's browser build, fetched by dev.py (never committed); without it the page draws charts in SVG.
VCHART = Path(__file__).resolve().parents[1] / ".cache" / "vchart" / "vchart.min.js"
VCHART_URL = "static/vendor/vchart.min.js"
APP_ID, APP_SECRET = "cli_sandbox0000000", "sandbox-secret"


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    role: str | None
    title: str


TEAM = [
    DemoPerson("wang", "王运营", roles.ADMIN, "运营主管"),
    DemoPerson("li", "李主播", roles.STREAMER, "主播"),
    DemoPerson("zhou", "周主播", roles.STREAMER, "主播"),
    DemoPerson("chen", "陈助播", None, "助播"),
    DemoPerson("zhang", "张场控", roles.OPS, "场控"),
    DemoPerson("liu", "刘中控", None, "中控"),
    DemoPerson("zhao", "赵技术", roles.TECH, "技术"),
    DemoPerson("sun", "孙技术", roles.TECH, "技术"),
    DemoPerson("wu", "吴编导", None, "编导"),
]
CHATS = [
    ("运营群", ["wang", "li", "zhou", "chen", "zhang", "liu", "zhao", "sun", "wu"], "team"),
    ("技术群", ["wang", "zhao", "sun"], "tech"),
    ("1号直播间场控群", ["wang", "li", "chen", "zhang", "liu"], "field"),
]


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host or "127.0.0.1", 0))
        return sock.getsockname()[1]


def open_id(key: str) -> str:
    return f"ou_demo_{key}"


class Sandbox:
    """Builds the one-port app; also used by tests and the browser check."""

    def __init__(self, settings: Settings, *, clock: ManualClock | None = None,
                 start_at: datetime | None = None) -> None:
        encrypt_key = settings.encrypt_key or secrets.token_urlsafe(24)
        token = settings.verification_token or secrets.token_urlsafe(16)
        admins = tuple(dict.fromkeys((*settings.admins, open_id("wang"))))
        self.settings = replace(settings, app_id=APP_ID, app_secret=APP_SECRET, encrypt_key=encrypt_key,
                                verification_token=token, admins=admins, sandbox=True)
        self.clock = clock or ManualClock(start_at, frozen=False, stepwise=True)
        from bot.bitable import demo as bitable_demo  # the Feishu-native features' scopes and demo Bitable
        from bot.sim.scopes import DEFAULT_GRANTED

        self.sim = FeishuSimulator(app_id=APP_ID, app_secret=APP_SECRET, encrypt_key=encrypt_key,
                                   verification_token=token, bot_name="LiveOps", clock=self.clock,
                                   # a tenant that approved im:message.group_msg, unless the bot is set to @-only
                                   group_msg=settings.group_messages != "mentions",
                                   scopes=DEFAULT_GRANTED | bitable_demo.SCOPES)
        self.bot: LiveOpsBot | None = None
        self.port = 0
        self.vchart: Path | None = VCHART if VCHART.is_file() else None

    def web_app(self) -> web.Application:
        assert self.bot is not None
        app = web.Application(client_max_size=max(MAX_BODY_BYTES, 40 * 1024 * 1024),
                              middlewares=[same_host, *self.bot.middlewares()])
        assert self.bot is not None
        self.bot.add_routes(app)
        self.sim.add_routes(app)
        app.router.add_get("/", self._index)
        if self.vchart:
            app.router.add_get("/" + VCHART_URL, self._vchart)
        app.router.add_static("/static/", STATIC)
        return app

    async def _index(self, request: web.Request) -> web.Response:
        html = (STATIC / "index.html").read_text("utf-8")
        if self.vchart:  # tells the page it may load VChart
            html = html.replace("</head>", f'<meta name="liveops-vchart" content="{VCHART_URL}">\n</head>', 1)
        return web.Response(text=html, content_type="text/html")

    async def _vchart(self, request: web.Request) -> web.FileResponse:
        assert self.vchart is not None
        return web.FileResponse(self.vchart)

    async def start(self, host: str, port: int) -> str:
        self.port = port or free_port(host)
        base = f"http://127.0.0.1:{self.port}"
        self.bot = LiveOpsBot(replace(self.settings, domain=base), clock=self.clock)
        self.sim.event_url = f"{base}/feishu/events"
        if host and not _is_ip(host):  # a name given with --host: the page may be opened by it
            self.sim.allowed_hosts = {host.lower()}
        self.runner, _ = await serve(self.web_app(), host, self.port)
        await self.bot.db.migrate()
        await self.seed()
        await self.bot.start(migrate=False)
        self.clock.add_stop_source(self._next_due)
        self.clock.add_listener(self._settle)  # after the timer engine's: its sends, then move on
        for name, *_ in CHATS[:2]:
            await self.sim.add_bot_to_chat(self.chat_ids[name], open_id("wang"))
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}/"

    async def _next_due(self, now: datetime, until: datetime) -> datetime | None:
        """The clock's next stop in a fast-forward: the next active timer due after ``now``."""
        from sqlalchemy import func, select

        from bot.timers.models import ACTIVE, Timer

        assert self.bot is not None
        async with self.bot.db.session() as session:
            return (await session.execute(select(func.min(Timer.next_due)).where(
                Timer.state == ACTIVE, Timer.next_due > now, Timer.next_due <= until))).scalar()

    async def _settle(self, _now: datetime, limit: float = 10.0) -> None:
        """Wait until what the bot queued is sent (not rows waiting for a retry), at most ``limit``
        seconds: the messages of one stop are in the chat before the clock moves on."""
        from sqlalchemy import func, select

        from bot.store.models import OutboxMessage

        assert self.bot is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        pulse = self.bot.svc.pulse
        while loop.time() < deadline:
            pulse.clear()
            async with self.bot.db.session() as session:
                busy = (await session.execute(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.status.in_(("pending", "sending")),
                    OutboxMessage.next_attempt_at <= wall_now()))).scalar()
            if not busy:
                return
            try:
                await asyncio.wait_for(pulse.wait(), 0.25)
            except asyncio.TimeoutError:
                pass

    async def seed(self) -> None:
        """The simulator's people and groups (it keeps nothing between runs), and, in a new
        database only, the demo team's week (a kept database already has it)."""
        for person in TEAM:
            self.sim.add_user(person.name, open_id=open_id(person.key))
        from bot.bitable import demo as bitable_demo  # a schedule Bitable to bind (docs/feishu-native.md)

        bitable_demo.seed(self.sim, self.clock.now(), self.settings.timezone, open_id("li"), open_id("zhou"))
        self.chat_ids: dict[str, str] = {}
        for name, members, _kind in CHATS:
            chat = self.sim.add_chat(name, [open_id(k) for k in members], owner=open_id("wang"))
            self.chat_ids[name] = chat["chat_id"]
        assert self.bot is not None
        from sqlalchemy import select

        from bot.store.db import insert_ignore
        from bot.store.models import Chat, Person, RoleGrant

        now = self.clock.now()
        async with self.bot.db.session() as session:
            if (await session.execute(select(Person.open_id).where(Person.open_id == open_id("wang")))).first():
                log.info("sandbox: kept data, the demo week is not seeded again")
                return
            for person in TEAM:
                await session.execute(insert_ignore(self.bot.db, Person, open_id=open_id(person.key),
                                                    name=person.name, first_seen=now))
                if person.role and person.role != roles.ADMIN:
                    await session.execute(insert_ignore(self.bot.db, RoleGrant, open_id=open_id(person.key),
                                                        role=person.role, granted_by=open_id("wang"),
                                                        granted_at=now))
            for name, _members, kind in CHATS:
                await session.execute(insert_ignore(self.bot.db, Chat, chat_id=self.chat_ids[name], name=name,
                                                    chat_type="group", kind=kind, internal=kind != "field",
                                                    first_seen=now))
            from bot.schedule.demo import seed_demo  # rooms, job titles and a week of streams

            await seed_demo(session, now=now, tz=self.settings.timezone,
                            team=[(open_id(p.key), p.name, p.title) for p in TEAM],
                            team_chat_id=self.chat_ids["运营群"], field_chat_id=self.chat_ids["1号直播间场控群"])
            from bot.data.demo import seed_demo_data  # the past week's figures, charts included

            await seed_demo_data(session, now=now, tz=self.settings.timezone, chat_id=self.chat_ids["运营群"])
            from bot.faults.oncall import seed_demo as seed_oncall  # 赵技术 → 孙技术, a week each

            await seed_oncall(session, [open_id("zhao"), open_id("sun")], now, self.settings.tz)
            from bot.leads import set_team_ops_leads  # 王运营, the 运营主管, gets the escalations

            await set_team_ops_leads(session, [open_id("wang")], by="sandbox", now=now)

    async def stop(self) -> None:
        # The bot first (unlike bot.server.shut_down): its last sends go to the simulator, which
        # this same server runs, and no real Feishu waits on the page's requests.
        if self.bot is not None:
            await self.bot.stop()
        await self.runner.cleanup()


@web.middleware
async def same_host(request: web.Request, handler):
    """Every path of the sandbox's port (the page, the simulator's Open API, the bot) answers
    only requests that name this server: a DNS-rebinding page cannot drive the sandbox."""
    refused = refusal(request, body=False)
    if refused is not None:
        return web.json_response({"error": refused[1]}, status=refused[0])
    return await handler(request)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _clock_file(db_path: Path) -> Path:
    return db_path.with_suffix(".clock.json")


def _saved_clock(path: Path) -> datetime | None:
    """The sandbox time a kept database was left at (None: unknown)."""
    try:
        saved = datetime.fromisoformat(json.loads(path.read_text("utf-8"))["now"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return saved if saved.tzinfo is not None else None


async def run_sandbox(settings: Settings, *, fresh: bool = True) -> None:
    stop = StopSignals()
    db_path = Path(settings.database_url.split(":///", 1)[-1])
    clock_file = _clock_file(db_path)
    if fresh:
        for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"), clock_file):
            path.unlink(missing_ok=True)
    start_at = None if fresh else _saved_clock(clock_file)
    if start_at is not None:  # the kept week goes on where it was left, never back in time
        start_at = max(start_at, wall_now())
    sandbox = Sandbox(settings, start_at=start_at)
    url = await sandbox.start(settings.host, settings.port)
    settle_heap()
    note = ("  DATABASE_URL 不用于沙盒，沙盒数据在 / DATABASE_URL is not used: the sandbox keeps its data in "
            f"{db_path}\n" if settings.database_from_env else "")
    banner = (f"\n  LiveOps 沙盒已启动 / sandbox running: {url}\n"
              f"  在浏览器打开上面的地址，选一个用户和群聊，发送 /帮助 试试。\n"
              f"  Open it in a browser, pick a user and a group, and send /help.\n{note}"
              f"  (本地模拟飞书，不连接真实飞书 / a local Feishu simulator; Ctrl+C to stop)\n")
    print(banner, flush=True)
    try:
        await stop.wait()
    finally:
        now = sandbox.clock.now()
        await sandbox.stop()
        await asyncio.to_thread(clock_file.write_text, json.dumps({"now": now.isoformat()}), "utf-8")


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(run_sandbox(Settings(sandbox=True)))

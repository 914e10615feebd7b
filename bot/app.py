"""Wiring: one builder for every seam (settings, database, clock, platform), so tests and
the sandbox can swap any of them. Background tasks are tracked and stopped together."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
from typing import TYPE_CHECKING
from datetime import timedelta

from aiohttp import web

from bot import httpguard
from bot.clock import Clock, SystemClock, wall_now
from bot.commands import load_all
from bot.commands.registry import REGISTRY
from bot.config import Settings
from bot.feishu import events
from bot.feishu.ingress import MAX_BODY_BYTES, Ingress
from bot.feishu.platform import Platform
from bot.metrics import Metrics
from bot.timers.engine import TimerEngine
from bot.known import may_be_chatter
from bot.router import Router
from bot.sender import Sender
from bot.services import Services
from bot.store import inbox
from bot.store.db import Database
from bot.worker import InboxWorkers

if TYPE_CHECKING:
    from bot.feishu.longconn import LongConnection

log = logging.getLogger("bot.app")


class LiveOpsBot:
    # Reading the bot's identity at start-up: 1 s, 2 s between tries, then every 30 s in the background.
    identity_backoff = 1.0
    identity_retry = 30.0

    def __init__(self, settings: Settings, *, clock: Clock | None = None, db: Database | None = None,
                 platform: Platform | None = None, worker_id: str | None = None,
                 concurrency: int = 4, lease: timedelta | None = None) -> None:
        load_all()
        REGISTRY.check()
        self.settings = settings
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.db = db or Database(settings.database_url)
        self.platform = platform or Platform(settings.domain, settings.app_id, settings.app_secret)
        self.metrics = Metrics(transport=settings.transport, sandbox=settings.sandbox)
        self.svc = Services(settings=settings, db=self.db, clock=clock or SystemClock(),
                            platform=self.platform, metrics=self.metrics)
        self.router = Router(self.svc)
        self.workers = InboxWorkers(self.svc, self.router, self.worker_id, concurrency=concurrency,
                                    lease=lease or timedelta(seconds=settings.lease_seconds))
        self.sender = Sender(self.db, self.platform, self.worker_id, callback_env=self.svc, metrics=self.metrics,
                             pulse=self.svc.pulse, clock=self.svc.clock)
        self.svc.wake_sender = self.sender.nudge  # a commit that queued rows wakes it anyway (bot.outbox)
        self.timers = TimerEngine(self.svc, self.router.locale_and_roles, self.worker_id)
        self.inbox_writer = inbox.InboxWriter(self.db, workers=self.workers)  # it wakes (or hands to) workers
        self.ingress = Ingress(encrypt_key=settings.encrypt_key,
                               verification_token=settings.verification_token,
                               store=self._store, metrics=self.metrics,
                               answers=self.workers.answers)
        self.workers.intake = self.ingress  # requests being stored go before the next event
        self._tasks: list[asyncio.Task] = []
        self.started = False
        self.longconn: LongConnection | None = None  # bot.feishu.longconn.LongConnection when BOT_TRANSPORT=ws (bot.server)

    async def _store(self, *, parsed: dict | None = None, **fields) -> bool:
        fields["payload"] = without_token(fields["payload"], self.settings.verification_token)
        done = fields["event_type"] == events.MESSAGE and self._settled(
            parsed if parsed is not None else fields["payload"])
        return await self.inbox_writer.store(now=wall_now(), done=done, **fields)

    def _settled(self, payload: str | dict) -> bool:
        """Chatter the router would leave alone is stored done: no worker takes it (bot.known).
        ``payload`` is the envelope as the ingress read it (or its text, parsed here)."""
        if not self.svc.bot.open_id:
            return False
        try:
            body = json.loads(payload) if isinstance(payload, str) else payload
            return may_be_chatter(body) and self.router.settled(events.parse(body, self.svc.bot.open_id))
        except Exception:  # noqa: BLE001 - anything odd goes the usual way, to a worker
            return False

    # -- HTTP -------------------------------------------------------------------------------
    def add_routes(self, app: web.Application, *, metrics: bool = True) -> None:
        app.router.add_post("/feishu/events", self.ingress.handle)
        app.router.add_post("/feishu/cards", self.ingress.handle)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        if metrics:
            app.router.add_get("/metrics", self.metrics_page)

    def middlewares(self) -> list:
        """Request ids, no 500s, the /metrics token, the body read timeout (bot.httpguard)."""
        return [httpguard.guard(self.settings.metrics_token, self.settings.http_timeout)]

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=self.middlewares())
        self.add_routes(app, metrics=not self.settings.metrics_port)
        return app

    def metrics_app(self) -> web.Application:
        """/metrics alone, for BOT_METRICS_PORT."""
        app = web.Application(middlewares=self.middlewares())
        app.router.add_get("/metrics", self.metrics_page)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics_page(self, request: web.Request) -> web.Response:
        await self.metrics.refresh(self.db, wall_now())
        body, content_type = self.metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def readyz(self, request: web.Request) -> web.Response:
        db_ok = await self.db.ping()
        # Ready once started and as long as no background loop has died.
        workers_ok = self.started and bool(self._tasks) and not any(t.done() for t in self._tasks)
        timers_ok = self.timers.running
        body = {"database": db_ok, "workers": workers_ok, "timers": timers_ok,
                "bot": self.svc.bot.open_id or None}
        ready = db_ok and workers_ok and timers_ok
        if self.longconn is not None:  # events come only through it: down means not ready
            body["long_connection"] = self.longconn.connected
            ready = ready and body["long_connection"]
        return web.json_response(body, status=200 if ready else 503)

    # -- life cycle ------------------------------------------------------------------------
    async def start(self, *, migrate: bool = True) -> None:
        if migrate:
            await self.db.migrate()
        await self.run_startup_hooks()
        if not await self.identify(attempts=3):
            self._spawn(self.keep_identifying(), "bot identity")
        self._spawn(self.workers.run(), "inbox workers")
        self._spawn(self.sender.run(), "outbox sender")
        await self.timers.start()  # fires what fell due while the bot was down, then waits
        self.started = True

    async def run_startup_hooks(self) -> None:
        """Each feature's ``@on_startup`` hook, in its own committed session (e.g. planning a
        recurring sweep); a failing hook is logged and does not stop the start."""
        from bot.commands.registry import REGISTRY

        for hook in REGISTRY.startup_hooks:
            try:
                async with self.db.session() as session:
                    await hook(self.svc, session)
            except Exception:  # noqa: BLE001
                log.exception("start-up hook %s failed", getattr(hook, "__name__", hook))

    async def identify(self, attempts: int = 5) -> bool:
        """Read the bot's own open_id (how @mentions of it are recognised). True once known."""
        for attempt in range(attempts):
            try:
                info = await self.platform.bot_info()
            except Exception:  # noqa: BLE001
                info = {}
            if info.get("open_id"):
                self.svc.bot.open_id = str(info["open_id"])
                self.svc.bot.name = str(info.get("app_name") or self.svc.bot.name)
                log.info("bot identity %s (%s)", self.svc.bot.name, self.svc.bot.open_id)
                return True
            if attempt + 1 < attempts:
                await asyncio.sleep(min(self.identity_backoff * 2 ** attempt, 10))
        return False

    async def keep_identifying(self) -> None:
        """Start-up could not read the identity: keep trying in the background (every 30 s)
        instead of dropping @mentions until a restart. Meanwhile /readyz shows "bot": null, and
        events that mention the bot wait in the inbox (the worker holds them, see worker.py)."""
        log.error("could not read the bot's identity (GET /open-apis/bot/v3/info); retrying every %.0f s",
                  self.identity_retry)
        while not await self.identify(attempts=1):
            await asyncio.sleep(self.identity_retry)
        self.workers.wake()

    def _spawn(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s died", task.get_name(), exc_info=task.exception())

    async def stop(self, *, close_db: bool = True) -> None:
        """Let workers finish what they hold (a few seconds at most), then cancel the rest."""
        await self.halt()
        await self.platform.close()
        if close_db:
            await self.db.close()

    async def halt(self, grace: float = 5.0) -> None:
        await self.timers.stop()
        self.workers.stop()
        self.sender.stop()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        try:  # answers committed after the sender stopped go back to the queue, not to their lease
            await asyncio.wait_for(self.sender.put_back_done(), grace)
        except asyncio.TimeoutError:
            log.warning("rows handed to the stopped sender were not all put back")
        self.started = False


# A JSON member named "token" with its string value. Inside a JSON string (a message's own
# content) quotes are escaped, so this finds only real members of the event.
_TOKEN_MEMBER = re.compile(r'"token"\s*:\s*("(?:[^"\\]|\\.)*")')


def without_token(payload: str | dict, token: str) -> str | dict:
    """The event as the inbox keeps it: without the verification token (header.token, or the
    top-level token of a schema 1.0 event), which is a secret. Only the members holding that
    secret are emptied: the same characters elsewhere (a message that contains them, a short
    token such as "t") are the event's own and stay as they came. A card's own token stays."""
    if isinstance(payload, str):
        if not token:  # no token configured to look for: read the event to find its header's
            if '"token"' not in payload:
                return payload
            try:
                body = json.loads(payload)
            except ValueError:
                return payload
            cleaned = without_token(body, token) if isinstance(body, dict) else body
            return payload if cleaned is body else json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))
        if token not in payload:
            return payload
        value = json.dumps(token, ensure_ascii=False)
        for member in ('"token":' + value, '"token": ' + value):  # as JSON is written: no regex
            payload = payload.replace(member, '"token":""')
        if token not in payload:
            return payload

        def empty(member: re.Match) -> str:
            try:
                secret = json.loads(member.group(1)) == token
            except ValueError:
                secret = False
            return '"token":""' if secret else member.group(0)

        return _TOKEN_MEMBER.sub(empty, payload)
    def secret(value) -> bool:  # unconfigured, whatever the header carries is the secret
        return bool(value) and (not token or value == token)

    header = payload.get("header")
    if isinstance(header, dict) and secret(header.get("token")):
        return {**payload, "header": {**header, "token": ""}}
    if payload.get("type") == "event_callback" and secret(payload.get("token")):
        return {**payload, "token": ""}
    return payload

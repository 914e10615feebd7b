"""Running the real bot: the webhook server, or the long connection, until stopped."""
from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import LiveOpsBot
from bot.config import Settings

log = logging.getLogger("bot.server")


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # the real port when BOT_PORT=0
    return runner, bound


async def wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover - not on Linux
            pass
    await stop.wait()


async def run_server(settings: Settings) -> None:
    bot = LiveOpsBot(settings)
    runner, port = await serve(bot.web_app(), settings.host, settings.port)
    log.info("listening on http://%s:%s (health: /healthz, ready: /readyz)", settings.host, port)
    if settings.transport == "webhook":
        log.info("Feishu request URL: https://<your-public-host>/feishu/events")
    await bot.start()
    longconn = None
    if settings.transport == "ws":
        from bot.feishu.longconn import LongConnection

        longconn = LongConnection(settings, bot.ingress, asyncio.get_running_loop(), metrics=bot.metrics)
        longconn.start()
    try:
        await wait_for_stop()
    finally:
        log.info("stopping")
        if longconn is not None:
            longconn.stop()
        await bot.stop()
        await runner.cleanup()

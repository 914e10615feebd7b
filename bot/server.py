"""Running the real bot: the webhook server, or the long connection, until stopped."""
from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket

from aiohttp import web

from bot.app import LiveOpsBot
from bot.config import Settings

log = logging.getLogger("bot.server")
# Seconds the requests in hand get to finish at shutdown (Feishu waits 3 s for an event's answer
# and for a press's); aiohttp then cancels them and waits as long again. The timers', workers' and
# sender's 5 s each come after (bot.app.LiveOpsBot.halt, bot.timers.engine.TimerEngine.stop):
# 21 s at most, inside deploy/'s grace periods (30 s).
STOP_REQUESTS = 3.0
# A connection is handed to the server once its first bytes have arrived, not at its handshake
# (Linux's TCP_DEFER_ACCEPT; nginx's "listen ... deferred" sets it, to 1 as here): one wake-up of
# the event loop for a new connection and its request instead of two, for a client that opens a
# connection per request (the simulator does). bench_cpu: 1.7 wake-ups per answered command
# before, 1.2-1.3 after (docs/benchmarks.md); a wake-up is dear on a virtual machine. A client
# that connects and sends nothing is taken in after about a second all the same (the kernel
# counts in SYN-ACK retransmissions), and the header timeout then runs as before.
DEFER_ACCEPT = 1


async def serve(app: web.Application, host: str, port: int, *,
                timeout: float = 30.0) -> tuple[web.AppRunner, int]:
    """``timeout``: a connection must send its request headers within it (from its first bytes, or
    from about a second after connecting when it sends nothing: DEFER_ACCEPT), and sits idle between
    requests no longer than that (the body's limit is the guard middleware's, bot.httpguard). A body
    left unread (a 408 or 413 answer) is drained for 2 seconds at most, then the connection closes."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=timeout,
                           lingering_time=min(2.0, timeout), shutdown_timeout=STOP_REQUESTS)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    for sock in site._server.sockets:
        defer_accept(sock)
    bound = site._server.sockets[0].getsockname()[1]  # the real port when BOT_PORT=0
    return runner, bound


def defer_accept(sock) -> None:
    """Set DEFER_ACCEPT on a listening TCP socket where the system has it (Linux)."""
    option = getattr(socket, "TCP_DEFER_ACCEPT", None)
    if option is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, option, DEFER_ACCEPT)
    except OSError:  # pragma: no cover - a kernel without it: accept as before
        pass


class StopSignals:
    """SIGINT and SIGTERM, installed before the server listens. While it starts, a signal ends it
    at once (its task is cancelled, as Ctrl+C always did): nothing is in hand yet, and start-up
    may wait long on a database or on Feishu. Once in ``wait()``, a signal sets ``stop`` and the
    server stops in order (shut_down). The handlers used to come only after start-up, so a
    SIGTERM just after the first answers (the banner, a 200 on /readyz) hit the default action:
    the process ended with nothing stopped in order."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._starting = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._signalled)
            except NotImplementedError:  # pragma: no cover - not on Linux
                pass

    def _signalled(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
        else:
            self.stop.set()

    async def wait(self) -> None:
        """Start-up is done: wait for a stop signal."""
        self._starting = None
        await self.stop.wait()


GC_YOUNG = 10_000  # allocations between collections of the youngest generation (settle_heap)


def settle_heap() -> None:
    """Everything start-up made (some 12,000 modules, lark-oapi's models most of them) lives as
    long as the process: move it out of the garbage collector's sight, so a full collection
    walks only what requests make (gc.freeze; without it each one paused the loop for the
    whole heap, and the webhook's p99 carried those pauses). Then the youngest generation is
    collected every ``GC_YOUNG`` allocations instead of CPython's 700: a request's objects die
    young and are freed by their reference counts, so the frequent collections mostly walked
    live ones (the instructions a webhook request costs: docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


async def run_server(settings: Settings) -> None:
    stop = StopSignals()
    bot = LiveOpsBot(settings)
    runner, port = await serve(bot.web_app(), settings.host, settings.port, timeout=settings.http_timeout)
    log.info("listening on http://%s:%s (health: /healthz, ready: /readyz)", settings.host, port)
    metrics_runner = None
    if settings.metrics_port:
        metrics_runner, _ = await serve(bot.metrics_app(), settings.host, settings.metrics_port,
                                        timeout=settings.http_timeout)
        log.info("metrics on http://%s:%s/metrics", settings.host, settings.metrics_port)
    if settings.transport == "webhook":
        log.info("Feishu request URL: https://<your-public-host>/feishu/events")
    await bot.start()
    settle_heap()
    longconn = None
    if settings.transport == "ws":
        from bot.feishu.longconn import LongConnection

        longconn = LongConnection(settings, bot.ingress, asyncio.get_running_loop(), metrics=bot.metrics)
        bot.longconn = longconn
        longconn.start()
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await shut_down(bot, [runner, *([metrics_runner] if metrics_runner else [])], longconn)


async def shut_down(bot: LiveOpsBot, runners: list[web.AppRunner], longconn=None, *, close_db: bool = True) -> None:
    """Stop in the order that keeps the webhook's word: first no new events (the listening sockets
    close; the long connection answers new frames 500, so Feishu sends them again); then the
    requests and frames in hand finish, STOP_REQUESTS seconds (aiohttp then cancels its requests
    and waits as long again): their events are stored before their 200, and a press gets its
    answer from the workers, still running; then the long connection closes and the workers,
    timers and sender stop (LiveOpsBot.stop), and last the database, whatever happened before.
    Stopping the bot first closed the database under requests still being read."""
    async def long_connection() -> None:
        await longconn.feed.drain(STOP_REQUESTS)
        longconn.stop()

    try:
        closing = [runner.cleanup() for runner in runners] + ([long_connection()] if longconn is not None else [])
        for outcome in await asyncio.gather(*closing, return_exceptions=True):
            if isinstance(outcome, BaseException):
                log.warning("a listener did not stop cleanly", exc_info=outcome)
    finally:
        await bot.stop(close_db=close_db)

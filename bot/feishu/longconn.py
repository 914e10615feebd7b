"""Long-connection (WebSocket) mode: lark.ws.Client in its own thread, feeding the same inbox.

The SDK's client captures a module-level event loop at import time and blocks forever in
start(), so it gets a thread and a fresh loop of its own. Each event payload is handed to
the main loop (the inbox write) and the thread waits for it, so an event is acknowledged
only once it is stored; a failure answers 500 and Feishu delivers it again.
With several replicas connected, Feishu gives each event to ONE of them.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading

from bot.config import Settings
from bot.feishu.events import EventShapeError, envelope_keys
from bot.feishu.ingress import Ingress

log = logging.getLogger("bot.longconn")


class InboxFeed:
    """Stands in for lark's EventDispatcherHandler: the SDK calls _do_without_validation."""

    def __init__(self, ingress: Ingress, loop: asyncio.AbstractEventLoop) -> None:
        self.ingress, self.loop = ingress, loop

    def _do_without_validation(self, payload: bytes):
        try:
            body = json.loads(payload)
            event_id, event_type, message_id, lane = envelope_keys(body)
        except (ValueError, EventShapeError):
            log.warning("long connection: unreadable event dropped")
            return None
        future = asyncio.run_coroutine_threadsafe(
            self.ingress.accept(body, event_id, event_type, message_id, lane, source="ws"), self.loop)
        response = future.result(timeout=2.5)
        if response.status >= 500:
            raise RuntimeError("inbox unavailable")  # the SDK answers 500; Feishu redelivers
        return None

    def do_without_validation(self, payload: bytes):
        return self._do_without_validation(payload)


class LongConnection:
    def __init__(self, settings: Settings, ingress: Ingress, loop: asyncio.AbstractEventLoop,
                 metrics=None) -> None:
        self.settings, self.feed, self.metrics = settings, InboxFeed(ingress, loop), metrics
        self.thread = threading.Thread(target=self._run, name="feishu-ws", daemon=True)
        self.client = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        import lark_oapi as lark
        import lark_oapi.ws.client as ws_client

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ws_client.loop = loop
        client = lark.ws.Client(self.settings.app_id, self.settings.app_secret,
                                event_handler=self.feed, domain=self.settings.domain,
                                log_level=lark.LogLevel.INFO, auto_reconnect=True)
        if self.metrics is not None:  # the SDK keeps its socket in _conn (None while down)
            self.metrics.longconn_connected.set_function(lambda: float(client._conn is not None))
            client.on_reconnecting = self.metrics.longconn_reconnects.inc
        self.client, self.loop = client, loop
        log.info("long connection starting")
        client.start()

    def stop(self) -> None:
        """Close the connection and do not reconnect (the thread then idles until exit)."""
        client, loop = self.client, self.loop
        if client is None or loop is None or loop.is_closed():
            return
        client._auto_reconnect = False
        asyncio.run_coroutine_threadsafe(client._disconnect(), loop)

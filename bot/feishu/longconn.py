"""Long-connection (WebSocket) mode: lark.ws.Client in its own thread, feeding the same inbox.

The SDK's client captures a module-level event loop at import time and blocks forever in
start(), so it gets a thread and a fresh loop of its own. Each event is handed to the main
loop (the inbox write, and for a card press the router's answer, see bot.answers) and
*awaited* there: the socket loop keeps reading, pinging and handling other frames meanwhile
(lark-oapi 1.7.5 calls the handler synchronously inside ``_handle_data_frame``, so a handler
that waits blocks every frame behind it; ours overrides that one method). An event is
acknowledged only once it is stored; a failure answers 500 and Feishu delivers it again.
Card callbacks arrive as EVENT frames (card.action.trigger) and the answer goes back in the
frame's response data, as the SDK does with a handler's return value.

If the client cannot start or its connection dies, /readyz says so (``connected``) and the
client is started again with backoff (1 s doubling to 60 s), for as long as the bot runs.
With several replicas connected, Feishu gives each event to ONE of them. At shutdown
(bot.server.shut_down) new frames are answered 500, so Feishu delivers them again, and the frames
in hand get the webhook's grace to be stored and answered before the connection closes.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import http
import json
import logging
import threading
import time

from bot.config import Settings
from bot.feishu.events import EventShapeError, envelope_keys
from bot.feishu.ingress import Ingress

log = logging.getLogger("bot.longconn")

HANDLE_WITHIN = 2.8  # the answer to a card press must reach Feishu within 3 s


class Stopping(RuntimeError):
    """The bot is stopping: the frame is answered 500 and Feishu delivers the event again."""


class InboxFeed:
    """Turns one frame's payload into the inbox write (and a press's answer)."""

    def __init__(self, ingress: Ingress, loop: asyncio.AbstractEventLoop) -> None:
        self.ingress, self.loop = ingress, loop
        self.closing = False
        self.in_hand = 0  # event frames between arrival and their answer written (the socket's thread)
        self._count = threading.Lock()

    @contextlib.contextmanager
    def holding(self):
        """Counts a frame in hand until its answer is written."""
        with self._count:
            self.in_hand += 1
        try:
            yield
        finally:
            with self._count:
                self.in_hand -= 1

    async def drain(self, within: float) -> None:
        """At shutdown, on the main loop: refuse new frames (Stopping) and wait at most ``within``
        seconds for those in hand to be stored and answered, as the webhook's requests are."""
        self.closing = True
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        while self.in_hand and loop.time() < end:
            await asyncio.sleep(0.01)

    async def handle(self, payload: bytes) -> dict | None:
        """Runs on the socket's loop; the work runs on the main loop and is awaited, not
        blocked on. Returns the answer to send back (a card press), None for plain events."""
        try:
            body = json.loads(payload)
            event_id, event_type, message_id, lane = envelope_keys(body)
        except (ValueError, EventShapeError):
            log.warning("long connection: unreadable event dropped")
            return None
        if self.closing:
            raise Stopping(event_id)
        future = asyncio.run_coroutine_threadsafe(
            self.ingress.accept(body, event_id, event_type, message_id, lane, source="ws"), self.loop)
        response = await asyncio.wait_for(asyncio.wrap_future(future), HANDLE_WITHIN)
        if response.status >= 500:
            raise RuntimeError("inbox unavailable")  # answered 500; Feishu redelivers
        answer = json.loads(response.body or b"{}")
        return answer or None


def client_class():
    """lark.ws.Client whose data frames await the handler instead of blocking the loop."""
    import lark_oapi as lark
    from lark_oapi.core.json import JSON
    from lark_oapi.ws import client as ws_client
    from lark_oapi.ws.enum import MessageType

    class Client(lark.ws.Client):
        feed: InboxFeed

        async def _handle_data_frame(self, frame) -> None:  # same frame protocol as the SDK's
            hs = frame.headers
            msg_id = ws_client._get_by_key(hs, ws_client.HEADER_MESSAGE_ID)
            sum_ = ws_client._get_by_key(hs, ws_client.HEADER_SUM)
            seq = ws_client._get_by_key(hs, ws_client.HEADER_SEQ)
            type_ = ws_client._get_by_key(hs, ws_client.HEADER_TYPE)
            pl = frame.payload
            if int(sum_) > 1:  # a payload split over several frames
                pl = self._combine(msg_id, int(sum_), int(seq), pl)
                if pl is None:
                    return
            if MessageType(type_) != MessageType.EVENT:
                return  # CARD frames (the old card protocol) are not answered by the SDK either
            with self.feed.holding():
                await self._answer(frame, hs, pl)

        async def _answer(self, frame, hs, pl) -> None:
            resp = ws_client.Response(code=http.HTTPStatus.OK)
            try:
                started = time.monotonic()
                result = await self.feed.handle(pl)
                header = hs.add()
                header.key = ws_client.HEADER_BIZ_RT
                header.value = str(int((time.monotonic() - started) * 1000))
                if result is not None:
                    resp.data = base64.b64encode(JSON.marshal(result).encode("utf-8"))
            except Stopping as exc:
                log.info("long connection: stopping, event %s answered 500 to come again", exc)
                resp = ws_client.Response(code=http.HTTPStatus.INTERNAL_SERVER_ERROR)
            except Exception:  # noqa: BLE001 - Feishu redelivers an event answered 500
                log.warning("long connection: event not stored, answered 500", exc_info=True)
                resp = ws_client.Response(code=http.HTTPStatus.INTERNAL_SERVER_ERROR)
            frame.payload = JSON.marshal(resp).encode("utf-8")
            await self._write_message(frame.SerializeToString())

    return Client


class LongConnection:
    def __init__(self, settings: Settings, ingress: Ingress, loop: asyncio.AbstractEventLoop,
                 metrics=None) -> None:
        self.settings, self.feed, self.metrics = settings, InboxFeed(ingress, loop), metrics
        self.thread = threading.Thread(target=self._run, name="feishu-ws", daemon=True)
        self.client = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping = False
        self._stopped = threading.Event()  # wakes the retry wait at once on stop()
        self.starts = 0

    @property
    def connected(self) -> bool:
        """True while the socket is up (the SDK keeps it in _conn, None while down)."""
        client = self.client
        return bool(self.thread.is_alive() and client is not None and getattr(client, "_conn", None) is not None)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        import lark_oapi as lark
        import lark_oapi.ws.client as ws_client

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ws_client.loop = loop
        self.loop = loop
        if self.metrics is not None:
            self.metrics.longconn_connected.set_function(lambda: float(self.connected))
        backoff = 1.0
        while not self.stopping:
            client = client_class()(self.settings.app_id, self.settings.app_secret, event_handler=None,
                                    domain=self.settings.domain, log_level=lark.LogLevel.INFO,
                                    auto_reconnect=True)
            client.feed = self.feed
            if self.metrics is not None:
                client.on_reconnecting = self.metrics.longconn_reconnects.inc
            self.client = client
            self.starts += 1
            log.info("long connection starting")
            began = time.monotonic()
            try:
                client.start()  # returns only when the SDK gives up
            except Exception as exc:  # noqa: BLE001 - bad credentials, Feishu unreachable, ...
                log.error("long connection failed (%s); retrying in %.0f s", exc.__class__.__name__, backoff)
            if self.stopping:
                break
            if time.monotonic() - began > 300:
                backoff = 1.0  # it ran for a while: this is a fresh failure
            self._stopped.wait(backoff)  # this thread only; stop() ends the wait
            backoff = min(backoff * 2, 60.0)

    def stop(self) -> None:
        """Close the connection and do not reconnect."""
        self.stopping = True
        self._stopped.set()
        client, loop = self.client, self.loop
        if client is None or loop is None or loop.is_closed():
            return
        client._auto_reconnect = False
        asyncio.run_coroutine_threadsafe(client._disconnect(), loop)

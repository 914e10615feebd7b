"""What every HTTP request of the bot (and the sandbox) goes through before its handler: one
middleware (``guard``), so a webhook delivery pays for one layer, not four.

* a request id: the caller's ``X-Request-Id`` when it is a plain token, else a new one, put in
  the log context and echoed in the response header, so a webhook delivery can be found in the
  logs;
* no 500s: an unexpected error is logged and answered 503 with a short JSON error, never a
  traceback;
* the /metrics token: with BOT_METRICS_TOKEN set, /metrics answers only
  ``Authorization: Bearer <token>``;
* the body's deadline: the body must arrive within BOT_HTTP_TIMEOUT seconds, else 408; a client
  that trickles bytes (slow-loris) cannot hold a handler. Headers have the same limit through
  the server's keep-alive timeout (bot.server.serve).
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import random
import re
from typing import Awaitable, Callable

from aiohttp import web

from bot import logs

log = logging.getLogger("bot.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
STREAMED = ("multipart/form-data",)  # read by the handler part by part: the whole call is timed


def guard(metrics_token: str, body_seconds: float):
    """The middleware (see the module docstring)."""
    bearer = f"Bearer {metrics_token}".encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("X-Request-Id", "")
        # An id to find a request in the logs, not a secret: the fast generator will do.
        request_id = given if given and _PLAIN_ID.match(given) else f"{random.getrandbits(64):016x}"
        token = logs.bind(request_id=request_id)
        try:
            response = await _guarded(request, handler)
        except web.HTTPException:
            raise
        except Exception:  # noqa: BLE001
            log.exception("unhandled error in %s %s", request.method, request.path)
            response = web.json_response({"error": "internal error"}, status=503)
        finally:
            logs.unbind(token)
        if not response.prepared:
            response.headers["X-Request-Id"] = request_id
        return response

    async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if metrics_token and request.path == "/metrics":
            if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), bearer):
                return web.json_response({"error": "unauthorized"}, status=401,
                                         headers={"WWW-Authenticate": "Bearer"})
        if not request.body_exists or request.content.is_eof():  # (all of it arrived: no wait to time)
            return await handler(request)
        try:
            if request.content_type in STREAMED:
                async with asyncio.timeout(body_seconds):
                    return await handler(request)
            async with asyncio.timeout(body_seconds):
                await request.read()  # kept by aiohttp: the handler's read() returns it at once
        except TimeoutError:
            return web.json_response({"error": "the request body did not arrive in time"}, status=408,
                                     headers={"Connection": "close"})
        return await handler(request)

    return middleware

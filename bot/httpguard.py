"""What every HTTP request of the bot (and the sandbox) goes through before its handler.

* ``request_ids``: each request gets an id (the caller's ``X-Request-Id`` when it is a plain
  token, else a new one), put in the log context and echoed in the response header, so a
  webhook delivery can be found in the logs.
* ``body_timeout(seconds)``: the body must arrive within ``seconds`` (BOT_HTTP_TIMEOUT), else
  408; a client that trickles bytes (slow-loris) cannot hold a handler. Headers have the same
  limit through the server's keep-alive timeout (bot.server.serve).
* ``metrics_guard(token)``: with BOT_METRICS_TOKEN set, /metrics answers only
  ``Authorization: Bearer <token>``.
"""
from __future__ import annotations

import asyncio
import hmac
import random
import re
from typing import Awaitable, Callable

from aiohttp import web

from bot import logs

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
STREAMED = ("multipart/form-data",)  # read by the handler part by part: the whole call is timed


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get("X-Request-Id", "")
    # An id to find a request in the logs, not a secret: the fast generator will do.
    request_id = given if given and _PLAIN_ID.match(given) else f"{random.getrandbits(64):016x}"
    with logs.bound(request_id=request_id):
        response = await handler(request)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    return response


def body_timeout(seconds: float):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists or request.content.is_eof():  # (all of it arrived: no wait to time)
            return await handler(request)
        try:
            if request.content_type in STREAMED:
                async with asyncio.timeout(seconds):
                    return await handler(request)
            async with asyncio.timeout(seconds):
                await request.read()  # kept by aiohttp: the handler's read() returns it at once
        except TimeoutError:
            return web.json_response({"error": "the request body did not arrive in time"}, status=408,
                                     headers={"Connection": "close"})
        return await handler(request)

    return middleware


def metrics_guard(token: str):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token and request.path == "/metrics":
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return web.json_response({"error": "unauthorized"}, status=401,
                                         headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return middleware

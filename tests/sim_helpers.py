"""Helpers for tests that talk to the Feishu simulator: serving an aiohttp app on a free port,
a lark-oapi client pointed at the simulator, and a tiny event receiver that checks the
signature and decrypts exactly as a real webhook must."""
from __future__ import annotations

import json
from typing import Any, Callable

import aiohttp
from aiohttp import web
import lark_oapi as lark
from lark_oapi.core.model import RequestOption

from bot.feishu import crypto


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start ``app`` on 127.0.0.1 with a free port; returns (runner, base URL)."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


def lark_client(base_url: str, app_id: str = "cli_sandbox", app_secret: str = "sandbox-secret") -> lark.Client:
    """A real lark-oapi client aimed at the simulator. Tokens are passed per call (see option())
    because the SDK would otherwise fetch them with blocking requests inside the event loop."""
    return (lark.Client.builder().app_id(app_id).app_secret(app_secret).domain(base_url)
            .enable_set_token(True).log_level(lark.LogLevel.ERROR).build())


async def fetch_token(base_url: str, app_id: str = "cli_sandbox", app_secret: str = "sandbox-secret") -> str:
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base_url}/open-apis/auth/v3/tenant_access_token/internal",
                          json={"app_id": app_id, "app_secret": app_secret}) as r:
            data = await r.json()
    assert data["code"] == 0, data
    return str(data["tenant_access_token"])


def option(token: str) -> RequestOption:
    return RequestOption.builder().tenant_access_token(token).build()


async def get_json(url: str, **kw: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s:
        async with s.get(url, **kw) as r:
            return r.status, await r.json(content_type=None)


async def send_json(method: str, url: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s:
        async with s.request(method, url, json=body, **kw) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, text


class Receiver:
    """Stands in for the bot's webhook: verifies X-Lark-Signature over the raw body, decrypts,
    checks the verification token, records the event and answers with ``respond(payload)``."""

    def __init__(self, encrypt_key: str | None, token: str | None,
                 respond: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.encrypt_key = encrypt_key
        self.token = token
        self.respond = respond or (lambda payload: {})
        self.events: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.rejected: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.headers.append(dict(request.headers))
        if self.encrypt_key:
            ok = crypto.signature_ok(request.headers.get("X-Lark-Request-Timestamp", ""),
                                     request.headers.get("X-Lark-Request-Nonce", ""),
                                     self.encrypt_key, raw, request.headers.get("X-Lark-Signature", ""))
            if not ok:
                self.rejected.append("signature")
                return web.json_response({"error": "bad signature"}, status=401)
            payload = json.loads(crypto.decrypt(self.encrypt_key, json.loads(raw)["encrypt"]))
        else:
            payload = json.loads(raw)
        given = payload.get("token") if payload.get("type") == "url_verification" else payload["header"]["token"]
        if self.token and not crypto.token_ok(self.token, given):
            self.rejected.append("token")
            return web.json_response({"error": "bad token"}, status=401)
        self.events.append(payload)
        if payload.get("type") == "url_verification":
            return web.json_response({"challenge": payload["challenge"]})
        return web.json_response(self.respond(payload))

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("header", {}).get("event_type") == event_type]

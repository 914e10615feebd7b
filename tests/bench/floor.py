"""The floor for a handled command (tests/bench/bench_cpu.py): a bare aiohttp process that does
the least any bot on this stack must do per "@LiveOps /ping", and nothing else.

It answers each webhook POST with a 200 and, for a message event, replies once through the
open API (aiohttp's client, the tenant token read once at start), as the bot's reply does. No
signature check, no database, no inbox, no outbox, no logging: its CPU per command is what
receiving one HTTP request and making one HTTP call cost on this machine, wakes included.

Run:  python -m tests.bench.floor --port P --feishu URL --app-id ID --app-secret S
"""
from __future__ import annotations

import argparse
import asyncio
import json

import aiohttp
from aiohttp import web


async def serve(args) -> None:
    client = aiohttp.ClientSession()
    async with client.post(f"{args.feishu}/open-apis/auth/v3/tenant_access_token/internal",
                           json={"app_id": args.app_id, "app_secret": args.app_secret}) as resp:
        token = (await resp.json())["tenant_access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    tasks: set[asyncio.Task] = set()

    async def reply(message_id: str) -> None:
        body = {"msg_type": "text", "content": json.dumps({"text": "在的"}, ensure_ascii=False)}
        async with client.post(f"{args.feishu}/open-apis/im/v1/messages/{message_id}/reply", json=body,
                               headers=headers) as resp:
            await resp.read()

    async def events(request: web.Request) -> web.Response:
        payload = await request.json()
        message = (payload.get("event") or {}).get("message") or {}
        if message.get("message_id"):
            task = asyncio.create_task(reply(message["message_id"]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return web.json_response({})

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/feishu/events", events)
    app.router.add_get("/readyz", ready)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await client.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--feishu", required=True)
    ap.add_argument("--app-id", required=True)
    ap.add_argument("--app-secret", required=True)
    try:
        asyncio.run(serve(ap.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""``liveops doctor`` against the simulator: a tenant with some scopes missing, a contact range
without the admin, and the request-URL check, through the function and through the CLI."""
from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

import pytest
from aiohttp import web

from bot import cli, doctor
from bot.config import Settings
from bot.feishu import crypto
from bot.feishu.scopes import PROBES, needed_scopes
from bot.sim.server import FeishuSimulator

from .sim_helpers import serve

KEY, TOKEN = "doctor-encrypt-key", "doctor-token"


class Answerer:
    """A request URL that answers Feishu's check the way it must (decrypt, check the token,
    answer the challenge), or wrongly."""

    def __init__(self, right: bool = True) -> None:
        self.right = right
        self.headers: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        body = json.loads(crypto.decrypt(KEY, (await request.json())["encrypt"]))
        if not self.right or body.get("token") != TOKEN:
            return web.json_response({"error": "missing signature headers"}, status=401)
        return web.json_response({"challenge": body["challenge"]})


@pytest.fixture
async def sim() -> AsyncIterator[FeishuSimulator]:
    s = FeishuSimulator(app_id="cli_doctor0000001", app_secret="doctor-secret", encrypt_key=KEY,
                        verification_token=TOKEN)
    s.url = await s.start()
    s.add_user("王运营", open_id="ou_admin")
    yield s
    await s.stop()


def settings_for(sim: FeishuSimulator, **kw) -> Settings:
    return Settings(app_id=sim.app_id, app_secret=sim.app_secret, encrypt_key=KEY, verification_token=TOKEN,
                    domain=sim.url, admins=("ou_admin",), **kw)


async def run(settings: Settings, **kw) -> tuple[int, str]:
    lines: list[str] = []
    code = await doctor.run(settings, out=lines.append, **kw)
    return code, "\n".join(lines)


async def test_all_set(sim):
    answerer = Answerer()
    app = web.Application()
    app.router.add_post("/feishu/events", answerer.handle)
    runner, url = await serve(app)
    try:
        code, text = await run(settings_for(sim), url=f"{url}/feishu/events", group_messages_seen=False)
    finally:
        await runner.cleanup()
    assert code == 0, text
    probed = [s for s in needed_scopes() if s in PROBES]
    assert len(probed) == 6  # every API scope; the two event scopes have no API to probe
    for scope in probed:
        assert f"[OK] 已开通 {scope}" in text, scope
    assert "请求网址校验通过" in text and "机器人身份" in text and "只收到 @机器人" in text
    # the doctor checks the URL exactly as Feishu does: no signature headers
    assert not any(h.lower().startswith("x-lark") for h in answerer.headers[-1])


async def test_missing_scopes_contact_range_and_a_wrong_url(sim):
    sim.scopes -= {"task:task:write", "im:message.urgent"}
    sim.contact_range = set()  # the admin is outside the app's contact data range
    answerer = Answerer(right=False)
    app = web.Application()
    app.router.add_post("/feishu/events", answerer.handle)
    runner, url = await serve(app)
    try:
        code, text = await run(settings_for(sim), url=f"{url}/feishu/events")
    finally:
        await runner.cleanup()
    assert code == 1
    assert "[!!] 缺少权限 task:task:write" in text and "missing scope im:message.urgent" in text
    assert "开通 task:task:write" in text  # what to fix, both languages
    assert "[!!]" not in next(line for line in text.splitlines() if "im:chat" in line)
    assert "通讯录权限范围" in text and "contacts range" in text
    assert "请求网址校验失败（HTTP 401）" in text
    assert "未开通可选权限 im:message.urgent:sms" in text  # optional: told, not a failure


async def test_bad_credentials(sim):
    code, text = await run(Settings(app_id=sim.app_id, app_secret="wrong", domain=sim.url))
    assert code == 1 and "拿不到 tenant_access_token" in text


async def test_cli(sim, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no .env here
    for key, value in {"FEISHU_APP_ID": sim.app_id, "FEISHU_APP_SECRET": sim.app_secret, "FEISHU_DOMAIN": sim.url,
                       "FEISHU_ENCRYPT_KEY": KEY, "FEISHU_VERIFICATION_TOKEN": TOKEN, "BOT_ADMINS": "ou_admin",
                       "DATABASE_URL": f"sqlite:///{tmp_path}/none.db"}.items():
        monkeypatch.setenv(key, value)
    sim.scopes.discard("contact:contact.base:readonly")
    code = await asyncio.to_thread(cli.main, ["doctor"])
    out = capsys.readouterr().out
    assert code == 1 and "缺少权限 contact:contact.base:readonly" in out and "未检查请求网址" in out
    sim.scopes.add("contact:contact.base:readonly")
    assert await asyncio.to_thread(cli.main, ["doctor"]) == 0

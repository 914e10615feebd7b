"""The simulator refuses what Feishu refuses, with Feishu's code and HTTP status: each rule of
issue 13, sent with a plain HTTP client or lark-oapi. (Sources are cited next to each rule in
bot/sim/*; docs/feishu-setup.md and the report list them.)"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
import json
from typing import Any, AsyncIterator

from aiohttp import web
from lark_oapi.api.contact.v3 import GetUserRequest
from lark_oapi.api.task.v2 import CreateTaskRequest, InputTask
import pytest

from bot.clock import ManualClock
from bot.feishu import crypto
from bot.sim.server import FeishuSimulator

from .sim_helpers import fetch_token, get_json, lark_client, option, send_json, serve

KEY, VTOKEN = "strict-key", "strict-token"


class Bot:
    """A stand-in request URL: decrypts, records, answers with ``answer`` (after ``delay``)."""

    def __init__(self) -> None:
        self.seen: list[dict] = []
        self.raw: list[dict] = []
        self.headers: list[dict] = []
        self.answer: Any = {}
        self.status = 200
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        body = await request.json()
        self.raw.append(body)
        if "encrypt" in body:
            body = json.loads(crypto.decrypt(KEY, body["encrypt"]))
        self.seen.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if body.get("type") == "url_verification":
            return web.json_response({"challenge": body["challenge"]}, status=self.status)
        return web.json_response(self.answer, status=self.status)

    def types(self) -> list[str]:
        return [b.get("header", {}).get("event_type") or b.get("type") for b in self.seen]


class World:
    def __init__(self, sim: FeishuSimulator, url: str, bot: Bot, token: str) -> None:
        self.sim, self.url, self.bot, self.token = sim, url, bot, token
        self.auth = {"Authorization": f"Bearer {token}"}
        self.alice = sim.add_user("Alice")["open_id"]
        self.bob = sim.add_user("Bob")["open_id"]
        self.outsider = sim.add_user("Carol")["open_id"]
        self.chat = sim.add_chat("Ops", [self.alice, self.bob])["chat_id"]

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict]:
        return await send_json(method, f"{self.url}/open-apis{path}", body, headers=self.auth)

    async def send_card(self, card: dict, chat: str | None = None) -> tuple[int, dict]:
        return await self.call("POST", "/im/v1/messages?receive_id_type=chat_id",
                               {"receive_id": chat or self.chat, "msg_type": "interactive",
                                "content": json.dumps(card, ensure_ascii=False)})


@pytest.fixture
async def w() -> AsyncIterator[World]:
    clock = ManualClock(datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc), frozen=True)
    sim = FeishuSimulator(encrypt_key=KEY, verification_token=VTOKEN, clock=clock)
    url = await sim.start()
    bot = Bot()
    app = web.Application()
    app.router.add_post("/feishu/events", bot.handle)
    runner, burl = await serve(app)
    sim.event_url = f"{burl}/feishu/events"
    world = World(sim, url, bot, await fetch_token(url))
    yield world
    await runner.cleanup()
    await sim.stop()


def card(*elements: dict, **top: Any) -> dict:
    return {"schema": "2.0", "config": {"update_multi": True},
            "header": {"title": {"tag": "plain_text", "content": "T"}}, "body": {"elements": list(elements)}, **top}


def button(value: dict) -> dict:
    return {"tag": "button", "text": {"tag": "plain_text", "content": "OK"},
            "behaviors": [{"type": "callback", "value": value}]}


def refused(status: int, body: dict, code: int, http: int = 400) -> bool:
    return status == http and body.get("code") == code and isinstance(body.get("msg"), str)


# -- the request-URL check -----------------------------------------------------------------------
async def test_url_check_is_encrypted_unsigned_with_the_token_and_wants_an_answer_within_1s(w):
    result = await w.sim.url_check()
    assert result["ok"] and result["status"] == 200
    sent = w.bot.seen[-1]
    assert sent == {"challenge": result["challenge"], "token": VTOKEN, "type": "url_verification"}
    headers = w.bot.headers[-1]
    assert not any(h.startswith("x-lark-") for h in headers)  # no signature, timestamp or nonce
    assert list(w.bot.raw[-1]) == ["encrypt"]  # encrypted with the Encrypt Key
    w.sim.url_check_timeout, w.bot.delay = 0.05, 0.3  # an answer later than the limit fails
    assert not (await w.sim.url_check())["ok"]
    w.bot.delay, w.bot.status = 0.0, 401
    assert not (await w.sim.url_check())["ok"]


# -- which group messages arrive ---------------------------------------------------------------
async def test_only_mentions_arrive_by_default_all_with_group_msg_direct_always(w):
    plain = await w.sim.send_text(w.chat, "Alice", "/排期 本周")
    assert plain["delivery"] is None and w.bot.seen == []
    await w.sim.send_text(w.chat, "Alice", "@LiveOps 排期 本周")
    assert len(w.bot.seen) == 1
    await w.sim.send_text(w.sim.p2p_chat(w.alice)["chat_id"], "Alice", "帮助")
    assert len(w.bot.seen) == 2
    w.sim.group_msg = True  # the tenant admin approved im:message.group_msg
    await w.sim.send_text(w.chat, "Alice", "随便聊聊")
    assert len(w.bot.seen) == 3
    w.sim.scopes.discard("im:message.p2p_msg:readonly")
    await w.sim.send_text(w.sim.p2p_chat(w.alice)["chat_id"], "Alice", "帮助")
    assert len(w.bot.seen) == 3
    status, scopes = await get_json(f"{w.url}/_sim/scopes")
    assert status == 200 and scopes["group_msg"] is True


# -- scopes ------------------------------------------------------------------------------------
async def test_a_missing_scope_is_refused_with_99991672_and_the_hint(w):
    client, opt = lark_client(w.url), option(w.token)
    w.sim.scopes -= {"contact:contact.base:readonly", "task:task:write"}
    user = await client.contact.v3.user.aget(
        GetUserRequest.builder().user_id(w.alice).user_id_type("open_id").build(), opt)
    assert user.code == 99991672 and user.raw.status_code == 400
    assert "contact:contact.base:readonly" in user.msg and "contact:contact:readonly_as_app" in user.msg
    body = json.loads(user.raw.content)
    assert body["error"]["permission_violations"][0] == {"type": "action_scope_required",
                                                         "subject": "contact:contact.base:readonly"}
    task = await client.task.v2.task.acreate(
        CreateTaskRequest.builder().user_id_type("open_id").request_body(InputTask.builder().summary("x").build())
        .build(), opt)
    assert task.code == 99991672 and "task:task:write" in task.msg and "task:task:writeonly" in task.msg
    w.sim.scopes.add("contact:contact.base:readonly")
    w.sim.contact_range = {w.bob}  # outside the app's contact data range
    user = await client.contact.v3.user.aget(
        GetUserRequest.builder().user_id(w.alice).user_id_type("open_id").build(), opt)
    assert user.code == 41050


async def test_reading_a_group_message_needs_group_msg(w):
    status, sent = await w.call("POST", "/im/v1/messages?receive_id_type=chat_id",
                                {"receive_id": w.chat, "msg_type": "text", "content": '{"text":"hi"}'})
    status, body = await w.call("GET", f"/im/v1/messages/{sent['data']['message_id']}")
    assert refused(status, body, 99991672) and "im:message.group_msg" in body["msg"]
    status, direct = await w.call("POST", "/im/v1/messages?receive_id_type=open_id",
                                  {"receive_id": w.alice, "msg_type": "text", "content": '{"text":"hi"}'})
    status, body = await w.call("GET", f"/im/v1/messages/{direct['data']['message_id']}")
    assert status == 200 and body["code"] == 0  # a direct chat's message needs no more
    w.sim.group_msg = True
    status, body = await w.call("GET", f"/im/v1/messages/{sent['data']['message_id']}")
    assert status == 200 and body["code"] == 0


# -- card lifetime -----------------------------------------------------------------------------
async def test_cards_older_than_14_days_cannot_be_patched_or_pressed(w):
    status, sent = await w.send_card(card(button({"a": "x"})))
    mid = sent["data"]["message_id"]
    await w.sim.clock.advance(14 * 86400 - 60)
    status, body = await w.call("PATCH", f"/im/v1/messages/{mid}", {"content": json.dumps(card(button({"a": "x"})))})
    assert status == 200 and body["code"] == 0
    await w.sim.clock.advance(120)
    status, body = await w.call("PATCH", f"/im/v1/messages/{mid}", {"content": json.dumps(card())})
    assert refused(status, body, 230031)
    result = await w.sim.press(mid, "Alice", {"a": "x"})
    assert result["expired"] and result["response"] is None and w.bot.types().count("card.action.trigger") == 0
    assert result["toast"]["source"] == "feishu"


# -- card callbacks ----------------------------------------------------------------------------
async def test_a_callback_is_delivered_once_its_toast_shown_and_its_card_applied(w):
    status, sent = await w.send_card(card(button({"a": "x"})))
    mid = sent["data"]["message_id"]
    w.bot.answer = {"toast": {"type": "success", "content": "已认领"},
                    "card": {"type": "raw", "data": card({"tag": "markdown", "content": "done"})}}
    status, pressed = await send_json("POST", f"{w.url}/_sim/cards/{mid}/actions", {"user": w.alice, "value": {"a": "x"}})
    assert status == 200 and pressed["toast"]["content"] == "已认领" and pressed["toast"]["user"] == w.alice
    assert pressed["message"]["content"]["body"]["elements"][0]["content"] == "done"
    status, toasts = await get_json(f"{w.url}/_sim/toasts?user={w.alice}")
    assert [t["content"] for t in toasts] == ["已认领"] and w.sim.message(mid)["toasts"][0]["type"] == "success"


async def test_a_failed_callback_shows_feishus_error_and_is_never_retried(w):
    status, sent = await w.send_card(card(button({"a": "x"})))
    mid = sent["data"]["message_id"]
    w.bot.status = 503
    result = await w.sim.press(mid, "Alice", {"a": "x"})
    assert result["toast"]["type"] == "error" and result["toast"]["source"] == "feishu"
    w.sim.callback_timeout, w.bot.status, w.bot.delay = 0.05, 200, 0.3  # too slow: also an error
    result = await w.sim.press(mid, "Alice", {"a": "x"})
    assert result["toast"]["type"] == "error"
    await asyncio.sleep(0.4)  # let the slow answer finish; nothing is sent again
    assert w.bot.types().count("card.action.trigger") == 2
    assert w.sim.stats["callbacks_failed"] == 2


# -- rate limits -------------------------------------------------------------------------------
async def test_each_api_has_its_own_second_and_minute_windows(w):
    w.sim.per_app_qps, w.sim.per_app_qpm = 3, 1000
    codes = [(await w.call("GET", "/bot/v3/info"))[1].get("code") for _ in range(4)]
    assert codes == [0, 0, 0, 99991400]
    async with __import__("aiohttp").ClientSession() as s:
        async with s.get(f"{w.url}/open-apis/bot/v3/info", headers=w.auth) as r:
            assert r.status == 429 and r.headers["x-ogw-ratelimit-limit"] == "3"
            assert int(r.headers["x-ogw-ratelimit-reset"]) >= 1
    # another API is not affected
    status, body = await w.call("GET", f"/im/v1/chats/{w.chat}")
    assert status == 200 and body["code"] == 0
    w.sim.reset_rate_limits()
    w.sim.per_app_qps, w.sim.per_app_qpm = 50, 2  # the minute window trips on its own
    results = [await w.call("GET", f"/im/v1/chats/{w.chat}") for _ in range(3)]
    assert [b["code"] for _, b in results] == [0, 0, 99991400] and results[-1][0] == 429


async def test_five_sends_a_second_per_chat_and_five_patches_a_second_per_message(w):
    results = await asyncio.gather(*[w.call("POST", "/im/v1/messages?receive_id_type=chat_id",
                                            {"receive_id": w.chat, "msg_type": "text", "content": '{"text":"x"}'})
                                     for _ in range(7)])
    assert sorted(b["code"] for _, b in results) == [0] * 5 + [230020] * 2
    w.sim.reset_rate_limits()
    status, sent = await w.send_card(card())
    mid = sent["data"]["message_id"]
    patches = await asyncio.gather(*[w.call("PATCH", f"/im/v1/messages/{mid}", {"content": json.dumps(card())})
                                     for _ in range(7)])
    assert sorted(b["code"] for _, b in patches) == [0] * 5 + [230020] * 2


# -- temporary codes ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind,status,code", [("230049", 400, 230049), ("232068", 400, 232068),
                                              ("232019", 400, 232019), ("1470422", 400, 1470422),
                                              ("99991400", 429, 99991400), ("5xx", 502, None)])
async def test_temporary_codes_can_be_injected(w, kind, status, code):
    w.sim.faults.add(kind, path_contains="/im/v1/messages")
    got_status, body = await w.call("POST", "/im/v1/messages?receive_id_type=chat_id",
                                    {"receive_id": w.chat, "msg_type": "text", "content": '{"text":"x"}'})
    assert got_status == status and (code is None or body["code"] == code)


async def test_timeouts_can_be_injected(w):
    w.sim.faults.add("timeout", seconds=0.05)
    status, _ = await w.call("GET", "/bot/v3/info")
    assert status == 504


# -- buzz --------------------------------------------------------------------------------------
async def test_buzz_needs_a_target_in_the_chat_and_the_groups_permission(w):
    status, sent = await w.send_card(card())
    mid = sent["data"]["message_id"]
    status, body = await w.call("PATCH", f"/im/v1/messages/{mid}/urgent_app?user_id_type=open_id",
                                {"user_id_list": [w.outsider]})
    assert refused(status, body, 230001)
    status, body = await w.call("PATCH", f"/im/v1/messages/{mid}/urgent_app?user_id_type=open_id",
                                {"user_id_list": [w.alice, w.outsider]})
    assert body["code"] == 0 and body["data"]["invalid_user_id_list"] == [w.outsider]
    await send_json("POST", f"{w.url}/_sim/chats/{w.chat}/settings", {"urgent_setting": "only_owner"})
    status, body = await w.call("PATCH", f"/im/v1/messages/{mid}/urgent_app?user_id_type=open_id",
                                {"user_id_list": [w.alice]})
    assert refused(status, body, 230052)
    # a group the bot created as its manager (set_bot_manager=true) lets it buzz
    status, made = await w.call("POST", "/im/v1/chats?user_id_type=open_id&set_bot_manager=true",
                                {"name": "故障", "user_id_list": [w.alice], "urgent_setting": "only_owner"})
    status, sent = await w.send_card(card(), chat=made["data"]["chat_id"])
    status, body = await w.call("PATCH", f"/im/v1/messages/{sent['data']['message_id']}/urgent_app?user_id_type=open_id",
                                {"user_id_list": [w.alice]})
    assert body["code"] == 0


# -- card limits and schema --------------------------------------------------------------------
async def test_every_element_counts_plain_text_included(w):
    buttons = [button({"i": i}) for i in range(66)]  # 66 × (button + plain_text) + header title = 133
    status, body = await w.send_card(card(*buttons))
    assert status == 200 and body["code"] == 0
    status, body = await w.send_card(card(*[button({"i": i}) for i in range(100)]))  # 201 with the title
    assert refused(status, body, 230099) and "201 elements" in body["msg"]


async def test_the_request_body_is_at_most_30_kb(w):
    status, body = await w.send_card(card({"tag": "markdown", "content": "字" * 10000}))
    assert refused(status, body, 230025)


@pytest.mark.parametrize("element,path", [
    ({"tag": "markdown", "content": "x", "colour": "red"}, "body.elements[0]"),
    ({"tag": "button", "text": {"tag": "plain_text", "content": "x", "bold": True},
      "behaviors": [{"type": "callback", "value": {}}]}, "body.elements[0].text"),
    ({"tag": "column_set", "columns": [{"tag": "column", "elements": [{"tag": "form", "name": "f", "elements": []}]}]},
     "body.elements[0].columns[0].elements[0]"),
    ({"tag": "action", "actions": []}, "body.elements[0]"),
    ({"tag": "button", "text": {"tag": "plain_text", "content": "x"}, "value": {"a": 1}}, "body.elements[0]"),
])
async def test_unknown_components_and_properties_are_refused_naming_the_path(w, element, path):
    status, body = await w.send_card(card(element))
    assert refused(status, body, 230099) and path in body["msg"], body


async def test_unknown_top_level_property_is_refused(w):
    status, body = await w.send_card(card(extra=1))
    assert refused(status, body, 230099) and "'extra'" in body["msg"]


async def test_the_bot_answers_feishus_url_check(harness):
    """The real bot's ingress, checked the way Feishu checks it when the URL is saved."""
    result = await harness.sim.url_check()
    assert result["ok"], (result["status"], result["response"])

"""Recorded samples (tests/feishu_samples/, from the docs and lark-oapi, each naming its source)
against the bot's parser and the simulator — the way opsdroid keeps recorded Slack payloads:
the parser reads every sample and extracts the right fields; the simulator's own events and
responses have the samples' shape (no key the docs do not show, the same JSON types)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
from aiohttp import web
import pytest

from bot.feishu import events
from bot.sim.server import FeishuSimulator
from lark_oapi.core.json import JSON
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTrigger, P2CardActionTriggerResponse

from .sim_helpers import fetch_token, get_json, send_json, serve

SAMPLES = Path(__file__).parent / "feishu_samples"
BOT = "ou_bot_sample_0000000000000000000001"


def load(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text("utf-8"))


def bare(sample: dict) -> dict:
    return {k: v for k, v in sample.items() if not k.startswith("_")}


def event_samples() -> list[str]:
    return sorted(p.name for p in (SAMPLES / "events").glob("*.json"))


def kind(value: Any) -> str:
    return {bool: "bool", int: "number", float: "number", str: "string", type(None): "null",
            dict: "object", list: "array"}[type(value)]


def within(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where ``ours`` has a key the sample does not have, or a different JSON type."""
    if kind(ours) != kind(theirs):
        return [f"{path or '.'}: {kind(ours)} here, {kind(theirs)} in the sample"]
    problems: list[str] = []
    if isinstance(ours, dict):
        for key, value in ours.items():
            if key not in theirs:
                problems.append(f"{path}.{key}: not in the sample")
            else:
                problems += within(value, theirs[key], f"{path}.{key}")
    elif isinstance(ours, list) and ours and theirs:
        problems += within(ours[0], theirs[0], f"{path}[0]")
    return problems


# -- the parser --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", event_samples())
def test_every_sample_names_its_source(name):
    assert len(load(f"events/{name}")["_source"]) > 20


@pytest.mark.parametrize("name", [n for n in event_samples() if n != "url_verification.json"])
def test_the_parser_reads_every_event_sample(name):
    sample = load(f"events/{name}")
    body, expect = bare(sample), sample["_expect"]
    event_id, event_type, message_id, lane = events.envelope_keys(body)
    assert event_id == body["header"]["event_id"] and event_type == body["header"]["event_type"]
    parsed = events.parse(body, BOT)
    assert type(parsed).__name__ == expect["kind"]
    if isinstance(parsed, events.IncomingMessage):
        assert message_id == body["event"]["message"]["message_id"] and lane == body["event"]["message"]["chat_id"]
        assert parsed.sender_id == body["event"]["sender"]["sender_id"]["open_id"]
        assert parsed.msg_type == body["event"]["message"]["message_type"]
        assert parsed.create_time_ms == 1609073151345
        for field in ("bot_mentioned", "text", "chat_type", "file_key", "file_name", "parent_id", "sender_id"):
            if field in expect:
                assert getattr(parsed, field) == expect[field], field
        if "image_keys" in expect:
            assert list(parsed.image_keys) == expect["image_keys"]
        if "mentions" in expect:
            assert [m.name for m in parsed.mentions] == expect["mentions"]
    elif isinstance(parsed, events.CardAction):
        assert parsed.chat_id == body["event"]["context"]["open_chat_id"]
        for field in ("value", "form_value", "message_id", "operator_id", "token"):
            if field in expect:
                assert getattr(parsed, field) == expect[field], field
    elif isinstance(parsed, events.BotAdded):
        assert (parsed.chat_id, parsed.operator_id, parsed.name) == (
            expect["chat_id"], expect["operator_id"], expect["name"])


def test_the_sdk_reads_the_card_samples():
    """lark-oapi's own models read the callback samples (the shapes come from them)."""
    event = JSON.unmarshal(json.dumps(bare(load("events/card_action_trigger_form.json"))), P2CardActionTrigger)
    assert event.event.action.form_value == {"cause": "推流码过期", "fix": "更新推流码"}
    answer = JSON.unmarshal(json.dumps(bare(load("callbacks/response_card.json"))), P2CardActionTriggerResponse)
    assert answer.card.type == "raw" and answer.toast.type == "info"


# -- the simulator against the samples --------------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.answer: dict = {}

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.json_response(self.answer)


@pytest.fixture
async def world() -> AsyncIterator[tuple[FeishuSimulator, Recorder, str]]:
    sim = FeishuSimulator(group_msg=True)  # plain events: the envelope is readable as sent
    url = await sim.start()
    rec = Recorder()
    app = web.Application()
    app.router.add_post("/events", rec.handle)
    runner, rurl = await serve(app)
    sim.event_url = f"{rurl}/events"
    yield sim, rec, url
    await runner.cleanup()
    await sim.stop()


def assert_same_shape(ours: dict, sample_name: str) -> None:
    problems = within(ours, bare(load(sample_name)))
    assert problems == [], problems


async def test_simulator_events_have_the_samples_shape(world):
    sim, rec, _ = world
    alice = sim.add_user("Alice", open_id="ou_alice_000000000000000000000001")
    chat = sim.add_chat("Ops", [alice["open_id"]])["chat_id"]
    await sim.send_text(chat, "Alice", "@LiveOps /排期 本周 @Alice")
    assert_same_shape(rec.bodies[-1], "events/im_message_receive_text_mentions.json")
    first = rec.bodies[-1]["event"]["message"]["message_id"]
    await sim.send_text(chat, "Alice", "@LiveOps 导入", parent_id=first)
    assert_same_shape(rec.bodies[-1], "events/im_message_receive_reply.json")
    await sim.upload_file(chat, "Alice", "罗盘.csv", b"a,b\n1,2\n")
    assert_same_shape(rec.bodies[-1], "events/im_message_receive_file.json")
    await sim.send_image(chat, "Alice", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    assert_same_shape(rec.bodies[-1], "events/im_message_receive_image.json")
    await sim.send_post(chat, "Alice", "故障", ["@LiveOps 3号直播间黑屏"])
    assert_same_shape(rec.bodies[-1], "events/im_message_receive_post_event_form.json")
    other = sim.add_chat("New", [alice["open_id"]], with_bot=False)["chat_id"]
    await sim.add_bot_to_chat(other, "Alice")
    assert_same_shape(rec.bodies[-1], "events/im_chat_member_bot_added.json")


async def test_simulator_callbacks_and_their_answers(world):
    sim, rec, url = world
    alice = sim.add_user("Alice")
    chat = sim.add_chat("Ops", [alice["open_id"]])["chat_id"]
    token = await fetch_token(url)
    card = {"schema": "2.0", "body": {"elements": [{"tag": "form", "name": "f", "elements": [
        {"tag": "input", "name": "cause"},
        {"tag": "button", "text": {"tag": "plain_text", "content": "OK"}, "form_action_type": "submit",
         "name": "f_submit", "behaviors": [{"type": "callback", "value": {"a": "x"}}]}]}]}}
    status, sent = await send_json("POST", f"{url}/open-apis/im/v1/messages?receive_id_type=chat_id",
                                   {"receive_id": chat, "msg_type": "interactive", "content": json.dumps(card)},
                                   headers={"Authorization": f"Bearer {token}"})
    assert status == 200, sent
    assert_same_shape(sent, "api/send_message_ok.json")
    rec.answer = bare(load("callbacks/response_card.json"))
    result = await sim.press(sent["data"]["message_id"], "Alice", {"a": "x"}, {"cause": "推流码过期"})
    assert_same_shape(rec.bodies[-1], "events/card_action_trigger_form.json")
    assert result["toast"]["content"] == "已更新"  # the answer's toast was shown to the presser
    assert sim.message(sent["data"]["message_id"])["content"]["header"]["title"]["content"] == "已认领"
    rec.answer = bare(load("callbacks/response_toast.json"))
    sim.state.messages[sent["data"]["message_id"]].content = json.dumps(card)
    result = await sim.press(sent["data"]["message_id"], "Alice", {"a": "x"})
    assert result["toast"]["type"] == "success"


async def test_simulator_responses_have_the_samples_shape(world):
    sim, _, url = world
    status, body = await send_json("POST", f"{url}/open-apis/auth/v3/tenant_access_token/internal",
                                   {"app_id": sim.app_id, "app_secret": sim.app_secret})
    assert status == 200
    assert_same_shape(body, "api/tenant_access_token_ok.json")
    auth = {"Authorization": f"Bearer {body['tenant_access_token']}"}
    status, info = await get_json(f"{url}/open-apis/bot/v3/info", headers=auth)
    assert_same_shape(info, "api/bot_info_ok.json")
    alice = sim.add_user("Alice")
    chat = sim.add_chat("Ops", [alice["open_id"]])["chat_id"]
    status, sent = await send_json("POST", f"{url}/open-apis/im/v1/messages?receive_id_type=chat_id",
                                   {"receive_id": chat, "msg_type": "text", "content": '{"text":"test content"}'},
                                   headers=auth)
    mid = sent["data"]["message_id"]
    status, got = await get_json(f"{url}/open-apis/im/v1/messages/{mid}", headers=auth)
    assert status == 200
    assert_same_shape(got, "api/get_message_ok.json")
    status, pin = await send_json("POST", f"{url}/open-apis/im/v1/pins", {"message_id": mid}, headers=auth)
    assert_same_shape(pin, "api/pin_ok.json")
    # refusals: status and body shape as documented
    sim.scopes.discard("contact:contact.base:readonly")
    status, denied = await get_json(f"{url}/open-apis/contact/v3/users/{alice['open_id']}", headers=auth)
    sample = load("api/error_99991672_scope.json")
    assert status == sample["_status"] and denied["code"] == 99991672
    assert denied["msg"].startswith("Access denied. One of the following scopes is required: [")
    assert_same_shape(denied, "api/error_99991672_scope.json")
    sim.per_app_qps = 1
    await get_json(f"{url}/open-apis/im/v1/messages/{mid}", headers=auth)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/open-apis/im/v1/messages/{mid}", headers=auth) as resp:
            status, limited, headers = resp.status, await resp.json(), {k.lower() for k in resp.headers}
    rate = load("api/error_99991400_rate.json")
    assert status == rate["_status"] and all(h in headers for h in rate["_headers"])
    assert_same_shape(limited, "api/error_99991400_rate.json")

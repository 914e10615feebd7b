"""The local Feishu simulator, driven by the real lark-oapi client and a signature-checking
event receiver."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
import io
import json
from typing import Any, AsyncIterator

import aiohttp
from aiohttp import web
import lark_oapi as lark
from lark_oapi.api.contact.v3 import BatchGetIdUserRequest, BatchGetIdUserRequestBody, GetUserRequest
from lark_oapi.api.im.v1 import (
    CreateChatMembersRequest, CreateChatMembersRequestBody, CreateChatRequest, CreateChatRequestBody,
    CreateImageRequest, CreateImageRequestBody, CreateMessageRequest, CreateMessageRequestBody,
    CreatePinRequest, CreatePinRequestBody, GetChatMembersRequest, GetChatRequest, GetMessageRequest,
    GetMessageResourceRequest, PatchMessageRequest, PatchMessageRequestBody, ReplyMessageRequest,
    ReplyMessageRequestBody, UpdateChatRequest, UpdateChatRequestBody, UrgentAppMessageRequest,
    UrgentReceivers)
from lark_oapi.api.task.v2 import (CreateTaskRequest, Due, GetTaskRequest, InputTask, Member,
                                   PatchTaskRequest, PatchTaskRequestBody)
from lark_oapi.core.token.manager import TokenManager
import pytest

from bot.clock import ManualClock
from bot.sim.server import FeishuSimulator
from bot.sim.state import SimError

from .sim_helpers import Receiver, fetch_token, get_json, lark_client, option, send_json, serve

KEY = "sim-encrypt-key"
VTOKEN = "sim-verification-token"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def card(*, buttons: list[dict[str, Any]] | None = None, title: str = "Schedule",
         text: str = "hello", **extra: Any) -> dict[str, Any]:
    elements: list[dict[str, Any]] = [{"tag": "markdown", "content": text}]
    for value in buttons or []:
        elements.append({"tag": "button", "text": {"tag": "plain_text", "content": "OK"},
                         "behaviors": [{"type": "callback", "value": value}]})
    out = {"schema": "2.0", "config": {"update_multi": True},
           "header": {"title": {"tag": "plain_text", "content": title}}, "body": {"elements": elements}}
    out.update(extra)
    return out


class World:
    def __init__(self, sim: FeishuSimulator, url: str, receiver: Receiver, token: str) -> None:
        self.sim, self.url, self.receiver, self.token = sim, url, receiver, token
        self.client = lark_client(url)
        self.opt = option(token)
        self.alice = sim.add_user("Alice", mobile="+8613800000001", email="alice@example.com")
        self.bob = sim.add_user("Bob")
        self.carol = sim.add_user("Carol")
        self.chat = sim.add_chat("Ops", [self.alice["open_id"], self.bob["open_id"]])
        self.chat_id = self.chat["chat_id"]

    async def send(self, receive_id: str, msg_type: str, content: Any, *, id_type: str = "chat_id",
                   uuid: str | None = None) -> Any:
        body = CreateMessageRequestBody.builder().receive_id(receive_id).msg_type(msg_type) \
            .content(content if isinstance(content, str) else json.dumps(content))
        if uuid:
            body = body.uuid(uuid)
        req = CreateMessageRequest.builder().receive_id_type(id_type).request_body(body.build()).build()
        return await self.client.im.v1.message.acreate(req, self.opt)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    # a tenant that approved im:message.group_msg (these tests read group messages back);
    # the @-only default is covered by tests/test_sim_strict.py
    sim = FeishuSimulator(encrypt_key=KEY, verification_token=VTOKEN, group_msg=True, clock=ManualClock(
        datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)))
    url = await sim.start()
    receiver = Receiver(KEY, VTOKEN)
    app = web.Application()
    app.router.add_post("/webhook", receiver.handle)
    runner, rurl = await serve(app)
    sim.event_url = f"{rurl}/webhook"
    w = World(sim, url, receiver, await fetch_token(url))
    try:
        yield w
    finally:
        await runner.cleanup()
        await sim.stop()


# --- Open API through the real SDK ---------------------------------------------------------

async def test_token_endpoint_with_sdk_token_manager(world: World) -> None:
    # the SDK's own (blocking) token fetch, run off the loop; a unique app_id avoids its global cache
    sim = FeishuSimulator(app_id="cli_tokentest", app_secret="s3")
    url = await sim.start()
    try:
        cfg = lark.Client.builder().app_id("cli_tokentest").app_secret("s3").domain(url).build()._config
        token = await asyncio.to_thread(TokenManager.get_self_tenant_token, cfg)
        assert token.startswith("t-") and token in sim.state.tokens
        status, bad = await send_json("POST", f"{url}/open-apis/auth/v3/tenant_access_token/internal",
                                      {"app_id": "cli_tokentest", "app_secret": "wrong"})
        assert bad["code"] == 10014 and status == 400
        status, app_tok = await send_json("POST", f"{url}/open-apis/auth/v3/app_access_token/internal",
                                          {"app_id": "cli_tokentest", "app_secret": "s3"})
        assert app_tok["code"] == 0 and app_tok["expire"] > 0
    finally:
        await sim.stop()


async def test_bot_info_shape(world: World) -> None:
    req = lark.BaseRequest.builder().http_method(lark.HttpMethod.GET).uri("/open-apis/bot/v3/info") \
        .token_types({lark.AccessTokenType.TENANT}).build()
    resp = await world.client.arequest(req, world.opt)
    body = json.loads(resp.raw.content)
    assert body["code"] == 0 and "data" not in body
    assert body["bot"]["open_id"] == world.sim.bot_open_id and body["bot"]["activate_status"] == 2
    assert body["bot"]["app_name"] == "LiveOps"


async def test_send_text_card_reply_patch_get(world: World) -> None:
    w = world
    r = await w.send(w.chat_id, "text", {"text": "hi team"})
    assert r.success(), r.msg
    assert r.data.message_id.startswith("om_") and r.data.chat_id == w.chat_id
    assert r.data.sender.sender_type == "app" and r.data.sender.id_type == "app_id"
    assert r.data.create_time.isdigit()

    r2 = await w.send(w.chat_id, "interactive", card(buttons=[{"action": "ack"}]))
    assert r2.success(), r2.msg
    card_id = r2.data.message_id

    rep = ReplyMessageRequest.builder().message_id(r.data.message_id).request_body(
        ReplyMessageRequestBody.builder().msg_type("text").content(json.dumps({"text": "threaded"}))
        .reply_in_thread(True).build()).build()
    rr = await w.client.im.v1.message.areply(rep, w.opt)
    assert rr.success(), rr.msg
    assert rr.data.parent_id == r.data.message_id and rr.data.root_id == r.data.message_id
    assert rr.data.thread_id.startswith("omt_")

    before = w.sim.message(card_id)["seq"]
    patch = PatchMessageRequest.builder().message_id(card_id).request_body(
        PatchMessageRequestBody.builder().content(json.dumps(card(title="Updated"))).build()).build()
    pr = await w.client.im.v1.message.apatch(patch, w.opt)
    assert pr.success(), pr.msg
    view = w.sim.message(card_id)
    assert view["updated"] and view["seq"] > before
    assert view["content"]["header"]["title"]["content"] == "Updated"

    got = await w.client.im.v1.message.aget(GetMessageRequest.builder().message_id(card_id).build(), w.opt)
    assert got.success() and got.data.items[0].msg_type == "interactive" and got.data.items[0].updated

    msgs = w.sim.messages(w.chat_id)
    assert [m["msg_type"] for m in msgs] == ["text", "interactive", "text"]
    assert msgs[0]["sender"] == {"id": "cli_sandbox", "type": "app", "name": "LiveOps"}
    assert msgs[0]["content"] == {"text": "hi team"}
    sends = [q for q in w.sim.requests() if q["path"] == "/open-apis/im/v1/messages"]
    assert sends[0]["method"] == "POST" and sends[0]["query"] == {"receive_id_type": "chat_id"}
    assert sends[0]["json"]["msg_type"] == "text" and sends[0]["status"] == 200 and sends[0]["code"] == 0
    assert sends[0]["headers"]["authorization"] == f"Bearer {w.token}"


async def test_send_post(world: World) -> None:
    post = {"zh_cn": {"title": "Today", "content": [[{"tag": "text", "text": "host: "},
                                                     {"tag": "at", "user_id": world.alice["open_id"]}]]}}
    r = await world.send(world.chat_id, "post", post)
    assert r.success(), r.msg
    assert world.sim.messages(world.chat_id)[0]["content"] == post
    assert (await world.send(world.chat_id, "post", {"zh_cn": {"title": "x"}})).code == 230001


async def test_send_to_open_id_uses_the_p2p_chat(world: World) -> None:
    r = await world.send(world.carol["open_id"], "text", {"text": "psst"}, id_type="open_id")
    assert r.success(), r.msg
    p2p = world.sim.p2p_chat(world.carol["open_id"])
    assert p2p["chat_type"] == "p2p" and r.data.chat_id == p2p["chat_id"]
    assert world.sim.messages(p2p["chat_id"])[0]["content"] == {"text": "psst"}


@pytest.mark.parametrize("msg_type,content,code", [
    ("interactive", card(buttons=["not-an-object"]), 230099),  # type: ignore[list-item]
    ("interactive", card(extra_prop=1), 230099),
    ("interactive", {"schema": "2.0", "body": {"elements": [{"tag": "markdown", "content": "x"}] * 201}}, 230099),
    # over 30 KB of request body: "卡片及富文本消息请求体最大不能超过30KB" (230025, message too long)
    ("interactive", {"schema": "2.0", "body": {"elements": [{"tag": "markdown", "content": "x" * 31000}]}}, 230025),
    ("text", {"text": "x" * (151 * 1024)}, 230025),
    ("text", "{not json", 230001),
    ("image", {"image_key": "img_nope"}, 230001),
    ("bogus", {"text": "x"}, 230001),
])
async def test_send_validation(world: World, msg_type: str, content: Any, code: int) -> None:
    r = await world.send(world.chat_id, msg_type, content)
    assert r.code == code, r.msg
    assert world.sim.messages(world.chat_id) == []


async def test_bot_not_in_chat_and_unshared_card_patch(world: World) -> None:
    w = world
    outside = w.sim.add_chat("Elsewhere", [w.alice["open_id"]], with_bot=False)
    r = await w.send(outside["chat_id"], "text", {"text": "hi"})
    assert r.code == 230002
    v1 = {"config": {"update_multi": False}, "elements": [{"tag": "div", "text": {"tag": "plain_text", "content": "a"}}]}
    sent = await w.send(w.chat_id, "interactive", v1)
    assert sent.success(), sent.msg
    patch = PatchMessageRequest.builder().message_id(sent.data.message_id).request_body(
        PatchMessageRequestBody.builder().content(json.dumps(v1)).build()).build()
    assert (await w.client.im.v1.message.apatch(patch, w.opt)).code == 230099


async def test_urgent_records_buzz(world: World) -> None:
    w = world
    sent = await w.send(w.chat_id, "text", {"text": "go live!"})
    req = UrgentAppMessageRequest.builder().message_id(sent.data.message_id).user_id_type("open_id") \
        .request_body(UrgentReceivers.builder().user_id_list([w.alice["open_id"], w.carol["open_id"]]).build()) \
        .build()
    r = await w.client.im.v1.message.aurgent_app(req, w.opt)
    assert r.success(), r.msg
    assert r.data.invalid_user_id_list == [w.carol["open_id"]]  # Carol is not in the chat
    view = w.sim.message(sent.data.message_id)
    assert view["urgent"][0]["kind"] == "app" and view["urgent"][0]["users"] == [w.alice["open_id"]]
    assert view["seq"] > 1


async def test_chat_create_update_members(world: World) -> None:
    w = world
    body = CreateChatRequestBody.builder().name("[Live] 3/1 launch").description("war room") \
        .owner_id(w.alice["open_id"]).user_id_list([w.bob["open_id"]]).build()
    req = CreateChatRequest.builder().user_id_type("open_id").uuid("chat-uuid-1").request_body(body).build()
    r = await w.client.im.v1.chat.acreate(req, w.opt)
    assert r.success(), r.msg
    chat_id = r.data.chat_id
    again = await w.client.im.v1.chat.acreate(req, w.opt)
    assert again.data.chat_id == chat_id  # uuid dedupe
    view = next(c for c in w.sim.chats() if c["chat_id"] == chat_id)
    assert view["created_by_bot"] and view["bot_in_chat"]
    assert view["members"] == [w.alice["open_id"], w.bob["open_id"]]

    up = UpdateChatRequest.builder().chat_id(chat_id).request_body(
        UpdateChatRequestBody.builder().name("[已解决] 3/1 launch").build()).build()
    assert (await w.client.im.v1.chat.aupdate(up, w.opt)).success()
    got = await w.client.im.v1.chat.aget(GetChatRequest.builder().chat_id(chat_id).build(), w.opt)
    assert got.data.name == "[已解决] 3/1 launch" and got.data.owner_id == w.alice["open_id"]

    add = CreateChatMembersRequest.builder().chat_id(chat_id).member_id_type("open_id").request_body(
        CreateChatMembersRequestBody.builder().id_list([w.carol["open_id"], "ou_ghost", "garbage"]).build()).build()
    ar = await w.client.im.v1.chat_members.acreate(add, w.opt)
    assert ar.success(), ar.msg
    assert ar.data.invalid_id_list == ["garbage"] and ar.data.not_existed_id_list == ["ou_ghost"]

    names = []
    token = None
    while True:
        b = GetChatMembersRequest.builder().chat_id(chat_id).member_id_type("open_id").page_size(2)
        if token:
            b = b.page_token(token)
        page = await w.client.im.v1.chat_members.aget(b.build(), w.opt)
        assert page.success(), page.msg
        names += [m.name for m in page.data.items]
        if not page.data.has_more:
            break
        token = page.data.page_token
    assert names == ["Alice", "Bob", "Carol"] and page.data.member_total == 3

    missing = await w.client.im.v1.chat.aget(GetChatRequest.builder().chat_id("oc_missing").build(), w.opt)
    assert missing.code == 232006


async def test_image_upload_send_and_download_and_pin(world: World) -> None:
    w = world
    up = CreateImageRequest.builder().request_body(
        CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(PNG)).build()).build()
    r = await w.client.im.v1.image.acreate(up, w.opt)
    assert r.success(), r.msg
    key = r.data.image_key
    assert key.startswith("img_v3_")
    sent = await w.send(w.chat_id, "image", {"image_key": key})
    assert sent.success(), sent.msg
    dl = GetMessageResourceRequest.builder().message_id(sent.data.message_id).file_key(key).type("image").build()
    got = await w.client.im.v1.message_resource.aget(dl, w.opt)
    assert got.code == 0 and got.file.read() == PNG

    bad = CreateImageRequest.builder().request_body(
        CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(b"not an image")).build()).build()
    assert (await w.client.im.v1.image.acreate(bad, w.opt)).code == 234011

    pin = await w.client.im.v1.pin.acreate(CreatePinRequest.builder().request_body(
        CreatePinRequestBody.builder().message_id(sent.data.message_id).build()).build(), w.opt)
    assert pin.success(), pin.msg
    assert pin.data.pin.message_id == sent.data.message_id and w.sim.message(sent.data.message_id)["pinned"]


async def test_user_file_download(world: World) -> None:
    w = world
    data = b"date,host\n2025-03-01,Alice\n"
    msg = await w.sim.upload_file(w.chat_id, "Alice", "排班表.csv", data)
    key = msg["content"]["file_key"]
    ev = w.receiver.of_type("im.message.receive_v1")[-1]["event"]["message"]
    assert ev["message_type"] == "file" and json.loads(ev["content"]) == {"file_key": key, "file_name": "排班表.csv"}
    dl = GetMessageResourceRequest.builder().message_id(msg["message_id"]).file_key(key).type("file").build()
    got = await w.client.im.v1.message_resource.aget(dl, w.opt)
    assert got.code == 0 and got.file.read() == data
    assert "filename*=UTF-8''" in got.raw.headers["content-disposition"]
    wrong = GetMessageResourceRequest.builder().message_id(msg["message_id"]).file_key("file_v3_x").type("file").build()
    bad = await w.client.im.v1.message_resource.aget(wrong, w.opt)
    # lark-oapi's async aget looks up "Content-Type" in httpx's lower-cased header dict, so it
    # never parses an error body: read it from raw
    assert bad.raw.status_code == 400 and json.loads(bad.raw.content)["code"] == 234003


async def test_contact_lookups(world: World) -> None:
    w = world
    u = await w.client.contact.v3.user.aget(
        GetUserRequest.builder().user_id(w.alice["open_id"]).user_id_type("open_id").build(), w.opt)
    assert u.success() and u.data.user.name == "Alice" and u.data.user.email == "alice@example.com"
    w.sim.scopes.add("contact:user.id:readonly")  # the bot does not ask for it; this test does
    body = BatchGetIdUserRequestBody.builder().emails(["alice@example.com", "nobody@example.com"]) \
        .mobiles(["13800000001"]).build()
    b = await w.client.contact.v3.user.abatch_get_id(
        BatchGetIdUserRequest.builder().user_id_type("open_id").request_body(body).build(), w.opt)
    assert b.success(), b.msg
    ids = [(x.email or x.mobile, x.user_id) for x in b.data.user_list]
    assert ids == [("alice@example.com", w.alice["open_id"]), ("nobody@example.com", None),
                   ("13800000001", w.alice["open_id"])]
    missing = await w.client.contact.v3.user.aget(
        GetUserRequest.builder().user_id("ou_nobody").user_id_type("open_id").build(), w.opt)
    assert missing.code == 41050


async def test_tasks(world: World) -> None:
    w = world
    due_ms = 1740819600000
    task = InputTask.builder().summary("Prepare 3/1 launch script").description("by host") \
        .due(Due.builder().timestamp(due_ms).is_all_day(False).build()) \
        .members([Member.builder().id(w.alice["open_id"]).type("user").role("assignee").build()]) \
        .client_token("tok-1").build()
    req = CreateTaskRequest.builder().user_id_type("open_id").request_body(task).build()
    r = await w.client.task.v2.task.acreate(req, w.opt)
    assert r.success(), r.msg
    guid = r.data.task.guid
    assert r.data.task.url == f"https://applink.feishu.cn/client/todo/detail?guid={guid}"
    assert r.data.task.due.timestamp == str(due_ms) and r.data.task.members[0].role == "assignee"
    again = await w.client.task.v2.task.acreate(req, w.opt)
    assert again.data.task.guid == guid and len(w.sim.tasks()) == 1

    patch = PatchTaskRequest.builder().task_guid(guid).user_id_type("open_id").request_body(
        PatchTaskRequestBody.builder().task(InputTask.builder().completed_at(due_ms).build())
        .update_fields(["completed_at"]).build()).build()
    p = await w.client.task.v2.task.apatch(patch, w.opt)
    assert p.success(), p.msg
    got = await w.client.task.v2.task.aget(GetTaskRequest.builder().task_guid(guid).build(), w.opt)
    assert got.data.task.status == "done" and got.data.task.completed_at == str(due_ms)
    empty = await w.client.task.v2.task.acreate(CreateTaskRequest.builder().request_body(
        InputTask.builder().summary(" ").build()).build(), w.opt)
    assert empty.code == 1470400


# --- limits, dedupe, tokens, faults ---------------------------------------------------------

async def test_uuid_dedupe(world: World) -> None:
    a = await world.send(world.chat_id, "text", {"text": "once"}, uuid="u-123")
    b = await world.send(world.chat_id, "text", {"text": "once"}, uuid="u-123")
    assert a.data.message_id == b.data.message_id
    assert len(world.sim.messages(world.chat_id)) == 1
    assert world.sim.stats["uuid_dedupe_hits"] == 1


async def test_per_chat_rate_limit(world: World) -> None:
    results = await asyncio.gather(*[world.send(world.chat_id, "text", {"text": str(i)}) for i in range(8)])
    codes = sorted(r.code for r in results)
    assert codes == [0] * 5 + [230020] * 3
    assert all(r.raw.status_code == 400 for r in results if r.code)
    assert world.sim.stats["rate_limited_chat"] == 3
    other = await world.send(world.carol["open_id"], "text", {"text": "other chat"}, id_type="open_id")
    assert other.success()


async def test_app_rate_limit_429(world: World) -> None:
    world.sim.per_app_qps = 3
    targets = [world.alice, world.bob, world.carol, world.alice]
    results = await asyncio.gather(*[world.send(u["open_id"], "text", {"text": "x"}, id_type="open_id")
                                     for u in targets])
    limited = [r for r in results if r.code == 99991400]
    assert len(limited) == 1 and limited[0].raw.status_code == 429
    assert limited[0].raw.headers["x-ogw-ratelimit-limit"] == "3"
    assert int(limited[0].raw.headers["x-ogw-ratelimit-reset"]) >= 1
    assert world.sim.stats["rate_limited_app"] == 1


async def test_rate_limits_can_be_switched_off(world: World) -> None:
    world.sim.rate_limits = False
    results = await asyncio.gather(*[world.send(world.chat_id, "text", {"text": str(i)}) for i in range(8)])
    assert all(r.success() for r in results)


async def test_token_expiry_and_missing_token(world: World) -> None:
    world.sim.expire_tokens()
    r = await world.send(world.chat_id, "text", {"text": "x"})
    assert r.code == 99991663 and r.raw.status_code == 400
    status, body = await get_json(f"{world.url}/open-apis/bot/v3/info")
    assert status == 400 and body["code"] == 99991661
    fresh = await fetch_token(world.url)
    assert fresh != world.token
    ok = await world.client.im.v1.message.acreate(CreateMessageRequest.builder().receive_id_type("chat_id")
        .request_body(CreateMessageRequestBody.builder().receive_id(world.chat_id).msg_type("text")
                      .content('{"text":"again"}').build()).build(), option(fresh))
    assert ok.success()


async def test_faults(world: World) -> None:
    w = world
    f = w.sim.faults
    f.add("5xx", path_contains="/im/v1/messages")
    with pytest.raises(ValueError):  # the SDK fails to parse the HTML body
        await w.send(w.chat_id, "text", {"text": "x"})
    f.add("429", path_contains="/im/v1/messages")
    r = await w.send(w.chat_id, "text", {"text": "x"})
    assert r.code == 99991400 and r.raw.status_code == 429 and r.raw.headers["x-ogw-ratelimit-reset"] == "1"
    f.add("230020", times=2)
    assert (await w.send(w.chat_id, "text", {"text": "x"})).code == 230020
    assert (await w.send(w.chat_id, "text", {"text": "x"})).code == 230020
    assert (await w.send(w.chat_id, "text", {"text": "x"})).success()
    f.add("token_expired")
    assert (await w.send(w.chat_id, "text", {"text": "x"})).code == 99991663
    f.add("permanent", path_contains="/task/")  # does not match a message send
    assert (await w.send(w.chat_id, "text", {"text": "x"})).success()
    f.clear()
    f.add("nonjson")
    status, text = await send_json("GET", f"{w.url}/open-apis/bot/v3/info")
    assert status == 200 and isinstance(text, str) and "<html>" in text
    f.add("timeout", seconds=0.05)
    status, text = await send_json("GET", f"{w.url}/open-apis/bot/v3/info")
    assert status == 504
    # the same through /_sim
    status, pending = await send_json("POST", f"{w.url}/_sim/faults", {"kind": "permanent", "times": 1})
    assert status == 200 and pending[0]["kind"] == "permanent"
    assert (await w.send(w.chat_id, "text", {"text": "x"})).code == 230002
    assert (await send_json("POST", f"{w.url}/_sim/faults", {"kind": "nope"}))[0] == 400
    assert (await send_json("POST", f"{w.url}/_sim/faults", {"kind": "5xx", "times": 0}))[0] == 400
    await send_json("POST", f"{w.url}/_sim/faults", {"kind": "5xx", "times": 5})
    assert (await send_json("DELETE", f"{w.url}/_sim/faults"))[1] == []
    assert w.sim.stats["faults_injected"] == 8
    assert [q["fault"] for q in w.sim.requests() if q["fault"]][:2] == ["5xx", "429"]


# --- events pushed to the bot ---------------------------------------------------------------

async def test_text_event_encrypted_signed_with_mentions(world: World) -> None:
    w = world
    msg = await w.sim.send_text(w.chat_id, "Alice", "@LiveOps /schedule week @Bob")
    assert msg["delivery"]["status"] == 200 and not w.receiver.rejected
    payload = w.receiver.events[-1]
    assert payload["schema"] == "2.0"
    h = payload["header"]
    assert h["event_type"] == "im.message.receive_v1" and h["token"] == VTOKEN and h["app_id"] == "cli_sandbox"
    assert h["create_time"].isdigit() and len(h["event_id"]) >= 16 and h["tenant_key"] == w.sim.tenant_key
    headers = w.receiver.headers[-1]
    assert "X-Lark-Signature" in headers and headers["X-Lark-Request-Timestamp"].isdigit()
    ev = payload["event"]
    assert ev["sender"]["sender_id"]["open_id"] == w.alice["open_id"] and ev["sender"]["sender_type"] == "user"
    m = ev["message"]
    assert m["chat_type"] == "group" and m["message_type"] == "text" and m["chat_id"] == w.chat_id
    assert json.loads(m["content"]) == {"text": "@_user_1 /schedule week @_user_2"}
    assert [(x["key"], x["id"]["open_id"], x["name"]) for x in m["mentions"]] == [
        ("@_user_1", w.sim.bot_open_id, "LiveOps"), ("@_user_2", w.bob["open_id"], "Bob")]
    assert m["message_id"] == msg["message_id"]

    at = await w.sim.send_text(w.chat_id, w.bob, f'<at user_id="{w.alice["open_id"]}">Alice</at> ok',
                               parent_id=msg["message_id"])
    m2 = w.receiver.events[-1]["event"]["message"]
    assert json.loads(m2["content"])["text"] == "@_user_1 ok" and m2["mentions"][0]["name"] == "Alice"
    assert m2["parent_id"] == msg["message_id"] and m2["root_id"] == msg["message_id"]
    assert at["mentions"][0]["open_id"] == w.alice["open_id"]

    with pytest.raises(SimError):
        await w.sim.send_text(w.chat_id, "Carol", "I am not a member")


async def test_post_image_and_bot_added_events(world: World) -> None:
    w = world
    await w.sim.send_post(w.chat_id, "Bob", "Shift swap", ["@LiveOps swap with @Alice", [
        {"tag": "text", "text": "see "}, {"tag": "at", "user_id": w.alice["open_id"]}]])
    m = w.receiver.events[-1]["event"]["message"]
    content = json.loads(m["content"])
    assert m["message_type"] == "post" and content["title"] == "Shift swap"
    assert content["content"][0][0] == {"tag": "at", "user_id": "@_user_1", "user_name": "LiveOps"}
    assert content["content"][1][1]["user_id"] == "@_user_3"
    assert [x["id"]["open_id"] for x in m["mentions"]] == [w.sim.bot_open_id, w.alice["open_id"], w.alice["open_id"]]

    img = await w.sim.send_image(w.chat_id, "Bob", PNG)
    assert json.loads(w.receiver.events[-1]["event"]["message"]["content"]) == {"image_key": img["content"]["image_key"]}

    group = w.sim.add_chat("New group", [w.carol["open_id"]], with_bot=False)
    info = await w.sim.add_bot_to_chat(group["chat_id"], "Carol")
    assert info["status"] == 200
    ev = w.receiver.of_type("im.chat.member.bot.added_v1")[0]["event"]
    assert ev["chat_id"] == group["chat_id"] and ev["operator_id"]["open_id"] == w.carol["open_id"]
    assert ev["name"] == "New group"


async def test_duplicate_delivery_and_p2p(world: World) -> None:
    w = world
    p2p = w.sim.p2p_chat(w.alice["open_id"])
    await w.sim.send_text(p2p["chat_id"], "Alice", "/help")
    first = w.receiver.events[-1]
    assert first["event"]["message"]["chat_type"] == "p2p"
    again = await w.sim.redeliver(first["header"]["event_id"])
    assert again["status"] == 200 and w.receiver.events[-1] == first
    raw = await w.sim.deliver("im.message.receive_v1", first["event"], event_id="fixed-id")
    assert raw["event_id"] == "fixed-id" and w.receiver.events[-1]["header"]["event_id"] == "fixed-id"
    assert [e["event_id"] for e in w.sim.events()][-2:] == [first["header"]["event_id"], "fixed-id"]


async def test_button_press_applies_card_from_answer(world: World) -> None:
    w = world
    new_card = card(title="Acknowledged", text="done")
    w.receiver.respond = lambda p: ({"toast": {"type": "success", "content": "ok"},
                                     "card": {"type": "raw", "data": new_card}}
                                    if p["header"]["event_type"] == "card.action.trigger" else {})
    sent = await w.send(w.chat_id, "interactive", card(buttons=[{"action": "ack", "id": 7}]))
    mid = sent.data.message_id
    seq = w.sim.message(mid)["seq"]
    answer = await w.sim.press_button(mid, "Alice", {"action": "ack", "id": 7})
    assert answer["toast"]["content"] == "ok"
    ev = w.receiver.of_type("card.action.trigger")[0]
    assert ev["header"]["token"] == VTOKEN
    e = ev["event"]
    assert e["operator"]["open_id"] == w.alice["open_id"] and e["operator"]["union_id"]
    assert e["action"] == {"value": {"action": "ack", "id": 7}, "tag": "button"}
    assert e["context"] == {"open_message_id": mid, "open_chat_id": w.chat_id}
    assert e["token"].startswith("c-")
    view = w.sim.message(mid)
    assert view["content"]["header"]["title"]["content"] == "Acknowledged" and view["seq"] > seq
    # polling with ?after sees the updated card exactly once
    status, rows = await get_json(f"{w.url}/_sim/chats/{w.chat_id}/messages?after={seq}")
    assert status == 200 and [r["message_id"] for r in rows] == [mid]
    with pytest.raises(SimError):
        await w.sim.press_button(mid, "Alice", {"action": "ack", "id": 7})  # that button is gone
    # delayed update with the callback token: twice, then refused
    auth = {"Authorization": f"Bearer {w.token}"}
    for i in range(3):
        status, body = await send_json("POST", f"{w.url}/open-apis/interactive/v1/card/update",
                                       {"token": e["token"], "card": card(title=f"later {i}")}, headers=auth)
        assert (body["code"] == 0) == (i < 2), body
    assert w.sim.message(mid)["content"]["header"]["title"]["content"] == "later 1"


async def test_wait_for_message(world: World) -> None:
    w = world
    msg = await w.sim.send_text(w.chat_id, "Alice", "ping")

    async def bot_replies_later() -> None:
        await asyncio.sleep(0)
        await w.send(w.chat_id, "text", {"text": "pong"})

    task = asyncio.create_task(bot_replies_later())
    got = await w.sim.wait_for_message(w.chat_id, lambda m: m["content"].get("text") == "pong",
                                       after_seq=msg["seq"], timeout=2)
    await task
    assert got["sender"]["type"] == "app"
    with pytest.raises(TimeoutError):
        await w.sim.wait_for_message(w.chat_id, after_seq=got["seq"], timeout=0.01)


# --- /_sim inspection API -------------------------------------------------------------------

async def test_sim_api(world: World) -> None:
    w = world
    u = w.url + "/_sim"
    assert (await get_json(f"{u}/bot"))[1]["open_id"] == w.sim.bot_open_id
    status, dave = await send_json("POST", f"{u}/users", {"name": "Dave"})
    assert status == 201 and dave["open_id"].startswith("ou_")
    assert [x["name"] for x in (await get_json(f"{u}/users"))[1]] == ["Alice", "Bob", "Carol", "Dave"]
    chats = (await get_json(f"{u}/chats"))[1]
    assert chats[0]["chat_id"] == w.chat_id and chats[0]["members"] == [w.alice["open_id"], w.bob["open_id"]]

    status, msg = await send_json("POST", f"{u}/chats/{w.chat_id}/messages", {"user": w.bob["open_id"], "text": "hi"})
    assert status == 201 and msg["delivery"]["status"] == 200
    assert w.receiver.events[-1]["event"]["message"]["message_id"] == msg["message_id"]
    status, rows = await get_json(f"{u}/chats/{w.chat_id}/messages?after=0")
    row = rows[0]
    assert set(row) >= {"seq", "message_id", "chat_id", "sender", "msg_type", "content", "create_time",
                        "parent_id", "root_id", "updated", "urgent", "pinned"}
    assert row["sender"] == {"id": w.bob["open_id"], "type": "user", "name": "Bob"}
    assert row["content"] == {"text": "hi"} and row["create_time"].endswith("+00:00")
    assert (await get_json(f"{u}/chats/{w.chat_id}/messages?after={row['seq']}"))[1] == []

    form = aiohttp.FormData()
    form.add_field("user", w.alice["open_id"])
    form.add_field("file", b"a,b\n1,2\n", filename="plan.csv", content_type="text/csv")
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{u}/chats/{w.chat_id}/files", data=form) as r:
            assert r.status == 201
            filemsg = await r.json()
        async with s.get(f"{u}/resources/{filemsg['content']['file_key']}") as r:
            assert await r.read() == b"a,b\n1,2\n"
    assert filemsg["msg_type"] == "file" and filemsg["content"]["file_name"] == "plan.csv"

    sent = await w.send(w.chat_id, "interactive", card(buttons=[{"k": 1}]))
    status, pressed = await send_json("POST", f"{u}/cards/{sent.data.message_id}/actions",
                                      {"user": w.alice["open_id"], "value": {"k": 1}})
    assert status == 200 and pressed["response"] == {} and pressed["message"]["message_id"] == sent.data.message_id

    status, clock = await get_json(f"{u}/clock")
    assert clock == {"now": "2025-03-01T08:00:00.000+00:00", "adjustable": True}
    status, clock = await send_json("POST", f"{u}/clock/advance", {"seconds": 3600})
    assert status == 200 and clock["now"] == "2025-03-01T09:00:00.000+00:00"
    for bad in ({"seconds": 0}, {"seconds": -5}, {"seconds": "10"}, {"seconds": True},
                {"seconds": 367 * 86400}, {}):
        assert (await send_json("POST", f"{u}/clock/advance", bad))[0] == 400

    reqs = (await get_json(f"{u}/requests?path_contains=/im/v1/messages"))[1]
    assert reqs and all("/im/v1/messages" in r["path"] for r in reqs)
    assert (await get_json(f"{u}/stats"))[1]["messages_sent"] == 1
    assert (await get_json(f"{u}/events"))[1][-1]["type"] == "card.action.trigger"
    assert (await send_json("POST", f"{u}/tokens/expire"))[0] == 200 and not w.sim.state.tokens


async def test_sim_api_bad_input_is_4xx_json(world: World) -> None:
    u = world.url + "/_sim"
    cases = [
        ("POST", f"{u}/chats/oc_nope/messages", {"user": world.alice["open_id"], "text": "x"}, 404),
        ("POST", f"{u}/chats/{world.chat_id}/messages", {"user": "ou_nobody", "text": "x"}, 404),
        ("POST", f"{u}/chats/{world.chat_id}/messages", {"user": world.carol["open_id"], "text": "x"}, 400),
        ("POST", f"{u}/chats/{world.chat_id}/messages", {"user": world.alice["open_id"]}, 400),
        ("POST", f"{u}/chats/{world.chat_id}/messages", ["not", "an", "object"], 400),
        ("POST", f"{u}/users", {"name": ""}, 400),
        ("POST", f"{u}/cards/om_nope/actions", {"user": world.alice["open_id"], "value": {}}, 404),
        ("POST", f"{u}/cards/om_nope/actions", {"user": world.alice["open_id"], "value": "x"}, 400),
        ("GET", f"{u}/chats/{world.chat_id}/messages?after=abc", None, 400),
        ("GET", f"{u}/messages/om_nope", None, 404),
        ("POST", f"{u}/chats", {"name": "x", "members": "nope"}, 400),
        ("GET", f"{u}/requests?limit=0", None, 400),
    ]
    for method, url, body, expected in cases:
        status, data = await send_json(method, url, body)
        assert status == expected, (url, body, data)
        assert isinstance(data, dict) and data.get("error"), (url, data)
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{u}/chats/{world.chat_id}/messages", data=b"{broken") as r:
            assert r.status == 400 and "error" in await r.json()
        async with s.post(f"{u}/chats/{world.chat_id}/files", data=b"x") as r:
            assert r.status == 400


async def test_clock_not_adjustable_without_clock() -> None:
    sim = FeishuSimulator()
    url = await sim.start()
    try:
        status, clock = await get_json(f"{url}/_sim/clock")
        assert status == 200 and clock["adjustable"] is False
        assert (await send_json("POST", f"{url}/_sim/clock/advance", {"seconds": 10}))[0] == 400
    finally:
        await sim.stop()


async def test_mounted_in_one_app_plain_events() -> None:
    """Sandbox mode: the sim's routes and the bot's webhook share one aiohttp app and port;
    without an Encrypt Key events are plain JSON with no signature."""
    sim = FeishuSimulator(verification_token=VTOKEN)
    receiver = Receiver(None, VTOKEN)
    app = web.Application()
    app.router.add_post("/webhook/event", receiver.handle)
    sim.add_routes(app)
    runner, url = await serve(app)
    sim.event_url = f"{url}/webhook/event"
    try:
        alice = sim.add_user("Alice")
        chat = sim.add_chat("Ops", [alice["open_id"]])
        status, _ = await send_json("POST", f"{url}/_sim/chats/{chat['chat_id']}/messages",
                                    {"user": alice["open_id"], "text": "@LiveOps hi"})
        assert status == 201
        assert "X-Lark-Signature" not in receiver.headers[-1]
        assert receiver.events[-1]["event"]["message"]["mentions"][0]["name"] == "LiveOps"
        check = await sim.verify_url()
        assert check["ok"] and check["status"] == 200
        token = await fetch_token(url)
        client = lark_client(url)
        r = await client.im.v1.message.acreate(CreateMessageRequest.builder().receive_id_type("chat_id")
            .request_body(CreateMessageRequestBody.builder().receive_id(chat["chat_id"]).msg_type("text")
                          .content('{"text":"hello"}').build()).build(), option(token))
        assert r.success(), r.msg
        status, body = await send_json("GET", f"{url}/open-apis/im/v1/not-a-thing")
        assert status == 404 and sim.requests()[-1]["status"] == 404
    finally:
        await runner.cleanup()


async def test_delivery_failure_is_recorded() -> None:
    sim = FeishuSimulator()
    alice = sim.add_user("Alice")
    chat = sim.add_chat("Ops", [alice["open_id"]])
    msg = await sim.send_text(chat["chat_id"], "Alice", "@LiveOps nobody listening")
    assert msg["delivery"]["error"] == "no event_url set" and sim.stats["events_failed"] == 1
    sim.event_url = "http://127.0.0.1:9/closed"
    msg = await sim.send_text(chat["chat_id"], "Alice", "@LiveOps still nobody")
    assert msg["delivery"]["status"] is None and msg["delivery"]["error"]

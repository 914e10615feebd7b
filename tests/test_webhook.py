"""The webhook's edge: forged, stale, malformed, duplicate and oversize requests."""
from __future__ import annotations

import json
import secrets
import time

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.feishu import crypto
from bot.store.models import InboxEvent, OutboxMessage
from tests.harness import ENCRYPT_KEY, TOKEN


def _envelope(event_id: str | None = None, text: str = "/在吗", token: str = TOKEN) -> dict:
    event_id = event_id or secrets.token_hex(8)
    return {"schema": "2.0",
            "header": {"event_id": event_id, "event_type": "im.message.receive_v1",
                       "create_time": str(int(time.time() * 1000)), "token": token,
                       "app_id": "cli_test000000001", "tenant_key": "t"},
            "event": {"sender": {"sender_id": {"open_id": "ou_member"}, "sender_type": "user"},
                      "message": {"message_id": "om_" + event_id, "chat_id": "oc_team", "chat_type": "group",
                                  "message_type": "text", "content": json.dumps({"text": text})}}}


def _signed(body: dict, *, key: str = ENCRYPT_KEY, ts: int | None = None, tamper: bool = False):
    raw = json.dumps({"encrypt": crypto.encrypt(key, json.dumps(body))}).encode()
    ts_s, nonce = str(ts if ts is not None else int(time.time())), secrets.token_hex(8)
    sig = crypto.signature(ts_s, nonce, key, raw)
    if tamper:
        raw = raw[:-3] + b' }'[:1] + raw[-2:]
    return raw, {"X-Lark-Request-Timestamp": ts_s, "X-Lark-Request-Nonce": nonce,
                 "X-Lark-Signature": sig, "Content-Type": "application/json"}


async def _post(h, raw: bytes, headers: dict | None = None):
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{h.bot_url}/feishu/events", data=raw,
                          headers=headers or {"Content-Type": "application/json"}) as r:
            return r.status, await r.text()


async def _inbox_count(h) -> int:
    async with h.db.session() as s:
        return (await s.execute(select(func.count()).select_from(InboxEvent))).scalar()


async def test_valid_signed_encrypted_event_is_stored(harness):
    status, body = await _post(harness, *_signed(_envelope()))
    assert status == 200 and json.loads(body) == {}
    await harness.settle()
    async with harness.db.session() as s:
        row = (await s.execute(select(InboxEvent))).scalar_one()
        reply = (await s.execute(select(OutboxMessage).where(OutboxMessage.op == "reply"))).scalar_one()
    assert row.status == "done" and reply.op == "reply" and reply.target == row.message_id


async def test_url_verification_challenge(harness):
    body = {"type": "url_verification", "challenge": "abc123", "token": TOKEN}
    status, text = await _post(harness, *_signed(body))
    assert status == 200 and json.loads(text) == {"challenge": "abc123"}
    status, _ = await _post(harness, *_signed({**body, "token": "wrong"}))
    assert status == 401


async def test_url_check_comes_unsigned_and_is_answered(harness):
    """Feishu sends the request-URL check without X-Lark-Signature/timestamp/nonce, encrypted
    when an Encrypt Key is set (开放平台 "Encrypt Key 加密配置示例"; lark-oapi 1.7.5
    EventDispatcherHandler answers the challenge before verifying the signature)."""
    body = {"type": "url_verification", "challenge": "c-42", "token": TOKEN}
    raw, _ = _signed(body)
    status, text = await _post(harness, raw)
    assert status == 200 and json.loads(text) == {"challenge": "c-42"}
    status, text = await _post(harness, _signed({**body, "token": "wrong"})[0])
    assert status == 401, text
    # Anything else unsigned is refused, however it is dressed, and nothing is stored.
    status, _ = await _post(harness, _signed(_envelope())[0])
    assert status == 401
    big = {"type": "url_verification", "challenge": "x" * 8000, "token": TOKEN}
    status, _ = await _post(harness, _signed(big)[0])
    assert status == 401
    assert await _inbox_count(harness) == 0


@pytest.mark.parametrize("case", ["forged_signature", "stale", "future", "wrong_key", "tampered",
                                  "missing_headers", "plaintext", "wrong_token"])
async def test_bad_requests_get_4xx_and_store_nothing(harness, case):
    env = _envelope()
    if case == "forged_signature":
        raw, headers = _signed(env)
        headers["X-Lark-Signature"] = "0" * 64
    elif case == "stale":
        raw, headers = _signed(env, ts=int(time.time()) - 301)
    elif case == "future":
        raw, headers = _signed(env, ts=int(time.time()) + 400)
    elif case == "wrong_key":
        raw, headers = _signed(env, key="another-key")
    elif case == "tampered":
        raw, headers = _signed(env, tamper=True)
    elif case == "missing_headers":
        raw, _ = _signed(env)
        headers = {"Content-Type": "application/json"}
    elif case == "plaintext":
        raw, headers = json.dumps(env).encode(), None
    else:
        raw, headers = _signed(_envelope(token="not-the-token"))
    status, body = await _post(harness, raw, headers)
    assert 400 <= status < 500, (status, body)
    assert "error" in json.loads(body) and "Traceback" not in body
    assert await _inbox_count(harness) == 0


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1,2]", b'{"encrypt": 5}', b'{"encrypt": "!!!"}',
                                 b"\xff\xfe", b"[" * 100000])
async def test_malformed_bodies(harness, raw):
    ts, nonce = str(int(time.time())), "n"
    headers = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
               "X-Lark-Signature": crypto.signature(ts, nonce, ENCRYPT_KEY, raw)}
    status, body = await _post(harness, raw, headers)
    assert 400 <= status < 500 and "Traceback" not in body


async def test_envelope_without_ids_is_rejected(harness):
    env = _envelope()
    del env["header"]["event_id"]
    status, _ = await _post(harness, *_signed(env))
    assert status == 400


async def test_oversize_body_is_413(harness):
    raw = b'{"encrypt": "' + b"A" * (2 * 1024 * 1024) + b'"}'
    status, _ = await _post(harness, raw)
    assert status == 413


async def test_duplicate_delivery_answered_200_processed_once(harness):
    env = _envelope("dup-1")
    for _ in range(3):
        status, _ = await _post(harness, *_signed(env))
        assert status == 200
    await harness.settle()
    assert await _inbox_count(harness) == 1
    async with harness.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.op == "reply"))).scalar() == 1


async def test_unknown_event_types_are_acknowledged(harness):
    env = {"schema": "2.0", "header": {"event_id": "x-1", "event_type": "im.chat.updated_v1", "token": TOKEN},
           "event": {"chat_id": "oc_team"}}
    status, _ = await _post(harness, *_signed(env))
    assert status == 200
    await harness.settle()
    async with harness.db.session() as s:
        row = (await s.execute(select(InboxEvent))).scalar_one()
    assert row.status == "done"


async def test_database_outage_answers_503(harness):
    await harness.db.engine.dispose()
    good_url = harness.db.url
    from bot.store.db import Database

    broken = Database("sqlite+aiosqlite:////nonexistent-dir/x/y.db" if good_url.startswith("sqlite")
                      else "postgresql+asyncpg://postgres@127.0.0.1:1/none")
    harness.bot.db = broken

    async def store(**fields):
        from bot.clock import wall_now
        from bot.store import inbox
        return await inbox.InboxWriter(broken).store(now=wall_now(), **fields)

    harness.bot.ingress.store = store
    status, body = await _post(harness, *_signed(_envelope()))
    assert status == 503 and "retry" in body
    await broken.close()


async def test_a_press_that_cannot_be_stored_is_answered_200_with_a_toast(harness):
    """Card callbacks are never re-pushed (回调是同步操作，不提供补推机制): a 503 would lose the
    click and show a Feishu error. The presser is asked to press again; the card stays."""
    from bot.clock import wall_now
    from bot.store import inbox
    from bot.store.db import Database

    broken = Database("sqlite+aiosqlite:////nonexistent-dir/x/y.db" if harness.db.url.startswith("sqlite")
                      else "postgresql+asyncpg://postgres@127.0.0.1:1/none")

    async def store(**fields):
        return await inbox.InboxWriter(broken).store(now=wall_now(), **fields)

    harness.bot.ingress.store = store
    press = {"schema": "2.0",
             "header": {"event_id": secrets.token_hex(8), "event_type": "card.action.trigger",
                        "create_time": str(int(time.time() * 1000)), "token": TOKEN,
                        "app_id": "cli_test000000001", "tenant_key": "t"},
             "event": {"operator": {"open_id": "ou_member"}, "action": {"value": {"a": "x"}, "tag": "button"},
                       "context": {"open_message_id": "om_1", "open_chat_id": "oc_team"}}}
    status, text = await _post(harness, *_signed(press))
    answer = json.loads(text)
    assert status == 200 and "card" not in answer, text
    assert answer["toast"]["type"] == "warning" and "再按一次" in answer["toast"]["content"]
    assert answer["toast"]["i18n"]["en_us"] == "Not saved, please press again"
    await broken.close()


async def test_health_and_readiness(harness):
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{harness.bot_url}/healthz") as r:
            assert r.status == 200
        async with s.get(f"{harness.bot_url}/readyz") as r:
            body = await r.json()
            assert r.status == 200 and body["database"] and body["workers"], body


async def test_metrics_page(harness):
    await harness.say("member", "/在吗")
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{harness.bot_url}/metrics") as r:
            text = await r.text()
    assert r.status == 200
    assert 'liveops_events_received_total{event_type="im.message.receive_v1",outcome="new"} 1.0' in text
    assert 'liveops_commands_total{command="ping"} 1.0' in text
    assert "liveops_outbox_backlog 0.0" in text


async def test_identity_read_later_and_the_waiting_mention_is_answered(harness, monkeypatch):
    """GET /bot/v3/info failing at start-up no longer drops @mentions until a restart: the bot
    keeps trying in the background, the mention waits in the inbox and is answered after."""
    from bot.app import LiveOpsBot

    h = harness
    await h.stop_bot()
    monkeypatch.setattr(LiveOpsBot, "identity_backoff", 0.01)
    monkeypatch.setattr(LiveOpsBot, "identity_retry", 0.2)
    h.sim.faults.add("5xx", path_contains="/bot/v3/info", times=5)
    bot = await h.start_bot()
    assert bot.svc.bot.open_id == ""
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{h.bot_url}/readyz") as r:
            assert (await r.json())["bot"] is None
    before = len(h.bot_messages())
    await h.sim.send_text(h.chats["team"], h.users["member"], "@LiveOps 在吗")
    await h.settle()  # waits for the background retry, then the held event
    assert bot.svc.bot.open_id
    assert len(h.bot_messages()) == before + 1


async def test_workers_let_requests_being_stored_go_first(harness):
    """While a request is between arrival and its inbox write, a worker about to take the next
    event waits (bounded by INTAKE_FIRST): the 200 never waits for the work in a burst."""
    import asyncio

    h = harness
    ingress = h.bot.ingress
    gate = asyncio.Event()
    real = ingress.store

    async def held(**fields):
        await gate.wait()
        return await real(**fields)

    ingress.store = held
    post = asyncio.ensure_future(_post(h, *_signed(_envelope())))
    while not ingress.storing:
        await asyncio.sleep(0)
    waiting = asyncio.ensure_future(ingress.quiet(30))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the worker's yield holds while the request is being stored
    gate.set()
    status, _ = await post
    await waiting  # and ends as soon as it is stored
    assert status == 200 and ingress.storing == 0
    await h.settle()


async def test_workers_take_turns_during_a_burst(harness, monkeypatch):
    """In a burst the workers take one event per INTAKE_FIRST between them, not one each: the
    next worker's wait starts as the previous one goes, so the loop pauses for the work a
    quarter as often. When the burst ends every waiting worker goes at once."""
    import asyncio

    import bot.worker

    h = harness
    monkeypatch.setattr(bot.worker, "INTAKE_FIRST", 0.5)
    ingress, workers = h.bot.ingress, h.bot.workers
    loop = asyncio.get_running_loop()
    start = workers.processed
    ingress._busy(+1)  # a request being stored for as long as the burst lasts
    try:
        for i in range(3):  # three chats: three lanes, one worker each
            h.sim.add_chat(f"直播{i}群", [h.users["member"]], chat_id=f"oc_burst{i}")
            body = _envelope()
            body["event"]["message"]["chat_id"] = f"oc_burst{i}"
            status, _ = await _post(h, *_signed(body))
            assert status == 200  # stored and answered during the burst
        deadline = loop.time() + 10
        while workers.processed == start and loop.time() < deadline:
            await asyncio.sleep(0.01)
        assert workers.processed == start + 1  # the first turn
        await asyncio.sleep(0.2)
        assert workers.processed == start + 1  # the second worker's wait began as the first went
    finally:
        ingress._busy(-1)
    await h.settle()
    assert workers.processed == start + 3


async def test_a_card_press_is_answered_during_a_burst(harness, monkeypatch):
    """While a card press waits for its answer (Feishu shows it only within 3 s) the workers do
    not wait for the burst to pause: the press is handled and answered at once, not left to
    its answer window's end (ANSWER_WITHIN, then {}, and Feishu shows the presser nothing)."""
    import asyncio

    import bot.worker
    from bot.answers import ANSWER_WITHIN
    from bot.sim.cards import buttons

    h = harness
    await h.say("member", "/提醒 30分钟后 看库存")
    card = h.last_reply()
    pause = next(b["value"] for b in buttons(card["content"]) if b["value"].get("a") == "remind.pause")
    monkeypatch.setattr(bot.worker, "INTAKE_FIRST", 10.0)  # longer than a press's answer may take
    loop = asyncio.get_running_loop()
    h.bot.ingress._busy(+1)  # a burst that does not pause
    try:
        started = loop.time()
        await h.sim.press_button(card["message_id"], h.users["member"], pause)
        took = loop.time() - started
    finally:
        h.bot.ingress._busy(-1)
    assert took < ANSWER_WITHIN  # handled and answered, not left to time out (then {})
    await h.settle()
    assert "已暂停" in h.text_of(h.sim.message(card["message_id"]))

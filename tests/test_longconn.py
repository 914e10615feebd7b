"""Long-connection frames, handled the way lark-oapi 1.7.5's ws client hands them over
(lark_oapi/ws/client.py ``_handle_data_frame``: a DATA frame of type "event", the handler's
result base64-encoded in the response frame's ``data``), without a socket: events are stored
before the frame is answered, a card press is answered with the router's toast, and one slow
event does not hold up the next (the SDK calls its handler synchronously on the socket loop)."""
from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time

from sqlalchemy import func, select

from bot.feishu.longconn import InboxFeed, client_class
from bot.store.models import InboxEvent
from tests.harness import APP_ID, APP_SECRET


def frame(body: dict):
    from lark_oapi.ws.pb.pbbp2_pb2 import Frame

    f = Frame(method=1, service=1, SeqID=1, LogID=1, payload=json.dumps(body).encode())
    for key, value in (("type", "event"), ("message_id", secrets.token_hex(4)), ("sum", "1"), ("seq", "0"),
                       ("trace_id", "t")):
        h = f.headers.add()
        h.key, h.value = key, value
    return f


def envelope(event_type: str, event: dict) -> dict:
    return {"schema": "2.0", "header": {"event_id": secrets.token_hex(8), "event_type": event_type,
                                        "create_time": str(int(time.time() * 1000)), "token": "",
                                        "app_id": APP_ID, "tenant_key": "t"}, "event": event}


def text_event(chat: str, user: str, text: str) -> dict:
    return envelope("im.message.receive_v1", {
        "sender": {"sender_id": {"open_id": user}, "sender_type": "user"},
        "message": {"message_id": "om_" + secrets.token_hex(6), "chat_id": chat, "chat_type": "group",
                    "message_type": "text", "content": json.dumps({"text": text})}})


def client(h):
    c = client_class()(APP_ID, APP_SECRET, event_handler=None)
    c.feed = InboxFeed(h.bot.ingress, asyncio.get_running_loop())
    c.sent = []

    async def write(data: bytes) -> None:
        from lark_oapi.ws.pb.pbbp2_pb2 import Frame

        out = Frame()
        out.ParseFromString(data)
        c.sent.append(json.loads(out.payload))

    c._write_message = write
    return c


def held_store(h) -> tuple[dict, asyncio.Event]:
    """A text event whose inbox write waits until the returned gate is set (others go at once)."""
    gate = asyncio.Event()
    real = h.bot.ingress.store
    slow_event = text_event(h.chats["team"], h.users["member"], "慢")

    async def slow_then_real(**fields):
        if fields["event_id"] == slow_event["header"]["event_id"]:
            await gate.wait()
        return await real(**fields)

    h.bot.ingress.store = slow_then_real
    return slow_event, gate


async def test_events_are_stored_before_the_frame_is_answered(harness):
    h = harness
    c = client(h)
    await asyncio.gather(*(c._handle_data_frame(frame(text_event(h.chats["team"], h.users["member"], f"闲聊 {i}")))
                           for i in range(5)))
    assert [r["code"] for r in c.sent] == [200] * 5
    async with h.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(InboxEvent))).scalar() == 5


async def test_a_card_press_is_answered_in_the_frame(harness):
    h = harness
    c = client(h)
    press = envelope("card.action.trigger", {
        "operator": {"open_id": h.users["outsider"]}, "token": "c-1",
        "action": {"tag": "button", "value": {"a": "no.such.action"}},
        "context": {"open_message_id": "om_x", "open_chat_id": h.chats["team"]}})
    await c._handle_data_frame(frame(press))
    (reply,) = c.sent
    answer = json.loads(base64.b64decode(reply["data"]))
    assert reply["code"] == 200 and answer["toast"]["content"], answer


async def test_a_slow_store_does_not_hold_the_socket_loop(harness):
    """While one event's write waits, the next frame is handled: the loop is never blocked."""
    h = harness
    c = client(h)
    slow_event, gate = held_store(h)
    slow = asyncio.ensure_future(c._handle_data_frame(frame(slow_event)))
    await c._handle_data_frame(frame(text_event(h.chats["team"], h.users["member"], "快")))
    assert len(c.sent) == 1 and not slow.done()
    gate.set()
    await slow
    assert [r["code"] for r in c.sent] == [200, 200]


async def test_readyz_says_not_ready_while_the_long_connection_is_down(harness):
    import aiohttp

    from bot.feishu.longconn import LongConnection

    h = harness
    h.bot.longconn = LongConnection(h.bot.settings, h.bot.ingress, asyncio.get_running_loop())  # never started
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{h.bot_url}/readyz") as r:
            body = await r.json()
            assert r.status == 503 and body["long_connection"] is False and body["database"] is True


async def test_at_shutdown_a_frame_in_hand_is_stored_and_answered_and_new_ones_come_again(harness):
    """InboxFeed.drain (bot.server.shut_down): frames that arrive after it began are answered 500,
    so Feishu delivers them again; the frame in hand is stored and answered before it returns."""
    h = harness
    c = client(h)
    slow_event, gate = held_store(h)
    slow = asyncio.ensure_future(c._handle_data_frame(frame(slow_event)))
    while c.feed.in_hand != 1:
        await asyncio.sleep(0.01)
    draining = asyncio.create_task(c.feed.drain(10))
    await asyncio.sleep(0)  # the drain begins: new frames are refused from here on
    await c._handle_data_frame(frame(text_event(h.chats["team"], h.users["member"], "新")))
    assert [r["code"] for r in c.sent] == [500] and not draining.done()
    gate.set()
    await asyncio.wait_for(draining, 10)
    assert slow.done() and [r["code"] for r in c.sent] == [500, 200] and c.feed.in_hand == 0
    async with h.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(InboxEvent))).scalar() == 1

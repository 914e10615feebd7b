"""FeishuSimulator: a local, faithful fake of the parts of Feishu the bot uses.

Serve it standalone (``await sim.start()`` or ``sim.make_app()``) or mount its routes into
another aiohttp app (``sim.add_routes(app)``): ``/open-apis/...`` (see ``openapi.py``) and
``/_sim/...`` (see ``inspect.py``). Simulated users act through the async methods here
(``send_text``, ``press_button`` ...), which store the message and push the event to
``event_url`` exactly as Feishu would (schema 2.0, optional encryption and signature).

Timestamps in messages and events are real time. ``clock`` is the bot's injected clock, shown
and advanced through ``/_sim/clock``; the simulator reads it for the 14-day card lifetime.

The tenant's scopes are ``scopes`` (default: what docs/feishu-setup.md asks for, see scopes.py).
Group messages reach the bot only when they @ it, unless the tenant approved the sensitive
``im:message.group_msg`` scope (``group_msg=True``) — "接收消息" im.message.receive_v1, 注意事项.
"""
from __future__ import annotations

import asyncio
from collections import defaultdict
import json
import mimetypes
from typing import Any, Callable, Iterable

from aiohttp import web

from . import callbacks, inspect, native_inspect, scopes as scope_table
from .bitable import BitableStore
from .calendar import CalendarStore
from .events import EventPusher, Person, post_content, text_content
from .faults import FaultInjector
from .apibase import image_type
from .openapi import OpenApi
from .state import (Chat, Message, Resource, SimError, SimState, User, chat_view, message_view, now_ms,
                    random_hex, stable_hex)

STAT_KEYS = ("requests", "rate_limited_chat", "rate_limited_app", "rate_limited_message",
             "faults_injected", "token_rejections", "scope_rejections", "uuid_dedupe_hits", "messages_sent",
             "buzzes", "chats_created", "tasks_created", "events_delivered", "events_failed",
             "events_not_delivered", "callbacks_failed")
URL_CHECK_TIMEOUT = 1.0  # "必须在 1 秒内，将接收到的 challenge 值以 JSON 格式原样返回" (事件订阅 常见问题)
SUBSCRIBED = frozenset({"im.message.receive_v1", "im.chat.member.bot.added_v1", "im.chat.member.bot.deleted_v1",
                        "card.action.trigger", "task.task.updated_v1"})

UserRef = str | dict[str, Any]


class FeishuSimulator:
    def __init__(self, *, app_id: str = "cli_sandbox", app_secret: str = "sandbox-secret",
                 encrypt_key: str | None = None, verification_token: str | None = None,
                 bot_name: str = "LiveOps", event_url: str | None = None, clock: Any = None,
                 rate_limits: bool = True, per_chat_qps: int = 5, per_app_qps: int = 50,
                 per_app_qpm: int = 1000, group_msg: bool = False,
                 scopes: Iterable[str] | None = None) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.encrypt_key = encrypt_key
        self.verification_token = verification_token
        self.bot_name = bot_name
        self.event_url = event_url
        self.clock = clock
        self.rate_limits = rate_limits
        self.per_chat_qps = per_chat_qps
        self.per_app_qps = per_app_qps  # per API (频控策略: 50 次/秒)
        self.per_app_qpm = per_app_qpm  # per API (频控策略: 1000 次/分钟)
        self.scopes: set[str] = set(scope_table.DEFAULT_GRANTED if scopes is None else scopes)
        if group_msg:
            self.scopes.add(scope_table.GROUP_MSG)
        self.subscriptions: set[str] = set(SUBSCRIBED)  # the app's event/callback subscriptions
        self.contact_range: set[str] | None = None  # open_ids in the app's contact data range; None: all
        self.callback_timeout = callbacks.CALLBACK_TIMEOUT  # Feishu waits 3 s for a callback's answer
        self.url_check_timeout = URL_CHECK_TIMEOUT  # and 1 s for the URL check's
        self.tenant_key = stable_hex(app_id, "tenant", n=16)
        self.bot_open_id = "ou_bot" + stable_hex(app_id, "bot", n=26)
        self.bot_union_id = "on_bot" + stable_hex(app_id, "bot-union", n=26)
        self.state = SimState(app_id)
        self.state.clock = clock
        self.calendar = CalendarStore()  # calendar/v4 (bot/sim/calendar.py)
        self.bitable = BitableStore()  # bitable/v1 (bot/sim/bitable.py)
        self.faults = FaultInjector()
        self.stats: dict[str, int] = defaultdict(int, {k: 0 for k in STAT_KEYS})
        self.pusher = EventPusher(app_id=app_id, tenant_key=self.tenant_key, log=self.state.events)
        self.api = OpenApi(self)
        self.url: str | None = None
        self._runner: web.AppRunner | None = None
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def group_msg(self) -> bool:
        """The tenant approved im:message.group_msg: every group message reaches the bot."""
        return scope_table.GROUP_MSG in self.scopes

    @group_msg.setter
    def group_msg(self, on: bool) -> None:
        (self.scopes.add if on else self.scopes.discard)(scope_table.GROUP_MSG)

    def clock_ms(self) -> int:
        """Now on the simulator's clock (the bot's injected clock when given), in ms."""
        if self.clock is None:
            return now_ms()
        return int(self.clock.now().timestamp() * 1000)

    def card_age_ms(self, m: Message) -> int:
        return self.clock_ms() - (m.clock_ms or m.create_ms)

    # serving -------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        self.api.add_routes(app)
        inspect.add_routes(app, self)
        native_inspect.add_routes(app, self)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=40 * 1024 * 1024)
        self.add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve make_app() on host:port (0 = a free port); returns the base URL."""
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        real_port = runner.addresses[0][1]
        self._runner = runner
        self.url = f"http://{host}:{real_port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # the world -----------------------------------------------------------------------------
    def add_user(self, name: str, *, open_id: str | None = None, mobile: str | None = None,
                 email: str | None = None) -> dict[str, Any]:
        if not isinstance(name, str) or not name.strip():
            raise SimError("a user needs a name")
        name = name.strip()
        oid, union_id, user_id = self.state.new_user_ids(name)
        if open_id is not None:
            if open_id in self.state.users:
                raise SimError(f"user {open_id} already exists")
            oid = open_id
        user = User(open_id=oid, union_id=union_id, user_id=user_id, name=name, mobile=mobile, email=email)
        self.state.users[oid] = user
        self.notify()
        return user.view()

    def add_chat(self, name: str, members: list[str], *, chat_id: str | None = None,
                 owner: str | None = None, with_bot: bool = True, chat_type: str = "group") -> dict[str, Any]:
        if chat_type not in ("group", "p2p"):
            raise SimError("chat_type is group or p2p")
        member_ids = [self._user(m).open_id for m in members]
        if chat_id is not None and chat_id in self.state.chats:
            raise SimError(f"chat {chat_id} already exists")
        if chat_type == "p2p":
            if len(member_ids) != 1:
                raise SimError("a p2p chat has exactly one user")
            if self.state.p2p_chat_of(member_ids[0]):
                raise SimError("this user already has a direct chat with the bot")
        owner_id = self._user(owner).open_id if owner else (member_ids[0] if member_ids else "")
        chat = Chat(chat_id=chat_id or self.state.new_chat_id(name), name=name, chat_type=chat_type,
                    members=list(dict.fromkeys(member_ids)), bot_in_chat=with_bot or chat_type == "p2p",
                    owner_id=owner_id if chat_type == "group" else "",
                    p2p_user=member_ids[0] if chat_type == "p2p" else None)
        self.state.chats[chat.chat_id] = chat
        self.notify()
        return chat_view(self.state, chat)

    def p2p_chat(self, open_id: UserRef) -> dict[str, Any]:
        return chat_view(self.state, self._p2p(self._user(open_id).open_id))

    def _p2p(self, open_id: str) -> Chat:
        chat = self.state.p2p_chat_of(open_id)
        if chat is None:
            user = self.state.users[open_id]
            chat = Chat(chat_id=self.state.new_chat_id("p2p:" + open_id), name=user.name, chat_type="p2p",
                        members=[open_id], bot_in_chat=True, p2p_user=open_id)
            self.state.chats[chat.chat_id] = chat
        return chat

    def _user(self, ref: UserRef | None) -> User:
        if isinstance(ref, dict):
            ref = ref.get("open_id")
        if not isinstance(ref, str):
            raise SimError("a user is an open_id, a name, or a user record")
        user = self.state.users.get(ref) or self.state.user_by_name(ref)
        if user is None:
            raise SimError(f"unknown user {ref!r}", 404)
        return user

    def _by_mobile(self, mobile: str) -> User | None:
        def norm(m: str) -> str:
            m = m.replace(" ", "").replace("-", "")
            return m[3:] if m.startswith("+86") else m
        for user in self.state.users.values():
            if user.mobile and norm(user.mobile) == norm(mobile):
                return user
        return None

    def _chat(self, chat_id: str) -> Chat:
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise SimError(f"unknown chat {chat_id!r}", 404)
        return chat

    def _people(self) -> list[Person]:
        people = [Person(u.name, u.ids()) for u in self.state.users.values()]
        people.append(Person(self.bot_name, self._bot_ids()))
        return people

    def _bot_ids(self) -> dict[str, str]:
        return {"open_id": self.bot_open_id, "union_id": self.bot_union_id, "user_id": ""}

    def _person(self, open_id: str) -> Person | None:
        if open_id == self.bot_open_id:
            return Person(self.bot_name, self._bot_ids())
        user = self.state.users.get(open_id)
        return Person(user.name, user.ids()) if user else None

    # users acting --------------------------------------------------------------------------
    def _member_check(self, chat: Chat, user: User) -> None:
        if chat.chat_type == "p2p":
            if chat.p2p_user != user.open_id:
                raise SimError(f"{user.name} is not the user of direct chat {chat.chat_id}")
        elif user.open_id not in chat.members:
            raise SimError(f"{user.name} is not a member of chat {chat.chat_id}")

    async def _user_message(self, chat_id: str, user_ref: UserRef, msg_type: str, content: dict[str, Any],
                            mentions: list[dict[str, Any]], parent_id: str | None = None) -> dict[str, Any]:
        chat = self._chat(chat_id)
        user = self._user(user_ref)
        self._member_check(chat, user)
        m = Message(message_id="om_" + random_hex(), chat_id=chat.chat_id, sender_id=user.open_id,
                    sender_type="user", msg_type=msg_type,
                    content=json.dumps(content, ensure_ascii=False, separators=(",", ":")),
                    seq=self.state.next_seq(), mentions=mentions, clock_ms=self.clock_ms())
        if parent_id:
            parent = self.state.messages.get(parent_id)
            if parent is None or parent.chat_id != chat.chat_id:
                raise SimError(f"parent message {parent_id!r} is not in chat {chat.chat_id}")
            m.parent_id = parent.message_id
            m.root_id = parent.root_id or parent.message_id
            m.thread_id = parent.thread_id
        self.state.add_message(m)
        self.notify()
        delivery = None
        mentions_bot = any(x["id"].get("open_id") == self.bot_open_id for x in mentions)
        if chat.bot_in_chat and self._receives(chat, mentions_bot):
            message: dict[str, Any] = {
                "message_id": m.message_id, "root_id": m.root_id, "parent_id": m.parent_id,
                "create_time": str(m.create_ms), "update_time": str(m.create_ms),
                "chat_id": chat.chat_id, "chat_type": chat.chat_type, "message_type": msg_type,
                "content": m.content,
            }
            if m.thread_id:
                message["thread_id"] = m.thread_id
            if mentions:
                message["mentions"] = mentions
            event = {"sender": {"sender_id": user.ids(), "sender_type": "user", "tenant_key": self.tenant_key},
                     "message": message}
            delivery = await self.deliver("im.message.receive_v1", event)
        view = message_view(self.state, m, self.bot_name)
        view["delivery"] = delivery
        return view

    async def send_text(self, chat_id: str, user: UserRef, text: str, *,
                        parent_id: str | None = None) -> dict[str, Any]:
        """The user posts text; "@Name" (a known user or the bot) and <at user_id="ou_x">Name</at>
        become @_user_N mentions. Returns the stored message (/_sim shape) plus "delivery"."""
        if not isinstance(text, str) or not text:
            raise SimError("text must be a non-empty string")
        content, mentions = text_content(text, self._people(), self._person, self.tenant_key)
        return await self._user_message(chat_id, user, "text", content, mentions, parent_id)

    async def send_post(self, chat_id: str, user: UserRef, title: str, paragraphs: list[Any]) -> dict[str, Any]:
        """A rich-text message. Each paragraph is a string (mentions parsed) or a list of post
        elements ({"tag":"text","text":..}, {"tag":"at","user_id":"ou_.."}, {"tag":"a",...})."""
        if not isinstance(paragraphs, list):
            raise SimError("paragraphs must be a list")
        content, mentions = post_content(title, paragraphs, self._people(), self._person, self.tenant_key)
        return await self._user_message(chat_id, user, "post", content, mentions)

    async def upload_file(self, chat_id: str, user: UserRef, filename: str, data: bytes) -> dict[str, Any]:
        if not filename or not isinstance(data, (bytes, bytearray)) or not data:
            raise SimError("a file needs a name and some bytes")
        self._member_check(self._chat(chat_id), self._user(user))
        key = "file_v3_" + random_hex(30)
        ctype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self.state.resources[key] = Resource(key, "file", bytes(data), filename, ctype)
        return await self._user_message(chat_id, user, "file", {"file_key": key, "file_name": filename}, [])

    async def send_image(self, chat_id: str, user: UserRef, data: bytes) -> dict[str, Any]:
        ctype = image_type(bytes(data)) if isinstance(data, (bytes, bytearray)) else None
        if ctype is None:
            raise SimError("not an image (PNG, JPEG, GIF, BMP, TIFF, ICO or WEBP)")
        self._member_check(self._chat(chat_id), self._user(user))
        key = "img_v3_" + random_hex(30)
        self.state.resources[key] = Resource(key, "image", bytes(data), key, ctype)
        return await self._user_message(chat_id, user, "image", {"image_key": key}, [])

    def _receives(self, chat: Chat, mentions_bot: bool) -> bool:
        """Does a user's message in this chat reach the bot? ("接收消息" 注意事项: p2p needs
        im:message.p2p_msg:readonly; a group message needs im:message.group_msg, or
        im:message.group_at_msg:readonly when it @s the bot.)"""
        if "im.message.receive_v1" not in self.subscriptions:
            return False
        if chat.chat_type == "p2p":
            return scope_table.P2P_MSG in self.scopes
        return self.group_msg or (mentions_bot and scope_table.GROUP_AT_MSG in self.scopes)

    async def press_button(self, message_id: str, user: UserRef, value: dict[str, Any],
                           form_value: dict[str, Any] | None = None, *, check: bool = True) -> dict[str, Any]:
        """The user presses a button on a card (card.action.trigger, delivered once, never
        retried). Returns the JSON the bot answered ({} when it answered nothing usable); a
        {"card":{"type":"raw","data":...}} in it replaces the card, a toast is shown to the
        presser (see ``press`` for what the presser saw). With check=True the value must belong
        to a button on the card."""
        result = await callbacks.press(self, message_id, user, value, form_value, check=check)
        return result["response"] or {}

    async def press(self, message_id: str, user: UserRef, value: dict[str, Any],
                    form_value: dict[str, Any] | None = None, *, check: bool = True) -> dict[str, Any]:
        """Like press_button, with everything: {response, toast (what the presser saw), delivery,
        expired}."""
        return await callbacks.press(self, message_id, user, value, form_value, check=check)

    async def add_bot_to_chat(self, chat_id: str, operator: UserRef) -> dict[str, Any]:
        """The operator adds the bot to a group (im.chat.member.bot.added_v1)."""
        chat = self._chat(chat_id)
        op = self._user(operator)
        if chat.chat_type != "group":
            raise SimError("the bot can only be added to a group")
        chat.bot_in_chat = True
        self.notify()
        event = {"chat_id": chat.chat_id, "operator_id": op.ids(), "external": False,
                 "operator_tenant_key": self.tenant_key, "name": chat.name,
                 "i18n_names": {"zh_cn": chat.name, "en_us": chat.name, "ja_jp": ""}}
        return await self.deliver("im.chat.member.bot.added_v1", event)

    def _event_allowed(self, event_type: str) -> bool:
        needed = scope_table.EVENT_SCOPES.get(event_type, ())
        return event_type in self.subscriptions and not scope_table.missing(needed, self.scopes)

    async def remove_bot_from_chat(self, chat_id: str, operator: UserRef) -> dict[str, Any]:
        chat = self._chat(chat_id)
        op = self._user(operator)
        if chat.chat_type != "group":
            raise SimError("the bot can only be removed from a group")
        chat.bot_in_chat = False
        self.notify()
        event = {"chat_id": chat.chat_id, "operator_id": op.ids(), "external": False,
                 "operator_tenant_key": self.tenant_key, "name": chat.name,
                 "i18n_names": {"zh_cn": chat.name, "en_us": chat.name, "ja_jp": ""}}
        return await self.deliver("im.chat.member.bot.deleted_v1", event)

    # events --------------------------------------------------------------------------------
    async def deliver(self, event_type: str, event: dict[str, Any], *,
                      event_id: str | None = None) -> dict[str, Any]:
        """Push any event to event_url. Returns {event_id, type, time, status, response (parsed
        JSON or text), elapsed_ms, error}; status is None when the bot could not be reached.
        An event the app did not subscribe to (or lacks the scope for) is not pushed: the
        result then has status None and ``not_delivered`` set."""
        payload = self.pusher.envelope(event_type, event, token=self.verification_token, event_id=event_id)
        if not self._event_allowed(event_type):
            self.stats["events_not_delivered"] += 1
            return {"event_id": payload["header"]["event_id"], "type": event_type, "status": None,
                    "response": None, "error": None, "not_delivered": "not subscribed or scope missing",
                    "payload": payload}
        return await self._push(payload)

    async def redeliver(self, event_id: str) -> dict[str, Any]:
        """Send an earlier event again, same envelope (Feishu's at-least-once delivery)."""
        payload = self.pusher.envelope_for(event_id)
        if payload is None:
            raise SimError(f"no event {event_id!r} was delivered", 404)
        return await self._push(payload)

    async def url_check(self, url: str | None = None) -> dict[str, Any]:
        """The request-URL check Feishu does when an app saves its event/callback URL ("配置请求
        地址" / 事件订阅 常见问题): a POST of ``{"challenge", "token", "type": "url_verification"}``,
        encrypted when an Encrypt Key is set, WITHOUT X-Lark-Signature / timestamp / nonce
        headers; the answer must be ``{"challenge": ...}`` (JSON, 200) within 1 s.
        Returns the push record plus ``challenge`` and ``ok``."""
        payload = {"challenge": random_hex(36), "token": self.verification_token or "",
                   "type": "url_verification"}
        info = await self.pusher.push(url or self.event_url, payload, self.encrypt_key, kind="url_verification",
                                      timeout=self.url_check_timeout, signed=False)
        info["challenge"] = payload["challenge"]
        answer = info.get("response")
        info["ok"] = (info.get("status") == 200 and isinstance(answer, dict)
                      and answer.get("challenge") == payload["challenge"])
        return info

    verify_url = url_check  # the old name

    async def _push(self, payload: dict[str, Any], *, timeout: float | None = None,
                    kind: str = "event") -> dict[str, Any]:
        info = await self.pusher.push(self.event_url, payload, self.encrypt_key, kind=kind, timeout=timeout)
        if info["status"] == 200:
            self.stats["events_delivered"] += 1
        else:
            self.stats["events_failed"] += 1
        return info

    # reading -------------------------------------------------------------------------------
    def requests(self, path_contains: str = "") -> list[dict[str, Any]]:
        """Recorded Open API calls, oldest first: {method, path, query, json, headers
        (authorization, content-type, user-agent), status, code, time, fault, elapsed_ms}."""
        return [r for r in self.state.requests if path_contains in r["path"]]

    def events(self) -> list[dict[str, Any]]:
        """Deliveries, oldest first: {event_id, type, time, status, response, elapsed_ms, error,
        payload (the envelope before encryption)}."""
        return list(self.state.events)

    def tasks(self) -> list[dict[str, Any]]:
        return list(self.state.tasks.values())

    def messages(self, chat_id: str) -> list[dict[str, Any]]:
        """The chat's messages in the order they were sent, /_sim shape."""
        self._chat(chat_id)
        return [message_view(self.state, m, self.bot_name) for m in self.state.chat_message_list(chat_id)]

    def message(self, message_id: str) -> dict[str, Any]:
        m = self.state.messages.get(message_id)
        if m is None:
            raise SimError(f"unknown message {message_id!r}", 404)
        return message_view(self.state, m, self.bot_name)

    def chats(self) -> list[dict[str, Any]]:
        return [chat_view(self.state, c) for c in self.state.chats.values()]

    def users(self) -> list[dict[str, Any]]:
        return [u.view() for u in self.state.users.values()]

    def expire_tokens(self) -> None:
        """Every issued tenant token becomes invalid (99991663 on next use)."""
        self.state.tokens.clear()

    def reset_rate_limits(self) -> None:
        self.api.limiter.clear()
        for window in (self.api.chat_window, self.api.message_window):
            window.clear()

    # waiting without sleeping --------------------------------------------------------------
    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_for_message(self, chat_id: str | None = None,
                               predicate: Callable[[dict[str, Any]], bool] | None = None, *,
                               after_seq: int = 0, sender: str | None = "app",
                               timeout: float = 5.0) -> dict[str, Any]:
        """The first message (lowest seq > after_seq; a changed message counts again) in the
        chat, from sender "app"/"user"/None=any, matching predicate. Raises TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            pool = (self.state.chat_message_list(chat_id) if chat_id is not None
                    else list(self.state.messages.values()))
            for m in sorted(pool, key=lambda x: x.seq):
                if m.seq <= after_seq or (sender is not None and m.sender_type != sender):
                    continue
                view = message_view(self.state, m, self.bot_name)
                if predicate is None or predicate(view):
                    return view
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no matching message in {chat_id or 'any chat'} after seq {after_seq}")
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                pass

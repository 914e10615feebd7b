"""The simulator's world: users, chats, messages, uploaded resources, tasks, and the logs.

Plain dataclasses, mutated only from the event loop (no locks needed). Views for the Open API
(Feishu's own shapes) and for the /_sim inspection API live here too, next to the data.
"""
from __future__ import annotations

from bot.clock import wall_seconds
from dataclasses import dataclass, field
from datetime import datetime, timezone
import hashlib
import json
import secrets
from typing import Any


class SimError(ValueError):
    """Bad input to the simulator's own API (the facade or /_sim): 400, or 404 when unknown."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def now_ms() -> int:
    return int(wall_seconds() * 1000)


def iso_ms(ms: int) -> str:
    """Milliseconds since the epoch as ISO 8601 with milliseconds, UTC."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def random_hex(n: int = 32) -> str:
    return secrets.token_hex(n // 2 + 1)[:n]


def stable_hex(*parts: str, n: int = 32) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:n]


@dataclass
class User:
    open_id: str
    union_id: str
    user_id: str
    name: str
    mobile: str | None = None
    email: str | None = None

    def ids(self) -> dict[str, str]:
        return {"open_id": self.open_id, "union_id": self.union_id, "user_id": self.user_id}

    def view(self) -> dict[str, Any]:
        return {"open_id": self.open_id, "union_id": self.union_id, "user_id": self.user_id,
                "name": self.name, "mobile": self.mobile, "email": self.email}


@dataclass
class Chat:
    chat_id: str
    name: str
    chat_type: str  # "group" | "p2p"
    members: list[str]  # user open_ids, never the bot
    bot_in_chat: bool = True
    description: str = ""
    owner_id: str = ""  # an open_id, or "" when the bot owns it
    created_by_bot: bool = False
    p2p_user: str | None = None
    create_ms: int = field(default_factory=now_ms)
    # 群设置 "谁可以加急" (群信息 urgent_setting): "all_members" or "only_owner" (owner and
    # admins); urgent_app answers 230052 to a bot that is not an admin when it is "only_owner"
    urgent_setting: str = "all_members"
    bot_is_admin: bool = False  # e.g. created with set_bot_manager=true


@dataclass
class Message:
    message_id: str
    chat_id: str
    sender_id: str  # a user's open_id, or the app_id for the bot
    sender_type: str  # "user" | "app"
    msg_type: str
    content: str  # the JSON string, as Feishu stores it
    seq: int
    create_ms: int = field(default_factory=now_ms)
    update_ms: int = 0
    parent_id: str = ""
    root_id: str = ""
    thread_id: str = ""
    mentions: list[dict[str, Any]] = field(default_factory=list)  # event shape (id is an object)
    updated: bool = False
    urgent: list[dict[str, Any]] = field(default_factory=list)
    pinned: bool = False
    uuid: str | None = None
    clock_ms: int = 0  # the simulator clock when sent (the 14-day card window); 0 = create_ms
    toasts: list[dict[str, Any]] = field(default_factory=list)  # shown to pressers of this card

    def parsed(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError:
            return self.content


@dataclass
class Resource:
    key: str
    kind: str  # "file" | "image"
    data: bytes
    name: str
    content_type: str


MAX_LOG = 5000


def append_capped(log: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    """Keep the last MAX_LOG entries (the sandbox runs for days)."""
    log.append(entry)
    if len(log) > MAX_LOG + 500:
        del log[:len(log) - MAX_LOG]


class SimState:
    """Everything the simulated tenant holds."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.users: dict[str, User] = {}
        self.chats: dict[str, Chat] = {}
        self.messages: dict[str, Message] = {}
        self.chat_messages: dict[str, list[str]] = {}
        self.resources: dict[str, Resource] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.task_tokens: dict[str, str] = {}
        self.message_uuids: dict[str, tuple[float, str]] = {}  # uuid -> (real time, message_id)
        self.chat_uuids: dict[str, tuple[float, str]] = {}
        self.tokens: dict[str, float] = {}  # tenant token -> real expiry time
        self.requests: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.pins: dict[str, dict[str, Any]] = {}
        # card callback token -> {message_id, expires (real time), uses left}
        self.card_tokens: dict[str, dict[str, Any]] = {}
        self.clock: Any = None  # the bot's injected clock, when the simulator was given one
        self._seq = 0

    # ids -----------------------------------------------------------------------------------
    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @property
    def last_seq(self) -> int:
        return self._seq

    def new_user_ids(self, name: str) -> tuple[str, str, str]:
        n = 0
        while True:
            h = stable_hex(self.namespace, "user", name, str(n), n=40)
            open_id = "ou_" + h[:32]
            if open_id not in self.users:
                return open_id, "on_" + h[8:40], h[:8]
            n += 1

    def new_chat_id(self, seed: str | None = None) -> str:
        n = 0
        while True:
            chat_id = "oc_" + (stable_hex(self.namespace, "chat", seed, str(n)) if seed else random_hex())
            if chat_id not in self.chats:
                return chat_id
            n += 1

    # lookups -------------------------------------------------------------------------------
    def user_by_name(self, name: str) -> User | None:
        for user in self.users.values():
            if user.name == name:
                return user
        return None

    def find_user(self, any_id: str, id_type: str = "open_id") -> User | None:
        if id_type == "open_id":
            return self.users.get(any_id)
        for user in self.users.values():
            if id_type == "union_id" and user.union_id == any_id:
                return user
            if id_type == "user_id" and user.user_id == any_id:
                return user
            if id_type == "email" and user.email and user.email.lower() == any_id.lower():
                return user
        return None

    def p2p_chat_of(self, open_id: str) -> Chat | None:
        for chat in self.chats.values():
            if chat.chat_type == "p2p" and chat.p2p_user == open_id:
                return chat
        return None

    def add_message(self, message: Message) -> Message:
        if self.clock is not None and not message.clock_ms:
            message.clock_ms = int(self.clock.now().timestamp() * 1000)
        self.messages[message.message_id] = message
        self.chat_messages.setdefault(message.chat_id, []).append(message.message_id)
        return message

    def chat_message_list(self, chat_id: str) -> list[Message]:
        return [self.messages[mid] for mid in self.chat_messages.get(chat_id, [])]

    def touch(self, message: Message) -> None:
        """The message changed: give it a new seq so pollers using ?after see it again."""
        message.seq = self.next_seq()
        message.update_ms = now_ms()


# views -------------------------------------------------------------------------------------

def message_view(state: SimState, m: Message, bot_name: str) -> dict[str, Any]:
    """The /_sim shape of a message (content parsed, times in ISO 8601)."""
    if m.sender_type == "app":
        sender = {"id": m.sender_id, "type": "app", "name": bot_name}
    else:
        user = state.users.get(m.sender_id)
        sender = {"id": m.sender_id, "type": "user", "name": user.name if user else m.sender_id}
    return {
        "seq": m.seq,
        "message_id": m.message_id,
        "chat_id": m.chat_id,
        "sender": sender,
        "msg_type": m.msg_type,
        "content": m.parsed(),
        "create_time": iso_ms(m.create_ms),
        "update_time": iso_ms(m.update_ms or m.create_ms),
        "clock_time": iso_ms(m.clock_ms) if m.clock_ms else None,
        "parent_id": m.parent_id,
        "root_id": m.root_id,
        "thread_id": m.thread_id,
        "mentions": [{"key": x["key"], "open_id": x["id"].get("open_id", ""), "name": x["name"]}
                     for x in m.mentions],
        "updated": m.updated,
        "urgent": [dict(u) for u in m.urgent],
        "pinned": m.pinned,
        "toasts": [dict(t) for t in m.toasts],
    }


def chat_view(state: SimState, chat: Chat) -> dict[str, Any]:
    msgs = state.chat_message_list(chat.chat_id)
    return {
        "chat_id": chat.chat_id,
        "name": chat.name,
        "chat_type": chat.chat_type,
        "members": list(chat.members),
        "bot_in_chat": chat.bot_in_chat,
        "description": chat.description,
        "owner_id": chat.owner_id,
        "created_by_bot": chat.created_by_bot,
        "urgent_setting": chat.urgent_setting,
        "bot_is_admin": chat.bot_is_admin,
        "message_count": len(msgs),
        "last_seq": max((m.seq for m in msgs), default=0),
    }


def api_message(m: Message, tenant_key: str) -> dict[str, Any]:
    """The Open API shape of a message (im/v1 message object)."""
    out: dict[str, Any] = {"message_id": m.message_id}
    if m.root_id:
        out["root_id"] = m.root_id
    if m.parent_id:
        out["parent_id"] = m.parent_id
    if m.thread_id:
        out["thread_id"] = m.thread_id
    out.update({
        "msg_type": m.msg_type,
        "create_time": str(m.create_ms),
        "update_time": str(m.update_ms or m.create_ms),
        "deleted": False,
        "updated": m.updated,
        "chat_id": m.chat_id,
        "sender": {
            "id": m.sender_id,
            "id_type": "app_id" if m.sender_type == "app" else "open_id",
            "sender_type": m.sender_type,
            "tenant_key": tenant_key,
        },
        "body": {"content": m.content},
    })
    if m.mentions:
        out["mentions"] = [{"key": x["key"], "id": x["id"].get("open_id", ""), "id_type": "open_id",
                            "name": x["name"], "tenant_key": tenant_key} for x in m.mentions]
    return out

"""Feishu event envelopes turned into the bot's own small types.

Nothing outside bot/feishu/ needs to know Feishu's JSON shapes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


MESSAGE = "im.message.receive_v1"


@dataclass(frozen=True)
class Mention:
    key: str
    open_id: str
    name: str


@dataclass(frozen=True)
class IncomingMessage:
    event_id: str
    message_id: str
    chat_id: str
    chat_type: str  # group | p2p
    sender_id: str
    sender_type: str
    msg_type: str
    text: str  # readable text: other people's mentions as @Name, the bot's mention removed
    raw_content: dict
    mentions: tuple[Mention, ...] = ()  # everyone mentioned except the bot
    bot_mentioned: bool = False
    parent_id: str = ""
    root_id: str = ""
    file_key: str = ""
    file_name: str = ""
    image_keys: tuple[str, ...] = ()
    create_time_ms: int = 0

    @property
    def is_direct(self) -> bool:
        return self.chat_type == "p2p"


@dataclass(frozen=True)
class CardAction:
    event_id: str
    operator_id: str
    value: dict
    form_value: dict = field(default_factory=dict)
    message_id: str = ""
    chat_id: str = ""
    token: str = ""


@dataclass(frozen=True)
class BotAdded:
    event_id: str
    chat_id: str
    operator_id: str
    name: str = ""


@dataclass(frozen=True)
class OtherEvent:
    event_id: str
    event_type: str
    data: dict = field(default_factory=dict)  # the envelope's "event" object


Event = IncomingMessage | CardAction | BotAdded | OtherEvent


class EventShapeError(ValueError):
    """The envelope lacks what its type needs."""


def envelope_ids(body: dict) -> tuple[str, str, str | None]:
    """(event_id, event_type, message_id) of a decrypted body; raises EventShapeError."""
    event_id, event_type, message_id, _ = envelope_keys(body)
    return event_id, event_type, message_id


def envelope_keys(body: dict) -> tuple[str, str, str | None, str]:
    """Like envelope_ids, plus the lane: the chat the event belongs to (or the event id)."""
    header = body.get("header")
    if isinstance(header, dict):  # schema 2.0
        event_id, event_type = header.get("event_id"), header.get("event_type")
        event = body.get("event")
    else:  # schema 1.0 (old apps)
        event_id, event = body.get("uuid"), body.get("event")
        event_type = event.get("type") if isinstance(event, dict) else None
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
        raise EventShapeError("missing event id or type")
    if not isinstance(event, dict):
        raise EventShapeError("missing event body")
    message_id: str | None = None
    lane: Any = ""  # checked below: a chat id when it is a non-empty string
    if event_type == MESSAGE:
        message = event.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("message_id"), str):
            raise EventShapeError("message event without message_id")
        message_id = message["message_id"]
        lane = message.get("chat_id")
    elif event_type == "card.action.trigger":
        lane = (event.get("context") or {}).get("open_chat_id") if isinstance(event.get("context"), dict) else ""
    elif isinstance(event.get("chat_id"), str):
        lane = event["chat_id"]
    lane = lane if isinstance(lane, str) and lane else f"evt:{event_id}"
    return event_id[:128], event_type[:128], (message_id or None) and message_id[:128], lane[:128]


def parse(body: dict, bot_open_id: str) -> Event:
    """Turn a stored envelope into one of the bot's event types."""
    event_id, event_type, _ = envelope_ids(body)
    event = body["event"]
    if event_type == MESSAGE:
        return _message(event_id, event, bot_open_id)
    if event_type == "card.action.trigger":
        return _card_action(event_id, event)
    if event_type == "im.chat.member.bot.added_v1":
        operator = (event.get("operator_id") or {}).get("open_id", "")
        return BotAdded(event_id, str(event.get("chat_id", "")), str(operator), str(event.get("name", "")))
    return OtherEvent(event_id, event_type, event)


def _message(event_id: str, event: dict, bot_open_id: str) -> IncomingMessage:
    message = event.get("message") or {}
    sender = event.get("sender") or {}
    try:
        content = json.loads(message.get("content") or "{}")
    except (TypeError, ValueError):
        content = {}
    if not isinstance(content, dict):
        content = {}
    mentions_raw = [m for m in (message.get("mentions") or []) if isinstance(m, dict)]
    by_key: dict[str, Mention] = {}
    for m in mentions_raw:
        ids = m.get("id") or {}
        by_key[str(m.get("key", ""))] = Mention(str(m.get("key", "")), str(ids.get("open_id", "")),
                                               str(m.get("name", "")))
    msg_type = str(message.get("message_type", ""))
    text, image_keys, post_at = _content_text(msg_type, content, bot_open_id)
    bot_mentioned = any(m.open_id == bot_open_id for m in by_key.values()) or bot_open_id in post_at
    text = _replace_mentions(text, by_key, bot_open_id).strip()
    others = tuple(m for m in by_key.values() if m.open_id != bot_open_id)
    return IncomingMessage(
        event_id=event_id,
        message_id=str(message.get("message_id", "")),
        chat_id=str(message.get("chat_id", "")),
        chat_type=str(message.get("chat_type", "group")),
        sender_id=str(((sender.get("sender_id") or {}).get("open_id")) or ""),
        sender_type=str(sender.get("sender_type", "user")),
        msg_type=msg_type,
        text=text,
        raw_content=content,
        mentions=others,
        bot_mentioned=bot_mentioned,
        parent_id=str(message.get("parent_id") or ""),
        root_id=str(message.get("root_id") or ""),
        file_key=str(content.get("file_key", "")) if msg_type == "file" else "",
        file_name=str(content.get("file_name", "")) if msg_type == "file" else "",
        image_keys=image_keys,
        create_time_ms=_int(message.get("create_time")),
    )


def _content_text(msg_type: str, content: dict, bot_open_id: str) -> tuple[str, tuple[str, ...], set[str]]:
    """Readable text, image keys, and the open_ids @-ed in a post."""
    if msg_type == "text":
        return str(content.get("text", "")), (), set()
    if msg_type == "image":
        return "", (str(content.get("image_key", "")),), set()
    if msg_type == "post":
        # A post arrives either as {"title", "content"} or per-locale {"zh_cn": {...}}.
        body = content if "content" in content else next(
            (v for v in content.values() if isinstance(v, dict)), {})
        parts, images, ats = [], [], set()
        title = body.get("title")
        if title:
            parts.append(str(title))
        for para in body.get("content") or []:
            line = []
            after_bot = False  # the space after the bot's own @ is not part of the text
            for node in para if isinstance(para, list) else []:
                if not isinstance(node, dict):
                    continue
                tag = node.get("tag")
                if tag in ("text", "a", "code_block"):
                    piece = str(node.get("text", ""))
                    line.append(piece.lstrip(" ") if after_bot else piece)
                    after_bot = False
                elif tag == "at":
                    uid = str(node.get("user_id", ""))
                    ats.add(uid)
                    if uid == bot_open_id:
                        after_bot = True
                        continue
                    line.append(f"@{node.get('user_name') or uid}" if not uid.startswith("@_") else uid)
                elif tag == "img":
                    images.append(str(node.get("image_key", "")))
            parts.append("".join(line))
        return "\n".join(parts), tuple(images), ats
    return "", (), set()


_PLACEHOLDER = re.compile(r"(?P<before>[ ]*)(?P<key>@_user_\d+|@_all)(?P<after>[ ]*)")


def _replace_mentions(text: str, by_key: dict[str, Mention], bot_open_id: str) -> str:
    """Placeholders become "@name"; the bot's own mention is removed with the spaces around it
    (one space stays between two words). Nothing else is touched: tabs and runs of spaces
    inside a pasted table are its empty cells."""
    def sub(match: re.Match[str]) -> str:
        key, before, after = match.group("key"), match.group("before"), match.group("after")
        if key == "@_all":
            return f"{before}@所有人{after}"
        mention = by_key.get(key)
        if mention is None:
            return match.group(0)
        if mention.open_id == bot_open_id:
            return " " if before and after else ""
        return f"{before}@{mention.name}{after}"

    return _PLACEHOLDER.sub(sub, text)


def _card_action(event_id: str, event: dict) -> CardAction:
    operator = event.get("operator") or {}
    action = event.get("action") or {}
    context = event.get("context") or {}
    value = action.get("value")
    form_value = action.get("form_value")
    return CardAction(
        event_id=event_id,
        operator_id=str(operator.get("open_id", "")),
        value=value if isinstance(value, dict) else {},
        form_value=form_value if isinstance(form_value, dict) else {},
        message_id=str(context.get("open_message_id", "")),
        chat_id=str(context.get("open_chat_id", "")),
        token=str(event.get("token", "")),
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

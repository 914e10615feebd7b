"""What a handler gets: who asked, where, in which language, and ways to answer.

Answers are outbox rows written in the handler's own transaction, keyed by the event that
caused them, so processing an event twice can never answer twice.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.cards import Card
from bot.feishu import groupmode
from bot.feishu.events import CardAction, IncomingMessage
from bot.i18n import t

if TYPE_CHECKING:
    from bot.services import Services


@dataclass
class Ctx:
    svc: "Services"
    session: AsyncSession
    cause: str  # "evt:{event_id}" or "timer:{id}:{due}"; every answer's key starts with it
    locale: str
    user_id: str
    chat_id: str
    roles: set[str] = field(default_factory=set)
    message: IncomingMessage | None = None
    action: CardAction | None = None
    chat_kind: str | None = None  # team | tech | field | fault | "" (None: unknown chat)
    outsider: bool | None = None  # worked out on first need (bot.access.is_outsider)
    ref: int | None = None  # the record the verb or button names, once the router checked it
    # A card press's answer, returned in the callback's HTTP response: {"toast": ...} and/or
    # {"card": {"type": "raw", "data": ...}} (Feishu applies it to the pressed card at once).
    response: dict = field(default_factory=dict)
    _seq: int = 0
    _files: dict = field(default_factory=dict)

    # -- language and time -------------------------------------------------------------
    def t(self, key: str, **values: object) -> str:
        return t(self.locale, key, **values)

    def now(self) -> datetime:
        return self.svc.clock.now()

    def local_now(self) -> datetime:
        return self.svc.clock.now().astimezone(self.svc.tz)

    def cmd(self, text: str) -> str:
        """A command example as it must be typed here: "/排期 本周" in a direct chat or when every
        group message reaches the bot, "@LiveOps 排期 本周" in a group in @-only mode."""
        direct = self.message is not None and self.message.is_direct
        return groupmode.render(self.svc, text, direct=direct)

    def key(self, label: str = "") -> str:
        self._seq += 1
        return f"{self.cause}:{self._seq}{':' + label if label else ''}"

    def require(self, role: str) -> None:
        """Stop with a "needs role X" answer unless the asker holds ``role`` (or a higher one)."""
        from bot import roles
        from bot.errors import PermissionDenied

        if not roles.allowed(self.roles, role):
            raise PermissionDenied(role)

    async def load(self, kind, record_id: int | None, *, owners_only: bool = False) -> int:
        """``record_id`` once the asker may see it (bot.access); else a refusal that does not
        tell whether the record exists."""
        from bot.access import may_see
        from bot.errors import UserError

        if record_id is None or not await may_see(self, kind, record_id, owners_only=owners_only):
            if self.svc.metrics:
                self.svc.metrics.access_denied.labels(what=kind.name, reason="record").inc()
            raise UserError("access.no_record", kind=self.t(f"access.kind.{kind.name}"),
                            id=record_id if record_id is not None else "?")
        return record_id

    def toast(self, text: str, kind: str = "info") -> None:
        """Answer a card press with a toast to the presser (info | success | warning | error).
        Outside a card press there is nobody to toast: the text is dropped."""
        self.response["toast"] = {"type": kind, "content": text}

    def respond_card(self, card: Card | dict) -> None:
        """Replace the pressed card with ``card`` in the callback's answer (no PATCH needed)."""
        self.response["card"] = {"type": "raw", "data": card.to_dict() if isinstance(card, Card) else card}

    async def file_bytes(self, message_id: str, file_key: str) -> bytes | None:
        """An uploaded file's bytes (message-resource API), downloaded once per event even when
        several file handlers look at it."""
        if (message_id, file_key) not in self._files:
            self._files[(message_id, file_key)] = await self.svc.platform.download(message_id, file_key)
        return self._files[(message_id, file_key)]

    # -- answering -----------------------------------------------------------------------
    async def reply(self, text: str | None = None, *, card: Card | dict | None = None) -> str:
        """Answer where the event came from: a quoted reply to a message, else into the chat.
        Returns the outbox key (usable as "@key" target to patch the card later)."""
        msg_type, content = _content(text, card)
        key = self.key()
        if self.message is not None and self.message.message_id:
            await outbox.enqueue(self.session, key=key, op="reply", lane=self.chat_id,
                                 target=self.message.message_id,
                                 payload={"msg_type": msg_type, "content": content})
        else:
            await self.send(self.chat_id, text, card=card, key=key)
        return key

    async def send(self, chat_id: str, text: str | None = None, *, card: Card | dict | None = None,
                   key: str | None = None) -> str:
        msg_type, content = _content(text, card)
        key = key or self.key()
        await outbox.enqueue(self.session, key=key, op="send", lane=chat_id, target=chat_id,
                             payload={"receive_id_type": "chat_id", "msg_type": msg_type,
                                      "content": content})
        return key

    async def dm(self, open_id: str, text: str | None = None, *, card: Card | dict | None = None) -> str:
        msg_type, content = _content(text, card)
        key = self.key()
        await outbox.enqueue(self.session, key=key, op="send", lane=f"user:{open_id}", target=open_id,
                             payload={"receive_id_type": "open_id", "msg_type": msg_type,
                                      "content": content})
        return key

    async def send_file(self, chat_id: str, file_name: str, data: bytes, *, file_type: str = "stream",
                        receive_id_type: str = "chat_id") -> str:
        """Upload a file (an export, a report) and post it; file_type: stream, pdf, xls, doc ..."""
        import base64

        key = self.key("file")
        lane = chat_id if receive_id_type == "chat_id" else f"user:{chat_id}"
        await outbox.enqueue(self.session, key=key, op="send_file", lane=lane, target=chat_id,
                             payload={"receive_id_type": receive_id_type, "file_name": file_name,
                                      "file_type": file_type,
                                      "data_b64": base64.b64encode(data).decode("ascii")})
        return key

    async def update_card(self, message_id: str, card: Card | dict, chat_id: str | None = None) -> str:
        key = self.key("patch")
        body = card.to_dict() if isinstance(card, Card) else card
        await outbox.enqueue(self.session, key=key, op="patch", lane=chat_id or self.chat_id,
                             target=message_id, payload={"content": body})
        return key


def _content(text: str | None, card: Card | dict | None) -> tuple[str, dict[str, Any]]:
    if card is not None:
        return "interactive", card.to_dict() if isinstance(card, Card) else card
    if text is None:
        raise ValueError("nothing to send")
    return "text", {"text": text}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

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

    @property
    def out(self) -> outbox.Out:
        """Typed Feishu writes queued in this event's transaction (bot.outbox.Out)."""
        return outbox.to(self.session)

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
        key = self.key()
        if self.message is not None and self.message.message_id:
            await self.out.reply(key, self.message.message_id, text, chat=self.chat_id, card=card)
        else:
            await self.send(self.chat_id, text, card=card, key=key)
        return key

    async def send(self, chat_id: str, text: str | None = None, *, card: Card | dict | None = None,
                   key: str | None = None) -> str:
        return await self.out.send(key or self.key(), chat_id, text, card=card)

    async def dm(self, open_id: str, text: str | None = None, *, card: Card | dict | None = None) -> str:
        return await self.out.send(self.key(), open_id, text, card=card, by="open_id")

    async def send_file(self, chat_id: str, file_name: str, data: bytes, *, file_type: str = "stream",
                        receive_id_type: str = "chat_id") -> str:
        """Upload a file (an export, a report) and post it; file_type: stream, pdf, xls, doc ..."""
        import base64

        return await self.out.send_file(self.key("file"), chat_id, file_name,
                                        base64.b64encode(data).decode("ascii"), file_type=file_type,
                                        by=receive_id_type)

    async def update_card(self, message_id: str, card: Card | dict, chat_id: str | None = None) -> str:
        return await self.out.patch(self.key("patch"), message_id, card, chat=chat_id or self.chat_id)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

"""The seam: one event through the bot's real router, Ctx and command registry, on a real
database, in this process: no HTTP, no simulator, no workers. What the handler wrote to the
outbox is read back as the messages the simulator would show (the same shape as
tests/harness.py's, so a test reads both alike: ``last_reply``, ``text_of``, ``bot_messages``).

Like nonebug's ``test_matcher``: feed an event, look at the calls it queued. A command test that
only checks the answer runs here in milliseconds; flows that need Feishu (reads of the
platform, uploads, delivery, retries, timers firing) stay on the end-to-end harness.

    async def test_whoami(seam):
        await seam.say("member", "/我是谁")
        assert "ou_member" in seam.text_of(seam.last_reply())

Events are shaped as Feishu delivers them (the simulator's own mention parsing and envelope),
then parsed by bot.feishu.events exactly as the inbox worker does. The platform points at a
closed port: a handler that reads from Feishu gets the error it would get from an outage.
"""
from __future__ import annotations

import itertools
import math
import json
import uuid
from datetime import datetime

from sqlalchemy import select

from bot.app import LiveOpsBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.feishu import events
from bot.sim.events import Person, text_content
from bot.store.db import Database
from bot.store.models import OutboxMessage
from tests import helpers
from tests.harness import APP_ID, APP_SECRET, ENCRYPT_KEY, TEAM, TOKEN, seed_team

BOT_OPEN_ID, BOT_NAME = "ou_seam_bot", "LiveOps"
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, a call fails at once
TENANT = "seam_tenant"
_SHOWN = ("send", "reply")  # ops that post a message; patch changes one


class Seam:
    """The harness's team (people, roles, the team and tech groups) without the simulator."""

    text_of = staticmethod(helpers.text_of)

    def __init__(self, db: Database, start: datetime) -> None:
        self.db = db
        self.clock = ManualClock(start, frozen=True)
        self.users = {key: f"ou_{key}" for key in TEAM}
        self.names = {f"ou_{key}": name for key, name in TEAM.items()}
        self.chats = {"team": "oc_team", "tech": "oc_tech"}
        self.members = {"oc_team": [self.users[k] for k in TEAM if k != "outsider"],
                        "oc_tech": [self.users["admin"], self.users["tech"]]}
        self.p2p: dict[str, str] = {}  # direct chat id -> its user
        self.messages: list[dict] = []  # the bot's, in the order written
        self._by_key: dict[str, dict] = {}
        self._read = 0  # the last outbox row id read
        self._ids = itertools.count(1)
        self.bot: LiveOpsBot | None = None

    async def start(self) -> None:
        await seed_team(self.db, self.users, self.chats, self.clock.now())
        settings = Settings(app_id=APP_ID, app_secret=APP_SECRET, encrypt_key=ENCRYPT_KEY,
                            verification_token=TOKEN, domain=NOWHERE, database_url=self.db.url,
                            admins=(self.users["admin"],))
        self.bot = LiveOpsBot(settings, clock=self.clock, db=self.db, worker_id="seam")
        self.bot.svc.bot.open_id, self.bot.svc.bot.name = BOT_OPEN_ID, BOT_NAME  # what identify() reads
        for chat_id in self.members:
            self._know_members(chat_id)
        await self.bot.run_startup_hooks()

    def _know_members(self, chat_id: str) -> None:
        """The group's member list, as the bot's member cache holds it once read from Feishu
        (bot.access.Members): the one Feishu read the access checks need."""
        assert self.bot is not None
        self.bot.svc.members._cache[chat_id] = (math.inf, frozenset(self.members[chat_id]))

    def add_chat(self, name: str, members: list[str], chat_id: str) -> dict:
        """Another group with these members (open_ids), the bot in it."""
        self.members[chat_id] = list(members)
        if self.bot is not None:
            self._know_members(chat_id)
        return {"chat_id": chat_id, "name": name}

    def p2p_chat(self, user: str) -> dict:
        """``user``'s direct chat with the bot (a user key or open_id)."""
        open_id = self.users.get(user, user)
        chat_id = f"oc_p2p_{open_id}"
        self.p2p[chat_id] = open_id
        return {"chat_id": chat_id}

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.platform.close()
            self.bot = None

    # -- acting as people ---------------------------------------------------------------------
    async def say(self, user: str, text: str, chat: str = "team") -> dict:
        """``user`` posts ``text`` in ``chat`` ("@Name" of a team member or of the bot becomes a
        mention, as in the simulator); the bot handles it. Returns the user's message."""
        chat_id = self.chats.get(chat, chat)
        sender = self.users.get(user, user)
        assert self.p2p.get(chat_id, sender) == sender and sender in self.members.get(chat_id, [sender]), \
            f"{user} is not in {chat}"
        people = [Person(name, {"open_id": oid, "union_id": "", "user_id": ""}) for oid, name in self.names.items()]
        people.append(Person(BOT_NAME, {"open_id": BOT_OPEN_ID, "union_id": "", "user_id": ""}))
        content, mentions = text_content(text, people, lambda oid: None, TENANT)
        message_id = f"om_user_{next(self._ids)}"
        message = {"message_id": message_id, "root_id": "", "parent_id": "",
                   "create_time": str(int(self.clock.now().timestamp() * 1000)), "chat_id": chat_id,
                   "chat_type": "p2p" if chat_id in self.p2p else "group", "message_type": "text",
                   "content": json.dumps(content, ensure_ascii=False)}
        if mentions:
            message["mentions"] = mentions
        sender_ids = {"open_id": sender, "union_id": "", "user_id": ""}
        await self.handle("im.message.receive_v1", {
            "sender": {"sender_id": sender_ids, "sender_type": "user", "tenant_key": TENANT}, "message": message})
        return {"message_id": message_id, "chat_id": chat_id, "sender": {"id": sender, "type": "user"},
                "msg_type": "text", "content": content}

    async def press(self, message_id: str, user: str, value: dict, form_value: dict | None = None) -> dict:
        """``user`` presses a button of the bot's message (any value: as a forged callback
        could); returns the callback's answer. A card in the answer replaces the pressed card,
        as Feishu does."""
        pressed = next(m for m in self.messages if m["message_id"] == message_id)
        action: dict = {"value": value, "tag": "button"}
        if form_value is not None:
            action["form_value"] = form_value
        answer = await self.handle("card.action.trigger", {
            "operator": {"open_id": self.users.get(user, user)}, "token": uuid.uuid4().hex, "action": action,
            "context": {"open_message_id": message_id, "open_chat_id": pressed["chat_id"]}}) or {}
        card = (answer.get("card") or {}).get("data")
        if card is not None:
            pressed["content"] = card
        return answer

    async def handle(self, event_type: str, event: dict) -> dict | None:
        """Any event: parsed as the inbox worker parses it, handled in one committed session."""
        assert self.bot is not None, "start() first"
        envelope = {"schema": "2.0", "event": event, "header": {
            "event_id": uuid.uuid4().hex, "event_type": event_type, "token": TOKEN, "app_id": APP_ID,
            "create_time": str(int(self.clock.now().timestamp() * 1000)), "tenant_key": TENANT}}
        parsed = events.parse(envelope, BOT_OPEN_ID)
        async with self.db.session() as session:
            answer = await self.bot.router.handle(session, parsed)
        await self._read_outbox()
        return answer

    async def _read_outbox(self) -> None:
        """Every outbox row not yet read becomes a message (send, reply) or changes one (patch)."""
        async with self.db.session() as s:
            rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.id > self._read)
                                    .order_by(OutboxMessage.id))).scalars().all()
        for row in rows:
            self._read = max(self._read, row.id or 0)
            view: dict = {"op": row.op, "key": row.key, "payload": row.payload}
            if row.op in _SHOWN:
                chat = row.target if row.op == "send" else row.lane
                if row.op == "send" and row.payload.get("receive_id_type") == "open_id":
                    chat = self.p2p_chat(row.target)["chat_id"]
                view.update(message_id=f"om_bot_{next(self._ids)}", chat_id=chat,
                            sender={"id": BOT_OPEN_ID, "type": "app", "name": BOT_NAME},
                            msg_type=row.payload["msg_type"], content=row.payload["content"],
                            parent_id=row.target if row.op == "reply" else "")
                self.messages.append(view)
            elif row.op == "patch":
                target = self._by_key.get(row.target[1:]) if row.target.startswith("@") else next(
                    (m for m in self.messages if m.get("message_id") == row.target), None)
                if target is not None:
                    target["content"] = row.payload["content"]
            self._by_key[row.key] = view

    # -- looking -------------------------------------------------------------------------------
    def outbox(self, op: str | None = None) -> list[dict]:
        """Every row the bot queued so far ({op, key, payload}, and a message's fields)."""
        return [v for v in self._by_key.values() if op is None or v["op"] == op]

    def bot_messages(self, chat: str = "team") -> list[dict]:
        chat_id = self.chats.get(chat, chat)
        return [m for m in self.messages if m["chat_id"] == chat_id]

    def last_reply(self, chat: str = "team") -> dict:
        msgs = self.bot_messages(chat)
        assert msgs, "the bot said nothing"
        return msgs[-1]

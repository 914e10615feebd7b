"""The real bot and the simulator, wired over loopback, for end-to-end tests."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.app import LiveOpsBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.server import serve, shut_down
from bot.sendlimits import PER_LANE, Limits
from bot.sim.server import FeishuSimulator
from bot.store.db import Database
from bot.store.models import InboxEvent, OutboxMessage
from tests import helpers

APP_ID, APP_SECRET = "cli_test000000001", "test-secret"
LOADED_CALLBACK_TIMEOUT = 15.0
UNPACED = 1000  # messages a second to one chat the default harness allows (Feishu: 5)
ENCRYPT_KEY, TOKEN = "test-encrypt-key", "test-verification-token"
TEAM = {"admin": "王运营", "ops": "张场控", "tech": "赵技术", "streamer": "李主播", "member": "陈助播",
        "outsider": "路人甲"}


async def seed_team(db: Database, users: dict[str, str], chats: dict[str, str], now: datetime) -> None:
    """The team's roles as an admin would have granted them, and its two groups marked as
    the team's (as /群 or adding the bot as ops does): their members are not outsiders."""
    from bot import roles
    from bot.store.db import insert_ignore
    from bot.store.models import Chat

    async with db.session() as session:
        for role in (roles.OPS, roles.TECH, roles.STREAMER):
            await roles.grant(session, users[role], role, users["admin"], now)
        for key, name, kind in (("team", "运营群", "team"), ("tech", "技术群", "tech")):
            await session.execute(insert_ignore(db, Chat, chat_id=chats[key], name=name,
                                                chat_type="group", kind=kind, internal=False, first_seen=now))


class Harness:
    def __init__(self, db: Database, start: datetime, *, encrypt_key: str = ENCRYPT_KEY,
                 token: str = TOKEN, lease: timedelta = timedelta(seconds=60), group_msg: bool = True,
                 lane_qps: int = UNPACED) -> None:
        self.db = db
        # Feishu's 5 messages a second to one chat (bot.sendlimits.PER_LANE, and the simulator's
        # per_chat_qps) is paced in real time: a test that got more than 5 answers in one chat
        # waited ~0.8 s of wall clock for each further 5 (test_remind.py and test_schedule_e2e.py
        # together took 62 s paced, 38 s not). By
        # default both sides allow UNPACED a second; tests of the pacing itself (the sender's
        # rules) pass lane_qps=PER_LANE (the harness fixture: @pytest.mark.feishu_pace).
        self.lane_qps = lane_qps
        self.clock = ManualClock(start, frozen=True)
        # By default the simulated tenant approved the sensitive im:message.group_msg scope, so
        # every group message reaches the bot (the end-to-end tests talk to it with un-@
        # "/commands"). tests/test_mentions_only.py runs without it (the simulator's default).
        self.sim = FeishuSimulator(app_id=APP_ID, app_secret=APP_SECRET, encrypt_key=encrypt_key or None,
                                   verification_token=token or None, clock=self.clock, group_msg=group_msg,
                                   per_chat_qps=lane_qps)
        self.encrypt_key, self.token, self.lease = encrypt_key, token, lease
        self.users: dict[str, str] = {}
        self.chats: dict[str, str] = {}
        self.bot: LiveOpsBot | None = None

    async def start(self, *, migrate: bool = False) -> None:
        self.sim_url = await self.sim.start()
        for key, name in TEAM.items():
            self.users[key] = self.sim.add_user(name, open_id=f"ou_{key}")["open_id"]
        team = [self.users[k] for k in TEAM if k != "outsider"]
        self.chats["team"] = self.sim.add_chat("运营群", team, chat_id="oc_team")["chat_id"]
        self.chats["tech"] = self.sim.add_chat("技术群", [self.users["admin"], self.users["tech"]],
                                               chat_id="oc_tech")["chat_id"]
        await self.grant_roles()
        await self.start_bot(migrate=migrate)

    async def grant_roles(self) -> None:
        await seed_team(self.db, self.users, self.chats, self.clock.now())

    def settings(self) -> Settings:
        return Settings(app_id=APP_ID, app_secret=APP_SECRET, encrypt_key=self.encrypt_key,
                        verification_token=self.token, domain=self.sim_url.rstrip("/"),
                        database_url=self.db.url, admins=(self.users["admin"],))

    async def start_bot(self, *, migrate: bool = False, worker_id: str = "test") -> LiveOpsBot:
        self.bot = LiveOpsBot(self.settings(), clock=self.clock, db=self.db, worker_id=worker_id,
                              lease=self.lease)
        if self.lane_qps != PER_LANE:
            self.bot.sender.limits = Limits(per_lane=self.lane_qps)  # the Sender's own seam for its limits
        # Feishu waits 3 s for a press's answer and the bot answers within 2.5 s. Parallel test
        # workers on a small machine can stall a loop for longer than that, which would fail a
        # test on the machine's load, not on the bot: both windows are wider here, the same for
        # both sides (tests/test_sim_strict.py and tests/test_webhook.py keep Feishu's 3 s).
        self.sim.callback_timeout = LOADED_CALLBACK_TIMEOUT
        self.bot.ingress.answer_within = LOADED_CALLBACK_TIMEOUT - 0.5
        self.runner, port = await serve(self.bot.web_app(), "127.0.0.1", 0)
        self.bot_url = f"http://127.0.0.1:{port}"
        self.sim.event_url = f"{self.bot_url}/feishu/events"
        await self.bot.start(migrate=migrate)
        return self.bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await shut_down(self.bot, [self.runner], close_db=False)  # as `liveops run` stops
            self.bot = None

    async def stop(self) -> None:
        await self.stop_bot()
        await self.sim.stop()

    # -- acting as people ---------------------------------------------------------------------
    async def say(self, user: str, text: str, chat: str = "team") -> dict:
        msg = await self.sim.send_text(self.chats.get(chat, chat), self.users.get(user, user), text)
        await self.settle()
        return msg

    async def press(self, message_id: str, user: str, value: dict, form_value: dict | None = None) -> dict:
        response = await self.sim.press_button(message_id, self.users.get(user, user), value, form_value)
        await self.settle()
        return response

    async def advance(self, seconds: float) -> None:
        await self.clock.advance(seconds)
        await self.settle()

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until every accepted event is handled and every due outbox row is sent."""
        assert self.bot is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pulse = self.bot.svc.pulse
        while True:
            pulse.clear()
            if await self._quiet():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"the bot did not settle in time: {await self._unsettled()}")
            try:
                await asyncio.wait_for(pulse.wait(), min(0.25, remaining))
            except asyncio.TimeoutError:
                pass

    async def _quiet(self) -> bool:
        # A send is over when its task is: a row is marked sent (on PostgreSQL in autocommit)
        # before the sender looks behind it and logs "sent".
        sender = self.bot.sender if self.bot is not None else None
        if getattr(sender, "inflight", None):
            return False
        async with self.db.session() as s:
            busy_in = (await s.execute(select(func.count()).select_from(InboxEvent).where(
                InboxEvent.status.in_(("pending", "claimed"))))).scalar()
            busy_out = (await s.execute(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_(("pending", "sending"))))).scalar()
        return not busy_in and not busy_out

    async def _unsettled(self) -> str:
        """What is still in hand, for the failure message (which rows, in which state, since when)."""
        async with self.db.session() as s:
            inbox = (await s.execute(select(
                InboxEvent.id, InboxEvent.event_type, InboxEvent.lane, InboxEvent.status, InboxEvent.attempts,
                InboxEvent.claimed_by, InboxEvent.claimed_until).where(
                InboxEvent.status.in_(("pending", "claimed"))))).all()
            outbox = (await s.execute(select(
                OutboxMessage.id, OutboxMessage.op, OutboxMessage.lane, OutboxMessage.status,
                OutboxMessage.attempts, OutboxMessage.next_attempt_at, OutboxMessage.claimed_until,
                OutboxMessage.callback).where(OutboxMessage.status.in_(("pending", "sending"))))).all()
        sender = self.bot.sender if self.bot is not None else None
        inflight = len(getattr(sender, "inflight", ()) or ())
        return (f"clock {self.clock.now().isoformat()}; inbox {[tuple(r) for r in inbox]}; "
                f"outbox {[tuple(r) for r in outbox]}; sends in flight {inflight}")

    # -- looking -------------------------------------------------------------------------------
    def bot_messages(self, chat: str = "team") -> list[dict]:
        return [m for m in self.sim.messages(self.chats.get(chat, chat)) if m["sender"]["type"] == "app"]

    def p2p_chat(self, user: str) -> dict:
        """``user``'s direct chat with the bot (a user key or open_id)."""
        return self.sim.p2p_chat(self.users.get(user, user))

    def last_reply(self, chat: str = "team") -> dict:
        msgs = self.bot_messages(chat)
        assert msgs, "the bot said nothing"
        return msgs[-1]

    text_of = staticmethod(helpers.text_of)  # all visible text of a message (tests/helpers.py)

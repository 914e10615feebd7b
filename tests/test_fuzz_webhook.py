"""Property-based fuzzing (hypothesis) of a running bot over real HTTP: the webhook
(/feishu/events) and the card callback (/feishu/cards) of a real ``liveops run`` process,
with the Feishu simulator in this process as its Open API.

Inputs: arbitrary bytes, arbitrary JSON, signed and encrypted envelopes of both event kinds
with a wrong-typed value in any one field, bodies over the 1 MB limit (413), deeply nested
bodies, forged signatures, replays of a valid signed request (outside the ±5 min window:
rejected; inside it: answered 200 and handled once), and random text after every command.

Properties: never a 5xx; never a traceback in a response or in any chat message the
simulator recorded; no unexpected-error (reference id) answer; every background loop of the
bot still alive afterwards; and the bot's resident memory grows less than 20 MB over a few
thousand requests after a warm-up (a resource bound, not a timing). Hypothesis runs
derandomized with bounded examples, so a run repeats and stays well under a minute.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.feishu import crypto
from bot.sim.server import FeishuSimulator
from tests.harness import APP_ID, APP_SECRET, ENCRYPT_KEY, TOKEN
from tests.helpers import free_port
from tests.test_fuzz_commands import NAMES, WORDS
from tests.test_webhook import _envelope

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 1024 * 1024
FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])
# One live bot for the module, and the last tests check what all the others did to it: under
# pytest-xdist the whole module runs in one worker, in order (tests/conftest.py ONE_WORKER).
pytestmark = pytest.mark.asyncio(loop_scope="module")
BAD_WORDS = ("Traceback", 'File "', "参考编号", "Reference:")


class LiveBot:
    """The real bot process (``python -m bot run``, SQLite) talking to the simulator here."""

    def __init__(self, sim: FeishuSimulator, workdir: Path) -> None:
        self.sim = sim
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "bot.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET,
               "FEISHU_ENCRYPT_KEY": ENCRYPT_KEY, "FEISHU_VERIFICATION_TOKEN": TOKEN,
               "FEISHU_DOMAIN": sim.url.rstrip("/"), "BOT_ADMINS": "ou_admin", "BOT_DATA_DIR": str(workdir),
               "DATABASE_URL": f"sqlite:///{workdir / 'fuzz.db'}", "BOT_PORT": str(self.port),
               "BOT_LOG_LEVEL": "WARNING", "BOT_LEASE_SECONDS": "3"}
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=workdir, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.session: aiohttp.ClientSession | None = None
        self.sentinels = 0

    async def ready(self, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(self.log_path.read_text()[-3000:])
            try:
                status, _ = await self.get("/readyz")
                if status == 200:
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)  # a child process booting, not the bot's work
        raise AssertionError("the bot did not become ready")

    async def get(self, path: str) -> tuple[int, str]:
        assert self.session is not None
        async with self.session.get(self.url + path) as r:
            return r.status, await r.text()

    async def post(self, path: str, raw: bytes, headers: dict | None = None) -> tuple[int, str]:
        assert self.session is not None
        try:
            async with self.session.post(self.url + path, data=raw,
                                         headers=headers or {"Content-Type": "application/json"}) as r:
                return r.status, await r.text()
        except aiohttp.ClientOSError:
            # The server may answer 413 and close before an oversize body is fully written.
            if len(raw) > LIMIT:
                return 413, ""
            raise

    def rss(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    async def idle(self, timeout: float = 90) -> None:
        """Wait until no event is waiting or being handled (the bot's own inbox gauge)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            _, text = await self.get("/metrics")
            if "\nliveops_inbox_backlog 0.0\n" in text:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the inbox did not drain")

    async def drained(self, chat: str = "oc_team", timeout: float = 90) -> None:
        """Send a marker message to a chat and wait for its answer: a chat's events are
        handled and answered in order, so everything before it has been handled and answered."""
        self.sentinels += 1
        msg = await self.sim.send_text(chat, "ou_member", f"/在吗 marker{self.sentinels}")
        assert msg["delivery"]["status"] == 200, msg["delivery"]
        await self.sim.wait_for_message(chat, lambda m: m.get("parent_id") == msg["message_id"],
                                        timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(tmp_path_factory):
    sim = FeishuSimulator(app_id=APP_ID, app_secret=APP_SECRET, encrypt_key=ENCRYPT_KEY,
                          verification_token=TOKEN,
                          group_msg=True)  # a tenant that approved im:message.group_msg: un-@ text in groups arrives
    sim.url = await sim.start()
    sim.add_user("王运营", open_id="ou_admin")
    sim.add_user("陈助播", open_id="ou_member")
    sim.add_chat("运营群", ["ou_admin", "ou_member"], chat_id="oc_team")  # markers and replays
    sim.add_chat("命令群", ["ou_admin", "ou_member"], chat_id="oc_commands")  # random command text
    bot = LiveBot(sim, tmp_path_factory.mktemp("fuzz"))
    bot.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    try:
        await bot.ready()
        sim.event_url = f"{bot.url}/feishu/events"
        yield bot
    finally:
        await bot.session.close()
        bot.stop()
        await sim.stop()


def _clean(status: int, text: str) -> None:
    assert status < 500, (status, text[:300])
    assert not any(word in text for word in BAD_WORDS), text[:300]


# -- strategies ---------------------------------------------------------------------------------
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
           | st.text(max_size=30) | st.sampled_from(["", "0", "oc_team", "ou_member", "om_x", TOKEN]))
JSON = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.text(max_size=10), kids, max_size=4), max_leaves=12)
MESSAGE_FIELDS = [(), ("schema",), ("header",), ("header", "event_id"), ("header", "event_type"),
                  ("header", "token"), ("header", "create_time"), ("event",), ("event", "sender"),
                  ("event", "sender", "sender_id"), ("event", "sender", "sender_id", "open_id"),
                  ("event", "sender", "sender_type"), ("event", "message"), ("event", "message", "message_id"),
                  ("event", "message", "chat_id"), ("event", "message", "chat_type"),
                  ("event", "message", "message_type"), ("event", "message", "content"),
                  ("event", "message", "mentions"), ("event", "message", "parent_id"),
                  ("event", "message", "root_id"), ("event", "message", "create_time")]
CARD_FIELDS = [("header", "event_id"), ("header", "event_type"), ("event",), ("event", "operator"),
               ("event", "operator", "open_id"), ("event", "token"), ("event", "action"),
               ("event", "action", "value"), ("event", "action", "value", "a"), ("event", "action", "form_value"),
               ("event", "action", "tag"), ("event", "context"), ("event", "context", "open_message_id"),
               ("event", "context", "open_chat_id"), ("event", "host")]
COMMAND_TEXT = st.builds(lambda name, words: f"/{name} {' '.join(words)}".strip(), st.sampled_from(NAMES),
                         st.lists(st.sampled_from(WORDS) | st.text(min_size=1, max_size=12), max_size=5))


def message_envelope(text: str) -> dict:
    """A message event in one of twenty chats the simulator does not know (the answers fail
    fast and spread over lanes, so the team chat stays free for the markers)."""
    body = _envelope(uuid.uuid4().hex, text=text)
    body["event"]["message"]["chat_id"] = f"oc_fuzz{random.randrange(20)}"
    return body


def card_envelope(value: dict | None = None) -> dict:
    event_id = uuid.uuid4().hex
    return {"schema": "2.0",
            "header": {"event_id": event_id, "event_type": "card.action.trigger", "token": TOKEN,
                       "create_time": str(int(time.time() * 1_000_000)), "app_id": APP_ID, "tenant_key": "t"},
            "event": {"operator": {"open_id": "ou_member", "tenant_key": "t"}, "token": "c-" + event_id,
                      "action": {"value": value or {"a": "remind.pause", "id": 1}, "tag": "button"},
                      "host": "im_message",
                      "context": {"open_message_id": "om_unknown", "open_chat_id": f"oc_fuzz{random.randrange(20)}"}}}


def mutate(body: dict, path: tuple[str, ...], value) -> dict:
    if not path:
        return value if isinstance(value, dict) else {"value": value}
    node = body
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return body


def sealed(body, *, key: str = ENCRYPT_KEY, ts: int | None = None) -> tuple[bytes, dict]:
    """Encrypt and sign any JSON value (or raw text) exactly as Feishu would."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    raw = json.dumps({"encrypt": crypto.encrypt(key, text)}).encode()
    return raw, signed_headers(raw, key=key, ts=ts)


def signed_headers(raw: bytes, *, key: str = ENCRYPT_KEY, ts: int | None = None) -> dict:
    ts_s, nonce = str(int(time.time()) if ts is None else ts), secrets.token_hex(8)
    return {"X-Lark-Request-Timestamp": ts_s, "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": crypto.signature(ts_s, nonce, key, raw), "Content-Type": "application/json"}


def nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "list" else '{"a":' * depth + "1" + "}" * depth


# -- the webhook's edge ------------------------------------------------------------------------
@FUZZ
@given(raw=st.binary(max_size=3000), path=st.sampled_from(["events", "cards"]), sign=st.booleans())
async def test_arbitrary_bytes(live, raw, path, sign):
    _clean(*await live.post(f"/feishu/{path}", raw, signed_headers(raw) if sign else None))


@FUZZ
@given(value=JSON, path=st.sampled_from(["events", "cards"]), how=st.sampled_from(["plain", "sealed", "text"]))
async def test_arbitrary_json(live, value, path, how):
    """Any JSON value: as a plaintext body, and encrypted+signed (so it reaches the parser)."""
    if how == "plain":
        raw, headers = json.dumps(value).encode(), None
    else:
        raw, headers = sealed(json.dumps(value) if how == "text" else value)
    _clean(*await live.post(f"/feishu/{path}", raw, headers))


@FUZZ
@given(field=st.sampled_from(MESSAGE_FIELDS), value=JSON, text=COMMAND_TEXT)
async def test_message_event_with_a_wrong_type_anywhere(live, field, value, text):
    body = mutate(message_envelope(text), field, value)
    _clean(*await live.post("/feishu/events", *sealed(body)))


@FUZZ
@given(field=st.sampled_from(CARD_FIELDS), value=JSON, action=JSON)
async def test_card_callback_with_a_wrong_type_anywhere(live, field, value, action):
    body = mutate(card_envelope(action if isinstance(action, dict) else None), field, value)
    _clean(*await live.post("/feishu/cards", *sealed(body)))


@FUZZ
@given(signature=st.text(max_size=80), nonce=st.text(max_size=20), skew=st.integers(-400, 400),
       path=st.sampled_from(["events", "cards"]))
async def test_forged_signatures_are_401(live, signature, nonce, skew, path):
    raw, headers = sealed(_envelope(uuid.uuid4().hex))
    headers.update({"X-Lark-Request-Timestamp": str(int(time.time()) + skew), "X-Lark-Request-Nonce": nonce,
                    "X-Lark-Signature": signature})
    headers = {k: v for k, v in headers.items() if v.isascii() and v.isprintable()}
    status, text = await live.post(f"/feishu/{path}", raw, headers)
    _clean(status, text)
    assert status in (400, 401), (status, text)


@FUZZ
@given(age=st.integers(303, 10**7) | st.integers(-10**7, -303), path=st.sampled_from(["events", "cards"]))
async def test_replays_outside_the_window_are_401(live, age, path):
    """A captured, correctly signed request replayed more than 5 minutes after (or before) it
    was signed: the signature is genuine but the timestamp is out of the window."""
    raw, headers = sealed(_envelope(uuid.uuid4().hex), ts=int(time.time()) - age)
    status, text = await live.post(f"/feishu/{path}", raw, headers)
    _clean(status, text)
    assert status == 401 and "stale" in text


async def test_replays_inside_the_window_are_handled_once(live):
    """A real message's event, delivered by the simulator, then replayed five times with a
    genuine signature made 4 minutes ago: each replay answered 200, the message answered once."""
    msg = await live.sim.send_text("oc_team", "ou_member", "/在吗 replay")
    envelope = live.sim.events()[-1]["payload"]
    raw, headers = sealed(envelope, ts=int(time.time()) - 240)
    for _ in range(5):
        status, text = await live.post("/feishu/events", raw, headers)
        _clean(status, text)
        assert status == 200
    await live.drained()
    answers = [m for m in live.sim.messages("oc_team") if m.get("parent_id") == msg["message_id"]]
    assert len(answers) == 1


@pytest.mark.parametrize("path", ["events", "cards"])
async def test_bodies_over_the_limit_are_413(live, path):
    for raw in (b'{"encrypt": "' + b"A" * LIMIT + b'"}', b"[" * (LIMIT + 1), os.urandom(3 * LIMIT)):
        status, text = await live.post(f"/feishu/{path}", raw, signed_headers(raw))
        _clean(status, text)
        assert status == 413


@pytest.mark.parametrize("depth", [100, 500, 900, 950, 980, 1000, 5000, 200_000])
@pytest.mark.parametrize("kind", ["list", "dict"])
async def test_deeply_nested_bodies(live, depth, kind):
    """Nested bodies as the outer JSON and inside the encrypted event (where a depth the
    webhook can parse is stored and later read back by a worker)."""
    deep = nested(depth, kind)
    if len(deep) < LIMIT:
        _clean(*await live.post("/feishu/events", deep.encode()))
    inner = json.dumps(message_envelope("/在吗"))[:-1] + ', "extra": ' + deep + "}"
    raw, headers = sealed(inner)
    if len(raw) < LIMIT:
        _clean(*await live.post("/feishu/events", raw, headers))
        card = json.dumps(card_envelope())[:-1] + ', "extra": ' + deep + "}"
        _clean(*await live.post("/feishu/cards", *sealed(card)))


@settings(FUZZ, max_examples=120)
@given(text=COMMAND_TEXT, who=st.sampled_from(["ou_admin", "ou_member"]))
async def test_random_command_text_through_the_simulator(live, text, who):
    msg = await live.sim.send_text("oc_commands", who, text)
    assert msg["delivery"]["status"] == 200, msg["delivery"]


# -- afterwards -------------------------------------------------------------------------------
def _mixed_requests(n: int, seed: int) -> list[tuple[str, bytes, dict | None]]:
    """A seeded mix like the fuzz above: garbage, forged, stale, duplicates, new events."""
    rng = random.Random(seed)
    dup = sealed(_envelope("dup-" + str(seed)))
    out: list[tuple[str, bytes, dict | None]] = []
    for i in range(n):
        kind = rng.randrange(8)
        path = rng.choice(["events", "cards"])
        if kind == 0:
            raw = rng.randbytes(rng.randrange(2000))
            out.append((path, raw, signed_headers(raw) if rng.random() < 0.5 else None))
        elif kind == 1:
            out.append((path, json.dumps({"encrypt": rng.choice(["", "!!", "A" * 64, 5])}).encode(), None))
        elif kind == 2:
            raw, headers = sealed(_envelope(uuid.uuid4().hex))
            headers["X-Lark-Signature"] = "%064x" % rng.getrandbits(256)
            out.append((path, raw, headers))
        elif kind == 3:
            out.append((path, *sealed(_envelope(uuid.uuid4().hex), ts=int(time.time()) - 400)))
        elif kind == 4:
            out.append(("events", *dup))
        elif kind == 5:
            out.append(("events", *sealed(message_envelope(f"大家好 {i}"))))  # chatter: stored, handled
        elif kind == 6:
            out.append(("cards", *sealed(card_envelope({"a": rng.choice(["x", "", "remind"]),
                                                         "id": rng.randrange(5)}))))
        else:
            out.append((path, nested(rng.choice([10, 2000, 50_000]), rng.choice(["list", "dict"])).encode(), None))
    return out


async def _blast(live: LiveBot, requests: list, concurrency: int = 32) -> None:
    queue = list(reversed(requests))

    async def one() -> None:
        while queue:
            path, raw, headers = queue.pop()
            _clean(*await live.post(f"/feishu/{path}", raw, headers))

    await asyncio.gather(*(one() for _ in range(concurrency)))


async def test_memory_does_not_grow(live):
    await _blast(live, _mixed_requests(800, 1))  # warm-up: caches, pools, lazy imports
    await live.idle()
    before = live.rss()
    await _blast(live, _mixed_requests(3000, 2))
    await live.idle()
    after = live.rss()
    print(f"bot RSS before {before / 2**20:.1f} MB, after 3000 requests {after / 2**20:.1f} MB")
    assert after - before < 20 * 2**20, (before, after)


async def test_no_traceback_or_error_anywhere_and_every_loop_alive(live):
    await live.drained("oc_team")
    await live.drained("oc_commands")
    status, text = await live.get("/readyz")
    assert status == 200, text  # a background loop that died makes this 503
    for chat in live.sim.chats():
        for message in live.sim.messages(chat["chat_id"]):
            content = json.dumps(message["content"], ensure_ascii=False)
            assert not any(word in content for word in BAD_WORDS), content[:500]
    log = live.log_path.read_text(errors="replace")
    for line in ("background task", "event processing failed", "handler failed", "inbox claim failed"):
        assert line not in log, log[-3000:]
    assert live.proc.poll() is None

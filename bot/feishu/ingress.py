"""The webhook: verify, decrypt, dedupe, write to the inbox, answer 200. Nothing else.

Bad requests get a 4xx with a short JSON error; a database outage gets a 503 so Feishu
retries events; nothing here ever answers 500 or leaks an exception text.

Two kinds of request differ from events (each rule with its source):
- The request-URL check (``url_verification``) comes WITHOUT the X-Lark-Signature /
  timestamp / nonce headers, encrypted when an Encrypt Key is set: it is answered after
  decrypting and checking the verification token, and nothing else is accepted unsigned
  (开放平台 "配置订阅方式 / Encrypt Key 加密配置示例"; lark-oapi 1.7.5
  ``EventDispatcherHandler.do``: the challenge is answered before ``_verify_sign``).
- Card callbacks (``card.action.trigger``) are synchronous and never re-pushed
  ("回调是同步操作，不提供补推机制", 卡片回传交互): the press is stored, then answered with the
  router's toast / card (bot.answers); when it cannot be stored the answer is 200 with a toast
  asking to press again, so the presser never sees a Feishu error and the card stays as it was.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Mapping

from aiohttp import web

from bot.answers import ANSWER_WITHIN, CARD_ACTION, NOT_STORED, PressAnswers
from bot.feishu import crypto
from bot.feishu.events import EventShapeError, envelope_keys

log = logging.getLogger("bot.ingress")

MAX_SKEW_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024
# An unsigned request can only be the URL check, whose body is a few hundred bytes.
MAX_UNSIGNED_BYTES = 4096
# The webhook's burst is over when no request arrived for this long: the workers wait for it
# (at most bot.worker.INTAKE_FIRST) before they take the next event, so the 200s go first.
QUIET_GAP = 0.002

# store(event_id=, event_type=, lane=, message_id=, payload=, source=, parsed=) -> fresh; ``parsed``
# is the envelope already read as an object (or None), so the store need not parse it again.
Store = Callable[..., Awaitable[bool]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class Ingress:
    """Holds the secrets and the inbox writer; ``handle`` is the aiohttp handler."""

    def __init__(self, *, encrypt_key: str, verification_token: str, store: Store,
                 wall: Callable[[], float] = time.time, metrics=None,
                 answers: PressAnswers | None = None) -> None:
        self.answers = answers
        self.answer_within = ANSWER_WITHIN  # a press's answer must reach Feishu within 3 s
        self.storing = 0  # requests between arrival and their inbox write
        self._arrived = float("-inf")  # the loop's time of the last arrival
        self._burst = False  # the last two requests arrived less than QUIET_GAP apart
        self._quiet = asyncio.Event()
        self._quiet.set()
        self.encrypt_key = encrypt_key
        self.verification_token = verification_token
        self.store = store
        self.wall = wall
        self.metrics = metrics
        self._counters: dict[tuple[str, bool], object] = {}  # events_received's children (_received)

    def _quiet_now(self) -> bool:
        return not self.storing and (not self._burst or self._arrived + QUIET_GAP <= asyncio.get_running_loop().time())

    async def quiet(self, at_most: float) -> None:
        """Wait until no request is being stored and, in a burst (requests less than QUIET_GAP
        apart), none arrived for QUIET_GAP: or ``at_most`` seconds (the workers' yield,
        bot.worker.INTAKE_FIRST). A lone event is not waited for."""
        if self._quiet_now():
            return
        loop = asyncio.get_running_loop()
        end = loop.time() + at_most
        while True:
            if self.storing:
                try:
                    async with asyncio.timeout_at(end):
                        await self._quiet.wait()
                except TimeoutError:
                    return
            if self.storing:  # another request came in as this one resumed: wait for it too
                continue
            rest = min(self._arrived + QUIET_GAP, end) - loop.time()
            if rest <= 0 or self._quiet_now():
                return
            await asyncio.sleep(rest)

    def _busy(self, delta: int) -> None:
        if delta > 0:
            now = asyncio.get_running_loop().time()
            self._burst, self._arrived = now - self._arrived < QUIET_GAP, now
        self.storing += delta
        if self.storing:
            self._quiet.clear()
        else:
            self._quiet.set()

    async def handle(self, request: web.Request) -> web.Response:
        self._busy(+1)
        try:
            result = await self._handle(request)
        finally:
            self._busy(-1)  # a press waits for its answer outside the count: workers must run
        return await self._answer(result)

    async def _handle(self, request: web.Request) -> web.Response | _Pending:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "body too large")
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, "body too large")
        headers = request.headers  # case-insensitive
        try:
            body = _json_object(raw)
        except ValueError:
            return _error(400, "body is not a JSON object")

        text: str | None = None  # the event's own JSON text, stored as it is
        if "encrypt" in body:
            if not self.encrypt_key:
                return _error(400, "encrypted body but no Encrypt Key is configured")
            unsigned = not any(h in headers for h in _SIGNATURE_HEADERS)
            problem = None if unsigned else self._check_signature(headers, raw)
            if problem:
                return _error(401, problem)
            if unsigned and len(raw) > MAX_UNSIGNED_BYTES:
                return _error(401, "missing signature headers")
            if not isinstance(body["encrypt"], str):
                return _error(400, "encrypt must be a string")
            try:
                text = crypto.decrypt(self.encrypt_key, body["encrypt"])
                body = _json_object(text)
            except (crypto.DecryptError, ValueError):
                return _error(400, "cannot decrypt the body")
            if unsigned and body.get("type") != "url_verification":
                return _error(401, "missing signature headers")
        elif self.encrypt_key:
            return _error(400, "plaintext body but an Encrypt Key is configured")
        elif "x-lark-request-timestamp" in headers and not self._fresh(headers):
            return _error(401, "stale request timestamp")

        if body.get("type") == "url_verification":
            if self.verification_token and not crypto.token_ok(self.verification_token, body.get("token")):
                return _error(401, "bad verification token")
            return web.json_response({"challenge": str(body.get("challenge", ""))})

        if self.verification_token:
            header = body.get("header")
            token = header.get("token") if isinstance(header, dict) else body.get("token")
            if not crypto.token_ok(self.verification_token, token):
                return _error(401, "bad verification token")

        try:
            event_id, event_type, message_id, lane = envelope_keys(body)
        except EventShapeError as exc:
            return _error(400, str(exc))
        if text is None:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:  # valid JSON in another encoding: store the object
                pass
        return await self._store(text if text is not None else body, event_id, event_type,
                                 message_id, lane, source="webhook", parsed=body)

    async def accept(self, body: dict | str, event_id: str, event_type: str, message_id: str | None,
                     lane: str, *, source: str) -> web.Response:
        """Store an event (its JSON text or object); 200 once durable, 503 if not. A card press
        is answered with the router's response (see the module docstring)."""
        return await self._answer(await self._store(body, event_id, event_type, message_id, lane, source=source,
                                                    parsed=body if isinstance(body, dict) else None))

    async def _answer(self, result: web.Response | _Pending) -> web.Response:
        if isinstance(result, _Pending):
            return web.json_response(await self.answers.wait(result.event_id, result.waiter, self.answer_within))
        return result

    async def _store(self, body: dict | str, event_id: str, event_type: str, message_id: str | None,
                     lane: str, *, source: str, parsed: dict | None = None) -> web.Response | _Pending:
        press = event_type == CARD_ACTION and self.answers is not None
        waiter = self.answers.expect(event_id) if press else None  # before the worker can finish it
        try:
            fresh = await self.store(event_id=event_id, event_type=event_type, lane=lane,
                                     message_id=message_id, payload=body, source=source, parsed=parsed)
        except Exception:  # noqa: BLE001 - any storage failure means "try again later"
            log.exception("inbox write failed", extra={"event_id": event_id})
            if self.metrics:
                self.metrics.inbox_write_errors.inc()
            if press:  # never re-pushed: tell the presser, leave the card as it was
                self.answers.forget(event_id)
                return web.json_response({"toast": NOT_STORED})
            return _error(503, "temporarily unavailable, retry later")
        if self.metrics:
            self._received(event_type, fresh).inc()
        if fresh:
            log.info("event accepted", extra={"event_id": event_id, "event_type": event_type, "source": source})
        else:
            log.info("duplicate delivery ignored", extra={"event_id": event_id})
        if press:
            if not fresh:
                self.answers.forget(event_id)
                return web.Response(body=b"{}", content_type="application/json")
            return _Pending(event_id, waiter)
        return web.Response(body=b"{}", content_type="application/json")

    def _received(self, event_type: str, fresh: bool):
        """The events-received counter of this type and outcome, kept (labels() takes a lock and
        builds the key: 1.45 µs an event, the kept child's inc() 0.32 µs)."""
        key = (event_type, fresh)
        child = self._counters.get(key)
        if child is None:
            child = self.metrics.events_received.labels(event_type=event_type, outcome="new" if fresh else "duplicate")
            if len(self._counters) < 64:  # a handful of subscribed types: never more
                self._counters[key] = child
        return child

    def _fresh(self, headers: Mapping[str, str]) -> bool:
        try:
            ts = int(headers.get("x-lark-request-timestamp", ""))
        except ValueError:
            return False
        return abs(self.wall() - ts) <= MAX_SKEW_SECONDS

    def _check_signature(self, headers: Mapping[str, str], raw: bytes) -> str | None:
        given = headers.get("x-lark-signature")
        ts = headers.get("x-lark-request-timestamp")
        nonce = headers.get("x-lark-request-nonce")
        if not (given and ts and nonce):
            return "missing signature headers"
        if not self._fresh(headers):
            return "stale request timestamp"
        if not crypto.signature_ok(ts, nonce, self.encrypt_key, raw, given):
            return "bad signature"
        return None


@dataclass
class _Pending:
    """A stored card press whose answer (the router's toast / card) is still to come."""
    event_id: str
    waiter: asyncio.Future


_SIGNATURE_HEADERS = ("x-lark-signature", "x-lark-request-timestamp", "x-lark-request-nonce")


def _json_object(raw: bytes | str) -> dict:
    if isinstance(raw, str) and raw.startswith("\ufeff"):
        raw = raw.encode()  # json reads a BOM only from bytes
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value

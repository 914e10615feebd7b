"""The webhook: verify, decrypt, dedupe, write to the inbox, answer 200. Nothing else.

Bad requests get a 4xx with a short JSON error; a database outage gets a 503 so Feishu
retries; nothing here ever answers 500 or leaks an exception text.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Awaitable, Callable

from aiohttp import web

from bot.feishu import crypto
from bot.feishu.events import EventShapeError, envelope_keys

log = logging.getLogger("bot.ingress")

MAX_SKEW_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024

Store = Callable[..., Awaitable[bool]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class Ingress:
    """Holds the secrets and the inbox writer; ``handle`` is the aiohttp handler."""

    def __init__(self, *, encrypt_key: str, verification_token: str, store: Store,
                 on_stored: Callable[[], None] | None = None,
                 wall: Callable[[], float] = time.time, metrics=None) -> None:
        self.encrypt_key = encrypt_key
        self.verification_token = verification_token
        self.store = store
        self.on_stored = on_stored or (lambda: None)
        self.wall = wall
        self.metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "body too large")
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, "body too large")
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = _json_object(raw)
        except ValueError:
            return _error(400, "body is not a JSON object")

        text: str | None = None  # the event's own JSON text, stored as it is
        if "encrypt" in body:
            if not self.encrypt_key:
                return _error(400, "encrypted body but no Encrypt Key is configured")
            problem = self._check_signature(headers, raw)
            if problem:
                return _error(401, problem)
            if not isinstance(body["encrypt"], str):
                return _error(400, "encrypt must be a string")
            try:
                text = crypto.decrypt(self.encrypt_key, body["encrypt"])
                body = _json_object(text.encode())
            except (crypto.DecryptError, ValueError):
                return _error(400, "cannot decrypt the body")
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
        return await self.accept(text if text is not None else body, event_id, event_type,
                                 message_id, lane, source="webhook")

    async def accept(self, body: dict | str, event_id: str, event_type: str, message_id: str | None,
                     lane: str, *, source: str) -> web.Response:
        """Store an event (its JSON text or object); 200 once durable, 503 if not."""
        try:
            fresh = await self.store(event_id=event_id, event_type=event_type, lane=lane,
                                     message_id=message_id, payload=body, source=source)
        except Exception:  # noqa: BLE001 - any storage failure means "try again later"
            log.exception("inbox write failed", extra={"event_id": event_id})
            if self.metrics:
                self.metrics.inbox_write_errors.inc()
            return _error(503, "temporarily unavailable, retry later")
        if self.metrics:
            self.metrics.events_received.labels(event_type=event_type,
                                                 outcome="new" if fresh else "duplicate").inc()
        if fresh:
            log.info("event accepted", extra={"event_id": event_id, "event_type": event_type, "source": source})
            self.on_stored()
        else:
            log.info("duplicate delivery ignored", extra={"event_id": event_id})
        return web.Response(body=b"{}", content_type="application/json")

    def _fresh(self, headers: dict[str, str]) -> bool:
        try:
            ts = int(headers.get("x-lark-request-timestamp", ""))
        except ValueError:
            return False
        return abs(self.wall() - ts) <= MAX_SKEW_SECONDS

    def _check_signature(self, headers: dict[str, str], raw: bytes) -> str | None:
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


def _json_object(raw: bytes) -> dict:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value
